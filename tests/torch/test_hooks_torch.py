"""EpochMetrics: running means over an epoch, reported to a job's remote monitor."""
import json

import pytest
import torch

from brevetti_core.job import Job
from brevetti_torch.hooks import EpochMetrics


class Recorder:
    def __init__(self):
        self.calls = []

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append((epoch, logs))


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
    recorder = Recorder()
    metrics = EpochMetrics(recorder, prefix="train_")
    metrics.update(4, loss=0.25)
    logs = metrics.end_epoch(7, devel_accuracy=0.5)
    assert recorder.calls == [(7, {"train_loss": 0.25, "devel_accuracy": 0.5})] and logs == recorder.calls[0][1]
    assert metrics.result() == {}


def test_end_epoch_appends_a_line_to_the_jobs_progress_file(data_root):
    job = Job.init(argv=[])
    job.start(complete=False)
    metrics = EpochMetrics(job.get_remote_monitor())
    for epoch in range(2):
        metrics.update(10, loss=1.0 / (epoch + 1))
        metrics.end_epoch(epoch)
    lines = [json.loads(line) for line in (data_root / job.id / "artifacts" / "progress.jsonl").read_text().splitlines()]
    assert [(line["epoch"], line["loss"]) for line in lines] == [(0, 1.0), (1, 0.5)]


def test_a_diverging_metric_is_refused_naming_it():
    metrics = EpochMetrics()
    metrics.update(8, loss=2.0)
    with pytest.raises(FloatingPointError, match=r"metric 'loss' is nan after 8 samples: training diverged"):
        metrics.update(8, loss=torch.tensor(float("nan")))


def test_an_update_must_cover_at_least_one_sample():
    with pytest.raises(ValueError, match="count must be at least 1, got 0"):
        EpochMetrics().update(0, loss=1.0)
