"""A job's MLflow run: created when the job starts, fed every epoch, finished with the job's status and artifacts.

Run name = job name; tags ``brevetti.job_id``, ``brevetti.framework``, ``mlflow.source.git.commit``;
params = the flattened settings and the seeds; metrics per epoch (step = epoch) under the names of
``metrics`` and the output metrics at the end; the artifacts folder uploaded at the end, to wherever
the tracking server keeps artifacts (its local folder, S3...). The run status mirrors the job:
completed FINISHED, failed FAILED, interrupted KILLED.

This module imports mlflow, so it is imported only when MLflow tracking is on. The client talks to
the store MLflow's URI names: an ``http(s)://`` server (probed first, so that an unreachable server
costs seconds, not MLflow's minutes of retries), ``sqlite:///`` or a ``file:`` folder.
"""
from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import requests
from mlflow.entities import Metric, Param, RunStatus, RunTag
from mlflow.environment_variables import MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ..io_tools import is_remote
from ..redaction import redact_text
from .metrics import epoch_metrics, mlflow_name, number_of
from .params import KEY_LIMIT, PARAM_VALUE_LIMIT, TAG_VALUE_LIMIT, fitted, flatten, safe_name, shortened
from .record import run_url

log = logging.getLogger(__name__)

FRAMEWORK_TAG = "brevetti.framework"
RUN_STATUS = {"completed": RunStatus.FINISHED, "failed": RunStatus.FAILED, "interrupted": RunStatus.KILLED}
EXPERIMENT_NAME_LIMIT = 500
BATCH_SIZE = 100
"""MLflow takes at most 100 params or tags per log_batch request."""
PROBE_SECONDS = 5.0


class TrackingUnavailable(RuntimeError):
    """The MLflow store cannot be used for this job (unreachable, deleted experiment...)."""


class MlflowRun:
    """One job's run in an MLflow store. A failed call is a warning: later epochs are skipped, and the end is
    still recorded (output, artifacts, status) unless the store no longer answers."""

    def __init__(self, client: MlflowClient, uri: str, experiment_id: str, run_id: str):
        self.client, self.uri, self.experiment_id, self.run_id = client, uri, experiment_id, run_id
        self.failed = False
        self._last: dict[str, tuple[int, float]] = {}
        self._tags: set[str] = set()

    @classmethod
    def start(cls, job: Any, uri: str, experiment: str, params: Mapping[str, Any],
              tags: Mapping[str, str]) -> MlflowRun:
        """The job's new run in `experiment` (made when absent) with `params` and `tags`; raises when impossible."""
        if not reachable(uri):
            raise TrackingUnavailable(f"no answer within {PROBE_SECONDS:g} s")
        client = MlflowClient(tracking_uri=uri)
        experiment_id = experiment_of(client, experiment)
        run_name = shortened(job.name or job.id, KEY_LIMIT)
        run = client.create_run(experiment_id, run_name=run_name, start_time=int(time.time() * 1000))
        started = cls(client, uri, experiment_id, run.info.run_id)
        values, changed = fitted(params, PARAM_VALUE_LIMIT)
        tag_values, changed_tags = fitted(tags, TAG_VALUE_LIMIT)
        if changed or changed_tags:
            note = ", ".join(changed + changed_tags)
            log.warning("MLflow run of job %s: names or values shortened to MLflow's limits: %s", job.id, note)
            tag_values["brevetti.shortened"] = shortened(note, TAG_VALUE_LIMIT)
        try:
            started._log_batches(params=[Param(key, value) for key, value in values.items()],
                                 tags=[RunTag(key, value) for key, value in tag_values.items()])
        except Exception:
            end_run(client, started.run_id, RunStatus.to_string(RunStatus.FAILED))  # no run left RUNNING
            raise
        started._tags = set(tag_values)
        log.info("Job %s is MLflow run %s in experiment %r at %s", job.id, started.run_id, experiment,
                 redact_text(uri))
        return started

    @property
    def url(self) -> str | None:
        """The run's page in the MLflow UI (http(s) stores; None for local ones)."""
        return run_url(self.uri, self.experiment_id, self.run_id)

    def log_epoch(self, epoch: int, logs: Mapping[str, Any]) -> None:
        """Log the epoch's metrics at step `epoch`."""
        if self.failed:
            return
        metrics = {safe_name(mlflow_name(metric, role)): value for (metric, role), value in epoch_metrics(logs).items()}
        self._attempt(f"epoch {epoch}", self._log_metrics, metrics, int(epoch))

    def finish(self, job: Any, status: str, output: Mapping[str, Any], artifacts: str) -> None:
        """Log the output metrics, seeds and framework, upload `artifacts` (a folder), end the run with `status`."""
        if self.failed and not reachable(self.uri):
            log.warning("MLflow run %s at %s still does not answer: its end is not recorded", self.run_id,
                        redact_text(self.uri))
            return
        self._attempt("the output", self._log_output, output)
        self._attempt("the artifacts", self._log_artifacts, job, artifacts)
        self._attempt("the run status", self._terminate, RunStatus.to_string(RUN_STATUS[status]))

    def _terminate(self, status: str) -> None:
        end_run(self.client, self.run_id, status)

    def _log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        stamp = int(time.time() * 1000)
        self._log_batches(metrics=[Metric(key, value, stamp, step) for key, value in metrics.items()])
        self._last.update({key: (step, value) for key, value in metrics.items()})

    def _log_output(self, output: Mapping[str, Any]) -> None:
        """The output metrics not already the last value of an epoch metric, at the last epoch; seeds; framework."""
        step = max((step for step, _ in self._last.values()), default=0)
        metrics = {}
        for name, value in flatten(output.get("output") or {}).items():
            number, key = number_of(value), safe_name(name)
            if number is not None and self._last.get(key, (None, None))[1] != number:
                metrics[key] = number
        self._log_metrics(metrics, step)
        seeds = (output.get("job") or {}).get("seeds")
        params, _ = fitted({"seeds": seeds}, PARAM_VALUE_LIMIT) if seeds else ({}, [])
        framework = (output.get("output") or {}).get("framework")
        tags = {FRAMEWORK_TAG: framework} if isinstance(framework, str) and FRAMEWORK_TAG not in self._tags else {}
        self._log_batches(params=[Param(k, v) for k, v in params.items()], tags=[RunTag(k, v) for k, v in tags.items()])

    def _log_artifacts(self, job: Any, artifacts: str) -> None:
        if not is_remote(artifacts):
            self.client.log_artifacts(self.run_id, artifacts)
            return
        folder = tempfile.mkdtemp(prefix="brevetti-mlflow-artifacts-")
        try:
            job.io.copy(artifacts, folder)
            self.client.log_artifacts(self.run_id, folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _log_batches(self, metrics: Iterable[Metric] = (), params: Iterable[Param] = (),
                     tags: Iterable[RunTag] = ()) -> None:
        metrics, params, tags = list(metrics), list(params), list(tags)
        for start in range(0, max(len(params), len(tags), 1), BATCH_SIZE):
            self.client.log_batch(self.run_id, metrics=metrics if start == 0 else [],
                                  params=params[start:start + BATCH_SIZE], tags=tags[start:start + BATCH_SIZE])

    def _attempt(self, what: str, call: Any, *args: Any) -> None:
        """`call(*args)`; a failure is a warning naming the store and the run, and marks the run failed."""
        try:
            call(*args)
        except Exception as error:  # the store's errors are many (HTTP, SQL, S3...): none may stop training
            self.failed = True
            log.warning("MLflow run %s at %s: could not log %s (%s); the job runs on and keeps its records in its "
                        "artifacts folder", self.run_id, redact_text(self.uri), what,
                        redact_text(f"{type(error).__name__}: {error}"))


def reachable(uri: str) -> bool:
    """Whether the store answers: an http(s) server within PROBE_SECONDS (any HTTP answer counts); local ones do."""
    if not uri.startswith(("http://", "https://")):
        return True
    try:
        requests.get(uri, timeout=PROBE_SECONDS)
    except requests.RequestException:
        return False
    return True


def experiment_of(client: MlflowClient, name: str) -> str:
    """The id of the experiment `name` (cut to MLflow's 500 characters), created when absent."""
    fitted_name = shortened(name.strip(), EXPERIMENT_NAME_LIMIT)
    if fitted_name != name:
        log.warning("MLflow experiment name %r shortened to %r (MLflow takes at most %d characters)",
                    name[:80] + "...", fitted_name, EXPERIMENT_NAME_LIMIT)
    experiment = client.get_experiment_by_name(fitted_name)
    if experiment is None:
        try:
            return client.create_experiment(fitted_name)
        except MlflowException:
            # Another job created it meanwhile; anything else fails again just below.
            experiment = client.get_experiment_by_name(fitted_name)
            if experiment is None:
                raise
    if experiment.lifecycle_stage != "active":
        raise TrackingUnavailable(f"the experiment {fitted_name!r} is deleted: restore it in MLflow or choose "
                                  f"another name (MLFLOW_EXPERIMENT_NAME or tracking.enable(experiment=...))")
    return experiment.experiment_id


def end_run(client: MlflowClient, run_id: str, status: str, end_time: int | None = None) -> None:
    """End run `run_id` as `status` without MLflow printing the run's URL on stdout (where it would land in a
    command's output, with the tracking URI's password if it has one)."""
    with _env(MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT.name, "true"):
        client.set_terminated(run_id, status, end_time=end_time)


@contextlib.contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before
