"""Object storage that cannot be used is one clear error: a missing bucket, refused credentials, no endpoint.

Against real S3 endpoints: the session's moto server, a second moto server that checks credentials, a
moto server stopped mid-job, and a closed port on 127.0.0.1.
"""
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest
from moto.server import ThreadedMotoServer

from brevetti_core import jobstore
from brevetti_core.io_tools import IoTools
from brevetti_core.job import Job
from brevetti_core.storage_errors import StorageError


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def brevetti(*args):
    return subprocess.run([sys.executable, "-m", "brevetti_core", *args], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=180)


def assert_one_clear_line(done, *phrases):
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"brevetti {done.args[3]}: error: "), done.stderr
    for phrase in phrases:
        assert phrase in last, last


@pytest.fixture
def few_attempts(monkeypatch):
    monkeypatch.setenv("BREVETTI_S3_ATTEMPTS", "2")


@pytest.fixture
def unreachable(s3_env, few_attempts, monkeypatch):
    """BREVETTI_S3_ENDPOINT on a closed port of 127.0.0.1; yields the endpoint."""
    endpoint = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("BREVETTI_S3_ENDPOINT", endpoint)
    return endpoint


@pytest.fixture(scope="module")
def checking_server():
    """A moto server that checks credentials (no access key is known to it), in its own process."""
    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"}
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=5)
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, "the checking moto server did not start"
            time.sleep(0.2)
    yield endpoint
    process.terminate()
    process.wait(timeout=60)


@pytest.fixture
def refused(s3_env, checking_server, monkeypatch):
    monkeypatch.setenv("BREVETTI_S3_ENDPOINT", checking_server)
    return checking_server


def test_a_missing_bucket_is_a_storage_error_naming_bucket_and_endpoint(s3_env):
    with pytest.raises(StorageError, match=rf"S3 bucket 'no-such-bucket' does not exist on {s3_env} "
                                           r"\(for s3://no-such-bucket/job/info.json\): create it"):
        IoTools().read_file("s3://no-such-bucket/job/info.json")


def test_a_missing_bucket_is_not_mistaken_for_a_missing_file(s3_env):
    with pytest.raises(StorageError, match="does not exist"):
        IoTools().exists("s3://no-such-bucket/job/info.json")


def test_a_missing_key_in_an_existing_bucket_is_still_a_missing_file(s3_bucket):
    io = IoTools()
    assert not io.exists(f"{s3_bucket}/nothing.json")
    with pytest.raises(FileNotFoundError, match=f"no such file: {s3_bucket}/nothing.json"):
        io.read_file(f"{s3_bucket}/nothing.json")


def test_job_list_on_a_missing_bucket_exits_2_with_one_line(s3_env, monkeypatch):
    monkeypatch.setenv("BREVETTI_DATA_BUCKET", "s3://no-such-bucket")
    assert_one_clear_line(brevetti("job", "list"), "S3 bucket 'no-such-bucket' does not exist", s3_env)


def test_a_new_job_on_a_missing_bucket_fails_at_init(s3_env, monkeypatch):
    monkeypatch.setenv("BREVETTI_DATA_BUCKET", "s3://no-such-bucket")
    with pytest.raises(StorageError, match="S3 bucket 'no-such-bucket' does not exist"):
        Job.init(argv=[])


def test_refused_credentials_are_a_storage_error_with_the_fix(refused):
    with pytest.raises(StorageError, match=rf"{refused} refused the credentials for S3 bucket 'jobs' "
                                           r"\(InvalidAccessKeyId: .*\): check AWS_ACCESS_KEY_ID"):
        IoTools().read_file("s3://jobs/x/info.json")


@pytest.mark.parametrize("command", [["job", "list"], ["job", "show", "some-job"], ["report", "s3://jobs/some-job"]],
                         ids=["list", "show", "report"])
def test_commands_with_refused_credentials_exit_2_with_one_line(refused, monkeypatch, command):
    monkeypatch.setenv("BREVETTI_DATA_BUCKET", "s3://jobs")
    assert_one_clear_line(brevetti(*command), "refused the credentials for S3 bucket 'jobs'", "AWS_ACCESS_KEY_ID")


def test_an_unreachable_endpoint_is_a_storage_error_after_logged_retries(unreachable, caplog):
    with caplog.at_level(logging.WARNING, logger="brevetti_core.storage_errors"), \
            pytest.raises(StorageError, match=rf"cannot reach the S3 endpoint {unreachable} for s3://jobs/x .*"
                                              r"after 2 attempts\): check BREVETTI_S3_ENDPOINT"):
        IoTools().write_file("s3://jobs/x", b"data")
    retries = [r.getMessage().rsplit("; ", 1)[-1] for r in caplog.records if r.name == "brevetti_core.storage_errors"]
    assert retries == ["retrying with backoff (attempt 2 of 2)"]


def test_job_show_with_an_unreachable_endpoint_exits_2_with_one_line(unreachable, monkeypatch):
    monkeypatch.setenv("BREVETTI_DATA_BUCKET", "s3://jobs")
    assert_one_clear_line(brevetti("job", "show", "some-job"), f"cannot reach the S3 endpoint {unreachable}")


def test_a_job_whose_storage_dies_fails_with_a_storage_error_and_then_reads_as_lost(s3_env, s3_client, few_attempts,
                                                                                    monkeypatch, caplog):
    monkeypatch.setenv("BREVETTI_HEARTBEAT_SECONDS", "0.2")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()

    class Epochs(Job):
        def run(self):
            monitor = self.get_remote_monitor()
            for epoch in range(1000):
                monitor.on_epoch_end(epoch, {"loss": 1.0})
                if epoch == 1:
                    server.stop()  # the storage dies mid-job

    bucket = f"dying-{uuid.uuid4().hex[:8]}"
    s3_client.create_bucket(Bucket=bucket)  # moto keeps buckets per process: every server here sees it
    monkeypatch.setenv("BREVETTI_S3_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("BREVETTI_DATA_BUCKET", f"s3://{bucket}")
    job = Epochs.init(argv=[])
    with pytest.raises(StorageError, match=f"cannot reach the S3 endpoint http://127.0.0.1:{port}"):
        job.start()
    assert any("could not record its failed status" in r.getMessage() for r in caplog.records)

    # The same storage back on another port (moto keeps its buckets in this process): status.json still says
    # running, since nobody could write more, and readers see that its heartbeat stopped.
    revived_port = free_port()
    revived = ThreadedMotoServer(ip_address="127.0.0.1", port=revived_port, verbose=False)
    revived.start()
    try:
        monkeypatch.setenv("BREVETTI_S3_ENDPOINT", f"http://127.0.0.1:{revived_port}")
        time.sleep(0.7)
        status = jobstore.read_status(job.job_dir, IoTools())
        assert status["status"] == "lost" and status["lost"].startswith("no heartbeat from")
    finally:
        revived.stop()


def test_credentials_in_a_dataset_uri_never_reach_the_error(s3_env):
    with pytest.raises(StorageError) as raised:
        IoTools().find("s3://alice:pw55@bucket/data?signature=SIG77")
    message = str(raised.value)
    assert "pw55" not in message and "SIG77" not in message and "\n" not in message
    assert "alice:***@" in message
