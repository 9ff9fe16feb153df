"""Progress monitor, completion notice and api-key masking, against a real local HTTP server."""
import json
import logging
import os
import socket
import urllib.parse

import pytest

from brevetti_core.job import Job

API_KEY = "sk-live-7f3a9c2e51"


@pytest.fixture
def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def progress_lines(job):
    with open(os.path.join(job.job_dir, "artifacts", "progress.jsonl")) as f:
        return [json.loads(line) for line in f]


def test_monitor_appends_one_line_per_epoch_to_progress(data_root):
    job = Job.init(argv=[])
    job.start(complete=False)
    monitor = job.get_remote_monitor()
    monitor.on_epoch_end(11, {"loss": 0.9, "accuracy": 0.5})
    job.get_remote_monitor().on_epoch_end(12, {"loss": 0.7, "accuracy": 0.8})
    lines = progress_lines(job)
    assert [{k: v for k, v in line.items() if k != "time"} for line in lines] == [
        {"epoch": 11, "loss": 0.9, "accuracy": 0.5}, {"epoch": 12, "loss": 0.7, "accuracy": 0.8}]
    assert all(line["time"].endswith("+00:00") for line in lines)


def test_monitor_without_remote_url_posts_nothing(data_root, platform):
    job = Job.init(job_config={"host_name": platform[0]}, argv=[])
    job.start(complete=False)
    monitor = job.get_remote_monitor()
    monitor.on_epoch_end(0, {"loss": 1.0})
    assert monitor.url is None and platform[1] == []


def test_monitor_posts_each_epoch_to_host_plus_remote_url(data_root, platform):
    url, received = platform
    job = Job.init(job_config={"host_name": url, "remote_url": "/api/models/1/progress"}, argv=[])
    job.start(complete=False)
    job.get_remote_monitor().on_epoch_end(3, {"loss": 0.25})
    [(path, body)] = received
    assert path == "/api/models/1/progress"
    record = json.loads(urllib.parse.parse_qs(body)["data"][0])
    assert (record["epoch"], record["loss"]) == (3, 0.25)


def test_unreachable_monitor_is_logged_once_and_never_raised(data_root, closed_port, caplog):
    job = Job.init(job_config={"remote_url": f"http://127.0.0.1:{closed_port}/progress"}, argv=[])
    job.start(complete=False)
    monitor = job.get_remote_monitor()
    with caplog.at_level(logging.DEBUG, logger="brevetti_core.monitor"):
        for epoch in range(3):
            monitor.on_epoch_end(epoch, {"loss": 1.0})
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "could not reach the remote monitor" in warnings[0].getMessage()
    assert len(progress_lines(job)) == 3


def test_completion_posts_the_model_path_to_complete_url(data_root, platform):
    url, received = platform
    job = Job.init(job_config={"host_name": url, "complete_url": "/api/models/1/complete?path="}, argv=[])
    job.start(complete=False)
    package = job.artifact_path("model v1.tar.gz")
    job.io.write_file(package, b"model")
    job.complete_job(package)
    assert [path for path, _ in received] == ["/api/models/1/complete?path=artifacts/model%20v1.tar.gz"]


def test_failed_completion_notice_is_logged_not_raised(data_root, closed_port, caplog):
    job = Job.init(job_config={"complete_url": f"http://127.0.0.1:{closed_port}/complete"}, argv=[])
    with caplog.at_level(logging.WARNING):
        job.start()
    assert any("could not notify completion" in r.getMessage() for r in caplog.records)
    with open(os.path.join(job.job_dir, "artifacts", "status.json")) as f:
        assert json.load(f)["status"] == "completed"


def test_api_key_appears_in_no_written_file_log_or_repr(data_root, closed_port, caplog):
    class Leaky(Job):
        def run(self):
            self.add_output_metric(f"metric {API_KEY}", API_KEY)
            self.get_remote_monitor().on_epoch_end(1, {"note": f"key={API_KEY}"})
            raise RuntimeError(f"auth failed for {API_KEY}")

    # URLs carrying the key, as platform URLs do.
    config = {"remote_url": f"http://127.0.0.1:{closed_port}/progress?key={API_KEY}",
              "complete_url": f"http://127.0.0.1:{closed_port}/complete?key={API_KEY}"}
    with caplog.at_level(logging.DEBUG):
        job = Leaky.init(job_config=config, argv=["--api_key", API_KEY])
        assert job.api_key.get_secret_value() == API_KEY
        with pytest.raises(RuntimeError):
            job.start()
    written = [os.path.join(folder, name) for folder, _, names in os.walk(data_root) for name in names]
    assert {os.path.basename(p) for p in written} >= {"output.json", "status.json", "progress.jsonl"}
    for path in written:
        with open(path, "rb") as f:
            assert API_KEY.encode() not in f.read(), path
    assert caplog.records and not [r for r in caplog.records if API_KEY in r.getMessage()]
    assert API_KEY not in repr(job) and API_KEY not in str(job)
    with open(os.path.join(job.job_dir, "artifacts", "status.json")) as f:
        assert json.load(f)["error"] == "RuntimeError: auth failed for ***"
