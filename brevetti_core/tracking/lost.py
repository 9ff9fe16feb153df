"""The MLflow run of a lost job (killed outright, its machine gone) ended as KILLED when the job is next read.

A job killed with SIGKILL runs no code, so its run stays ``RUNNING`` in MLflow. Whoever next reads the
job as ``lost`` (``brevetti job list``, ``brevetti job show``: see ``liveness``) calls `end_lost_run`,
which ends the run its tracking.json names as ``KILLED``, with the end time of the job's last heartbeat.
A run already ended is left as it is, and a store that cannot be reached is one warning: reading a job
never fails because of tracking.
"""
from __future__ import annotations

import datetime
import logging
import os
from typing import Any

from ..io_tools import IoTools, io_tools
from ..liveness import LOST
from ..redaction import redact_text
from .record import read_record

log = logging.getLogger(__name__)

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"


def end_lost_run(job_dir: str, status: dict | None, io: IoTools = io_tools) -> str | None:
    """End the still-running MLflow run of the lost job in `job_dir` as KILLED; returns its run id, else None.

    `status` is the job's status as ``jobstore.read_status`` reads it; nothing happens unless it is lost
    and the job's tracking.json names an MLflow run.
    """
    if not status or status.get("status") != LOST:
        return None
    try:
        run = (read_record(job_dir, io) or {}).get("mlflow")
    except (OSError, ValueError) as error:
        log.warning("Tracking record of lost job %s cannot be read (%s); its MLflow run is left as it is", job_dir,
                    error)
        return None
    if not run or not run.get("run_id"):
        return None
    try:
        return _end_run(store_uri(run["tracking_uri"]), run["run_id"], status)
    except Exception as error:  # an unreachable store, no mlflow installed, a deleted run: never the reader's problem
        log.warning("MLflow run %s of lost job %s at %s could not be ended as KILLED (%s: %s)", run["run_id"], job_dir,
                    run["tracking_uri"], type(error).__name__, redact_text(str(error)))
        return None


def store_uri(recorded: str) -> str:
    """The URI to reach the store `recorded` (saved without credentials): MLFLOW_TRACKING_URI when it is the same
    store with its credentials, else `recorded`."""
    current = os.environ.get(TRACKING_URI_ENV, "")
    return current if current and redact_text(current) == recorded else recorded


def _end_run(uri: str, run_id: str, status: dict) -> str | None:
    from mlflow.entities import RunStatus
    from mlflow.tracking import MlflowClient

    from .mlflow_run import end_run, reachable

    if not reachable(uri):
        raise ConnectionError("no answer")
    client = MlflowClient(tracking_uri=uri)
    if client.get_run(run_id).info.status != RunStatus.to_string(RunStatus.RUNNING):
        return None
    end_run(client, run_id, RunStatus.to_string(RunStatus.KILLED), end_time=_last_sign_of_life(status))
    log.info("MLflow run %s ended as KILLED: its job is lost (%s)", run_id, status.get("lost", "gone"))
    return run_id


def _last_sign_of_life(status: dict) -> int | None:
    """The job's last heartbeat (else its start) in milliseconds since the epoch, as MLflow's end time."""
    for key in ("heartbeat", "time"):
        text: Any = status.get(key)
        if isinstance(text, str):
            try:
                stamp = datetime.datetime.fromisoformat(text)
            except ValueError:
                continue
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=datetime.UTC)
            return int(stamp.timestamp() * 1000)
    return None
