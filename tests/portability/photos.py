"""Photograph-like test images in every format the pipelines read, written once per test session.

Each picture mixes what real photographs have and flat synthetic shapes lack: smooth lighting
gradients, a mid-frequency texture, hard edges and sensor noise, so resampling, colour matrices and
JPEG's IDCT meet values all over their range. The bytes only need to be the same within one
session: every run compared by the portability tests reads the same files.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

#: (class folder, file name, format, mode, (height, width), save options)
PHOTOS = (
    ("jpeg", "landscape_420.jpg", "JPEG", "RGB", (60, 80), {"quality": 85, "subsampling": 2}),
    ("jpeg", "portrait_444.jpg", "JPEG", "RGB", (72, 54), {"quality": 95, "subsampling": 0}),
    ("jpeg", "progressive.jpg", "JPEG", "RGB", (64, 64), {"quality": 75, "progressive": True}),
    ("jpeg", "large_420.jpg", "JPEG", "RGB", (192, 256), {"quality": 90, "subsampling": 2}),
    ("jpeg", "large_422.jpg", "JPEG", "RGB", (240, 180), {"quality": 80, "subsampling": 1}),
    ("jpeg", "grey.jpg", "JPEG", "L", (56, 70), {"quality": 90}),
    ("png", "landscape.png", "PNG", "RGB", (50, 90), {}),
    ("png", "square.png", "PNG", "RGB", (64, 64), {}),
    ("png", "large.png", "PNG", "RGB", (160, 200), {}),
    ("png", "grey.png", "PNG", "L", (48, 40), {}),
    ("png", "alpha.png", "PNG", "RGBA", (44, 60), {}),
    ("png", "sixteen_bit.png", "PNG", "I;16", (66, 50), {}),
    ("png", "sixteen_bit_large.png", "PNG", "I;16", (150, 120), {}),
    ("bmp", "landscape.bmp", "BMP", "RGB", (40, 64), {}),
    ("bmp", "portrait.bmp", "BMP", "RGB", (70, 46), {}),
    ("bmp", "grey.bmp", "BMP", "L", (36, 36), {}),
)


def photo(shape: tuple[int, int], seed: int) -> np.ndarray:
    """An HxWx3 float picture in [0, 1]: lighting gradient, texture, a disc and a bar with hard edges, noise."""
    rng = np.random.default_rng(seed)
    height, width = shape
    y, x = np.mgrid[0:height, 0:width] / np.array([height, width])[:, None, None]
    light = 0.45 + 0.3 * np.sin(2.1 * x + 1.3 * y + rng.uniform(0, 6)) * np.cos(1.7 * y - 0.9 * x)
    angle = rng.uniform(0, np.pi)
    texture = 0.12 * np.sin((np.cos(angle) * x + np.sin(angle) * y) * rng.uniform(15, 40))
    tint = rng.uniform(0.6, 1.2, 3)
    picture = (light + texture)[..., None] * tint
    cy, cx, radius = rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7), rng.uniform(0.12, 0.3)
    picture[(y - cy) ** 2 + (x - cx) ** 2 < radius ** 2] = rng.uniform(0, 1, 3)
    picture[(np.abs(x - rng.uniform(0.1, 0.9)) < 0.04)] *= 0.3
    picture += rng.normal(0, 0.03, picture.shape)
    return np.clip(picture, 0, 1)


def write_photos(root: Path) -> Path:
    """Every picture of PHOTOS under root/<class folder>/; returns `root`."""
    for seed, (folder, name, file_format, mode, shape, options) in enumerate(PHOTOS):
        picture = photo(shape, seed)
        path = root / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        _image(picture, mode).save(path, file_format, **options)
    return root


def _image(picture: np.ndarray, mode: str) -> Image.Image:
    grey = picture @ np.array([0.299, 0.587, 0.114])
    if mode == "I;16":
        return Image.fromarray(np.round(grey * 65535).astype(np.uint16))
    if mode == "L":
        return Image.fromarray(np.round(grey * 255).astype(np.uint8))
    rgb = np.round(picture * 255).astype(np.uint8)
    if mode == "RGBA":
        alpha = np.linspace(64, 255, picture.shape[1]).astype(np.uint8)[None, :].repeat(picture.shape[0], axis=0)
        return Image.fromarray(np.dstack([rgb, alpha]))
    return Image.fromarray(rgb)
