"""PNG files written chunk by chunk, for what Pillow cannot write: 16-bit colour, and huge images cheaply."""
from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOUR_TYPES = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type (grey, RGB, RGBA)


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_of_rows(width: int, height: int, channels: int, bit_depth: int, rows: Iterable[bytes]) -> bytes:
    """A PNG of the given geometry whose scanlines (filter 0) are `rows`, compressed as they come."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, COLOUR_TYPES[channels], 0, 0, 0)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(b"\x00" + row) for row in rows) + compressor.flush()
    return SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def sixteen_bit_png(array: np.ndarray) -> bytes:
    """The PNG of a uint16 HW (grey) or HWC (RGB, RGBA) array, big-endian as PNG stores it."""
    array = array if array.ndim == 3 else array[..., None]
    height, width, channels = array.shape
    return png_of_rows(width, height, channels, 16, (row.astype(">u2").tobytes() for row in array))


def blank_grey_png(path: Path, width: int, height: int) -> Path:
    """An all-black 8-bit grey PNG of `width` x `height`: a few hundred KB even at 100 megapixels."""
    row = bytes(width)
    path.write_bytes(png_of_rows(width, height, 1, 8, (row for _ in range(height))))
    return path
