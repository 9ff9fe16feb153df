"""The tracking job hook: a job's MLflow run and TensorBoard log, started with the job, fed each epoch, then finished.

Registered in ``job_hooks`` as ``"tracking"`` for every event (epochs come from the job's remote
monitor, which both frameworks' training hooks feed). What a job gets is decided when it starts
(``config.current()``); mlflow and tensorboard are imported only for the trackers that are on.
Nothing here fails a job: a tracker that cannot start or stops answering is named in one warning
and left out, and the job keeps its own records (progress.jsonl, output.json, report.html).
"""
from __future__ import annotations

import getpass
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from ..io_tools import join
from ..job_hooks import EPOCH_EVENT, START_EVENT
from ..redaction import redact_text
from .config import TrackingConfig, current
from .params import settings_params
from .record import write_record

log = logging.getLogger(__name__)

OUTPUT_FILE = "output.json"


@dataclass
class JobTracking:
    """The trackers of one running job."""

    config: TrackingConfig
    params: dict[str, Any]
    started: float
    mlflow: Any = None
    tensorboard: Any = None
    tensorboard_failed: bool = False


_live: dict[str, JobTracking] = {}
"""Job id -> its trackers, from its start to its end."""


def tracking_hook(job: Any, event: str, **details: Any) -> None:
    """Job hook: start the trackers on "started", log each "epoch", finish them on the job's final status."""
    if event == START_EVENT:
        start(job)
    elif event == EPOCH_EVENT:
        log_epoch(job, details["epoch"], details.get("logs") or {})
    else:
        finish(job, event)


def start(job: Any) -> None:
    """Start the trackers `config.current()` turns on for `job`."""
    config = current()
    if not config.active:
        return
    output = read_output(job)
    tracking = JobTracking(config, settings_params((output.get("job") or {}).get("settings") or {}, _secret(job)),
                           time.time())
    if config.mlflow_uri:
        tracking.mlflow = _start_mlflow(job, config, output, tracking.params)
    _live[job.id] = tracking


def log_epoch(job: Any, epoch: int, logs: dict) -> None:
    """Give one epoch's logs to the job's trackers; the TensorBoard log opens with the first epoch."""
    tracking = _live.get(job.id)
    if tracking is None:
        return
    if tracking.config.tensorboard and not tracking.tensorboard_failed:
        _tensorboard(job, tracking, f"epoch {epoch}", _log_tensorboard_epoch, job, tracking, epoch, logs)
    if tracking.mlflow is not None:
        tracking.mlflow.log_epoch(epoch, logs)


def finish(job: Any, status: str) -> None:
    """Close the TensorBoard log, then finish the MLflow run (output, artifacts, status) of `job`, ended as `status`."""
    tracking = _live.pop(job.id, None)
    if tracking is None:
        return
    if tracking.tensorboard is not None and not tracking.tensorboard_failed:
        _tensorboard(job, tracking, "the end", tracking.tensorboard.finish, status)
    if tracking.mlflow is not None:
        tracking.mlflow.finish(job, status, read_output(job), join(job.job_dir, "artifacts"))


def read_output(job: Any) -> dict:
    """The job's output.json record ({} when it cannot be read)."""
    try:
        return json.loads(job.io.read_file(join(job.job_dir, "artifacts", OUTPUT_FILE)))
    except (OSError, ValueError) as error:
        log.warning("Tracking job %s: could not read its %s (%s)", job.id, OUTPUT_FILE, error)
        return {}


def run_tags(job: Any, output: dict, params: dict[str, Any]) -> dict[str, str]:
    """The MLflow tags of the job's run: job id, class and folder, framework, source file and git commit."""
    tags = {"brevetti.job_id": job.id, "brevetti.job_class": f"{type(job).__module__}.{type(job).__qualname__}",
            "brevetti.job_dir": redact_text(job.job_dir), "mlflow.user": getpass.getuser(),
            "mlflow.source.name": type(job).__module__}
    if isinstance(params.get("framework"), str):
        tags["brevetti.framework"] = params["framework"]
    git = (output.get("environment") or {}).get("git") or {}
    if git.get("commit"):
        tags["mlflow.source.git.commit"] = git["commit"]
        tags["brevetti.git_dirty"] = json.dumps(bool(git.get("dirty")))
    if git.get("file"):
        tags["mlflow.source.name"] = git["file"]
    return tags


def _start_mlflow(job: Any, config: TrackingConfig, output: dict, params: dict[str, Any]) -> Any:
    uri = config.mlflow_uri or ""
    experiment = (config.experiment or "").strip() or type(job).__name__
    try:
        from .mlflow_run import MlflowRun

        run = MlflowRun.start(job, uri, experiment, params, run_tags(job, output, params))
    except Exception as error:  # an unreachable server, a bad URI, a deleted experiment...: the job runs on
        log.warning("MLflow tracking at %s is unavailable (%s); job %s runs on without an MLflow run and keeps its "
                    "records in %s", redact_text(uri), redact_text(f"{type(error).__name__}: {error}"), job.id,
                    join(job.job_dir, "artifacts"))
        return None
    write_record(job, {"mlflow": {"tracking_uri": redact_text(uri), "experiment": experiment,
                                  "experiment_id": run.experiment_id, "run_id": run.run_id, "run_url": run.url}})
    return run


def _log_tensorboard_epoch(job: Any, tracking: JobTracking, epoch: int, logs: dict) -> None:
    if tracking.tensorboard is None:
        from .tensorboard_log import TensorBoardLog

        tracking.tensorboard = TensorBoardLog(job, tracking.params, tracking.started)
    tracking.tensorboard.log_epoch(epoch, logs)


def _tensorboard(job: Any, tracking: JobTracking, what: str, call: Any, *args: Any) -> None:
    """`call(*args)`; a failure is one warning, and the job's TensorBoard log stops there."""
    try:
        call(*args)
    except Exception as error:  # a full disk, an unwritable folder, a broken install: never the job's problem
        tracking.tensorboard_failed = True
        log.warning("TensorBoard log of job %s stopped at %s (%s: %s); the job runs on", job.id, what,
                    type(error).__name__, error)


def _secret(job: Any) -> str | None:
    api_key = getattr(job, "api_key", None)
    return api_key.get_secret_value() if api_key is not None else None
