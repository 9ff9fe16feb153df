"""Platform annotation files: listing ``.annotations/<image path>/<name>.json`` and merging them into samples.

The platform stores the annotations of image ``good/1_2.bmp`` as JSON files in the folder
``<dataset>/.annotations/good/1_2.bmp/``, so an annotation's folder *is* its image's path
relative to the dataset. Merging adds ``annotation_path`` and ``annotation_etag``; unlike the
reference (an inner join that silently dropped unannotated images), the default keeps every
image and leaves both columns ``""`` where there is no annotation.
"""
from __future__ import annotations

import logging
import os

import pandas as pd

from .io_tools import IoTools, io_tools
from .samples import REGULAR, content_etags, dataset_root, list_files, split_folder

log = logging.getLogger(__name__)

ANNOTATION_FOLDER = ".annotations"
ANNOTATION_COLUMNS = ["annotation_path", "annotation_etag"]
_DUPLICATES = ("first", "last", "all")
_HOW = ("left", "inner")


def annotation_files(files: pd.DataFrame, io: IoTools = io_tools) -> pd.DataFrame:
    """The annotation files in a dataset listing (from `samples.list_files`).

    Returns columns `image_relpath`, `annotation_path`, `annotation_etag`, sorted by annotation path.
    """
    prefix = ANNOTATION_FOLDER + "/"
    found = files[files["relpath"].str.startswith(prefix) & files["relpath"].str.endswith(".json")
                  & (files["kind"] == REGULAR)]
    inner = found["relpath"].str.slice(len(prefix))
    image_relpath = split_folder(inner)[0]
    found, image_relpath = found[image_relpath != ""], image_relpath[image_relpath != ""]
    etags = content_etags(found["path"], found["listing_etag"], io) if len(found) else found["path"]
    return pd.DataFrame({
        "image_relpath": image_relpath,
        "annotation_path": found["path"],
        "annotation_etag": etags,
    }).reset_index(drop=True)


def list_annotations(bucket: str | os.PathLike, io: IoTools = io_tools) -> pd.DataFrame:
    """The annotation files of the dataset at `bucket` (see `annotation_files`)."""
    root = dataset_root(bucket)
    return annotation_files(list_files(root, io), io)


def merge_annotations(samples: pd.DataFrame, annotations: pd.DataFrame, root: str, *,
                      how: str = "left", duplicates: str = "last") -> pd.DataFrame:
    """`samples` with `annotation_path` and `annotation_etag` from `annotations` (see `annotation_files`).

    `root` is the dataset location the sample paths are relative to. `how="left"` keeps
    unannotated images (columns ""), `"inner"` drops them. An image with several annotation
    files keeps the `"first"` or `"last"` by name, or one row per file with `"all"`.
    """
    if how not in _HOW:
        raise ValueError(f"annotations 'how' must be one of {_HOW}, got {how!r}")
    if duplicates not in _DUPLICATES:
        raise ValueError(f"annotations 'duplicates' must be one of {_DUPLICATES}, got {duplicates!r}")
    if duplicates != "all":
        annotations = annotations.drop_duplicates("image_relpath", keep=duplicates)  # type: ignore[call-overload]
    relpath = samples["path"].str.slice(len(root) + 1)
    if os.sep != "/":
        relpath = relpath.str.replace(os.sep, "/", regex=False)
    keyed = samples.assign(_image_relpath=relpath.to_numpy())
    merged = keyed.merge(annotations.rename(columns={"image_relpath": "_image_relpath"}),
                         on="_image_relpath", how=how, sort=False)  # type: ignore[arg-type]  # checked above
    merged[ANNOTATION_COLUMNS] = merged[ANNOTATION_COLUMNS].fillna("").astype("str")
    unmatched = len(annotations) - annotations["image_relpath"].isin(relpath).sum()
    if unmatched:
        log.info("%d annotation files under %s/%s belong to no listed sample", unmatched, root, ANNOTATION_FOLDER)
    return merged.drop(columns="_image_relpath")
