"""RemoteMonitorCallback: Keras' epoch logs forwarded to a job's remote monitor."""
import json

import keras
import numpy as np
import pytest

from brevetti_core.job import Job
from brevetti_tf.hooks import RemoteMonitorCallback


class Recorder:
    def __init__(self):
        self.calls = []

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append((epoch, logs))


def tiny_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss=keras.losses.CategoricalCrossentropy(from_logits=True),
                  metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    return model


def tiny_data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(16, 4)).astype("float32"), np.eye(2, dtype="float32")[rng.integers(0, 2, 16)]


def test_fit_writes_one_progress_line_per_epoch_to_the_job(data_root):
    job = Job.init(argv=[])
    job.start(complete=False)
    images, labels = tiny_data()
    tiny_model().fit(images, labels, epochs=3, batch_size=8, verbose=0,
                     validation_data=(images, labels), callbacks=[RemoteMonitorCallback(job.get_remote_monitor())])
    lines = [json.loads(line) for line in (data_root / job.id / "artifacts" / "progress.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [0, 1, 2]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(lines[0])


def test_logged_values_reach_the_monitor_as_floats():
    recorder = Recorder()
    images, labels = tiny_data()
    tiny_model().fit(images, labels, epochs=1, verbose=0, callbacks=[RemoteMonitorCallback(recorder)])
    [(epoch, logs)] = recorder.calls
    assert epoch == 0 and all(type(value) is float for value in logs.values())


def test_numpy_scalars_are_converted_and_other_values_kept():
    recorder = Recorder()
    RemoteMonitorCallback(recorder).on_epoch_end(4, {"loss": np.float32(0.5), "note": "warm-up", "steps": 3})
    assert recorder.calls == [(4, {"loss": 0.5, "note": "warm-up", "steps": 3})]


def test_a_monitor_without_on_epoch_end_is_refused():
    with pytest.raises(TypeError, match=r"needs a monitor with on_epoch_end\(epoch, logs\)"):
        RemoteMonitorCallback(object())
