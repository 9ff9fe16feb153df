"""Training progress: one JSON line per epoch in ``artifacts/progress.jsonl``, optionally POSTed to the platform."""
from __future__ import annotations

import datetime
import logging
from typing import Any, Protocol

from . import job_hooks
from .io_tools import IoTools, io_tools, protocol_of
from .output import dumps
from .redaction import redact_text, redact_values

log = logging.getLogger(__name__)


class EpochMonitor(Protocol):
    """Anything with ``on_epoch_end(epoch, logs)``, e.g. ``job.get_remote_monitor()``; what training hooks feed."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...


class RemoteMonitor:
    """Records `on_epoch_end(epoch, logs)` as {"epoch", **logs, "time"}; POSTs each record when `url` is set.

    The POST sends the record as the form field ``data`` (the platform's format) with a timeout.
    A failed POST is logged once as a warning (later failures at debug level) and never raised,
    so a flaky network cannot stop training; the progress file is written either way.
    With `job`, each record then fires that job's "epoch" hooks (tracking: MLflow, TensorBoard).
    """

    def __init__(self, progress_path: str, url: str | None = None, *, io: IoTools = io_tools,
                 secret: str | None = None, timeout: float = 10.0, job: Any = None):
        self.progress_path = progress_path
        self.url = url
        self.io = io
        self.timeout = timeout
        self.job = job
        self._secret = secret
        self._warned = False

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Append the epoch's record to progress.jsonl and POST it when a URL is set."""
        logs = redact_values(logs or {}, self._secret)
        record = {"epoch": int(epoch), **logs, "time": datetime.datetime.now(datetime.UTC).isoformat()}
        line = dumps(record)
        self._append(line)
        if self.url:
            self._post(line)
        if self.job is not None:
            job_hooks.fire(self.job, job_hooks.EPOCH_EVENT, epoch=int(epoch), logs=logs)

    def _append(self, line: str) -> None:
        if protocol_of(self.progress_path) == "file":
            with open(self.progress_path, "a", encoding="utf-8") as f:
                f.write(line + "\n")
            return
        # Object stores cannot append: rewrite the whole (small) file in one PUT.
        previous = self.io.read_file(self.progress_path).decode("utf-8") if self.io.exists(self.progress_path) else ""
        self.io.write_file(self.progress_path, previous + line + "\n")

    def _post(self, line: str) -> None:
        import requests

        try:
            response = requests.post(str(self.url), data={"data": line}, timeout=self.timeout)  # only called with a url
            response.raise_for_status()
        except (requests.RequestException, ValueError) as error:
            message = redact_text(f"could not reach the remote monitor at {self.url}: {error}", self._secret)
            if self._warned:
                log.debug("%s", message)
                return
            self._warned = True
            log.warning("%s; progress is still written to %s (further failures are logged at debug level)",
                        message, self.progress_path)
