"""A batch's remote sample files, fetched at once: concurrently (bounded), one GET each, or from the cache with none.

Before the executor runs the action chain on a batch, ``batch_reads`` starts reading every remote
file the batch's actions will open (an action says which column holds its file with ``path_key``,
or ``input_key`` for annotations, and reads it through its ``io``). Up to ``MAX_CONCURRENT_READS``
files per process are in flight; the actions' own ``io.read_file(path)`` then takes each file's
bytes as it arrives (``io_tools.staged_reads``), so decoding the first image overlaps the fetch
of the rest. A file whose row has its content etag (``<key minus "path">etag``: ``etag`` for
``path``, ``annotation_etag`` for ``annotation_path``) is served from the ``ContentCache`` when a
cache root is set, with no request at all, and added to it otherwise.

A failed read is not staged: the action then reads the file itself and reports the failure as
usual (naming the file). Only a full cache disk stops the batch (``CacheFullError``).
"""
from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from .content_cache import ContentCache, cache_key
from .io_tools import IoTools, is_remote, sample_cache_root, staged_reads

MAX_CONCURRENT_READS = 16
"""Remote files in flight per process: a few batches of latency hidden without flooding the endpoint."""

_pools: dict[int, ThreadPoolExecutor] = {}  # by process id
_caches: dict[tuple[int, str], ContentCache] = {}
_lock = threading.Lock()


def _reads_pool() -> ThreadPoolExecutor:
    """This process's pool of reading threads (a forked child makes its own: threads do not survive a fork)."""
    with _lock:
        if os.getpid() not in _pools:
            _pools.clear()  # a parent's pool: its threads are not in this process
            _pools[os.getpid()] = ThreadPoolExecutor(MAX_CONCURRENT_READS, thread_name_prefix="brevetti-read")
        return _pools[os.getpid()]


def content_cache(root: str) -> ContentCache:
    """This process's ContentCache for `root` (one per process, so its progress counts are the process's)."""
    with _lock:
        return _caches.setdefault((os.getpid(), root), ContentCache(root))


class FileColumn:
    """One column of files an action reads (`key`), the `io` it reads them through and the cache it uses.

    The cache root is the io's own, else the one ``set_cache_root`` set last in this process (as
    ``job.io.set_cache_root(...)`` does); a copy sent to a worker process carries the root in use.
    """

    def __init__(self, key: str, io: IoTools, cache_root: str | None = None, pinned: bool = False):
        self.key, self.io = key, io
        self.etag_key = key[:-len("path")] + "etag" if key.endswith("path") else None
        self._cache_root, self._pinned = cache_root, pinned

    @property
    def cache_root(self) -> str | None:
        if self._pinned:
            return self._cache_root
        return self.io.cache_root or sample_cache_root()

    def __getstate__(self) -> dict:
        return {"key": self.key, "io": self.io, "cache_root": self.cache_root}

    def __setstate__(self, state: dict) -> None:
        FileColumn.__init__(self, state["key"], state["io"], state["cache_root"], pinned=True)

    def read(self, path: str, etag: object) -> bytes:
        """The bytes of `path`: from the cache by `etag` when it is there, else with one request (then cached)."""
        root, key = self.cache_root, cache_key(etag)
        cache = content_cache(root) if root is not None and key is not None else None
        if cache is not None and key is not None:
            data = cache.get(key)
            if data is not None:
                return data
        data = self.io.read_file(path, cache=False)
        if cache is not None and key is not None:
            cache.put(key, data, path)
        return data


def file_columns(actions: Sequence[Any]) -> tuple[FileColumn, ...]:
    """The file columns the actions read: ``path_key`` (images) and ``input_key`` (annotations), with their io."""
    columns: list[FileColumn] = []
    for action in actions:
        for part in (action, getattr(action, "segmentation", None)):
            io = getattr(part, "io", None)
            if not isinstance(io, IoTools):
                continue
            for attribute in ("path_key", "input_key"):
                key = getattr(part, attribute, None)
                if isinstance(key, str) and key.endswith("path") and all(c.key != key for c in columns):
                    columns.append(FileColumn(key, io))
    return tuple(columns)


@contextlib.contextmanager
def batch_reads(columns: Sequence[FileColumn], rows: Sequence[Mapping[Any, Any]]) -> Iterator[None]:
    """Within the block, the remote files of `rows` in `columns` are read ahead for the actions' ``read_file``."""
    reads: dict[str, Future[bytes]] = {}
    if columns:
        pool = _reads_pool()
        for column in columns:
            for row in rows:
                path = row.get(column.key)
                if isinstance(path, str) and path not in reads and is_remote(path):
                    etag = row.get(column.etag_key) if column.etag_key else None
                    reads[path] = pool.submit(column.read, path, etag)
    if not reads:
        yield
        return
    with staged_reads(reads):
        yield
