"""Tracking: every job an MLflow run and a TensorBoard log, with no change to the job's code.

- MLflow, when ``MLFLOW_TRACKING_URI`` is set (or ``tracking.enable("http://127.0.0.1:5000")``):
  one run per job, named after the job, in the experiment ``MLFLOW_EXPERIMENT_NAME`` (default: the
  job's class name); settings as params, per-epoch metrics, output metrics, the artifacts folder and
  the final status. ``artifacts/tracking.json`` says which run a job is (``read_record``).
- TensorBoard, on when the ``tensorboard`` package is installed (``BREVETTI_TENSORBOARD=0`` or
  ``tracking.enable(tensorboard=False)`` turns it off): ``artifacts/tensorboard/`` event files, so
  ``tensorboard --logdir <data root>`` shows every job.

Both are fed by the job's remote monitor (``job.get_remote_monitor()``, which the Keras callback and
the torch ``EpochMetrics`` hook call), so torch and TensorFlow runs report the same metric names.
Install with ``pip install "brevetti[tracking]"``; without it, jobs run as before.
"""
from .config import TrackingConfig, current, disable, enable
from .hook import tracking_hook
from .record import RECORD_FILE, compare_url, read_record

__all__ = ["RECORD_FILE", "TrackingConfig", "compare_url", "current", "disable", "enable", "read_record",
           "tracking_hook"]
