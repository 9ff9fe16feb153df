"""Training-loop hooks for PyTorch: per-epoch running means reported to a job's remote monitor.

PyTorch has no callback system, so the hook is a small object the loop feeds: ``update`` after
each batch, ``end_epoch`` once per epoch (which calls ``monitor.on_epoch_end(epoch, logs)``, the
same call ``brevetti_tf.hooks.RemoteMonitorCallback`` makes from Keras).
"""
from __future__ import annotations

import math

import torch

from brevetti_core.monitor import EpochMonitor


class EpochMetrics:
    """Running means of named metrics over one epoch, weighted by the samples each update covers.

    >>> metrics = EpochMetrics(job.get_remote_monitor())
    >>> metrics.update(len(images), loss=loss, accuracy=correct / len(images))   # after each batch
    >>> metrics.end_epoch(epoch, devel_loss=0.3)                                # reports, then starts over
    """

    def __init__(self, monitor: EpochMonitor | None = None, prefix: str = ""):
        self.monitor, self.prefix = monitor, prefix
        self._sums: dict[str, float] = {}
        self._count = 0

    def update(self, count: int, **values: float | torch.Tensor) -> None:
        """Add one step's mean values, covering `count` samples (tensors are read once, here)."""
        if count < 1:
            raise ValueError(f"EpochMetrics.update: count must be at least 1, got {count!r}")
        for name, value in values.items():
            number = float(value.detach()) if isinstance(value, torch.Tensor) else float(value)
            if not math.isfinite(number):
                raise FloatingPointError(f"metric {name!r} is {number} after {self._count} samples: training diverged "
                                         f"(lower the learning rate)")
            self._sums[name] = self._sums.get(name, 0.0) + number * count
        self._count += count

    def result(self) -> dict[str, float]:
        """{prefix + name: mean so far}; empty before the first update."""
        return {f"{self.prefix}{name}": total / self._count for name, total in self._sums.items()}

    def reset(self) -> None:
        """Forget the epoch so far."""
        self._sums, self._count = {}, 0

    def end_epoch(self, epoch: int, **extra: float) -> dict[str, float]:
        """The epoch's means plus `extra`, reported to the monitor; then resets. Returns the logs."""
        logs = {**self.result(), **{name: float(value) for name, value in extra.items()}}
        if self.monitor is not None:
            self.monitor.on_epoch_end(epoch, logs)
        self.reset()
        return logs
