"""A remote monitor that keeps its calls, for the torch and tf training-hook tests."""
from __future__ import annotations


class RecordingMonitor:
    """Has `on_epoch_end(epoch, logs)` like `job.get_remote_monitor()`; keeps every call in `calls`."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, dict | None]] = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.calls.append((epoch, logs))
