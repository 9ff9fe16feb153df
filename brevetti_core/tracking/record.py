"""Where a job is tracked: ``artifacts/tracking.json``, and the MLflow UI links made from it.

Written when the job starts (so a crashed job still says which run it was)::

    {"mlflow": {"tracking_uri", "experiment", "experiment_id", "run_id", "run_url"},
     "tensorboard": {"logdir": "artifacts/tensorboard"}}

The tracking URI is stored without credentials; ``run_url`` is null for local stores (sqlite,
file), which have no web page until ``mlflow ui`` serves them.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from ..io_tools import IoTools, io_tools, join
from ..redaction import redact_text

RECORD_FILE = "tracking.json"


def write_record(job: Any, record: Mapping[str, Any]) -> str:
    """Write `record` as the job's artifacts/tracking.json; returns its path."""
    path = job.artifact_path(RECORD_FILE)
    job.io.write_file(path, json.dumps(record, indent=2))
    return path


def read_record(job_dir: str, io: IoTools = io_tools) -> dict | None:
    """The tracking.json of the job folder `job_dir`, or None when the job was not tracked."""
    path = join(job_dir, "artifacts", RECORD_FILE)
    return json.loads(io.read_file(path)) if io.exists(path) else None


def run_url(uri: str, experiment_id: str, run_id: str) -> str | None:
    """The MLflow UI page of a run on the http(s) server `uri`; None for other stores."""
    if not uri.startswith(("http://", "https://")):
        return None
    return f"{_base(uri)}/#/experiments/{experiment_id}/runs/{run_id}"


def compare_url(records: Iterable[Mapping[str, Any]]) -> str | None:
    """The MLflow UI page comparing the runs of tracking.json `records` (one http(s) server), else None."""
    runs = [record["mlflow"] for record in records if record and record.get("mlflow")]
    uris = {run["tracking_uri"] for run in runs}
    if len(runs) < 2 or len(uris) != 1 or not runs[0].get("run_url"):
        return None
    ids = json.dumps([run["run_id"] for run in runs], separators=(",", ":"))
    experiments = json.dumps(sorted({run["experiment_id"] for run in runs}), separators=(",", ":"))
    return f"{_base(runs[0]['tracking_uri'])}/#/compare-runs?runs={quote(ids)}&experiments={quote(experiments)}"


def _base(uri: str) -> str:
    return redact_text(uri).rstrip("/")
