"""The job hooks' epoch event that tracking rides on: each epoch the remote monitor records, for hooks that ask."""
import pytest

from brevetti_core import Job, job_hooks


class TwoEpochJob(Job):
    def run(self):
        monitor = self.get_remote_monitor()
        monitor.on_epoch_end(0, {"loss": 1.0, "val_loss": 2.0})
        monitor.on_epoch_end(1, {"loss": 0.5, "val_loss": 1.5})


@pytest.fixture(autouse=True)
def own_registry(monkeypatch, data_root):
    monkeypatch.setattr(job_hooks, "_hooks", dict(job_hooks._hooks))
    monkeypatch.setenv("BREVETTI_TENSORBOARD", "0")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def test_a_hook_registered_for_epochs_sees_each_epoch_between_start_and_end():
    seen = []
    job_hooks.register(lambda job, event, **details: seen.append((event, details)), name="probe",
                       events=job_hooks.EVENTS)
    TwoEpochJob.init(argv=[]).start()
    assert [event for event, _ in seen] == ["started", "epoch", "epoch", "completed"]
    assert [(d["epoch"], d["logs"]) for e, d in seen if e == "epoch"] == [(0, {"loss": 1.0, "val_loss": 2.0}),
                                                                          (1, {"loss": 0.5, "val_loss": 1.5})]


def test_a_hook_registered_without_events_sees_the_start_and_end_only():
    seen = []
    job_hooks.register(lambda job, event: seen.append(event), name="probe")
    TwoEpochJob.init(argv=[]).start()
    assert seen == ["started", "completed"]


def test_a_monitor_without_a_job_fires_nothing(tmp_path):
    from brevetti_core.monitor import RemoteMonitor

    seen = []
    job_hooks.register(lambda job, event, **details: seen.append(event), name="probe", events=job_hooks.EVENTS)
    RemoteMonitor(str(tmp_path / "progress.jsonl")).on_epoch_end(0, {"loss": 1.0})
    assert seen == [] and (tmp_path / "progress.jsonl").exists()


def test_an_unknown_event_is_refused_when_registering():
    with pytest.raises(ValueError, match="unknown events \\['batch'\\]"):
        job_hooks.register(lambda job, event: None, name="probe", events=("started", "batch"))


def test_tracking_is_registered_for_every_event():
    assert "tracking" in job_hooks.registered()
    assert job_hooks._hooks["tracking"] == ("brevetti_core.tracking:tracking_hook", frozenset(job_hooks.EVENTS))
