"""A latency-injecting, request-counting HTTP proxy in front of an S3 server, for benchmarks (127.0.0.1 only).

``LatencyProxy(upstream, latency_s)`` listens on 127.0.0.1 and forwards every request, headers and
body unchanged (S3 signatures stay valid), to `upstream`, itself on 127.0.0.1, after sleeping
`latency_s`: each request then costs one round trip of that latency, as it does against a distant
endpoint. It counts the requests by method. It is bounded: at most `max_connections` connections
are served at once (the others wait in the listen queue), a request body over 64 MiB is refused,
and it stops itself after `max_seconds` even if nobody stops it (a benchmark that dies leaves no
server behind). Use it as a context manager:

    with LatencyProxy("http://127.0.0.1:5000", latency_s=0.02) as proxy:
        os.environ["BREVETTI_S3_ENDPOINT"] = proxy.url
        ...
        print(proxy.counts())
"""
from __future__ import annotations

import http.client
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

LOOPBACK = "127.0.0.1"
MAX_BODY = 64 * 2**20
HOP_HEADERS = frozenset(("connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"))


class LatencyProxy:
    """Forwards 127.0.0.1 HTTP requests to `upstream` after `latency_s`, counting them; stops after `max_seconds`."""

    def __init__(self, upstream: str, latency_s: float = 0.0, max_connections: int = 64, max_seconds: float = 1800.0):
        parts = urlsplit(upstream)
        if parts.hostname != LOOPBACK or parts.scheme != "http" or parts.port is None:
            raise ValueError(f"upstream must be http://127.0.0.1:<port> (a local test server), got {upstream!r}")
        self.upstream_port = parts.port
        self.latency_s = latency_s
        self.slots = threading.BoundedSemaphore(max_connections)
        self.max_seconds = max_seconds
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((LOOPBACK, 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="latency-proxy", daemon=True)
        self._timer = threading.Timer(max_seconds, self.stop)
        self._timer.daemon = True

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    def start(self) -> LatencyProxy:
        self._thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        """Stop serving (idempotent); open connections end with their current request."""
        self._timer.cancel()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LatencyProxy:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def count(self, method: str) -> None:
        with self._lock:
            self._counts[method] += 1

    def counts(self) -> Counter[str]:
        """Requests forwarded so far, by method."""
        with self._lock:
            return Counter(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


def _handler_for(proxy: LatencyProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as S3 clients expect
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
        upstream: http.client.HTTPConnection | None = None

        def setup(self) -> None:
            proxy.slots.acquire()
            super().setup()

        def finish(self) -> None:
            try:
                super().finish()
            finally:
                if self.upstream is not None:
                    self.upstream.close()
                proxy.slots.release()

        def forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY or "chunked" in self.headers.get("Transfer-Encoding", ""):
                self.send_error(413, "the benchmark proxy forwards bodies of known size up to 64 MiB")
                return
            body = self.rfile.read(length) if length else None
            time.sleep(proxy.latency_s)
            proxy.count(self.command)
            headers = {key: value for key, value in self.headers.items() if key.lower() not in HOP_HEADERS}
            response, data = self.ask_upstream(body, headers)
            self.send_response_only(response.status, response.reason)
            for key, value in response.getheaders():
                # A HEAD answer keeps the object's length; other bodies were read whole and are sent as such.
                if key.lower() not in HOP_HEADERS and (key.lower() != "content-length" or self.command == "HEAD"):
                    self.send_header(key, value)
            if self.command != "HEAD":
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def ask_upstream(self, body: bytes | None, headers: dict[str, str]) -> tuple[http.client.HTTPResponse, bytes]:
            """The upstream's response and body, over this connection's kept-alive upstream connection."""
            try:
                return self.exchange(body, headers)
            except (http.client.RemoteDisconnected, ConnectionError):
                if self.upstream is not None:
                    self.upstream.close()
                self.upstream = None  # the server closed an idle connection: one fresh attempt
                return self.exchange(body, headers)

        def exchange(self, body: bytes | None, headers: dict[str, str]) -> tuple[http.client.HTTPResponse, bytes]:
            if self.upstream is None:
                self.upstream = http.client.HTTPConnection(LOOPBACK, proxy.upstream_port, timeout=60)
                self.upstream.connect()
                self.upstream.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.upstream.request(self.command, self.path, body=body, headers=headers)
            response = self.upstream.getresponse()
            return response, response.read()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

        def log_message(self, format: str, *args: object) -> None:  # the base class names it `format`
            pass  # counted instead

    return Handler
