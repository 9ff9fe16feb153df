"""Job hooks: registered callables see every job's start and end; a failing hook never fails the job."""
import json
import logging
import os

import pytest

from brevetti_core import job_hooks
from brevetti_core.job import Job


class FailingJob(Job):
    def run(self):
        raise ValueError("diverged")


class InterruptedJob(Job):
    def run(self):
        raise KeyboardInterrupt


@pytest.fixture(autouse=True)
def own_registry(monkeypatch):
    """Each test registers into a copy of the process-wide registry (the report hook included)."""
    monkeypatch.setattr(job_hooks, "_hooks", dict(job_hooks._hooks))
    monkeypatch.delenv("BREVETTI_CACHE", raising=False)


def artifact(job, name):
    return os.path.join(job.job_dir, "artifacts", name)


def status_of(job):
    with open(artifact(job, "status.json")) as f:
        return json.load(f)["status"]


def recorder(seen):
    """A hook noting each event with the job's status.json as the hook found it."""
    def record(job, event):
        seen.append((event, status_of(job)))
    return record


def test_the_report_is_registered_by_default():
    assert "report" in job_hooks.registered()


def test_a_hook_sees_start_then_completion(data_root):
    seen = []
    job_hooks.register(recorder(seen), name="recorder")
    Job.init(argv=[]).start()
    assert seen == [("started", "running"), ("completed", "completed")]


def test_a_hook_sees_failure_after_the_status_is_written(data_root):
    seen = []
    job_hooks.register(recorder(seen), name="recorder")
    with pytest.raises(ValueError, match="diverged"):
        FailingJob.init(argv=[]).start()
    assert seen == [("started", "running"), ("failed", "failed")]


def test_a_hook_sees_an_interrupted_job(data_root):
    seen = []
    job_hooks.register(recorder(seen), name="recorder")
    with pytest.raises(KeyboardInterrupt):
        InterruptedJob.init(argv=[]).start()
    assert seen == [("started", "running"), ("interrupted", "interrupted")]


def test_hooks_run_in_registration_order(data_root):
    order = []
    job_hooks.register(lambda job, event: order.append(("first", event)), name="first")
    job_hooks.register(lambda job, event: order.append(("second", event)), name="second")
    Job.init(argv=[]).start()
    assert order == [("first", "started"), ("second", "started"), ("first", "completed"), ("second", "completed")]


def test_registering_a_name_again_replaces_the_hook_in_its_place(data_root):
    order, before = [], job_hooks.registered()
    job_hooks.register(lambda job, event: order.append("old"), name="a")
    job_hooks.register(lambda job, event: order.append("b"), name="b")
    job_hooks.register(lambda job, event: order.append("new"), name="a")
    assert job_hooks.registered() == [*before, "a", "b"]
    Job.init(argv=[]).start(complete=False)
    assert order == ["new", "b"]


def test_a_failing_hook_does_not_hide_the_jobs_error(data_root, caplog):
    def broken(job, event):
        raise RuntimeError("hook broke")

    job_hooks.register(broken, name="broken")
    job = FailingJob.init(argv=[])
    with caplog.at_level(logging.ERROR, logger="brevetti_core.job_hooks"), pytest.raises(ValueError, match="diverged"):
        job.start()
    assert status_of(job) == "failed"
    assert "Job hook 'broken' failed on failed" in caplog.text and "hook broke" in caplog.text


def test_a_failing_hook_keeps_the_output_and_the_hooks_after_it(data_root, caplog):
    seen = []

    def broken(job, event):
        raise RuntimeError("hook broke")

    job_hooks.register(broken, name="broken")
    job_hooks.register(recorder(seen), name="recorder")
    job = Job.init(argv=[])
    with caplog.at_level(logging.ERROR, logger="brevetti_core.job_hooks"):
        job.start()
    assert status_of(job) == "completed"
    assert os.path.exists(artifact(job, "output.json")) and os.path.exists(artifact(job, "report.html"))
    assert seen == [("started", "running"), ("completed", "completed")]
    assert "Job hook 'broken' failed on completed" in caplog.text


def test_a_hook_given_as_a_reference_is_imported_when_a_job_starts(data_root, tmp_path, monkeypatch):
    (tmp_path / "probe_hooks.py").write_text(
        "events = []\n"
        "def record(job, event):\n"
        "    events.append(event)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    job_hooks.register("probe_hooks:record")
    assert job_hooks.registered()[-1] == "probe_hooks:record"
    Job.init(argv=[]).start()
    import probe_hooks
    assert probe_hooks.events == ["started", "completed"]


def test_an_unimportable_reference_is_logged_with_its_name(data_root, caplog):
    job_hooks.register("no_such_module_here:hook", name="missing")
    job = Job.init(argv=[])
    with caplog.at_level(logging.ERROR, logger="brevetti_core.job_hooks"):
        job.start()
    assert status_of(job) == "completed"
    assert "Job hook 'missing' failed" in caplog.text and "no_such_module_here" in caplog.text


def test_a_reference_must_name_a_module_and_a_function():
    with pytest.raises(ValueError, match="'package.module:function'"):
        job_hooks.register("brevetti_core.report")


def test_unregistering_the_report_hook_leaves_no_report(data_root):
    job_hooks.unregister("report")
    job = Job.init(argv=[])
    job.start()
    assert status_of(job) == "completed" and not os.path.exists(artifact(job, "report.html"))


def test_unregistering_an_unknown_name_lists_the_registered_ones():
    with pytest.raises(KeyError, match="no job hook named 'nope'; registered: .*report"):
        job_hooks.unregister("nope")
