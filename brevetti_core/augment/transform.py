"""`RandomTransformer`: flips, rotation, scale, shear and translation as ONE affine resample.

Composing everything into a single output-to-input matrix and resampling once avoids the blur of
repeated interpolation. The resample is Pillow's affine transform on float ("F") planes: it maps
each output pixel centre through the matrix in double precision, and quarter turns and flips are
exact pixel permutations. Labels use the same matrix with nearest interpolation, so masks stay
aligned with their image. The matrix follows the portable recipe (`brevetti_core.portable`):
scalar float arithmetic written out term by term (no BLAS), a portable cosine and sine (no libm),
and entries rounded to multiples of 2**-20, so Pillow's pixel positions are exact and every CPU
resamples the same pixels with the same weights.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image

from ..portable import cos_sin_degrees, on_grid
from ..rng import ParamStreams
from . import check_chance, check_range, draw, gated_uniform, uniform_where
from .part import AugmentationPart

INTERPOLATIONS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
}

_IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


class RandomTransformer(AugmentationPart):
    """Random affine geometry with the reference's defaults; every decision has its own stream.

    Plan parameters: ``flip_lr``/``flip_ud`` (each with probability chance/2, as in the reference),
    ``rotate_deg`` (counter-clockwise as displayed, U(rotate) with `rotate_chance`, else 0),
    ``scale_x``/``scale_y`` (1 + U(+-scale), else 1), ``shear_x``/``shear_y`` (U(+-shear), else 0)
    and ``translate_x``/``translate_y`` (fractions of the width/height, positive moves the content
    right/down; U(+-translate_*), else 0). Scale, shear and translate each happen with `chance`.
    """

    name = "random_transformer"
    geometric = True

    def __init__(self, chance: float = 0.5, flip_up_down: bool = True, flip_left_right: bool = True,
                 scale: float = 0.2, rotate_chance: float = 0.5, rotate: float | Sequence[float] = 90,
                 translate_horizontal: float = 0.1, translate_vertical: float = 0.1, shear: float = 0.04,
                 interpolation: str = "bilinear"):
        name = type(self).__name__
        self.chance = check_chance(name, "chance", chance)
        self.rotate_chance = check_chance(name, "rotate_chance", rotate_chance)
        self.flip_up_down, self.flip_left_right = bool(flip_up_down), bool(flip_left_right)
        self.rotate = check_range(name, "rotate", rotate)
        self.scale = check_range(name, "scale", scale)[1]
        if self.scale >= 1:
            raise ValueError(f"{name}: scale must be in [0, 1) (a relative change), got {scale!r}")
        self.shear = check_range(name, "shear", shear)[1]
        if self.shear >= 1:
            raise ValueError(f"{name}: shear must be in [0, 1), got {shear!r}")
        self.translate_horizontal = check_range(name, "translate_horizontal", translate_horizontal)[1]
        self.translate_vertical = check_range(name, "translate_vertical", translate_vertical)[1]
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"{name}: interpolation must be one of {list(INTERPOLATIONS)}, got {interpolation!r}")
        self.interpolation = interpolation

    def sample_params(self, streams: ParamStreams, n: int) -> dict[str, np.ndarray]:
        """The geometry parameters of n slots (see the class docstring)."""
        half = np.float32(self.chance / 2)
        params = {
            "flip_lr": draw(streams, "flip_lr", n) < half if self.flip_left_right else np.zeros(n, bool),
            "flip_ud": draw(streams, "flip_ud", n) < half if self.flip_up_down else np.zeros(n, bool),
        }
        params["rotate_deg"], _ = gated_uniform(streams, "rotate_deg", n, self.rotate_chance, *self.rotate, 0)
        for name, (low, high), off in (("scale", (1 - self.scale, 1 + self.scale), 1),
                                       ("shear", (-self.shear, self.shear), 0)):
            params[f"{name}_x"], gate = gated_uniform(streams, f"{name}_x", n, self.chance, low, high, off)
            params[f"{name}_y"] = uniform_where(streams, f"{name}_y", n, gate, low, high, off)
        tx, ty = self.translate_horizontal, self.translate_vertical
        params["translate_x"], gate = gated_uniform(streams, "translate_x", n, self.chance, -tx, tx, 0)
        params["translate_y"] = uniform_where(streams, "translate_y", n, gate, -ty, ty, 0)
        return params

    def apply(self, image: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
        """`image` (HWC) resampled with this slot's geometry and the configured interpolation."""
        return warp_affine(image, affine_matrix(params, image.shape[:2]), self.interpolation)

    def apply_label(self, label: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
        """`label` (HWC) with the same geometry, nearest interpolation."""
        return warp_affine(label, affine_matrix(params, label.shape[:2]), "nearest")


def affine_matrix(params: Mapping[str, Any], shape: tuple[int, int]) -> np.ndarray:
    """The 2x3 output-to-input matrix of one slot's geometry for an image of `shape` (height, width).

    Coordinates are continuous pixel positions (pixel (i, j) covers [j, j+1) x [i, i+1)). The
    forward map, about the image centre, is flip, then scale, then shear, then rotate, then
    translate; this returns its inverse, which is what resampling needs, on the 2**-20 grid.
    """
    height, width = shape
    cos, sin = cos_sin_degrees(float(params.get("rotate_deg", 0.0)))
    shear_x, shear_y = float(params.get("shear_x", 0.0)), float(params.get("shear_y", 0.0))
    scale_x = float(params.get("scale_x", 1.0)) * (-1.0 if params.get("flip_lr", False) else 1.0)
    scale_y = float(params.get("scale_y", 1.0)) * (-1.0 if params.get("flip_ud", False) else 1.0)
    # forward = rotate @ shear @ diag(scale_x, scale_y), rotate = [[cos, sin], [-sin, cos]] (y points down,
    # so it turns counter-clockwise on screen) and shear = [[1, shear_x], [shear_y, 1]], multiplied out.
    a, b = (cos + sin * shear_y) * scale_x, (cos * shear_x + sin) * scale_y
    c, d = (cos * shear_y - sin) * scale_x, (cos - sin * shear_x) * scale_y
    determinant = a * d - b * c
    inverse = ((d / determinant, -b / determinant), (-c / determinant, a / determinant))
    centre = (width / 2, height / 2)
    moved = (centre[0] + float(params.get("translate_x", 0.0)) * width,
             centre[1] + float(params.get("translate_y", 0.0)) * height)
    rows = [(p, q, centre[i] - (p * moved[0] + q * moved[1])) for i, (p, q) in enumerate(inverse)]
    return np.array([[on_grid(v) for v in row] for row in rows])


def warp_affine(image: np.ndarray, matrix: np.ndarray, interpolation: str = "bilinear") -> np.ndarray:
    """`image` (HW or HWC) resampled through the output-to-input `matrix`; outside pixels are 0."""
    if np.array_equal(matrix, _IDENTITY):
        return image
    height, width = image.shape[:2]
    data = tuple(float(v) for v in matrix.reshape(6))
    resample = INTERPOLATIONS[interpolation]
    planes = image[..., None] if image.ndim == 2 else image
    warped = [np.asarray(Image.fromarray(np.ascontiguousarray(planes[..., c], dtype=np.float32)).transform(
        (width, height), Image.Transform.AFFINE, data, resample=resample, fillcolor=0.0))
        for c in range(planes.shape[2])]
    out = np.stack(warped, axis=-1)
    return out[..., 0] if image.ndim == 2 else out
