"""Training hooks, for every registered framework: each epoch of a training loop reaches the job's monitor.

A PyTorch loop feeds ``brevetti_torch.hooks.EpochMetrics``; Keras' ``model.fit`` calls
``brevetti_tf.hooks.RemoteMonitorCallback``. One driver per framework runs a few epochs through its hook
(each imports only its own framework); what only one hook does is tested in tests/torch/test_hooks_torch.py
and tests/tf/test_hooks_tf.py.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from recording_monitor import RecordingMonitor

from brevetti_core.adapters import Adapter, get_adapter, registered_adapters
from brevetti_core.job import Job


def torch_loop(monitor, epochs: int) -> list[dict]:
    """A loop feeding EpochMetrics two steps of loss and accuracy tensors per epoch; returns the means it fed."""
    import torch

    from brevetti_torch.hooks import EpochMetrics

    metrics, fed = EpochMetrics(monitor), []
    for epoch in range(epochs):
        loss, accuracy = 2.0 ** -epoch, 1 - 2.0 ** -(epoch + 1)  # exact in float32, so the means are too
        for _ in range(2):
            weights = torch.ones(2, requires_grad=True)
            metrics.update(5, loss=weights.mean() * loss, accuracy=torch.tensor(accuracy))
        metrics.end_epoch(epoch)
        fed.append({"loss": loss, "accuracy": accuracy})
    return fed


def keras_fit(monitor, epochs: int) -> list[dict]:
    """model.fit of a tiny classifier with validation data and RemoteMonitorCallback; returns Keras' History."""
    import keras

    from brevetti_tf.hooks import RemoteMonitorCallback

    rng = np.random.default_rng(0)
    images, labels = rng.normal(size=(16, 4)).astype("float32"), np.eye(2, dtype="float32")[rng.integers(0, 2, 16)]
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss=keras.losses.CategoricalCrossentropy(from_logits=True),
                  metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    history = model.fit(images, labels, epochs=epochs, batch_size=8, verbose=0, validation_data=(images, labels),
                        callbacks=[RemoteMonitorCallback(monitor)])
    return [{name: values[epoch] for name, values in history.history.items()} for epoch in range(epochs)]


@dataclass(frozen=True)
class TrainingLoop:
    """A framework's training loop through its hook: `run(monitor, epochs)` returns the loop's logs per epoch."""

    run: Callable[[object, int], list[dict]]
    metrics: frozenset[str]  # logged every epoch


LOOPS = {"torch": TrainingLoop(torch_loop, frozenset({"loss", "accuracy"})),
         "tf": TrainingLoop(keras_fit, frozenset({"loss", "accuracy", "val_loss", "val_accuracy"}))}


@pytest.fixture(params=[name for name in registered_adapters() if name != "numpy"])
def adapter(request) -> Adapter:
    """Each registered framework adapter."""
    return get_adapter(request.param)


@pytest.fixture
def loop(adapter) -> TrainingLoop:
    assert adapter.name in LOOPS, f"adapter {adapter.name!r} has no training loop here: add one to LOOPS"
    return LOOPS[adapter.name]


def test_a_training_hook_writes_one_progress_line_per_epoch_to_the_job(loop, data_root):
    job = Job.init(argv=[])
    job.start(complete=False)
    logged = loop.run(job.get_remote_monitor(), 3)
    progress = data_root / job.id / "artifacts" / "progress.jsonl"
    lines = [json.loads(line) for line in progress.read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [0, 1, 2]
    assert all(loop.metrics <= set(line) for line in lines)
    assert [{name: line[name] for name in logs} for line, logs in zip(lines, logged)] == logged


def test_logged_values_reach_the_monitor_as_plain_floats(loop):
    monitor = RecordingMonitor()
    loop.run(monitor, 1)
    [(epoch, logs)] = monitor.calls
    assert epoch == 0 and set(logs) >= loop.metrics
    assert all(type(value) is float for value in logs.values())
