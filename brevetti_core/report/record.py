"""What a running job records for its report, beside what the Job writes itself (output.json, progress.jsonl).

Call them in ``run()``: ``record_samples(self, samples)`` once the split is known,
``record_first_batch(self, generator)`` with the training generator (its first batch, after
every augmentation: what the model actually sees), and ``record_predictions(self, true, predicted)``
with the devel classes once trained (the report's confusion matrix and per-class scores).
"""
from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..facets import Facets, build_facets
from ..io_tools import join
from .data import FIRST_BATCH_DIR, FIRST_BATCH_INFO, PREDICTIONS_FILE, REPORT_DIR, SAMPLE_COLUMNS, SAMPLES_FILE


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
    job.io.write_file(join(folder, FIRST_BATCH_INFO), json.dumps({"augmented": augments(generator)}))
    return build_facets(generator, folder, count=count or generator.batch_size, exclude_rows=("url",), io=job.io)


def augments(generator: Any) -> bool:
    """Whether `generator` maps its images through an augmenter (an ImageAugmenter with at least one part)."""
    from ..augment.augmenter import ImageAugmenter

    return any(isinstance(action, ImageAugmenter) and getattr(action, "parts", True)
               for action in getattr(generator, "actions", ()))


def record_predictions(job: Any, true: Sequence[Any], predicted: Sequence[Any], purpose: str = "devel") -> str:
    """Write the true and predicted class of each sample of `purpose` to artifacts/report/predictions.csv (the
    other purposes' rows are kept); returns the path. The report scores them with scikit-learn's metrics."""
    if len(true) != len(predicted):
        raise ValueError(f"record_predictions: {len(true)} true classes but {len(predicted)} predicted ones")
    path = job.artifact_path(REPORT_DIR, PREDICTIONS_FILE)
    rows = pd.DataFrame({"purpose": purpose, "true": [str(c) for c in true], "predicted": [str(c) for c in predicted]})
    if job.io.exists(path):
        kept = pd.read_csv(io.BytesIO(job.io.read_file(path)), dtype=str, keep_default_na=False)
        rows = pd.concat([kept[kept["purpose"] != purpose], rows], ignore_index=True)
    job.io.write_file(path, rows.to_csv(index=False))
    return path
