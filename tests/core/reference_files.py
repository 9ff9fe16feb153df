"""Datasets written to disk for the conformance suite: every image says which sample it is."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write_numbered_dataset(root: Path, counts: dict[str, int], size: int = 4) -> Path:
    """One folder per category holding `counts[category]` PNGs, numbered in listing order (category, then file).

    Each image is one colour: red = the sample's number in the listing, green = its number within its folder,
    so a decoded batch tells which samples it holds.
    """
    number = 0
    for category, count in counts.items():
        (root / category).mkdir(parents=True)
        for member in range(count):
            pixels = np.full((size, size, 3), (number, member, 7), np.uint8)
            Image.fromarray(pixels).save(root / category / f"{member:03d}.png")
            number += 1
    return root


def sample_numbers(images: np.ndarray) -> list[int]:
    """The sample numbers of decoded images (N, H, W, 3) from `write_numbered_dataset`."""
    return images[:, 0, 0, 0].astype(int).tolist()
