"""Datasets: a named folder or bucket of images (local path or s3:// URI), and their sample tables."""
from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from .annotations import ANNOTATION_COLUMNS, annotation_files, merge_annotations
from .io_tools import IoTools, io_tools
from .samples import (
    IMAGE_FILTER,
    SAMPLE_COLUMNS,
    ClassMapping,
    dataset_root,
    empty_sample_table,
    image_samples,
    list_files,
)

log = logging.getLogger(__name__)


class Scan(NamedTuple):
    """What listing a dataset found: the sample table and the entries skipped (non-images, and entries that are
    not regular files, such as FIFOs and dangling symlinks: their `kind` says which)."""

    samples: pd.DataFrame
    skipped: pd.DataFrame


class Dataset(BaseModel):
    """A dataset of a job: `Dataset(id, name, bucket)`, where bucket is a local folder or an s3:// URI."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), description="Dataset id")
    name: str = Field(default="", description="Human-readable name")
    bucket: str = Field(description="Folder or URI holding the dataset's files")
    reference: str = Field(default="", description="Free-text reference shown in the sample table ('N/A' if empty)")

    def __init__(self, id: str | None = None, name: str | None = None, bucket: str | os.PathLike | None = None, **data):
        if id is not None:
            data["id"] = str(id)
        if bucket is not None:
            data["bucket"] = str(bucket)
        if name is not None:
            data["name"] = name
        elif "bucket" in data and not data.get("name"):
            data["name"] = os.path.basename(str(data["bucket"]).rstrip("/"))
        super().__init__(**data)

    def get_image_samples(self, sample_filter: str | Iterable[str] = IMAGE_FILTER,
                          class_mapping: ClassMapping | None = None, classes: Iterable[str] | None = None,
                          annotations: bool | dict = False, io: IoTools = io_tools) -> pd.DataFrame:
        """The sample table of this dataset: one row per image file, sorted by path.

        Columns `category` (tuple), `folder`, `path`, `etag`, `bucket`, `dataset`, `dataset_id`,
        `reference`, `url`, plus `annotation_path`, `annotation_etag` when `annotations` is True
        (unannotated images kept, columns "") or a dict of `merge_annotations` options such as
        `{"how": "inner"}`. Raises FileNotFoundError if the folder or bucket does not exist.
        """
        return self.scan(sample_filter, class_mapping, classes, annotations, io).samples

    def scan(self, sample_filter: str | Iterable[str] = IMAGE_FILTER, class_mapping: ClassMapping | None = None,
             classes: Iterable[str] | None = None, annotations: bool | dict = False, io: IoTools = io_tools) -> Scan:
        """The sample table (as `get_image_samples`) and the entries skipped (columns `path`, `relpath`, `kind`)."""
        log.info("Getting image samples from dataset '%s' [%s]", self.name, self.bucket)
        root = dataset_root(self.bucket)
        files = list_files(root, io)
        table, skipped = image_samples(root, files, sample_filter=sample_filter, class_mapping=class_mapping,
                                       classes=classes, io=io)
        if len(skipped):
            examples = ", ".join(skipped["relpath"].head(3))
            log.info("Skipped %d entries that are not images in dataset '%s' (e.g. %s)",
                     len(skipped), self.name, examples)
        if table.empty:
            log.warning("Dataset '%s' [%s] contains no image samples", self.name, self.bucket)
            table = empty_sample_table()
        table = table.assign(bucket=root, dataset=self.name, dataset_id=self.id,
                             reference=self.reference or "N/A")[SAMPLE_COLUMNS]
        if annotations is not False:
            options = {} if annotations is True else dict(annotations)
            table = merge_annotations(table, annotation_files(files, io), root, **options)
        log.info("Contents: %s", category_counts(table))
        return Scan(table, skipped[["path", "relpath", "kind"]])


def category_counts(samples: pd.DataFrame) -> dict[tuple[str, ...], int]:
    """{category: number of samples}, most frequent first, ties by name (the `Contents:` log line)."""
    counts = samples["category"].value_counts(sort=False)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return {tuple(category): int(n) for category, n in ordered}  # type: ignore[arg-type]  # categories are tuples


def get_image_samples(datasets: Sequence[Dataset], *args, io: IoTools = io_tools, **kwargs) -> pd.DataFrame:
    """The sample tables of several datasets (listed in parallel), concatenated in the given order."""
    datasets = list(datasets)
    if not datasets:
        log.warning("get_image_samples: no datasets given")
        return empty_sample_table()
    with ThreadPoolExecutor(max_workers=min(8, len(datasets))) as pool:
        tables = list(pool.map(lambda ds: ds.get_image_samples(*args, io=io, **kwargs), datasets))
    merged = pd.concat(tables, ignore_index=True)
    if any(c in merged for c in ANNOTATION_COLUMNS):
        merged[ANNOTATION_COLUMNS] = merged[ANNOTATION_COLUMNS].fillna("")
    return merged
