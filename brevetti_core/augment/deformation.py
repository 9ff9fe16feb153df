"""`ImageDeformation`: elastic deformation (Simard et al. 2003) as in the reference (§6.2).

A displacement field of uniform noise in [-1, 1], Gaussian-blurred with `sigma` pixels and scaled
by `alpha` pixels, moves every pixel; images are resampled bilinearly and labels with nearest.
The field comes from the slot's ``deform_seed`` through its own Philox stream, and the resample is
plain float32 numpy, so the result is bit-identical everywhere.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..rng import ParamStreams, pixel_rng
from . import check_chance, draw
from .filtering import gaussian_blur
from .part import AugmentationPart


class ImageDeformation(AugmentationPart):
    """With probability `chance`, displace pixels by a smooth random field of strength `alpha` pixels.

    Plan parameters: ``deform_alpha`` (`alpha`, or 0 when the chance says no) and ``deform_seed``.
    The reference's default ``alpha=0`` displaces nothing.
    """

    name = "image_deformation"
    geometric = True

    def __init__(self, alpha: float = 0.0, sigma: float = 0.5, chance: float = 0.5):
        name = type(self).__name__
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha < 0:
            raise ValueError(f"{name}: alpha must be a number of pixels >= 0, got {alpha!r}")
        if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or sigma <= 0:
            raise ValueError(f"{name}: sigma must be a number of pixels > 0, got {sigma!r}")
        self.alpha, self.sigma = float(alpha), float(sigma)
        self.chance = check_chance(name, "chance", chance)

    def sample_params(self, streams: ParamStreams, n: int) -> dict[str, np.ndarray]:
        """``deform_alpha`` and ``deform_seed`` for n slots."""
        gate = draw(streams, "deform_alpha", n) < np.float32(self.chance)
        return {"deform_alpha": gate.astype(np.float32) * np.float32(self.alpha),
                "deform_seed": streams.seeds("deform_seed", n)}

    def apply(self, image: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
        """`image` (HWC) deformed with this slot's field, bilinear."""
        return self._remap(image, params, "bilinear")

    def apply_label(self, label: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
        """`label` (HWC) deformed with the same field, nearest."""
        return self._remap(label, params, "nearest")

    def _remap(self, image: np.ndarray, params: Mapping[str, Any], interpolation: str) -> np.ndarray:
        alpha = float(params["deform_alpha"])
        if alpha == 0:
            return image
        dy, dx = displacement(image.shape[:2], alpha, self.sigma, int(params["deform_seed"]))
        return remap(image, dy, dx, interpolation)


def displacement(shape: tuple[int, int], alpha: float, sigma: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(dy, dx) float32 fields of `shape`: blurred uniform noise from `seed`, times `alpha`."""
    noise = pixel_rng(seed).random((*shape, 2), dtype=np.float32) * np.float32(2) - np.float32(1)
    field = gaussian_blur(noise, sigma) * np.float32(alpha)
    return field[..., 0], field[..., 1]


def remap(image: np.ndarray, dy: np.ndarray, dx: np.ndarray, interpolation: str = "bilinear") -> np.ndarray:
    """``out[i, j] = image[i + dy[i, j], j + dx[i, j]]`` (HWC), interpolated; positions outside read 0."""
    height, width = image.shape[:2]
    y = np.arange(height, dtype=np.float32)[:, None] + dy
    x = np.arange(width, dtype=np.float32)[None, :] + dx
    if interpolation == "nearest":
        return _gather(image, np.floor(y + np.float32(0.5)).astype(np.int64),
                       np.floor(x + np.float32(0.5)).astype(np.int64), None)
    y0, x0 = np.floor(y), np.floor(x)
    fy, fx = y - y0, x - x0
    y0, x0 = y0.astype(np.int64), x0.astype(np.int64)
    above, below = np.float32(1) - fy, fy
    left, right = np.float32(1) - fx, fx
    # The four neighbours summed in a fixed order: top-left, top-right, bottom-left, bottom-right.
    out = _gather(image, y0, x0, above * left) + _gather(image, y0, x0 + 1, above * right)
    out = out + _gather(image, y0 + 1, x0, below * left)
    return out + _gather(image, y0 + 1, x0 + 1, below * right)


def _gather(image: np.ndarray, rows: np.ndarray, cols: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    height, width = image.shape[:2]
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    values = image[np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)]
    weight = inside.astype(np.float32) if weight is None else np.where(inside, weight, np.float32(0))
    return values * (weight[..., None] if image.ndim == 3 else weight)
