"""Listing a folder or bucket into the sample table: one row per image, with category and content hash.

Categories follow the platform convention: the leaf folder name as a 1-tuple, ``("__root__",)``
for files at the root. A ``class_mapping`` is looked up from the leaf folder upward (the first
folder found wins; ``"__root__"`` matches everything); a value is a name, a tuple/list of names
(multi-label) or ``"A|B"``. ``classes`` then keeps only those names and drops rows left empty.

The ``etag`` is a content hash, so byte-identical files get the same etag wherever they are
stored. On S3 the listing's ETag is used when it is a plain 32-hex MD5 (a single-part upload,
where S3 defines it as the MD5 of the content); a multipart ETag (``<hex>-<parts>``) or a
missing one (local disk, memory) is replaced by the MD5 of the content, read in a thread pool.

Hidden files and folders (a path part starting with ``.``) are never samples; they hold the
platform's metadata such as ``.annotations/``. Local entries that are not regular files (FIFOs,
sockets, devices, dangling symlinks, symlinks to folders) are left out of listings and reported
in one warning: reading a FIFO would wait forever, and one dangling link aborted the whole listing.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import numpy as np
import pandas as pd

from .io_tools import IoTools, io_tools, protocol_of, s3_endpoint
from .progress import progress

if TYPE_CHECKING:
    from .image.decode import DecodeOptions

log = logging.getLogger(__name__)

DATASET_ROOT = "__root__"
REGULAR = "file"
"""The `kind` of a listed regular file (or symlink to one): the only entries that are ever opened."""
IMAGE_FILTER = r"\.(?:bmp|png|jpe?g|tiff?)$"
"""Default sample filter: a case-insensitive regex searched in the file name."""
SAMPLE_COLUMNS = ["category", "folder", "path", "etag", "bucket", "dataset", "dataset_id", "reference", "url"]
PROGRESS_MIN_FILES = 200

_MD5 = re.compile(r'^"?([0-9a-fA-F]{32})"?$')
_URL_SAFE = re.compile(r"[^A-Za-z0-9_.~/\-]")

ClassMapping = Mapping[str, "str | Sequence[str]"]


def dataset_root(bucket: str | os.PathLike) -> str:
    """The canonical form of a dataset location: an absolute local folder or a URI without trailing '/'."""
    bucket = str(bucket)
    if protocol_of(bucket) == "file":
        return os.path.abspath(os.path.expanduser(bucket))
    return bucket.rstrip("/")


def list_files(root: str, io: IoTools = io_tools) -> pd.DataFrame:
    """Every file below `root` (hidden ones included), sorted by path.

    Returns columns `path` (full path or URI), `relpath` ('/'-separated, relative to root),
    `listing_etag` (the storage's ETag, None where it has none) and `kind`: "file" for a regular file
    (or a symlink to one), else what the local entry is ("a FIFO", "a dangling symlink", ...), which
    nothing may open. Raises FileNotFoundError when `root` is not an existing folder, bucket or prefix.
    """
    if not io.exists(root):
        raise FileNotFoundError(f"dataset folder or bucket not found: {root}")
    if protocol_of(root) == "file" and not os.path.isdir(root):
        raise FileNotFoundError(f"dataset location is a file, not a folder: {root}")
    found = io.find(root, detail=True)
    kinds = _local_kinds(root, found) if protocol_of(root) == "file" else {}
    paths = pd.Series(list(found), dtype="str").sort_values(ignore_index=True)
    etags = [found[p].get("ETag") for p in paths]
    relpaths = paths.str.slice(len(root) + 1)
    if os.sep != "/" and protocol_of(root) == "file":
        relpaths = relpaths.str.replace(os.sep, "/", regex=False)
    return pd.DataFrame({"path": paths, "relpath": relpaths, "listing_etag": pd.Series(etags, dtype=object),
                         "kind": pd.Series([kinds.get(p, REGULAR) for p in paths], dtype="str")})


def _local_kinds(root: str, found: dict[str, dict]) -> dict[str, str]:
    """What the entries of a local listing that are not regular files (or symlinks to one) are; they are logged."""
    kinds = {}
    for path, info in found.items():
        kind = None if info.get("type") == "file" and not info.get("islink") else _irregular_kind(path)
        if kind is not None:
            kinds[path] = kind
    if kinds:
        left_out = sorted(f"{os.path.relpath(path, root)} ({kind})" for path, kind in kinds.items())
        log.warning("Skipped %d entries under %s that are not regular files (e.g. %s)",
                    len(left_out), root, ", ".join(left_out[:3]))
    return kinds


def _irregular_kind(path: str) -> str | None:
    """What the local entry at `path` is when it is not a regular file once symlinks are followed, else None."""
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        return "a dangling symlink" if os.path.islink(path) else f"unreadable: {error.strerror}"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a symlink to a folder" if stat.S_ISDIR(mode) else "not a regular file"


def split_folder(relpaths: pd.Series) -> tuple[pd.Series, pd.Series]:
    """('/'-separated folder, '' at the root; file name) of each relative path, also for an empty series."""
    if relpaths.empty:  # rpartition of an empty series has no columns to pick
        return relpaths.copy(), relpaths.copy()
    parts = relpaths.str.rpartition("/")
    return parts[0], parts[2]


def hidden(relpaths: pd.Series) -> pd.Series:
    """True where a path part (file or folder) starts with '.'."""
    return relpaths.str.contains(r"(?:^|/)\.", regex=True)


def image_mask(relpaths: pd.Series, sample_filter: str | Iterable[str] = IMAGE_FILTER) -> pd.Series:
    """True where the file name matches `sample_filter` (a regex, or several joined by '|'), any case."""
    if not isinstance(sample_filter, str):
        sample_filter = "|".join(f"(?:{pattern})" for pattern in sample_filter)
    names = split_folder(relpaths)[1]
    # str.count rather than str.contains: a user's pattern may have groups, which contains() warns about.
    return names.str.count(sample_filter, flags=re.IGNORECASE) > 0


def content_etags(paths: pd.Series, listing_etags: pd.Series, io: IoTools = io_tools) -> pd.Series:
    """The content hash of each file: the listing's ETag where it is an MD5, else the MD5 of the bytes."""
    md5 = listing_etags.astype(object).where(listing_etags.notna(), "").astype("str").str.extract(_MD5, expand=False)
    missing = md5.isna().to_numpy()
    to_hash = paths[missing].tolist()
    if to_hash:
        md5[missing] = _md5_of_files(to_hash, io)
    return md5.str.lower()


def _md5_of_files(paths: list[str], io: IoTools) -> list[str]:
    def md5_of(path: str) -> str:
        return hashlib.md5(io.read_file(path)).hexdigest()

    workers = 16 if protocol_of(paths[0]) != "file" else min(8, (os.cpu_count() or 1) * 2)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(md5_of, paths)
        return list(progress(results, total=len(paths), desc="Hashing files", unit="file",
                         disable=len(paths) < PROGRESS_MIN_FILES, leave=False))


def category_of_folder(folder: str, class_mapping: ClassMapping | None = None) -> tuple[str, ...]:
    """The category of files in `folder` ('/'-separated, '' for the root), after the class mapping."""
    parts = [DATASET_ROOT, *folder.split("/")] if folder else [DATASET_ROOT]
    if class_mapping:
        for part in reversed(parts):
            if part in class_mapping:
                return _as_category(part, class_mapping[part])
    return (parts[-1],)


def _as_category(key: str, value) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.split("|"))
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"class_mapping[{key!r}] must be a class name, 'A|B' or a list of names, got {value!r}")


def categorise(relpaths: pd.Series, class_mapping: ClassMapping | None = None,
               classes: Iterable[str] | None = None) -> tuple[pd.Series, pd.Series]:
    """`category` (tuples) and `folder` (leaf folder name) per file; rows left empty by `classes` get None."""
    folders = split_folder(relpaths)[0]
    codes, unique_folders = pd.factorize(folders)
    keep = None if classes is None else set(classes)
    categories = np.empty(len(unique_folders), dtype=object)
    for i, folder in enumerate(unique_folders):
        category = category_of_folder(folder, class_mapping)
        categories[i] = category if keep is None else tuple(c for c in category if c in keep) or None
    leaves = split_folder(pd.Series(unique_folders, dtype="str"))[1].replace("", DATASET_ROOT)
    return (pd.Series(categories[codes], index=relpaths.index, dtype=object),
            pd.Series(leaves.to_numpy()[codes], index=relpaths.index, dtype="str"))


def object_urls(root: str, relpaths: pd.Series) -> pd.Series:
    """A URL per file: `file://` for local files, the object's http(s) URL on the S3 endpoint for s3://."""
    protocol = protocol_of(root)
    if protocol == "file":
        base = Path(root).as_uri()
    elif protocol == "s3":
        bucket, _, prefix = root[len("s3://"):].partition("/")
        endpoint = s3_endpoint()
        base = f"{endpoint.rstrip('/')}/{bucket}" if endpoint else f"https://{bucket}.s3.amazonaws.com"
        if prefix:
            base += "/" + quote(prefix)
    else:
        base = root
    needs_quoting = relpaths.str.contains(_URL_SAFE, regex=True)
    quoted = relpaths.copy()
    # Quote only the rare names with special characters: the common case stays vectorised.
    quoted[needs_quoting] = relpaths[needs_quoting].map(lambda p: quote(p, safe="/"))
    return base + "/" + quoted


def empty_sample_table() -> pd.DataFrame:
    """A sample table with no rows and the standard columns."""
    table = pd.DataFrame({c: pd.Series(dtype="str") for c in SAMPLE_COLUMNS})
    table["category"] = table["category"].astype(object)
    return table


def image_samples(root: str, files: pd.DataFrame, *, sample_filter: str | Iterable[str] = IMAGE_FILTER,
                  class_mapping: ClassMapping | None = None, classes: Iterable[str] | None = None,
                  io: IoTools = io_tools) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sample rows (`category`, `folder`, `path`, `etag`, `url`) of a listing, and the skipped non-image files.

    `files` is a `list_files(root)` listing; hidden files are ignored, files not matching `sample_filter`
    and entries that are not regular files are returned as the second table, rows whose category `classes`
    empties are dropped.
    """
    visible = files[~hidden(files["relpath"])]
    is_image = image_mask(visible["relpath"], sample_filter) & (visible["kind"] == REGULAR)
    images, skipped = visible[is_image], visible[~is_image]
    category, folder = categorise(images["relpath"], class_mapping, classes)
    kept = category.notna()
    images, category, folder = images[kept], category[kept], folder[kept]
    table = pd.DataFrame({
        "category": category,
        "folder": folder,
        "path": images["path"],
        "etag": content_etags(images["path"], images["listing_etag"], io) if len(images) else images["path"],
        "url": object_urls(root, images["relpath"]),
    }).reset_index(drop=True)
    return table, skipped.reset_index(drop=True)


def unreadable_images(paths: Sequence[str], io: IoTools = io_tools,
                      options: DecodeOptions | None = None) -> pd.DataFrame:
    """The files among `paths` that cannot be decoded as images under `options`, with the reason.

    Returns columns `path` and `error` (the reason `ImageDecodeError` gives, e.g. an empty file, an
    unrecognised format, a truncated file or one over the pixel limit).
    """
    from .image.decode import DecodeOptions, ImageDecodeError, verify_image  # Pillow only when verifying

    options = options or DecodeOptions()

    def problem(path: str) -> str | None:
        try:
            verify_image(io.read_file(path), path, options)
        except ImageDecodeError as error:
            return error.reason
        return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        errors = list(progress(pool.map(problem, paths), total=len(paths), desc="Decoding images", unit="file",
                           disable=len(paths) < PROGRESS_MIN_FILES, leave=False))
    table = pd.DataFrame({"path": pd.Series(list(paths), dtype="str"), "error": pd.Series(errors, dtype="str")})
    return table[table["error"].notna()].reset_index(drop=True)
