"""Facets: the records and 64x64 thumbnails of a generator's first samples, for Facets Dive (reference facets_atlas).

``build_facets(generator, facets_dir)`` writes ``facets.json`` (one JSON record per sample, the
sample table's columns without paths) and ``spriteatlas.jpeg`` (the thumbnails row by row on a
square grid). Samples are taken in the generator's plan order, so the atlas shows what the
generator yields (after every mapped action), whichever framework flavour it is: only the core
plan and executor, which every flavour inherits, are used.

A sample whose actions fail (an unreadable image) gets a placeholder tile, an ``error`` entry in
its record and a logged warning, so one bad file does not hide the other thumbnails.
"""
from __future__ import annotations

import io as _io
import itertools
import json
import logging
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from PIL import Image, ImageOps

from .executor import SampleError
from .image.tile import tile2d
from .io_tools import IoTools, io_tools, join
from .progress import progress

log = logging.getLogger(__name__)

THUMBNAIL_SIZE = 64
RECORDS_FILE = "facets.json"
ATLAS_FILE = "spriteatlas.jpeg"
EXCLUDED_COLUMNS = ("path", "bucket")
IMAGE_KEY = "img"


class Thumbnails(NamedTuple):
    """The first samples of a plan: table records, (N, size, size, 3) uint8 thumbnails, error per sample (or None)."""

    records: list[dict]
    images: np.ndarray
    errors: list[str | None]


class Facets(NamedTuple):
    """What build_facets wrote: the two paths, the number of samples and the errors of failed samples."""

    records_path: str
    atlas_path: str
    count: int  # type: ignore[assignment]  # shadows tuple.count; the field name is public (facets.count)
    errors: list[str]


def build_facets(generator: Any, facets_dir: str, count: int = 4096, exclude_rows: Iterable[str] | None = None,
                 io: IoTools = io_tools) -> Facets:
    """Write facets.json and spriteatlas.jpeg of the generator's first `count` samples to `facets_dir`.

    Returns the paths written, the number of samples and the errors of samples shown as placeholders.

    `exclude_rows` are the columns left out of the records (default path and bucket).
    """
    thumbnails = load_thumbnails(generator, count)
    excluded = set(EXCLUDED_COLUMNS if exclude_rows is None else exclude_rows)
    records = []
    for record, error in zip(thumbnails.records, thumbnails.errors):
        kept = {key: json_ready(value) for key, value in record.items() if key not in excluded}
        records.append({**kept, "error": error} if error else kept)
    records_path, atlas_path = join(facets_dir, RECORDS_FILE), join(facets_dir, ATLAS_FILE)
    io.write_file(records_path, json.dumps(records, allow_nan=False))
    io.write_file(atlas_path, encode_jpeg(sprite_atlas(thumbnails.images)))
    errors = [error for error in thumbnails.errors if error]
    if errors:
        log.warning("build_facets: %d of %d samples could not be loaded and show a placeholder; first: %s",
                    len(errors), len(records), errors[0])
    log.info("Wrote facets of %d samples to %s", len(records), facets_dir)
    return Facets(records_path, atlas_path, len(records), errors)


def load_thumbnails(generator: Any, count: int, size: int = THUMBNAIL_SIZE) -> Thumbnails:
    """The first `count` planned samples of `generator` with every action applied, as records and thumbnails.

    The thumbnail is the generator's output image: its default output structure if that is an
    array, the first element of a tuple, or the 'img' entry of a dict. Failed samples (SampleError)
    get a placeholder and their error message; any other error is raised.
    """
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}")
    rows = list(itertools.islice(_plan_rows(generator), count))
    if not rows:
        raise ValueError(f"the generator has no samples to show ({len(generator.samples)} rows in its sample table)")
    loader = generator.sample_loader

    def thumbnail_of(row: dict) -> tuple[np.ndarray, str | None]:
        try:
            loaded = loader.load(row)
        except SampleError as error:
            return placeholder(size), str(error)
        return thumbnail(output_image(generator.select_structure(loaded)), size), None

    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(progress(pool.map(thumbnail_of, rows), total=len(rows), desc="Thumbnails",
                            unit="sample", leave=False))
    images = np.stack([image for image, _ in results])
    return Thumbnails([loader.sample(row) for row in rows], images, [error for _, error in results])


def _plan_rows(generator: Any) -> Iterator[dict]:
    for batch_plan in generator.batch_plans():
        yield from batch_plan.rows


def output_image(output: Any) -> np.ndarray:
    """The image in one sample's output: the array itself, a tuple's first element or a dict's 'img'."""
    if isinstance(output, Mapping):
        if IMAGE_KEY not in output:
            raise ValueError(f"the generator's output is a dict without an {IMAGE_KEY!r} image; "
                             f"keys: {sorted(output)}. "
                             f"Set output_structure to the image key first, e.g. ('img', 'category')")
        output = output[IMAGE_KEY]
    elif isinstance(output, (tuple, list)):
        output = output[0]
    image = np.asarray(output)
    if image.ndim not in (2, 3) or image.dtype.kind not in "biuf":
        raise ValueError(f"the generator's output image must be a numeric (H, W) or (H, W, C) array, got "
                         f"{image.dtype} {image.shape}; map an ImagePipeline and put its key first in output_structure")
    return image


def thumbnail(image: np.ndarray, size: int = THUMBNAIL_SIZE) -> np.ndarray:
    """`image` (H, W) or (H, W, C) as a (size, size, 3) uint8 RGB thumbnail, aspect ratio kept (black bars).

    Values already on the 0..255 scale are kept, floats within 0..1 are scaled by 255 and anything
    else (e.g. imagenet-normalised) is stretched from its own min..max. One channel becomes grey,
    more than three keep the first three.
    """
    pixels = np.asarray(image)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    pixels = pixels[..., :3] if pixels.shape[-1] >= 3 else np.repeat(pixels[..., :1], 3, axis=-1)
    picture = Image.fromarray(_to_uint8(pixels), "RGB")
    return np.asarray(ImageOps.pad(picture, (size, size), method=Image.Resampling.BOX, color=(0, 0, 0)))


def _to_uint8(pixels: np.ndarray) -> np.ndarray:
    if pixels.dtype == np.uint8:
        return np.ascontiguousarray(pixels)
    values = np.nan_to_num(pixels.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if pixels.dtype.kind in "fb" and low >= 0 and high <= 1:
        values = values * 255
    elif not (low >= 0 and high <= 255):
        values = (values - low) * (255 / (high - low or 1))
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def placeholder(size: int = THUMBNAIL_SIZE) -> np.ndarray:
    """A grey tile crossed in red: the thumbnail of a sample that could not be loaded."""
    tile = np.full((size, size, 3), 96, np.uint8)
    diagonal = np.arange(size)
    for offset in (0, 1):
        ends = np.clip(diagonal + offset, 0, size - 1)
        tile[diagonal, ends] = tile[diagonal, size - 1 - ends] = (220, 40, 40)
    return tile


def sprite_atlas(images: np.ndarray) -> np.ndarray:
    """Thumbnails (N, h, w, 3) row by row on a ceil(sqrt(N)) square grid, empty cells black."""
    side = max(1, math.ceil(math.sqrt(len(images))))
    return tile2d(images, (side, side))


def encode_jpeg(pixels: np.ndarray, quality: int = 90) -> bytes:
    """JPEG bytes of an RGB uint8 array, colour at full resolution (no chroma subsampling: thumbnails are small)."""
    buffer = _io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, format="JPEG", quality=quality, subsampling=0)
    return buffer.getvalue()


def json_ready(value: Any) -> Any:
    """`value` as plain JSON: arrays and tuples as lists, NaN as null, bytes as text, unknown types as str()."""
    if isinstance(value, np.ndarray):
        return [json_ready(item) for item in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): json_ready(item) for key, item in value.items()}
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
