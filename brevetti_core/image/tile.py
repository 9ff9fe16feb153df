"""`tile2d`: lay a batch of images out on a grid, for looking at them."""
from __future__ import annotations

import numpy as np


def tile2d(x: np.ndarray, grid: tuple[int, int] = (10, 10)) -> np.ndarray:
    """Images ``x[i]`` (N, H, W, ...) placed row by row on a ``grid`` of (rows, cols): (H*rows, W*cols, ...).

    Empty cells are zeros and images beyond ``rows * cols`` are left out.
    """
    x = np.asarray(x)
    rows, cols = (int(g) for g in grid)
    if rows < 1 or cols < 1:
        raise ValueError(f"tile2d: grid must be (rows, cols) with positive integers, got {grid!r}")
    if x.ndim < 3:
        raise ValueError(f"tile2d: x must be a batch of images (N, H, W, ...), got shape {x.shape}")
    cells = np.zeros((rows * cols, *x.shape[1:]), dtype=x.dtype)
    count = min(len(x), rows * cols)
    cells[:count] = x[:count]
    height, width, rest = x.shape[1], x.shape[2], x.shape[3:]
    grid_cells = cells.reshape(rows, cols, height, width, *rest)
    return grid_cells.swapaxes(1, 2).reshape(rows * height, cols * width, *rest)
