"""`ImageFiltering`: one of emboss, Gaussian blur or mean blur per image, or none (reference §6.2).

Kernels correlate separably in float32 with reflected borders (tf's "REFLECT": the edge pixel is
not repeated), summing taps in a fixed order. Gaussian taps follow the portable recipe
(`brevetti_core.portable`): a portable exp and an exactly rounded sum, not numpy's SIMD exp, so
every CPU filters with the same float32 kernel and results are bit-identical everywhere.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..portable import exp
from ..rng import ParamStreams
from . import check_chance, check_range, draw, select
from .part import AugmentationPart

NONE, EMBOSS, GAUSSIAN_BLUR, MEAN_BLUR = 0, 1, 2, 3

_SMOOTH = np.array([1, 2, 1], dtype=np.float32)
_DIFFERENCE = np.array([-1, 0, 1], dtype=np.float32)


class ImageFiltering(AugmentationPart):
    """With probability `chance`, one filter chosen evenly: emboss, Gaussian blur or mean blur.

    Plan parameters: ``filter`` (0 none, 1 emboss, 2 Gaussian, 3 mean) and the emboss weights
    ``emboss_x``/``emboss_y`` (magnitude in `emboss_strength`, random sign; 0 unless embossing).
    """

    name = "image_filter"

    def __init__(self, emboss_strength: Sequence[float] | None = None, avg_blur: Sequence[int] = (3, 3),
                 gaussian_blur_sigma: float = 0.5, chance: float = 0.5):
        name = type(self).__name__
        self.emboss_strength = check_range(name, "emboss_strength", (0.0, 0.25) if emboss_strength is None
                                           else emboss_strength, symmetric=False, minimum=0.0)
        try:
            sizes = tuple(int(v) for v in avg_blur)
        except (TypeError, ValueError):
            sizes = ()
        if len(sizes) != 2 or min(sizes) < 1:
            raise ValueError(f"{name}: avg_blur must be a (height, width) kernel size of positive integers, "
                             f"got {avg_blur!r}")
        self.avg_blur = (sizes[0], sizes[1])
        if not gaussian_blur_sigma > 0:
            raise ValueError(f"{name}: gaussian_blur_sigma must be > 0, got {gaussian_blur_sigma!r}")
        self.gaussian_blur_sigma = float(gaussian_blur_sigma)
        self.chance = check_chance(name, "chance", chance)

    def sample_params(self, streams: ParamStreams, n: int) -> dict[str, np.ndarray]:
        """``filter``, ``emboss_x`` and ``emboss_y`` for n slots."""
        u = draw(streams, "filter", n)
        if self.chance > 0:
            # Thirds of [0, chance) give 0, 1, 2 and the rest 3; shifting by one mod 4 makes 3 "none".
            third = np.minimum(u * np.float32(3 / self.chance), np.float32(3)).astype(np.int8)
            choice = (third + np.int8(1)) % np.int8(4)
        else:
            choice = np.zeros(n, np.int8)
        params = {"filter": choice}
        low, high = self.emboss_strength
        for name in ("emboss_x", "emboss_y"):
            # One draw w in [-1, 1) gives the sign and, through |w|, the magnitude.
            w = draw(streams, name, n)
            w *= np.float32(2)
            w -= np.float32(1)
            magnitude = np.abs(w)
            magnitude *= np.float32(high - low)
            magnitude += np.float32(low)
            np.copysign(magnitude, w, out=magnitude)
            params[name] = select(choice == EMBOSS, magnitude, 0)
        return params

    def apply(self, image: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
        """`image` (HWC float32) with this slot's filter applied."""
        choice = int(params["filter"])
        if choice == EMBOSS:
            return emboss(image, float(params["emboss_x"]), float(params["emboss_y"]))
        if choice == GAUSSIAN_BLUR:
            return gaussian_blur(image, self.gaussian_blur_sigma)
        if choice == MEAN_BLUR:
            return mean_blur(image, self.avg_blur)
        return image


def emboss(image: np.ndarray, weight_x: float, weight_y: float) -> np.ndarray:
    """``image + weight_x * sobel_x(image) + weight_y * sobel_y(image)``."""
    sobel_x = correlate(correlate(image, _SMOOTH, axis=0), _DIFFERENCE, axis=1)
    sobel_y = correlate(correlate(image, _DIFFERENCE, axis=0), _SMOOTH, axis=1)
    return image + np.float32(weight_x) * sobel_x + np.float32(weight_y) * sobel_y


def gaussian_kernel(sigma: float) -> np.ndarray:
    """The normalised 1-D Gaussian of `sigma` pixels over 2*ceil(2.5*sigma)+1 taps, float32."""
    return np.array(_gaussian_taps(float(sigma)), dtype=np.float32)


@functools.lru_cache(maxsize=64)
def _gaussian_taps(sigma: float) -> tuple[float, ...]:
    """The taps of `gaussian_kernel`, symmetric by construction and computed by the portable recipe."""
    half = []
    for offset in range(math.ceil(2.5 * sigma) + 1):
        distance = offset / sigma
        half.append(exp(-0.5 * (distance * distance)))
    taps = half[:0:-1] + half
    total = math.fsum(taps)
    return tuple(tap / total for tap in taps)


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """`image` blurred by a separable Gaussian of `sigma` pixels."""
    kernel = gaussian_kernel(sigma)
    return correlate(correlate(image, kernel, axis=0), kernel, axis=1)


def mean_blur(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`image` averaged over a (height, width) box around each pixel."""
    rows = np.full(size[0], 1 / size[0], dtype=np.float32)
    cols = np.full(size[1], 1 / size[1], dtype=np.float32)
    return correlate(correlate(image, rows, axis=0), cols, axis=1)


def correlate(image: np.ndarray, kernel: np.ndarray, axis: int) -> np.ndarray:
    """1-D correlation of `image` with `kernel` along `axis` (centred; even kernels lean left), reflected borders."""
    before = (len(kernel) - 1) // 2
    padded = _reflect_pad(image, before, len(kernel) - 1 - before, axis)
    length = image.shape[axis]
    window = [slice(None)] * image.ndim
    out: np.ndarray | None = None
    term: np.ndarray | None = None
    for tap, weight in enumerate(kernel):
        if weight == 0:
            continue
        window[axis] = slice(tap, tap + length)
        taken = padded[tuple(window)]
        if out is None:
            out = taken * np.float32(weight)
            continue
        # Products into one reused buffer, summed in tap order: the same roundings as out + w * x, fewer allocations;
        # a weight of 1 multiplies exactly, so it is added as it is.
        if weight == 1:
            out += taken
        else:
            term = np.multiply(taken, np.float32(weight), out=term)
            out += term
    return out if out is not None else np.zeros_like(image)


def _reflect_pad(image: np.ndarray, before: int, after: int, axis: int) -> np.ndarray:
    """`image` padded along `axis` by reflection without repeating the edge (numpy's "reflect")."""
    length = image.shape[axis]
    if max(before, after) >= length:  # reflections of reflections: numpy's general case
        widths = [(0, 0)] * image.ndim
        widths[axis] = (before, after)
        return np.pad(image, widths, mode="reflect")
    shape = list(image.shape)
    shape[axis] = length + before + after
    padded = np.empty(shape, image.dtype)
    moved, source = np.moveaxis(padded, axis, 0), np.moveaxis(image, axis, 0)
    moved[before:before + length] = source
    if before:
        moved[:before] = source[before:0:-1]
    if after:
        moved[before + length:] = source[-2:-2 - after:-1]
    return padded
