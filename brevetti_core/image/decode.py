"""Image bytes to HWC float32 arrays: BMP, PNG, JPEG, TIFF (and whatever else Pillow reads).

Values stay in file units on a 0..255 scale whatever the bit depth: 16-bit samples are scaled by
255/65535 rather than truncated to 8 bits, so a 16-bit image keeps its precision and every rescale
preset means the same thing for every file. Large JPEG downscales decode straight to a smaller size
with Pillow's ``draft`` (libjpeg's DCT scaling) and other large downscales start with an integer
box ``reduce``; both are pure functions of the bytes and the requested size, so they stay exact.
"""
from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image

COLOR_MODES = {"rgb": 3, "greyscale": 1, "bayer": 3}

# ITU-R 601 luma, the weights Pillow's own convert("L") uses.
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)

_SIXTEEN_BIT = np.float32(255.0 / 65535.0)

# What Pillow raises for bytes it cannot make sense of, depending on the format and where it breaks.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, Image.DecompressionBombError)


class ImageDecodeError(ValueError):
    """An image file that cannot be decoded (empty, truncated, corrupt or of an unknown format)."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"cannot decode image {path!r}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self):  # travels intact from worker processes
        return type(self), (self.path, self.reason)


def check_color_mode(color_mode: str) -> int:
    """The channel count of `color_mode`; ValueError naming the accepted modes otherwise."""
    if color_mode not in COLOR_MODES:
        raise ValueError(f"color_mode must be one of {sorted(COLOR_MODES)}, got {color_mode!r}")
    return COLOR_MODES[color_mode]


def open_image(data: bytes, path: str = "<bytes>") -> Image.Image:
    """The Pillow image for `data`, header read but pixels not yet decoded."""
    if len(data) == 0:
        raise ImageDecodeError(path, "the file is empty (0 bytes)")
    try:
        return Image.open(io.BytesIO(data))
    except _DECODE_ERRORS as error:
        raise ImageDecodeError(path, f"{type(error).__name__}: {error}") from error


def to_array(image: Image.Image, color_mode: str = "rgb", path: str = "<bytes>",
             min_size: tuple[int, int] | None = None) -> np.ndarray:
    """The decoded pixels of `image` as an HWC float32 array with the channels of `color_mode`.

    With `min_size` (height, width) the image may decode smaller than the file, but never smaller
    than `min_size` in either direction (see the module docstring); callers resize it afterwards.
    """
    channels = check_color_mode(color_mode)
    try:
        if min_size is not None and color_mode != "bayer":
            image = _shrink(image, min_size)
        image.load()
        array = _pixels(image)
    except _DECODE_ERRORS as error:
        raise ImageDecodeError(path, f"{type(error).__name__}: {error}") from error
    if color_mode == "bayer":
        return bayer_demosaic(array if array.ndim == 2 else array[..., 0])
    return _to_channels(array, channels)


def decode_image(data: bytes, color_mode: str = "rgb", path: str = "<bytes>") -> np.ndarray:
    """The pixels of encoded image `data` as an HWC float32 array (see `to_array`)."""
    return to_array(open_image(data, path), color_mode, path)


def file_shape(image: Image.Image, color_mode: str) -> tuple[int, int, int]:
    """(height, width, channels) the full decode of `image` in `color_mode` has."""
    return image.height, image.width, COLOR_MODES[color_mode]


def _shrink(image: Image.Image, min_size: tuple[int, int]) -> Image.Image:
    min_h, min_w = min_size
    if image.format == "JPEG" and image.mode in ("L", "RGB", "CMYK", "YCbCr"):
        # draft keeps the decoded size >= the requested size in both directions.
        image.draft(image.mode, (min_w, min_h))
    # Box-reduce only while twice the target remains, so the final resample still filters.
    factor = min(image.width // (2 * min_w), image.height // (2 * min_h))
    if factor >= 2 and image.mode in ("L", "RGB", "RGBA", "LA", "F", "I"):
        image = image.reduce(factor)
    return image


def _pixels(image: Image.Image) -> np.ndarray:
    """HW or HWC float32 pixels of any Pillow mode, on the 0..255 scale (float images as stored)."""
    mode = image.mode
    if mode in ("L", "RGB", "RGBA", "LA"):
        return np.asarray(image, dtype=np.float32)
    if mode.startswith("I;16") or mode == "I":
        # 32-bit "I" is how Pillow hands out some 16-bit files; treat its values as 16-bit samples.
        return np.asarray(image, dtype=np.float32) * _SIXTEEN_BIT
    if mode == "F":
        return np.array(image, dtype=np.float32)
    if mode == "P":
        return np.asarray(image.convert("RGBA" if "transparency" in image.info else "RGB"), dtype=np.float32)
    if mode == "PA":
        return np.asarray(image.convert("RGBA"), dtype=np.float32)
    if mode == "1":
        return np.asarray(image.convert("L"), dtype=np.float32)
    return np.asarray(image.convert("RGB"), dtype=np.float32)  # CMYK, YCbCr, LAB, HSV


def _to_channels(array: np.ndarray, channels: int) -> np.ndarray:
    """HWC with `channels` channels: grey is repeated for rgb, colour becomes luma for greyscale, alpha is dropped."""
    if array.ndim == 2:
        array = array[..., None]
    if array.shape[-1] in (2, 4):  # LA, RGBA: alpha is not image content
        array = array[..., :-1]
    if channels == 3:
        return np.ascontiguousarray(np.repeat(array, 3, axis=-1) if array.shape[-1] == 1 else array)
    if array.shape[-1] == 1:
        return np.ascontiguousarray(array)
    # Written out term by term (not a BLAS dot) so the summation order never varies.
    return (array[..., 0:1] * LUMA[0] + array[..., 1:2] * LUMA[1]) + array[..., 2:3] * LUMA[2]


def bayer_demosaic(mosaic: np.ndarray) -> np.ndarray:
    """Bilinear demosaic of a BGGR Bayer mosaic (HW) to an HWC RGB float32 array of the same size.

    Blue sits at even rows and columns, red at odd rows and columns (the reference's layout).
    Each missing sample is the mean of its nearest same-colour neighbours; at the border only the
    neighbours inside the image count (normalised convolution), so edges need no padding guess.
    """
    mosaic = np.asarray(mosaic, dtype=np.float32)
    h, w = mosaic.shape
    rows, cols = np.arange(h)[:, None] % 2, np.arange(w)[None, :] % 2
    masks = {
        "r": (rows == 1) & (cols == 1),
        "g": rows != cols,
        "b": (rows == 0) & (cols == 0),
    }
    cross = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]], dtype=np.float32)
    box = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=np.float32)
    planes = []
    for name, kernel in (("r", box), ("g", cross), ("b", box)):
        mask = masks[name].astype(np.float32)
        weight = _convolve3x3(mask, kernel)
        # A colour can be missing entirely from a 1-pixel-high or -wide mosaic: it stays 0 there.
        planes.append(np.divide(_convolve3x3(mosaic * mask, kernel), weight,
                                out=np.zeros_like(weight), where=weight > 0))
    return np.stack(planes, axis=-1)


def _convolve3x3(plane: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    padded = np.pad(plane, 1)
    h, w = plane.shape
    out = np.zeros_like(plane)
    for dy in range(3):
        for dx in range(3):
            if kernel[dy, dx]:
                out += kernel[dy, dx] * padded[dy:dy + h, dx:dx + w]
    return out
