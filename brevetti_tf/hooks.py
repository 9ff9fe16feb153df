"""Training hooks for TensorFlow/Keras: a callback forwarding each epoch's logs to a job's remote monitor.

``model.fit(..., callbacks=[RemoteMonitorCallback(job.get_remote_monitor())])`` writes one line per
epoch to ``artifacts/progress.jsonl`` (and POSTs it when the job has a remote URL), the same call
``brevetti_torch.hooks.EpochMetrics`` makes from a PyTorch loop.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras
import numpy as np

from brevetti_core.monitor import EpochMonitor


class RemoteMonitorCallback(keras.callbacks.Callback):
    """Forwards ``on_epoch_end(epoch, logs)`` to `monitor`, with Keras' tensor and numpy values as floats."""

    def __init__(self, monitor: EpochMonitor):
        super().__init__()
        if not callable(getattr(monitor, "on_epoch_end", None)):
            raise TypeError(f"RemoteMonitorCallback needs a monitor with on_epoch_end(epoch, logs), "
                            f"such as job.get_remote_monitor(); got {monitor!r}")
        self.monitor = monitor

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.monitor.on_epoch_end(epoch, {name: _number(value) for name, value in (logs or {}).items()})


def _number(value):
    """A float for scalar tensors and numpy values (JSON-ready); anything else as it is."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    if isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0:
        return float(value)
    return value
