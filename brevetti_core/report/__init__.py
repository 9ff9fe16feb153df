"""The job report: ``artifacts/report.html``, one self-contained page showing a job's run at a glance.

``gather`` (data.py) reads the job folder's files, ``render`` (render.py) turns them into HTML and
``write_report`` does both. ``record_samples``, ``record_first_batch`` and ``record_predictions``
(record.py) are called by a running job to add its sample table, first batch and devel predictions.
``report_hook`` is the job hook (registered in ``brevetti_core.job_hooks`` as "report") that writes
the report whenever a job ends.
"""
from __future__ import annotations

import logging
import os
from typing import Any

from ..io_tools import IoTools, io_tools, join
from ..job_hooks import END_EVENTS
from .data import ReportData, gather
from .record import record_first_batch, record_predictions, record_samples
from .render import render

__all__ = ["ReportData", "gather", "record_first_batch", "record_predictions", "record_samples", "render",
           "report_hook", "write_report"]

REPORT_FILE = "report.html"

log = logging.getLogger(__name__)


def write_report(job: Any, errors: str = "raise", io: IoTools | None = None) -> str | None:
    """Write `<job folder>/artifacts/report.html` for a Job or a job folder; returns its path.

    Files are read and written with `io`, else the job's own ``job.io`` (the shared ``io_tools`` for
    a folder). With ``errors="warn"`` (for job completion) a failure is logged as a warning and None
    is returned, so the report can never fail the job it describes.
    """
    if errors not in ("raise", "warn"):
        raise ValueError(f"errors must be 'raise' or 'warn', got {errors!r}")
    if isinstance(job, (str, os.PathLike)):
        folder, io = os.fspath(job), io if io is not None else io_tools
    else:
        folder, io = job.job_dir, io if io is not None else job.io
    try:
        path = join(folder, "artifacts", REPORT_FILE)
        io.write_file(path, render(gather(folder, io)))
    except Exception as error:
        if errors == "raise":
            raise
        log.warning("Could not write the job report for %s: %s: %s", folder, type(error).__name__, error)
        return None
    log.info("Wrote job report %s", path)
    return path


def report_hook(job: Any, event: str) -> None:
    """Job hook: write the job's report.html when it ends (completed, failed or interrupted)."""
    if event in END_EVENTS:
        write_report(job, errors="warn")
