"""What the job report shows, gathered from a job folder's files (no HTML here).

Sources, all optional except the folder itself: ``info.json`` (the definition),
``artifacts/output.json`` (job, settings, seeds, metrics, environment), ``artifacts/status.json``,
``artifacts/progress.jsonl`` (one record per epoch), ``artifacts/report/samples.jsonl`` (the sample
table, from `record_samples`), ``artifacts/report/first_batch/`` (facets of the first batch and whether
it was augmented, from `record_first_batch`) and ``artifacts/report/predictions.csv`` (true and
predicted classes, from `record_predictions`; scored with scikit-learn's metrics). A file that is
missing leaves its section empty; a file that cannot be read is listed under `problems` (and logged)
instead of failing the whole report.
"""
from __future__ import annotations

import datetime
import io as _io
import json
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

from ..facets import ATLAS_FILE, RECORDS_FILE, placeholder
from ..io_tools import IoTools, io_tools, join
from ..liveness import current_status
from ..pivot import MISSING, pivot_data
from ..tracking.metrics import role_of

REPORT_DIR = "report"
SAMPLES_FILE = "samples.jsonl"
FIRST_BATCH_DIR = "first_batch"
FIRST_BATCH_INFO = "about.json"
"""In FIRST_BATCH_DIR: {"augmented": bool}, whether the batch went through an augmenter."""
PREDICTIONS_FILE = "predictions.csv"
PREDICTION_COLUMNS = ("purpose", "true", "predicted")
SAMPLE_COLUMNS = ("category", "folder", "path", "etag", "bucket", "dataset", "dataset_id", "purpose")
NOT_METRICS = ("epoch", "time")

log = logging.getLogger(__name__)


@dataclass
class Tile:
    """One thumbnail of the first batch: PNG bytes, a caption and the sample's error (or None)."""

    png: bytes
    caption: str
    error: str | None = None


@dataclass
class ReportData:
    """Everything the report shows; tables are DataFrames, absent sources are None."""

    job_dir: str
    job: dict
    status: dict | None = None
    metrics: dict = field(default_factory=dict)
    environment: dict = field(default_factory=dict)
    progress: pd.DataFrame | None = None
    samples: pd.DataFrame | None = None
    first_batch: list[Tile] | None = None
    first_batch_augmented: bool | None = None
    predictions: pd.DataFrame | None = None
    problems: list[str] = field(default_factory=list)
    generated: str = ""

    @property
    def curves(self) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
        """{metric: {"train" | "devel": (epochs, values)}}: progress metrics paired by name, whatever the framework
        called them (``loss``/``val_loss``, ``train_loss``/``devel_loss``: see ``tracking.metrics.role_of``)."""
        if self.progress is None:
            return {}
        curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
        epochs = self.progress["epoch"].to_numpy(dtype=float)
        for column in self.progress.columns:
            values = pd.to_numeric(self.progress[column], errors="coerce")
            if column in NOT_METRICS or values.isna().all():
                continue
            name, role = role_of(str(column))
            curves.setdefault(name, {})[role] = (epochs, values.to_numpy(dtype=float))
        order = {"loss": 0, "accuracy": 1, "acc": 1}
        return {name: dict(sorted(roles.items(), key=lambda item: item[0] != "train"))
                for name, roles in sorted(curves.items(), key=lambda item: (order.get(item[0], 2), item[0]))}

    def scored(self, purpose: str = "devel") -> pd.DataFrame | None:
        """The recorded predictions of `purpose` (columns true, predicted), or None when none were recorded."""
        if self.predictions is None:
            return None
        rows = self.predictions[self.predictions["purpose"] == purpose]
        return rows[["true", "predicted"]].reset_index(drop=True) if len(rows) else None

    def confusion(self, purpose: str = "devel") -> pd.DataFrame | None:
        """Samples of `purpose` by true class (rows) and predicted class (columns), as scikit-learn counts them."""
        from sklearn.metrics import confusion_matrix

        scored = self.scored(purpose)
        if scored is None:
            return None
        labels = self.class_labels(scored)
        matrix = confusion_matrix(scored["true"], scored["predicted"], labels=labels)
        return pd.DataFrame(matrix, index=pd.Index(labels, name="true \\ predicted"), columns=labels)

    def class_scores(self, purpose: str = "devel") -> pd.DataFrame | None:
        """Precision, recall, F1 and support per true class of `purpose` (scikit-learn; 0 where undefined)."""
        from sklearn.metrics import precision_recall_fscore_support

        scored = self.scored(purpose)
        if scored is None:
            return None
        labels = self.class_labels(scored)
        precision, recall, f1, support = precision_recall_fscore_support(
            scored["true"], scored["predicted"], labels=labels, zero_division=0)
        return pd.DataFrame({"class": labels, "precision": precision, "recall": recall, "F1": f1,
                             "support": support}).astype({"support": int})

    def class_labels(self, scored: pd.DataFrame) -> list[str]:
        """The classes in the job's order (output metric "classes"), then any other class the predictions name."""
        known = [str(c) for c in self.metrics.get("classes") or [] if isinstance(c, (str, int))]
        return known + sorted((set(scored["true"]) | set(scored["predicted"])) - set(known))

    @property
    def dataset_counts(self) -> pd.DataFrame:
        """One row per dataset of the job or of the samples: name, id, bucket, number of samples."""
        datasets = pd.DataFrame(self.job.get("datasets") or [], columns=["name", "id", "bucket"]).astype(object)
        if self.samples is None:
            return datasets.assign(samples=pd.NA)  # type: ignore[arg-type]  # pandas-stubs: no pd.NA scalar in assign
        named = self.samples if "dataset" in self.samples.columns else \
            self.samples.assign(dataset=pd.NA)  # type: ignore[arg-type]  # pandas-stubs: no pd.NA scalar in assign
        counted = named.groupby("dataset_id", dropna=False).agg(name=("dataset", "first"), samples=("dataset", "size"))
        counted = counted.reset_index().rename(columns={"dataset_id": "id"}).astype({"id": object, "name": object})
        merged = datasets.merge(counted, on="id", how="outer", suffixes=("", "_samples"), sort=False)
        merged["name"] = merged["name"].fillna(merged.pop("name_samples"))
        merged["samples"] = merged["samples"].fillna(0).astype(int)
        return merged[["name", "id", "bucket", "samples"]]

    @property
    def pivot(self) -> pd.DataFrame | None:
        """Samples per label (rows) and purpose (columns) with a total column; the last row counts unique samples."""
        if self.samples is None:
            return None
        samples = self.samples if "purpose" in self.samples.columns else self.samples.assign(purpose="all")
        data = pivot_data(samples, ["category", "purpose"])
        table = data.pivot_table(index="category", columns="purpose", values="count", aggfunc="sum", fill_value=0)
        table["total"] = table.sum(axis=1)
        unique = data.drop_duplicates("id").groupby("purpose")["count"].sum()
        table.loc["samples (unique)"] = [*unique.reindex(table.columns[:-1], fill_value=0), int(unique.sum())]
        table.columns.name = None
        return table.astype(int)

    @property
    def duplicates(self) -> pd.DataFrame | None:
        """Groups of byte-identical samples (same etag): etag, count, purposes, paths in their dataset."""
        if self.samples is None or "etag" not in self.samples.columns:
            return None
        samples = self.samples.assign(purpose=self.samples.get("purpose", MISSING))
        repeated = samples[samples.duplicated("etag", keep=False)]
        if "bucket" in repeated.columns:
            repeated = repeated.assign(path=[path[len(bucket):].lstrip("/") if path.startswith(str(bucket)) else path
                                             for path, bucket in zip(repeated["path"], repeated["bucket"])])
        groups = repeated.groupby("etag", sort=True).agg(
            count=("etag", "size"),
            purposes=("purpose", lambda p: ", ".join(sorted(p.fillna(MISSING).astype(str).unique()))),
            paths=("path", lambda p: sorted(p.astype(str))),
        ).reset_index()
        return groups.sort_values(["count", "etag"], ascending=[False, True], kind="stable").reset_index(drop=True)


def gather(job_dir: str, io: IoTools = io_tools) -> ReportData:
    """The report's data of the job folder `job_dir` (path or URL); FileNotFoundError if it is not a job folder."""
    artifacts = join(job_dir, "artifacts")
    definition_path = join(job_dir, "info.json")
    if not io.exists(job_dir) or not (io.exists(definition_path) or io.exists(artifacts)):
        raise FileNotFoundError(f"no job folder at {job_dir} (expected info.json or artifacts/ in it)")
    problems: list[str] = []
    output = _read_json(io, join(artifacts, "output.json"), problems) or {}
    definition = _read_json(io, definition_path, problems) or {}
    data = ReportData(
        job_dir=job_dir,
        job=output.get("job") or definition,
        status=current_status(_read_json(io, join(artifacts, "status.json"), problems)),
        metrics=output.get("output") or {},
        environment=output.get("environment") or {},
        problems=problems,
        generated=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    )
    data.progress = _read_progress(io, join(artifacts, "progress.jsonl"), problems)
    data.samples = _read_samples(io, join(artifacts, REPORT_DIR, SAMPLES_FILE), problems)
    data.first_batch = _read_first_batch(io, join(artifacts, REPORT_DIR, FIRST_BATCH_DIR), problems)
    about = _read_json(io, join(artifacts, REPORT_DIR, FIRST_BATCH_DIR, FIRST_BATCH_INFO), problems) or {}
    data.first_batch_augmented = about.get("augmented") if isinstance(about, dict) else None
    data.predictions = _read_predictions(io, join(artifacts, REPORT_DIR, PREDICTIONS_FILE), problems)
    return data


def _problem(problems: list[str], message: str) -> None:
    log.warning("Report: %s", message)
    problems.append(message)


def _read_json(io: IoTools, path: str, problems: list[str]) -> Any:
    if not io.exists(path):
        return None
    try:
        return json.loads(io.read_file(path))
    except (ValueError, OSError) as error:
        _problem(problems, f"{path} could not be read: {type(error).__name__}: {error}")
        return None


def _read_progress(io: IoTools, path: str, problems: list[str]) -> pd.DataFrame | None:
    if not io.exists(path):
        return None
    records = []
    for number, line in enumerate(io.read_file(path).decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("epoch"), (int, float)):
                raise ValueError("expected a JSON object with a numeric 'epoch'")
        except ValueError as error:
            _problem(problems, f"{path} line {number} was skipped: {error}")
            continue
        records.append(record)
    if not records:
        return None
    # A rerun appends its epochs again: the latest record of an epoch wins.
    table = pd.DataFrame.from_records(records)
    return table.drop_duplicates("epoch", keep="last").sort_values("epoch", kind="stable").reset_index(drop=True)


def _read_samples(io: IoTools, path: str, problems: list[str]) -> pd.DataFrame | None:
    if not io.exists(path):
        return None
    try:
        table = pd.read_json(_io.BytesIO(io.read_file(path)), lines=True, dtype=False)
        if "category" not in table.columns or "dataset_id" not in table.columns:
            raise ValueError(f"needs 'category' and 'dataset_id' columns, has {list(table.columns)}")
    except (ValueError, OSError) as error:
        _problem(problems, f"{path} could not be read: {type(error).__name__}: {error}")
        return None
    table["category"] = table["category"].map(lambda c: tuple(c) if isinstance(c, list) else (c,))
    return table


def _read_predictions(io: IoTools, path: str, problems: list[str]) -> pd.DataFrame | None:
    if not io.exists(path):
        return None
    try:
        table = pd.read_csv(_io.BytesIO(io.read_file(path)), dtype=str, keep_default_na=False)
        missing = [column for column in PREDICTION_COLUMNS if column not in table.columns]
        if missing:
            raise ValueError(f"needs the columns {list(PREDICTION_COLUMNS)}, misses {missing}")
    except (ValueError, OSError) as error:
        _problem(problems, f"{path} could not be read: {type(error).__name__}: {error}")
        return None
    return table


def _read_first_batch(io: IoTools, folder: str, problems: list[str]) -> list[Tile] | None:
    path = join(folder, RECORDS_FILE)
    records = _read_json(io, path, problems)
    if records is None:
        return None
    if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
        _problem(problems, f"{path} could not be read: expected a JSON list of sample records")
        return None
    side = max(1, math.ceil(math.sqrt(len(records))))
    try:
        atlas = np.asarray(Image.open(_io.BytesIO(io.read_file(join(folder, ATLAS_FILE)))).convert("RGB"))
        size = atlas.shape[1] // side
    except (OSError, ValueError) as error:
        _problem(problems, f"first batch thumbnails {join(folder, ATLAS_FILE)} could not be read: "
                           f"{type(error).__name__}: {error}")
        atlas, size = None, 64
    tiles = []
    for index, record in enumerate(records):
        row, col = divmod(index, side)
        pixels = atlas[row * size:(row + 1) * size, col * size:(col + 1) * size] if atlas is not None else None
        if pixels is None or pixels.shape[:2] != (size, size):
            pixels = placeholder(size)
        buffer = _io.BytesIO()
        Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG")
        tiles.append(Tile(buffer.getvalue(), _caption(record), record.get("error")))
    return tiles


def _caption(record: dict) -> str:
    category = record.get("category")
    labels = ", ".join(map(str, category)) if isinstance(category, list) else str(category or "")
    return " · ".join(part for part in (labels, record.get("purpose")) if part)
