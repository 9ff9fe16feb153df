"""EXIF orientation: which of the eight flips and rotations turns a file's stored pixels upright.

Cameras store the sensor's pixels and record how the camera was held in the EXIF Orientation
tag (274); viewers, browsers and the annotation tools that draw on what browsers show turn the
image upright before anyone sees it. The transposes here are numpy index operations, so they
are exact and cost no arithmetic.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import ExifTags, Image

UPRIGHT = 1
ORIENTATION_TAG = ExifTags.Base.Orientation

# Tag value -> the transpose that makes the stored HW(C) array upright (as Pillow's ImageOps.exif_transpose).
_UPRIGHTING: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    2: lambda a: a[:, ::-1],  # mirrored left-right
    3: lambda a: a[::-1, ::-1],  # rotated 180
    4: lambda a: a[::-1],  # mirrored top-bottom
    5: lambda a: a.swapaxes(0, 1),  # transposed
    6: lambda a: np.rot90(a, -1),  # camera held rotated 90 degrees clockwise
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),  # transversed
    8: lambda a: np.rot90(a, 1),  # camera held rotated 90 degrees counter-clockwise
}
# The inverse of each: every transpose is its own inverse except the two quarter turns.
_INVERSE = {2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}
SWAPS_AXES = frozenset({5, 6, 7, 8})


def orientation_of(image: Image.Image) -> int:
    """The EXIF orientation (1..8) of an opened image; 1 (upright) when absent or not a valid value."""
    value = image.getexif().get(ORIENTATION_TAG, UPRIGHT)
    return value if isinstance(value, int) and value in range(1, 9) else UPRIGHT


def reorient(array: np.ndarray, current: int, wanted: int) -> np.ndarray:
    """`array`, in orientation `current` relative to the file's stored pixels, turned into orientation `wanted`.

    Orientations are EXIF tag values: 1 is the stored pixels, the file's tag value is upright.
    """
    if current == wanted:
        return array
    if current != UPRIGHT:  # back to the stored pixels first
        array = _UPRIGHTING[_INVERSE[current]](array)
    if wanted != UPRIGHT:
        array = _UPRIGHTING[wanted](array)
    return np.ascontiguousarray(array)
