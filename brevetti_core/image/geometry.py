"""Pure geometry kernels: ROI crops, resizing, padding to a target size and rescaling.

Images are HW or HWC float32 arrays, or uint8 levels of 8-bit files, and every kernel returns a
new array; resizing gives uint8 only where it resamples levels (antialiased or nearest). Resampling runs in Pillow: on
single-channel float ("F") images, whose filters accumulate in double precision in a fixed order,
and, for antialiased resizes of uint8 images, with Pillow's 8-bit kernels (integer fixed-point
taps, rounded to the nearest level), all channels at once, several times faster; either way
results are bit-identical in every process and thread. Coordinates follow the
half-pixel convention (pixel i covers [i, i+1)), the one tf.image.resize and Pillow share.
Everything else here is element-wise numpy arithmetic on exact inputs (integer sizes and
indices), never BLAS or numpy's SIMD transcendental functions, so results are the same on every
CPU too (the recipe is in `brevetti_core.portable`).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

RESIZE_METHODS = ("bilinear", "nearest", "bicubic", "area")
PADDING_MODES = ("CONSTANT", "REFLECT", "SYMMETRIC")
ROI_MODES = ("concatenate_height", "as_timeseries", None)
RESCALE_PRESETS = {"imagenet": (1 / 127.5, -1.0), "unit": (1 / 255, 0.0)}

_PIL_FILTERS = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC}

Roi = tuple[int, int, int, int]  # x1, y1, x2, y2 with exclusive ends


def parse_target_size(target_size: Sequence[int] | None) -> tuple[int, int] | None:
    """(height, width), or None for "keep the image size"; ValueError for any other shape."""
    if target_size is None or (isinstance(target_size, Sequence) and len(target_size) == 0):
        return None
    values = _integers(target_size)
    if values is None or len(values) != 2 or min(values) < 1:
        raise ValueError(f"target_size must be (height, width) with positive integers, or None; got {target_size!r}")
    return values[0], values[1]


def parse_rois(rois: Any) -> tuple[Roi, ...] | None:
    """ROIs ``((x1, y1), (x2, y2))`` (one, or a list of them) as (x1, y1, x2, y2) tuples."""
    if rois is None or (isinstance(rois, Sequence) and len(rois) == 0):
        return None
    message = (f"rois must be ((x1, y1), (x2, y2)) or a list of those, with integers x2 > x1 >= 0 "
               f"and y2 > y1 >= 0; got {rois!r}")
    try:
        array = np.asarray(rois, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(message) from None
    if array.shape == (2, 2):
        array = array[None]
    if array.ndim != 3 or array.shape[1:] != (2, 2) or not np.array_equal(array, np.round(array)):
        raise ValueError(message)
    parsed = tuple((int(x1), int(y1), int(x2), int(y2)) for x1, y1, x2, y2 in array.reshape(-1, 4))
    if any(x1 < 0 or y1 < 0 or x2 <= x1 or y2 <= y1 for x1, y1, x2, y2 in parsed):
        raise ValueError(message)
    return parsed


def parse_rescale(rescale: str | Mapping[str, float] | None) -> tuple[float, float] | None:
    """(scale, offset) of a rescale setting: None, "imagenet", "unit" or {"scale": s, "offset": o}."""
    if rescale is None or rescale == "None":
        return None
    if isinstance(rescale, str) and rescale in RESCALE_PRESETS:
        return RESCALE_PRESETS[rescale]
    if isinstance(rescale, Mapping) and set(rescale) <= {"scale", "offset"}:
        try:
            return float(rescale.get("scale", 1.0)), float(rescale.get("offset", 0.0))
        except (TypeError, ValueError):
            pass
    raise ValueError(f"rescale must be None, 'imagenet' ([-1, 1]), 'unit' ([0, 1]) or "
                     f"{{'scale': float, 'offset': float}}; got {rescale!r}")


def parse_choice(name: str, value: Any, choices: Sequence, upper: bool = False) -> Any:
    """`value` if it is one of `choices` (compared upper-cased when `upper`); ValueError naming `name` otherwise."""
    normalised = value.upper() if upper and isinstance(value, str) else value
    if normalised not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return normalised


def crop(image: np.ndarray, roi: Roi) -> np.ndarray:
    """``image[y1:y2, x1:x2]``, zero-filled where the ROI reaches past the image."""
    x1, y1, x2, y2 = roi
    h, w = image.shape[:2]
    out = np.zeros((y2 - y1, x2 - x1, *image.shape[2:]), dtype=image.dtype)
    inside = image[min(y1, h):min(y2, h), min(x1, w):min(x2, w)]
    out[:inside.shape[0], :inside.shape[1]] = inside
    return out


def fitted_size(shape: tuple[int, int], target: tuple[int, int], keep_aspect_ratio: bool) -> tuple[int, int]:
    """The size `shape` is resized to: `target`, or the largest same-aspect size inside it."""
    if not keep_aspect_ratio:
        return target
    scale = min(target[0] / shape[0], target[1] / shape[1])
    return (min(target[0], max(1, round(shape[0] * scale))),
            min(target[1], max(1, round(shape[1] * scale))))


def resize(image: np.ndarray, size: tuple[int, int], method: str = "bilinear", antialias: bool = False) -> np.ndarray:
    """`image` (HW or HWC) resized to `size` (height, width): float32, or uint8 for uint8 input resized
    antialiased (Pillow's 8-bit kernels, rounded to the nearest level) or by nearest.

    `antialias` widens the bilinear/bicubic filter when shrinking (as tf.image.resize does); without
    it those methods sample the 2/16 nearest pixels. "area" averages the input area each output
    pixel covers (as tf's AREA) and "nearest" takes the pixel under each output pixel's centre.
    """
    h, w = size
    dtype = np.uint8 if image.dtype == np.uint8 else np.float32
    if image.shape[:2] == (h, w):
        return image.astype(dtype, copy=False)
    if method == "nearest":
        rows = _nearest_indices(image.shape[0], h)
        cols = _nearest_indices(image.shape[1], w)
        return image[rows[:, None], cols[None, :]].astype(dtype, copy=False)
    if method == "area":
        return _area_resize(_area_resize(image.astype(np.float32, copy=False), h, axis=0), w, axis=1)
    if dtype == np.uint8 and antialias and (image.ndim == 2 or image.shape[2] in (1, 3)):
        return _resize_levels(image, size, method)
    # Pillow's 8-bit affine transform truncates instead of rounding, so plain (not antialiased) resizes stay float.
    image = image.astype(np.float32, copy=False)
    if image.ndim == 2:
        return np.array(_resize_plane(image, size, method, antialias))
    return np.stack([_resize_plane(image[..., c], size, method, antialias) for c in range(image.shape[2])], axis=-1)


def pad_to_size(image: np.ndarray, size: tuple[int, int], mode: str = "CONSTANT", center: bool = False) -> np.ndarray:
    """`image` padded to `size` at the bottom/right, or evenly on both sides (extra pixel after) if `center`."""
    dh, dw = size[0] - image.shape[0], size[1] - image.shape[1]
    if dh == 0 and dw == 0:
        return image
    top, left = (dh // 2, dw // 2) if center else (0, 0)
    widths = [(top, dh - top), (left, dw - left)] + [(0, 0)] * (image.ndim - 2)
    return np.pad(image, widths, mode=mode.lower())  # type: ignore[call-overload]  # mode checked by the caller


def rescale(image: np.ndarray, scale: float, offset: float) -> np.ndarray:
    """``image * scale + offset`` computed in float32."""
    return image * np.float32(scale) + np.float32(offset)


@dataclass(frozen=True)
class ImageGeometry:
    """Where an image's pixels go: ROI crops and their combination, resize to a target, padding.

    `ImagePipeline` applies it to images and `SegmentationLoader` to masks (with nearest), so both
    land on the same output pixels.
    """

    rois: tuple[Roi, ...] | None = None
    roi_mode: str | None = "concatenate_height"
    target_size: tuple[int, int] | None = None
    keep_aspect_ratio: bool = False
    padding_mode: str = "CONSTANT"
    center_padding: bool = False

    def __post_init__(self):
        object.__setattr__(self, "rois", parse_rois(self.rois))
        object.__setattr__(self, "target_size", parse_target_size(self.target_size))
        object.__setattr__(self, "roi_mode", parse_choice("roi_mode", self.roi_mode, ROI_MODES))
        object.__setattr__(self, "padding_mode",
                           parse_choice("padding_mode", self.padding_mode, PADDING_MODES, upper=True))
        if self.rois and len(self.rois) > 1:
            sizes = {(y2 - y1, x2 - x1) for x1, y1, x2, y2 in self.rois}
            if self.roi_mode == "concatenate_height" and len({w for _, w in sizes}) > 1:
                raise ValueError(f"roi_mode 'concatenate_height' stacks ROIs vertically, so they need equal widths; "
                                 f"got rois {self.rois} (x1, y1, x2, y2)")
            if self.roi_mode == "as_timeseries" and len(sizes) > 1:
                raise ValueError(f"roi_mode 'as_timeseries' stacks ROIs as frames, so they need equal sizes; "
                                 f"got rois {self.rois} (x1, y1, x2, y2)")

    @property
    def whole_image_resize(self) -> bool:
        """True when the output is a whole-image resize, so the image may be decoded smaller."""
        return self.rois is None and self.target_size is not None

    def apply(self, image: np.ndarray, method: str = "bilinear", antialias: bool = False,
              source_hw: tuple[int, int] | None = None) -> np.ndarray | tuple[np.ndarray, ...]:
        """`image` cropped, combined, resized and padded; `source_hw` is its file size when decoded smaller."""
        if self.rois is None:
            return self._fit(image, method, antialias, source_hw or image.shape[:2])
        crops = [crop(image, roi) for roi in self.rois]
        if self.roi_mode == "concatenate_height":
            combined = np.concatenate(crops, axis=0)
            return self._fit(combined, method, antialias, combined.shape[:2])
        if self.roi_mode == "as_timeseries":
            return np.stack([self._fit(c, method, antialias, c.shape[:2]) for c in crops], axis=0)
        return tuple(self._fit(c, method, antialias, c.shape[:2]) for c in crops)

    def output_shape(self, channels: int | None) -> tuple | tuple[tuple, ...]:
        """Static output shape (H, W, C), (T, H, W, C) for timeseries, or one per ROI when not combined."""
        if self.rois is None:
            return (*(self.target_size or (None, None)), channels)
        shapes = [(*(self.target_size or (y2 - y1, x2 - x1)), channels) for x1, y1, x2, y2 in self.rois]
        if self.roi_mode == "concatenate_height":
            if self.target_size:
                return shapes[0]
            return sum(s[0] for s in shapes), shapes[0][1], channels
        if self.roi_mode == "as_timeseries":
            return (len(shapes), *shapes[0])
        return tuple(shapes)

    def _fit(self, image: np.ndarray, method: str, antialias: bool, source_hw: tuple[int, int]) -> np.ndarray:
        if self.target_size is None:
            return image if image.dtype == np.uint8 else image.astype(np.float32, copy=False)
        size = fitted_size(source_hw, self.target_size, self.keep_aspect_ratio)
        resized = resize(image, size, method, antialias)
        return pad_to_size(resized, self.target_size, self.padding_mode, self.center_padding)


def _nearest_indices(size_in: int, size_out: int) -> np.ndarray:
    centres = (np.arange(size_out) + 0.5) * (size_in / size_out)
    return np.minimum(centres.astype(np.int64), size_in - 1)


def _area_resize(image: np.ndarray, size_out: int, axis: int) -> np.ndarray:
    """Each output pixel the mean of the input it covers, partly covered pixels weighted by their share."""
    size_in = image.shape[axis]
    if size_in == size_out:
        return image
    scale = size_in / size_out
    starts = np.arange(size_out) * scale
    indices = np.floor(starts).astype(np.int64)[:, None] + np.arange(math.ceil(scale) + 1)[None, :]
    overlap = np.minimum(starts[:, None] + scale, indices + 1) - np.maximum(starts[:, None], indices)
    weights = (np.clip(overlap, 0, None) / scale).astype(np.float32)
    indices = np.minimum(indices, size_in - 1)
    shape = [1] * image.ndim
    shape[axis] = size_out
    out = weights[:, 0].reshape(shape) * np.take(image, indices[:, 0], axis=axis)
    for tap in range(1, indices.shape[1]):
        out = out + weights[:, tap].reshape(shape) * np.take(image, indices[:, tap], axis=axis)
    return out


def _resize_levels(levels: np.ndarray, size: tuple[int, int], method: str) -> np.ndarray:
    """uint8 HW, HW1 or HW3 `levels` resized antialiased by Pillow's 8-bit kernels (rounded), every channel at once."""
    plane = levels.ndim == 2 or levels.shape[2] == 1
    image = Image.fromarray(np.ascontiguousarray(levels.reshape(levels.shape[:2]) if plane else levels))
    resized = np.asarray(_pillow_resize(image, levels.shape[:2], size, method, antialias=True))
    return resized.reshape(*size, *levels.shape[2:])


def _resize_plane(plane: np.ndarray, size: tuple[int, int], method: str, antialias: bool) -> np.ndarray:
    image = Image.fromarray(np.ascontiguousarray(plane, dtype=np.float32))
    return np.asarray(_pillow_resize(image, plane.shape[:2], size, method, antialias), dtype=np.float32)


def _pillow_resize(image: Image.Image, shape: tuple[int, ...], size: tuple[int, int], method: str,
                   antialias: bool) -> Image.Image:
    """`image` (of array shape `shape`) resized to `size` (h, w) by Pillow: widened filter when `antialias`."""
    h, w = size
    if antialias:
        return image.resize((w, h), _PIL_FILTERS[method])
    # An affine map samples exactly at output pixel centres with the plain 2x2 / 4x4 kernel.
    sx, sy = shape[1] / w, shape[0] / h
    return image.transform((w, h), Image.Transform.AFFINE, (sx, 0.0, 0.0, 0.0, sy, 0.0), resample=_PIL_FILTERS[method])


def _integers(values: Any) -> tuple[int, ...] | None:
    try:
        items = tuple(values)
    except TypeError:
        return None
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in items):
        return None
    return tuple(int(v) for v in items)
