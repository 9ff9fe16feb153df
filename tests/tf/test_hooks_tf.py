"""RemoteMonitorCallback: Keras' epoch logs forwarded to a job's remote monitor.

That model.fit writes each epoch to the job's progress.jsonl, values as floats, is tested for every
framework in tests/parity/test_training_hooks.py.
"""
import numpy as np
import pytest
from recording_monitor import RecordingMonitor

from brevetti_tf.hooks import RemoteMonitorCallback


def test_numpy_scalars_are_converted_and_other_values_kept():
    monitor = RecordingMonitor()
    RemoteMonitorCallback(monitor).on_epoch_end(4, {"loss": np.float32(0.5), "note": "warm-up", "steps": 3})
    assert monitor.calls == [(4, {"loss": 0.5, "note": "warm-up", "steps": 3})]


def test_a_monitor_without_on_epoch_end_is_refused():
    with pytest.raises(TypeError, match=r"needs a monitor with on_epoch_end\(epoch, logs\)"):
        RemoteMonitorCallback(object())
