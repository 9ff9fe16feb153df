"""Remote sample files kept on local disk by their content etag: a warm read is a local read, never a request.

A sample table's ``etag`` is the MD5 of the file's content (``samples.py``), so a file cached
under its etag can never be stale: a changed object has a new etag and is simply another entry.
Nothing is revalidated, and the cache is shared safely by every process and job using the folder
(each entry is written to a temporary name and renamed into place). A download whose MD5 is not
the listed etag (the object changed after listing) is used but not cached.

A full disk is an error that names the cache folder (``CacheFullError``), not a silent slowdown.
"""
from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import shutil
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

PROGRESS_SECONDS = 60.0
"""How often each process logs how many sample files it has read from and added to the cache."""

_ETAG = re.compile(r"^[0-9a-f]{32}$")
_FULL = (errno.ENOSPC, errno.EDQUOT)


class CacheFullError(OSError):
    """The sample cache's disk is full: names the folder and what to do."""


def cache_key(etag: object) -> str | None:
    """The cache key of a sample's etag (a 32-hex content MD5, lower case), or None when it has none usable."""
    if not isinstance(etag, str):
        return None
    key = etag.strip('"').lower()
    return key if _ETAG.match(key) else None


class ContentCache:
    """Files by content MD5 under `root` (``<root>/samples/<2 hex>/<32 hex>``), with a progress log per process."""

    def __init__(self, root: str | os.PathLike):
        self.root = os.path.join(os.path.abspath(root), "samples")
        self.hits = self.stored = self.stored_bytes = 0
        self._lock = threading.Lock()
        self._last_log = time.monotonic()

    def path(self, key: str) -> str:
        """Where the file with content MD5 `key` is kept."""
        return os.path.join(self.root, key[:2], key)

    def get(self, key: str) -> bytes | None:
        """The cached bytes of content `key`, or None when they are not cached."""
        try:
            data = Path(self.path(key)).read_bytes()
        except FileNotFoundError:
            return None
        self._count(hits=1)
        return data

    def put(self, key: str, data: bytes, source: str) -> bool:
        """Keep `data` (read from `source`) under `key` when its MD5 is `key`; whether it was kept.

        Raises CacheFullError when the disk holding the cache is full.
        """
        if hashlib.md5(data).hexdigest() != key:
            log.warning("%s no longer has the content listed in the sample table (etag %s): used, not cached; "
                        "list the dataset again to pick up the change", source, key)
            return False
        target = self.path(key)
        partial = f"{target}.{os.getpid()}.{threading.get_ident()}.part"
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(partial, "wb") as f:
                f.write(data)
            os.replace(partial, target)
        except OSError as error:
            Path(partial).unlink(missing_ok=True)
            if error.errno in _FULL:
                raise self.full_error(source, error) from error
            raise
        self._count(stored=1, stored_bytes=len(data))
        return True

    def full_error(self, source: str, error: OSError) -> CacheFullError:
        """The error for a cache whose disk filled up while caching `source`."""
        free = shutil.disk_usage(self.root).free if os.path.isdir(self.root) else 0
        return CacheFullError(error.errno, (
            f"the sample cache folder {self.root} is full ({error.strerror}; {free / 2**20:,.0f} MiB free) while "
            f"caching {source}: free space there, point set_cache_root(...) at a larger disk, or turn the cache off "
            f"with set_cache_root(None)"))

    def _count(self, hits: int = 0, stored: int = 0, stored_bytes: int = 0) -> None:
        with self._lock:
            self.hits += hits
            self.stored += stored
            self.stored_bytes += stored_bytes
            now = time.monotonic()
            if now - self._last_log < PROGRESS_SECONDS:
                return
            self._last_log = now
            counts = (self.hits, self.stored, self.stored_bytes / 2**20)
        log.info("sample cache %s: %d files read from the cache, %d added (%.1f MiB) by process %d so far",
                 self.root, *counts, os.getpid())
