"""`ImageNoise`: saturation, hue, contrast, brightness and Gaussian pixel noise (reference §6.2).

Saturation and hue are linear colour maps (a blend with ITU-R 601 luma, and a rotation of the
chroma plane of YIQ), so they mean the same for any value range, [0, 255] or imagenet's [-1, 1],
where an HSV round trip would not. With contrast and brightness they fuse into one affine colour
map, ``gain @ pixel + bias``, applied in one pass together with the noise. The matrix
follows the portable recipe (`brevetti_core.portable`): the YIQ matrices are exact decimals, so
their inverse and the constant parts of the fused matrix are exact rationals rounded once; the
slot's part is scalar float arithmetic with a portable cosine and sine, never BLAS or libm. Pixel
noise looks the slot's own Philox stream up in a table of portable normal quantiles, so every
output is the same bytes on every CPU.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from ..portable import cos_sin_turns, normal_levels
from ..rng import ParamStreams, pixel_rng
from . import check_chance, check_range, draw, gated_uniform
from .part import AugmentationPart

Matrix = tuple[tuple[Fraction, ...], ...]

_RGB_TO_YIQ: Matrix = tuple(tuple(map(Fraction, row)) for row in (("0.299", "0.587", "0.114"),
                                                                  ("0.596", "-0.274", "-0.322"),
                                                                  ("0.211", "-0.523", "0.312")))
_LUMA = tuple(float(v) for v in _RGB_TO_YIQ[0])


def _inverse(m: Matrix) -> Matrix:
    """The exact inverse of a 3x3 matrix of fractions, by cofactors."""
    def cofactor(i: int, j: int) -> Fraction:
        (a, b), (c, d) = ([m[r][k] for k in range(3) if k != j] for r in range(3) if r != i)
        return (-1) ** (i + j) * (a * d - b * c)

    determinant = sum(m[0][j] * cofactor(0, j) for j in range(3))
    return tuple(tuple(cofactor(j, i) / determinant for j in range(3)) for i in range(3))


def _chroma_parts() -> tuple[tuple[tuple[float, ...], ...], ...]:
    """(SCALE, TURN): a turn by angle a of YIQ's chroma plane is, in RGB, I + (cos a - 1) SCALE + sin a TURN.

    With u, v the I and Q columns of the inverse and i, q the I and Q rows of RGB->YIQ,
    SCALE = u i' + v q' and TURN = v i' - u q', computed exactly and rounded once.
    """
    inverse, (_, i_row, q_row) = _inverse(_RGB_TO_YIQ), _RGB_TO_YIQ
    u, v = [row[1] for row in inverse], [row[2] for row in inverse]
    scale = tuple(tuple(float(u[r] * i_row[c] + v[r] * q_row[c]) for c in range(3)) for r in range(3))
    turn = tuple(tuple(float(v[r] * i_row[c] - u[r] * q_row[c]) for c in range(3)) for r in range(3))
    return scale, turn


_CHROMA_SCALE, _CHROMA_TURN = _chroma_parts()


class ImageNoise(AugmentationPart):
    """Each step happens independently with probability `chance`, in this order:

    ``saturation`` (factor from the `saturation` range, else 1), ``hue`` (a turn of the colour
    wheel in units of full turns, U(+-hue), else 0), ``contrast`` (factor, else 1),
    ``brightness`` (added, U(+-brightness), else 0) and ``noise_std`` (`stddev`, else 0) with
    per-pixel normal noise drawn from ``noise_seed``. Saturation and hue apply to 3-channel images only.
    """

    name = "image_noise"

    def __init__(self, brightness: float | Sequence[float] = 0.25, contrast: Sequence[float] = (0.5, 1.25),
                 hue: float | Sequence[float] = 0.05, saturation: Sequence[float] = (0, 2.0),
                 stddev: float = 0.01, chance: float = 0.5):
        name = type(self).__name__
        self.brightness = check_range(name, "brightness", brightness)
        self.contrast = check_range(name, "contrast", contrast, symmetric=False, minimum=0.0)
        self.hue = check_range(name, "hue", hue)
        self.saturation = check_range(name, "saturation", saturation, symmetric=False, minimum=0.0)
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float)) or stddev < 0:
            raise ValueError(f"{name}: stddev must be a number >= 0, got {stddev!r}")
        self.stddev = float(stddev)
        self.chance = check_chance(name, "chance", chance)

    def sample_params(self, streams: ParamStreams, n: int) -> dict[str, np.ndarray]:
        """The colour and noise parameters of n slots (see the class docstring)."""
        params = {}
        for name, (low, high), off in (("saturation", self.saturation, 1), ("hue", self.hue, 0),
                                       ("contrast", self.contrast, 1), ("brightness", self.brightness, 0)):
            params[name], _ = gated_uniform(streams, name, n, self.chance, low, high, off)
        noisy = draw(streams, "noise_std", n) < np.float32(self.chance)
        params["noise_std"] = noisy.astype(np.float32) * np.float32(self.stddev)
        params["noise_seed"] = streams.seeds("noise_seed", n)
        return params

    def apply(self, image: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
        """`image` (HWC float32) with this slot's colour changes and noise."""
        return photometric(image, float(params["saturation"]), float(params["hue"]), float(params["contrast"]),
                           float(params["brightness"]), float(params["noise_std"]), int(params["noise_seed"]))


def color_matrix(saturation: float, hue: float) -> np.ndarray:
    """The 3x3 RGB matrix that scales saturation by `saturation` and turns hue by `hue` full turns.

    It is ``turn @ saturate``, multiplied out: a hue turn keeps greys (every row of turn sums to
    1), so ``turn @ (s I + (1 - s) 1 luma')`` is ``s turn + (1 - s) 1 luma'``, entry by entry.
    """
    cos, sin = cos_sin_turns(float(hue))
    versine = cos - 1.0
    saturation = float(saturation)
    rows = [[saturation * ((1.0 if r == c else 0.0) + (versine * _CHROMA_SCALE[r][c] + sin * _CHROMA_TURN[r][c]))
             + (1.0 - saturation) * _LUMA[c] for c in range(3)] for r in range(3)]
    return np.array(rows)


def color_transform(image: np.ndarray, saturation: float, hue: float) -> np.ndarray:
    """`image` (HW3) with saturation scaled and hue turned; unchanged when both are neutral."""
    if saturation == 1 and hue == 0:
        return image
    m = color_matrix(saturation, hue).astype(np.float32)
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    return np.stack([(m[i, 0] * r + m[i, 1] * g) + m[i, 2] * b for i in range(3)], axis=-1)


def adjust_contrast(image: np.ndarray, factor: float) -> np.ndarray:
    """``(image - mean) * factor + mean`` with the mean of each channel over the image."""
    if factor == 1:
        return image
    # Summing each channel on its own is ~10x faster than a (0, 1)-axis mean and just as exact.
    pixels = image.shape[0] * image.shape[1]
    mean = np.array([image[..., c].sum(dtype=np.float64) / pixels for c in range(image.shape[-1])], np.float32)
    return (image - mean) * np.float32(factor) + mean


def adjust_brightness(image: np.ndarray, delta: float) -> np.ndarray:
    """``image + delta``."""
    return image if delta == 0 else image + np.float32(delta)


def add_gaussian_noise(image: np.ndarray, stddev: float, seed: int) -> np.ndarray:
    """``image + N(0, stddev)`` per pixel, drawn from `seed`'s own stream."""
    if stddev == 0:
        return image
    noise = pixel_noise(seed, image.shape[-1:] + image.shape[:-1], stddev)  # channel planes, as `photometric` draws
    return image + np.moveaxis(noise, 0, -1)


def pixel_noise(seed: int, shape: tuple[int, ...], stddev: float) -> np.ndarray:
    """float32 N(0, stddev) values of `shape` from `seed`'s own stream (`normal_levels`, 4 values per word)."""
    count = math.prod(shape)
    noise = normal_levels(pixel_rng(seed).bit_generator.random_raw((count + 3) // 4), count).reshape(shape)
    noise *= np.float32(stddev)
    return noise


def photometric(image: np.ndarray, saturation: float, hue: float, contrast: float, brightness: float,
                stddev: float, seed: int) -> np.ndarray:
    """Saturation and hue (3 channels only), contrast, brightness and noise as one pass over `image` (HWC).

    The same as the steps one after another, with one difference in rounding: contrast pivots on
    the colour-mapped channel means computed from the input's means (``gain @ mean``) in double
    precision, so the image is read once and every output channel is a fixed sum of four terms.
    """
    channels = image.shape[-1]
    recolour = channels == 3 and not (saturation == 1 and hue == 0)
    if not recolour and contrast == 1 and brightness == 0 and stddev == 0:
        return image
    matrix = color_matrix(saturation, hue).tolist() if recolour else \
        [[1.0 if r == c else 0.0 for c in range(channels)] for r in range(channels)]
    means = [0.0] * channels
    if contrast != 1:
        pixels = image.shape[0] * image.shape[1]
        # Summing each channel on its own is ~10x faster than a (0, 1)-axis mean and just as exact.
        input_means = [float(image[..., c].sum(dtype=np.float64)) / pixels for c in range(channels)]
        means = [math.fsum(m * v for m, v in zip(row, input_means)) for row in matrix]
    planes = image.transpose(2, 0, 1).copy()  # contiguous channel planes: several times faster arithmetic
    noise = pixel_noise(seed, planes.shape, stddev) if stddev != 0 else None
    out = np.empty(image.shape, np.float32)
    for r in range(channels):
        out[..., r] = _affine_plane(planes, [contrast * m for m in matrix[r]], (1.0 - contrast) * means[r] + brightness,
                                    None if noise is None else noise[r])
    return out


def _affine_plane(planes: np.ndarray, gains: Sequence[float], bias: float, noise: np.ndarray | None) -> np.ndarray:
    """``sum(gains[c] * planes[c]) + bias (+ noise)`` in float32, terms in this order, zero gains skipped."""
    total = np.zeros(planes.shape[1:], np.float32)
    for plane, gain in zip(planes, gains):
        if gain != 0:
            total += plane * np.float32(gain)
    if bias != 0:
        total += np.float32(bias)
    if noise is not None:
        total += noise
    return total
