"""EpochMetrics: running means over an epoch, reported to a job's remote monitor.

That each epoch reaches the job's progress.jsonl as floats is tested for every framework in
tests/parity/test_training_hooks.py.
"""
import pytest
import torch
from recording_monitor import RecordingMonitor

from brevetti_torch.hooks import EpochMetrics


def test_means_are_weighted_by_the_samples_of_each_step():
    metrics = EpochMetrics()
    metrics.update(3, loss=1.0)
    metrics.update(1, loss=5.0)
    assert metrics.result() == {"loss": 2.0}


def test_tensor_values_are_read_as_numbers():
    metrics = EpochMetrics(prefix="train_")
    metrics.update(2, loss=torch.tensor(0.5, requires_grad=True), accuracy=torch.tensor(1.0))
    assert metrics.result() == {"train_loss": 0.5, "train_accuracy": 1.0}


def test_end_epoch_reports_the_means_with_extra_values_then_starts_over():
    monitor = RecordingMonitor()
    metrics = EpochMetrics(monitor, prefix="train_")
    metrics.update(4, loss=0.25)
    logs = metrics.end_epoch(7, devel_accuracy=0.5)
    assert monitor.calls == [(7, {"train_loss": 0.25, "devel_accuracy": 0.5})] and logs == monitor.calls[0][1]
    assert metrics.result() == {}


def test_a_diverging_metric_is_refused_naming_it():
    metrics = EpochMetrics()
    metrics.update(8, loss=2.0)
    with pytest.raises(FloatingPointError, match=r"metric 'loss' is nan after 8 samples: training diverged"):
        metrics.update(8, loss=torch.tensor(float("nan")))


def test_an_update_must_cover_at_least_one_sample():
    with pytest.raises(ValueError, match="count must be at least 1, got 0"):
        EpochMetrics().update(0, loss=1.0)
