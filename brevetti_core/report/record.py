"""What a running job records for its report, beside what the Job writes itself (output.json, progress.jsonl).

Call them in ``run()``: ``record_samples(self, samples)`` once the split is known, and
``record_first_batch(self, generator)`` with the training generator (its first batch, after
every augmentation: what the model actually sees).
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from ..facets import Facets, build_facets
from .data import FIRST_BATCH_DIR, REPORT_DIR, SAMPLE_COLUMNS, SAMPLES_FILE


def record_samples(job: Any, samples: pd.DataFrame) -> str:
    """Write the sample table's report columns to artifacts/report/samples.jsonl; returns the path.

    Needs `category` and `dataset_id`; folder, path, etag, bucket, dataset and purpose are kept when present.
    """
    missing = [column for column in ("category", "dataset_id") if column not in samples.columns]
    if missing:
        raise KeyError(f"record_samples needs the sample columns {missing}; columns: {list(samples.columns)}")
    columns = [column for column in SAMPLE_COLUMNS if column in samples.columns]
    path = job.artifact_path(REPORT_DIR, SAMPLES_FILE)
    job.io.write_file(path, samples[columns].to_json(orient="records", lines=True, force_ascii=False))
    return path


def record_first_batch(job: Any, generator: Any, count: int | None = None) -> Facets:
    """Write the facets (records and thumbnails) of the generator's first batch to artifacts/report/first_batch/.

    `count` defaults to the generator's batch size. Returns what `build_facets` wrote.
    """
    folder = job.artifact_path(REPORT_DIR, FIRST_BATCH_DIR, dir=True)
    return build_facets(generator, folder, count=count or generator.batch_size, exclude_rows=("url",), io=job.io)
