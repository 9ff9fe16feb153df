"""Shared fixtures: a real S3 endpoint (moto server on 127.0.0.1), isolated data roots, quiet TF."""
from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import pytest

# torch's compiler stack (triton) crashes when loaded after TensorFlow: load it first.
with contextlib.suppress(ImportError):
    import torch._dynamo  # noqa: F401


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    """A moto S3 server on 127.0.0.1 for the whole session; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_env(s3_server, monkeypatch):
    """Point brevetti (and boto3) at the moto server with dummy credentials."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("BREVETTI_S3_ENDPOINT", s3_server)
    return s3_server


@pytest.fixture
def s3_client(s3_env):
    """A plain boto3 client on the moto server: a second, independent view of the bucket."""
    import boto3

    return boto3.client("s3", endpoint_url=s3_env, region_name="us-east-1")


@pytest.fixture
def s3_bucket(s3_client):
    """A fresh, empty bucket; yields its s3:// URI."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return f"s3://{name}"


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    """A local data root (BREVETTI_DATA_BUCKET) private to the test."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("BREVETTI_DATA_BUCKET", str(root))
    return root


@pytest.fixture(scope="session")
def small_vials_root(tmp_path_factory):
    """20 RGB vial images of 32x32 (3 classes + one unknown), generated once per session for the adapter tests."""
    from brevetti_demo.vials import generate_vials

    return generate_vials(tmp_path_factory.mktemp("adapters") / "vials", items_per_class=3, shots_per_item=2,
                          duplicates=1, size=32, annotations=False)


@pytest.fixture(scope="session")
def small_vials_samples(small_vials_root):
    from brevetti_core.dataset import Dataset

    return Dataset(bucket=str(small_vials_root)).get_image_samples()


@pytest.fixture
def platform():
    """A local HTTP server standing in for the platform; yields (base URL, received [(path, body)] of POSTs)."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            received.append((self.path, body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()
    server.server_close()
