"""The requests the moto S3 server of tests/conftest.py answered, read from its own request log.

The server runs in the test process (a thread), so it records the requests of every client:
this process, its threads and its DataLoader worker processes alike.
"""
from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator

_REQUEST = re.compile(r'"(?P<method>[A-Z]+) /(?P<bucket>[^/?" ]+)(?P<rest>[^" ]*) HTTP/[0-9.]+"')


class RequestLog(logging.Handler):
    """(method, "/bucket/key?query") of each request the server answered for `bucket`."""

    def __init__(self, bucket: str):
        super().__init__(logging.INFO)
        self.bucket = bucket
        self.requests: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        match = _REQUEST.search(record.getMessage())
        if match and match["bucket"] == self.bucket:
            self.requests.append((match["method"], f"/{match['bucket']}{match['rest']}"))

    def of_objects(self) -> list[tuple[str, str]]:
        """The requests for objects (a key after the bucket), not for the bucket itself (listings, checks)."""
        return [(method, path) for method, path in self.requests if path.split("?")[0].count("/") >= 2]


@contextlib.contextmanager
def s3_requests(bucket_uri: str) -> Iterator[RequestLog]:
    """The requests answered for the bucket of `bucket_uri` while the block runs."""
    logger = logging.getLogger("werkzeug")  # the moto server's request log
    handler = RequestLog(bucket_uri.removeprefix("s3://"))
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
