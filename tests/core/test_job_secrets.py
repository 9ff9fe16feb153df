"""The api key and URL credentials are never written: not masked inside documents, left out where they are serialised.

Keys of one letter and of forty characters: a short key must not damage any record, a long one must appear nowhere.
"""
import json
import logging
import os
import socket
import subprocess
import sys

import pytest

from brevetti_core import jobstore
from brevetti_core.job import Job
from brevetti_core.redaction import redact_text, redact_url

SHORT_KEY = "a"
LONG_KEY = "Zq7XkP2mW9vL4tR8sN1bC6dF3gH5jK0yE2uA7iOw"


@pytest.fixture
def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Leaky(Job):
    """Puts its own key everywhere a careless job could: metrics, progress, its error."""

    def run(self):
        key = self.api_key.get_secret_value()
        self.add_output_metrics({"train_loss": 0.5, "status_note": f"token {key}"})
        self.get_remote_monitor().on_epoch_end(0, {"train_loss": 0.5, "note": f"key={key}"})
        raise RuntimeError(f"auth failed for {key}")


def run_leaky_job(key, port, caplog):
    config = {"name": "leaky", "host_name": f"https://user:{key}@platform.example",
              "remote_url": f"http://127.0.0.1:{port}/progress?key={key}&run=1",
              "complete_url": f"http://127.0.0.1:{port}/complete?apiKey={key}"}
    with caplog.at_level(logging.DEBUG):
        job = Leaky.init(job_config=config, argv=["--api_key", key])
        with pytest.raises(RuntimeError):
            job.start()
    return job


def files_of(job):
    return [os.path.join(folder, name) for folder, _, names in os.walk(job.job_dir) for name in names]


def read_json(job, name):
    with open(os.path.join(job.job_dir, "artifacts", name)) as f:
        return json.load(f)


@pytest.mark.parametrize("key", [SHORT_KEY, LONG_KEY], ids=["1 character", "40 characters"])
def test_status_json_is_intact_whatever_the_key(data_root, closed_port, caplog, key):
    job = run_leaky_job(key, closed_port, caplog)
    status = read_json(job, "status.json")
    assert (status["status"], status["job_id"]) == ("failed", job.id)
    assert status["error"] == "RuntimeError: auth failed for ***"


@pytest.mark.parametrize("key", [SHORT_KEY, LONG_KEY], ids=["1 character", "40 characters"])
def test_output_json_keeps_every_name_and_loses_only_credentials(data_root, closed_port, caplog, key):
    job = run_leaky_job(key, closed_port, caplog)
    output = read_json(job, "output.json")
    assert output["job"]["id"] == job.id and output["job"]["name"] == "leaky"
    assert output["output"] == {"train_loss": 0.5, "status_note": "token ***"}
    assert output["job"]["remote_url"] == f"http://127.0.0.1:{closed_port}/progress?key=***&run=1"
    assert output["job"]["complete_url"] == f"http://127.0.0.1:{closed_port}/complete?apiKey=***"
    assert output["job"]["host_name"] == "https://user:***@platform.example"
    assert output["progress"]["last_epoch"] == {"epoch": 0, "train_loss": 0.5, "note": "key=***"}
    assert "api_key" not in output["job"]


@pytest.mark.parametrize("key", [SHORT_KEY, LONG_KEY], ids=["1 character", "40 characters"])
def test_no_file_or_log_line_holds_a_credential_in_place(data_root, closed_port, caplog, key):
    job = run_leaky_job(key, closed_port, caplog)
    # Every place the job put its key, with enough context that a one-letter key is not found by chance.
    placed = [p.encode() for p in (f"?key={key}&", f"apiKey={key}", f"user:{key}@", f"auth failed for {key}",
                                   f"token {key}", f'key={key}"')]
    for path in files_of(job):
        with open(path, "rb") as f:
            content = f.read()
        assert not [p for p in placed if p in content], path
    messages = [record.getMessage() for record in caplog.records]
    assert messages and not [m for m in messages if any(p.decode() in m for p in placed)]


def test_a_long_key_appears_in_no_file_log_line_or_repr(data_root, closed_port, caplog):
    job = run_leaky_job(LONG_KEY, closed_port, caplog)
    assert {os.path.basename(p) for p in files_of(job)} >= {"output.json", "status.json", "progress.jsonl",
                                                            "report.html"}
    for path in files_of(job):
        with open(path, "rb") as f:
            assert LONG_KEY.encode() not in f.read(), path
    assert not [r for r in caplog.records if LONG_KEY in r.getMessage()]
    assert LONG_KEY not in repr(job) and LONG_KEY not in str(job)


def test_job_list_and_show_read_the_job_of_a_one_letter_key(data_root):
    job_id = jobstore.create_job("leaky")["id"]
    with pytest.raises(RuntimeError):
        Leaky.init(job_id, argv=["--api_key", SHORT_KEY]).start()
    env = os.environ.copy()
    listing = subprocess.run([sys.executable, "-m", "brevetti_core", "job", "list"], capture_output=True, text=True,
                             env=env, timeout=120)
    assert listing.stdout.split()[:2] == [job_id, "failed"], listing.stderr
    shown = subprocess.run([sys.executable, "-m", "brevetti_core", "job", "show", job_id], capture_output=True,
                           text=True, env=env, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "status: failed" in shown.stdout and "RuntimeError: auth failed for ***" in shown.stdout


@pytest.mark.parametrize("url, redacted", [
    ("https://h.example/p?key=s3cr3t&page=2", "https://h.example/p?key=***&page=2"),
    ("https://h.example/p?api_key=1&API_KEY=2", "https://h.example/p?api_key=***&API_KEY=***"),
    ("https://h.example/p?access_token=t&Signature=x", "https://h.example/p?access_token=***&Signature=***"),
    ("https://bob:hunter2@h.example/p", "https://bob:***@h.example/p"),
    ("https://bob@h.example/p", "https://bob@h.example/p"),
    ("s3://bucket/folder", "s3://bucket/folder"),
    ("https://h.example/p?monkey=banana", "https://h.example/p?monkey=banana"),
])
def test_redact_url_replaces_only_credentials(url, redacted):
    assert redact_url(url) == redacted


@pytest.mark.parametrize("text, secret, redacted", [
    ("status train_loss a", "a", "status train_loss ***"),
    ("GET /p?token=abc&x=1 failed", None, "GET /p?token=***&x=1 failed"),
    ("see https://u:pw@h.example/x", None, "see https://u:***@h.example/x"),
    ("key-abc is not key-abcd", "key-abc", "*** is not key-abcd"),
])
def test_redact_text_replaces_whole_tokens_and_url_credentials(text, secret, redacted):
    assert redact_text(text, secret) == redacted
