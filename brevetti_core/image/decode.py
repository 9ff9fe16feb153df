"""Image bytes to HWC float32 arrays: BMP, PNG, JPEG, TIFF (and whatever else Pillow reads).

Values stay in file units on a 0..255 scale. 16-bit greyscale files (Pillow modes ``I;16*``, ``I``)
keep their precision: samples are scaled by 255/65535, not cut to 8 bits. 16-bit RGB and RGBA
files (PNG, TIFF) cannot keep it: Pillow has no 16-bit colour mode and decodes them to 8 bits per
channel by keeping the high byte (sample // 256), so 1000 comes out as 3.0, not 3.89.

Decoding is explicit: `DecodeOptions` says whether truncated files decode, the largest image
accepted and whether the EXIF orientation is applied. It travels with the pipeline into every
worker process, and Pillow's process-wide switches are set per decode (`pillow_globals`), so
what the parent process set never changes a batch. Large JPEG downscales decode straight to a
smaller size with Pillow's ``draft`` (libjpeg's DCT scaling) and other large downscales start with
an integer box ``reduce``; both are pure functions of the bytes and the requested size.
"""
from __future__ import annotations

import io
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from PIL import Image, UnidentifiedImageError

from .orientation import SWAPS_AXES, UPRIGHT, orientation_of, reorient
from .pillow_globals import pillow_globals

COLOR_MODES = {"rgb": 3, "greyscale": 1, "bayer": 3}

# ITU-R 601 luma, the weights Pillow's own convert("L") uses.
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)

# 8192 x 8192: room for the largest common machine-vision sensors (50 MP, 8192 x 6144) and for a
# 16k line-scan frame of 4096 lines, yet one RGB decode at the limit already holds ~1 GB per worker
# (768 MB of float32 plus Pillow's 8-bit copy). Pillow itself only warns from 89 MP and refuses from
# 179 MP, while 97 KB of PNG can claim 100 MP.
DEFAULT_MAX_PIXELS = 64 * 2**20

T = TypeVar("T")

_SIXTEEN_BIT = np.float32(255.0 / 65535.0)

# What Pillow raises for bytes it cannot make sense of, depending on the format and where it breaks.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, Image.DecompressionBombError)


class ImageDecodeError(ValueError):
    """An image file that cannot be decoded (empty, truncated, corrupt, too large or of an unknown format)."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"cannot decode image {path!r}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self):  # travels intact from worker processes
        return type(self), (self.path, self.reason)


@dataclass(frozen=True)
class DecodeOptions:
    """How image files are decoded; part of the pipeline, so every worker process decodes alike.

    allow_truncated: decode a file whose data ends early instead of raising `ImageDecodeError`;
        the missing part is what the decoder leaves there (0, or grey for JPEG).
    max_pixels: the largest width x height decoded, checked from the file header before any pixel
        is decoded; None for no limit.
    exif_orientation: turn images upright by their EXIF Orientation tag, because annotations are
        drawn on the upright image by every browser-based tool (browsers apply the tag). False
        gives the pixels as stored in the file.
    """

    allow_truncated: bool = False
    max_pixels: int | None = DEFAULT_MAX_PIXELS
    exif_orientation: bool = True

    def __post_init__(self):
        limit = self.max_pixels
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ValueError(f"max_pixels must be a positive whole number of pixels or None, got {limit!r}")


def check_color_mode(color_mode: str) -> int:
    """The channel count of `color_mode`; ValueError naming the accepted modes otherwise."""
    if color_mode not in COLOR_MODES:
        raise ValueError(f"color_mode must be one of {sorted(COLOR_MODES)}, got {color_mode!r}")
    return COLOR_MODES[color_mode]


@contextmanager
def open_image(data: bytes, path: str = "<bytes>", options: DecodeOptions = DecodeOptions()) -> Iterator[SourceImage]:
    """The image in `data` with its header read and its size checked; decode it inside the ``with``."""
    if len(data) == 0:
        raise ImageDecodeError(path, "the file is empty (0 bytes)")
    with pillow_globals(options.allow_truncated):
        try:
            image = Image.open(io.BytesIO(data))
        except UnidentifiedImageError:
            raise ImageDecodeError(path, f"not a recognised image format (it starts with {data[:16]!r})") from None
        except _DECODE_ERRORS as error:
            raise ImageDecodeError(path, _reason(error)) from error
        with image:
            yield SourceImage(image, path, options)


class SourceImage:
    """An opened image file: size and orientation known, pixels decoded on request."""

    def __init__(self, image: Image.Image, path: str, options: DecodeOptions):
        self.image, self.path = image, path
        width, height = _stored_size(image)
        if options.max_pixels is not None and width * height > options.max_pixels:
            raise ImageDecodeError(path, f"{width}x{height} is {width * height:,} pixels, more than "
                                         f"max_pixels={options.max_pixels}; "
                                         f"raise ImagePipeline(max_pixels=...) (the image settings' "
                                         f"'max_pixels') to decode it")
        # Pillow turns TIFFs upright itself while loading: their tag is needed even to keep stored pixels.
        needs_tag = options.exif_orientation or image.format == "TIFF"
        self.tag = self._guarded(orientation_of, image) if needs_tag else UPRIGHT
        self.orientation = self.tag if options.exif_orientation else UPRIGHT

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the decoded pixels at full size: the upright size when the orientation is applied."""
        width, height = _stored_size(self.image)
        return (width, height) if self.orientation in SWAPS_AXES else (height, width)

    def shape(self, color_mode: str) -> tuple[int, int, int]:
        """(height, width, channels) of the full decode in `color_mode`."""
        return (*self.size, check_color_mode(color_mode))

    def load(self) -> None:
        """Decode the pixels with Pillow (no conversion): ImageDecodeError if they cannot be."""
        self._guarded(self.image.load)

    def decode(self, color_mode: str = "rgb", min_size: tuple[int, int] | None = None,
               levels: bool = False) -> np.ndarray:
        """The pixels as an HWC float32 array with the channels of `color_mode`.

        With `min_size` (height, width) the image may decode smaller than the file, but never smaller
        than `min_size` in either direction (see the module docstring); callers resize it afterwards.
        With `levels`, an 8-bit file whose `color_mode` needs no arithmetic (colour as rgb, grey as
        either) comes as its uint8 levels instead, with the same values.
        """
        channels = check_color_mode(color_mode)
        image = self.image
        if min_size is not None and color_mode != "bayer":
            image = self._guarded(_shrink, image, self._in_pillow_frame(min_size))
        eight_bit = self._guarded(_levels_of, image, channels) if levels and color_mode != "bayer" else None
        if eight_bit is not None:
            return reorient(eight_bit, self._oriented_by_pillow(), self.orientation)
        array = self._guarded(_pixels_of, image)
        array = bayer_demosaic(array if array.ndim == 2 else array[..., 0]) if color_mode == "bayer" \
            else _to_channels(array, channels)
        return reorient(array, self._oriented_by_pillow(), self.orientation)

    def _guarded(self, step: Callable[..., T], *args: Any) -> T:
        """`step(*args)`, with Pillow's errors turned into an ImageDecodeError naming the file."""
        try:
            return step(*args)
        except _DECODE_ERRORS as error:
            raise ImageDecodeError(self.path, _reason(error)) from error

    def _in_pillow_frame(self, size: tuple[int, int]) -> tuple[int, int]:
        """`size` (h, w) of the output turned to the frame Pillow decodes in (stored, or upright for TIFF)."""
        same_frame = self.size == (self.image.height, self.image.width)
        return size if same_frame else (size[1], size[0])

    def _oriented_by_pillow(self) -> int:
        # Pillow drops the tag from a file it turned upright while loading (TIFF, in recent Pillow).
        turned = self.tag != UPRIGHT and orientation_of(self.image) == UPRIGHT
        return self.tag if turned else UPRIGHT


def decode_image(data: bytes, color_mode: str = "rgb", path: str = "<bytes>",
                 options: DecodeOptions = DecodeOptions()) -> np.ndarray:
    """The pixels of encoded image `data` as an HWC float32 array (see `SourceImage.decode`)."""
    with open_image(data, path, options) as source:
        return source.decode(color_mode)


def verify_image(data: bytes, path: str = "<bytes>", options: DecodeOptions = DecodeOptions()) -> None:
    """Decode `data` as training would, without converting it; ImageDecodeError naming `path` if that fails."""
    with open_image(data, path, options) as source:
        source.load()


def _stored_size(image: Image.Image) -> tuple[int, int]:
    """(width, height) of the pixels as stored, before any orientation (Pillow reports TIFFs upright)."""
    tags = getattr(image, "tag_v2", None)
    if image.format == "TIFF" and tags is not None and 256 in tags and 257 in tags:
        return int(tags[256]), int(tags[257])  # ImageWidth, ImageLength
    return image.size


def _reason(error: BaseException) -> str:
    reason = f"{type(error).__name__}: {error}"
    if "truncated" in str(error).lower():
        reason += "; ImagePipeline(allow_truncated=True) decodes the part that is there"
    return reason


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


def _levels_of(image: Image.Image, channels: int) -> np.ndarray | None:
    """HWC uint8 levels of an 8-bit image with `channels` channels, or None when that takes arithmetic or 16 bits."""
    image.load()
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode in ("PA", "CMYK", "YCbCr", "LAB", "HSV"):
        image = image.convert("RGBA" if image.mode == "PA" else "RGB")
    elif image.mode == "1":
        image = image.convert("L")
    if image.mode in ("RGB", "RGBA") and channels == 3:
        return np.asarray(image.convert("RGB") if image.mode == "RGBA" else image)
    if image.mode in ("L", "LA"):
        grey = np.asarray(image.getchannel(0))[..., None]
        return grey if channels == 1 else np.repeat(grey, 3, axis=-1)
    return None


def _pixels_of(image: Image.Image) -> np.ndarray:
    """HW or HWC float32 pixels of any Pillow mode, on the 0..255 scale (float images as stored)."""
    image.load()
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
