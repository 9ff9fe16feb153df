"""A job's record tells the truth however its process ends: Ctrl-C, SIGTERM, SIGKILL, a crash, a stale heartbeat.

The jobs run in real subprocesses and are killed with real signals.
"""
import datetime
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

from brevetti_core import jobstore
from brevetti_core.job import Job
from brevetti_core.liveness import lost_reason
from brevetti_core.temp_folder import make_temp_folder, remove_stale_temp_folders

EPOCHS_SCRIPT = textwrap.dedent("""
    import sys, time
    from brevetti_core.job import Job

    class Epochs(Job):
        def run(self):
            print(self.id, self.temp_path("scratch.bin"), flush=True)
            monitor = self.get_remote_monitor()
            for epoch in range(10_000):
                time.sleep(0.05)
                monitor.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1)})

    Epochs.init(argv=[]).start()
""")


@pytest.fixture
def temp_root(tmp_path, monkeypatch):
    """A private system temp folder, for this process and the job processes it starts."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setenv("TMPDIR", str(root))
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


@pytest.fixture
def running_job(data_root, temp_root, tmp_path, monkeypatch):
    """Start the epochs job in a subprocess; yields (process, job folder, temp folder) once 3 epochs are recorded."""
    monkeypatch.setenv("BREVETTI_HEARTBEAT_SECONDS", "0.2")
    script = tmp_path / "epochs_job.py"
    script.write_text(EPOCHS_SCRIPT)
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=os.environ.copy())
    job_id, temp_file = process.stdout.readline().split()
    folder = data_root / job_id
    deadline = time.monotonic() + 120
    while len(progress(folder)) < 3:
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
        time.sleep(0.05)
    yield process, folder, os.path.dirname(temp_file)
    if process.poll() is None:
        process.kill()
    process.communicate()


def progress(folder):
    path = folder / "artifacts" / "progress.jsonl"
    return path.read_text().splitlines() if path.exists() else []


def read_json(path):
    return json.loads(path.read_text())


def brevetti(*args):
    return subprocess.run([sys.executable, "-m", "brevetti_core", *args], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=120)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_terminated_job_is_recorded_as_interrupted_by_its_signal(running_job, signum):
    process, folder, _ = running_job
    process.send_signal(signum)
    process.communicate(timeout=120)
    status = read_json(folder / "artifacts" / "status.json")
    assert status["status"] == "interrupted" and status["interrupted_by"] == signum.name


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_an_interrupted_job_keeps_the_epochs_it_completed_in_output_json(running_job, signum):
    process, folder, _ = running_job
    process.send_signal(signum)
    process.communicate(timeout=120)
    recorded = read_json(folder / "artifacts" / "output.json")["progress"]
    assert recorded["epochs_completed"] == len(progress(folder)) >= 3
    assert recorded["last_epoch"]["epoch"] == len(progress(folder)) - 1


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_an_interrupted_job_removes_its_temp_folder(running_job, signum):
    process, _, temp = running_job
    assert os.path.isdir(temp)
    process.send_signal(signum)
    process.communicate(timeout=120)
    assert not os.path.exists(temp)


def test_sigterm_left_uncaught_ends_the_process_with_status_1_and_says_why(running_job):
    process, _, _ = running_job
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1
    assert stderr.rstrip().endswith("JobInterrupted: received SIGTERM")


def test_a_killed_job_reads_as_lost_with_the_reason(running_job):
    process, folder, _ = running_job
    process.kill()
    process.wait()
    assert read_json(folder / "artifacts" / "status.json")["status"] == "running"  # nobody could write more
    status = jobstore.read_status(str(folder))
    assert status["status"] == "lost"
    assert status["lost"] == f"process {process.pid} on {socket.gethostname()} is gone"


def test_a_killed_job_loses_at_most_the_epoch_it_was_in(running_job):
    process, folder, _ = running_job
    process.kill()
    process.wait()
    completed = read_json(folder / "artifacts" / "output.json")["progress"]["epochs_completed"]
    assert len(progress(folder)) - 1 <= completed <= len(progress(folder))
    assert completed >= 2


def test_job_list_and_show_say_lost_for_a_killed_job(running_job):
    process, folder, _ = running_job
    process.kill()
    process.wait()
    listing = brevetti("job", "list")
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.split()[:2] == [folder.name, "lost"]
    shown = brevetti("job", "show", folder.name)
    assert f"status: lost (process {process.pid} on {socket.gethostname()} is gone)" in shown.stdout


def test_the_temp_folder_of_a_killed_job_is_removed_by_the_next_start(running_job, temp_root):
    process, _, temp = running_job
    process.kill()
    process.wait()
    assert os.path.isdir(temp)
    Job.init(argv=[]).start()
    assert not os.path.exists(temp)


def test_a_running_job_refreshes_its_heartbeat(data_root, monkeypatch):
    monkeypatch.setenv("BREVETTI_HEARTBEAT_SECONDS", "0.2")
    job = Job.init(argv=[])
    job.start(complete=False)
    status_file = data_root / job.id / "artifacts" / "status.json"
    first = read_json(status_file)
    time.sleep(1.0)
    later = read_json(status_file)
    assert later["status"] == "running" and later["heartbeat"] > first["heartbeat"]
    assert (later["host"], later["pid"], later["heartbeat_seconds"]) == (socket.gethostname(), os.getpid(), 0.2)
    job.complete_job()


def test_a_running_job_in_a_live_process_reads_as_running(data_root):
    job = Job.init(argv=[])
    job.start(complete=False)
    assert job.read_status()["status"] == "running"
    job.complete_job()


def test_no_heartbeat_overwrites_the_final_status(data_root, monkeypatch):
    monkeypatch.setenv("BREVETTI_HEARTBEAT_SECONDS", "0.05")
    job = Job.init(argv=[])
    job.start(complete=False)
    time.sleep(0.2)
    job.complete_job()
    time.sleep(0.3)
    assert job.read_status()["status"] == "completed"


def status_of_another_host(seconds_ago):
    beat = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=seconds_ago)
    return {"status": "running", "host": "another-host.example", "pid": 1, "heartbeat": beat.isoformat(),
            "heartbeat_seconds": 30}


def test_a_job_on_another_host_is_lost_after_three_missed_heartbeats():
    assert lost_reason(status_of_another_host(91)).startswith("no heartbeat from another-host.example (pid 1) for 91 s")


def test_a_job_on_another_host_with_a_recent_heartbeat_is_running():
    assert lost_reason(status_of_another_host(89)) is None


def test_only_running_jobs_can_be_lost():
    assert lost_reason({**status_of_another_host(10_000), "status": "completed"}) is None


class Failing(Job):
    def run(self):
        self.io.write_file(self.temp_path("partial.bin"), b"x")
        raise RuntimeError("diverged")


def test_a_failed_job_removes_its_temp_folder(data_root, temp_root):
    job = Failing.init(argv=[])
    with pytest.raises(RuntimeError, match="diverged"):
        job.start()
    assert os.listdir(temp_root) == []


def test_stale_temp_folders_of_dead_processes_on_this_host_are_removed(temp_root):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = socket.gethostname()
    stale = temp_root / f"brevetti-job-old-{dead.stdout.strip()}@{host}-abc123"
    other_host = temp_root / f"brevetti-job-old-{dead.stdout.strip()}@elsewhere.example-abc123"
    not_ours = temp_root / "brevetti-job-without-owner"
    for folder in (stale, other_host, not_ours):
        folder.mkdir()
    alive = make_temp_folder("current")
    assert remove_stale_temp_folders() == [str(stale)]
    assert sorted(os.listdir(temp_root)) == sorted([other_host.name, not_ours.name, os.path.basename(alive)])


def test_a_running_job_that_nobody_holds_stops_its_heartbeat(data_root, monkeypatch):
    monkeypatch.setenv("BREVETTI_HEARTBEAT_SECONDS", "0.1")
    job = Job.init(argv=[])
    job.start(complete=False)
    status_file = data_root / job.id / "artifacts" / "status.json"
    del job
    gc.collect()
    time.sleep(0.3)
    before = status_file.read_text()
    time.sleep(0.5)
    assert status_file.read_text() == before


EXIT_WITH_A_RUNNING_JOB = textwrap.dedent("""
    import atexit, os, sys, time

    def last_words():  # registered first, so it runs after brevetti's own exit handlers
        before = os.stat(STATUS).st_mtime_ns
        time.sleep(0.5)
        print("beat after exit" if os.stat(STATUS).st_mtime_ns != before else "quiet", flush=True)

    atexit.register(last_words)
    from brevetti_core.job import Job

    job = Job.init(argv=[])
    job.start(complete=False)
    STATUS = os.path.join(job.job_dir, "artifacts", "status.json")
""")


def test_heartbeats_stop_when_the_interpreter_exits(data_root, monkeypatch):
    monkeypatch.setenv("BREVETTI_HEARTBEAT_SECONDS", "0.05")
    done = subprocess.run([sys.executable, "-c", EXIT_WITH_A_RUNNING_JOB], capture_output=True, text=True,
                          timeout=120)
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "quiet", "")
