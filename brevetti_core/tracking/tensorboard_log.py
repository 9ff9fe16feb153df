"""A job's TensorBoard log: ``artifacts/tensorboard/events.out.tfevents.*``, readable by ``tensorboard --logdir``.

Scalars per epoch (train and devel of a metric under one chart: ``loss/train``, ``loss/devel``),
the first training batch as an image (the thumbnail grid ``record_first_batch`` saved for the
report), and the settings as hparams (session start, then its end with the job's status).

Written with TensorBoard's own protobufs and record writer over a plain file: neither TensorFlow nor
torch is loaded (``tensorboard``'s ``EventFileWriter`` would load TensorFlow when it is installed).
This module imports tensorboard, so it is imported only when a TensorBoard log is on. The log is
opened with the job's first epoch, so jobs that train nothing leave no log. Events are appended
after each epoch with the file open only meanwhile (a job that never ends leaves no open file). For a
job on object storage the file is written in a local folder and copied to the job's artifacts.
"""
from __future__ import annotations

import io as _io
import itertools
import logging
import os
import shutil
import socket
import time
import weakref
from collections.abc import Mapping
from typing import Any

from PIL import Image
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2, summary_v2
from tensorboard.summary.writer.record_writer import RecordWriter

from ..facets import ATLAS_FILE
from ..io_tools import is_remote, join
from ..report.data import FIRST_BATCH_DIR, REPORT_DIR
from ..temp_folder import make_temp_folder
from .metrics import epoch_metrics, tensorboard_tag
from .params import text

log = logging.getLogger(__name__)

FOLDER = "tensorboard"
FIRST_BATCH_TAG = "first_batch"
SESSION_STATUS = {"completed": api_pb2.STATUS_SUCCESS, "failed": api_pb2.STATUS_FAILURE,
                  "interrupted": api_pb2.STATUS_FAILURE}
"""The hparams session status of a job's final status (TensorBoard has no 'aborted')."""
_file_numbers = itertools.count()


class TensorBoardLog:
    """One job's event file: `log_epoch` after each epoch, `finish` once at the end."""

    def __init__(self, job: Any, hparams: Mapping[str, Any], started: float):
        self.io, self.artifacts = job.io, join(job.job_dir, "artifacts")
        self._remote = is_remote(job.job_dir)
        # A remote job's log is staged locally in a folder named like a job temp folder (owner pid and host), so
        # if the process is killed outright the next job start on this host removes it with the job's own.
        folder = make_temp_folder(f"{job.id}-tensorboard") if self._remote else join(self.artifacts, FOLDER)
        os.makedirs(folder, exist_ok=True)
        self._remove_staging = weakref.finalize(self, shutil.rmtree, folder, True) if self._remote else None
        name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{next(_file_numbers)}"
        self.path = os.path.join(folder, name)
        self._pending: list[bytes] = []
        self._first_batch_written = False
        self._write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))
        self._write_summary(summary_v2.hparams_pb(hparam_values(hparams), trial_id=job.id, start_time_secs=started))
        self._flush()

    def log_epoch(self, epoch: int, logs: Mapping[str, Any]) -> None:
        """Write the epoch's train/devel scalars (step = epoch), and the first batch once it is recorded."""
        values = [summary_pb2.Summary.Value(tag=tensorboard_tag(metric, role), simple_value=value)
                  for (metric, role), value in epoch_metrics(logs).items()]
        if values:
            self._write_summary(summary_pb2.Summary(value=values), step=epoch)
        self._write_first_batch(step=epoch)
        self._flush()

    def finish(self, status: str) -> None:
        """Record the end of the hparams session with the job's final `status`."""
        self._write_first_batch(step=0)
        end = plugin_data_pb2.SessionEndInfo(status=SESSION_STATUS.get(status, api_pb2.STATUS_UNKNOWN),
                                             end_time_secs=time.time())
        summary = summary_pb2.Summary()
        summary.value.add(tag=metadata.SESSION_END_INFO_TAG, tensor=metadata.NULL_TENSOR,
                          metadata=metadata.create_summary_metadata(plugin_data_pb2.HParamsPluginData(
                              session_end_info=end)))
        self._write_summary(summary)
        self._flush()
        if self._remove_staging is not None:
            self._remove_staging()

    def _write_first_batch(self, step: int) -> None:
        """The first-batch thumbnail grid (artifacts/report/first_batch/spriteatlas.jpeg) as an image, once."""
        atlas = join(self.artifacts, REPORT_DIR, FIRST_BATCH_DIR, ATLAS_FILE)
        if self._first_batch_written or not self.io.exists(atlas):
            return
        encoded = self.io.read_file(atlas)
        width, height = Image.open(_io.BytesIO(encoded)).size
        image = summary_pb2.Summary.Image(height=height, width=width, colorspace=3, encoded_image_string=encoded)
        self._write_summary(summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=FIRST_BATCH_TAG, image=image)]),
                            step=step)
        self._first_batch_written = True

    def _write_summary(self, summary: summary_pb2.Summary, step: int = 0) -> None:
        self._write(event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary))

    def _write(self, event: event_pb2.Event) -> None:
        self._pending.append(event.SerializeToString())

    def _flush(self) -> None:
        with open(self.path, "ab") as f:
            writer = RecordWriter(f)
            for record in self._pending:
                writer.write(record)
        self._pending = []
        if self._remote:
            with open(self.path, "rb") as f:
                self.io.write_file(join(self.artifacts, FOLDER, os.path.basename(self.path)), f.read())


def hparam_values(params: Mapping[str, Any]) -> dict[str, bool | float | str]:
    """Values TensorBoard's hparams take (bool, number, string); anything else as JSON text."""
    return {name: value if isinstance(value, (bool, int, float, str)) else text(value)
            for name, value in params.items()}
