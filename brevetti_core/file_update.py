"""Read-modify-write of one file that loses no concurrent update: a file lock locally, conditional PUTs on S3.

``update_file(path, change)`` reads the file (None when it does not exist), calls ``change(old) -> new``
and stores ``new`` so that no update another process made in the meantime is overwritten:

- local files: an exclusive lock (``filelock``: ``flock`` on POSIX, ``LockFileEx`` on Windows) on a
  hidden sibling ``.<name>.lock`` is held from the read to the atomic rename of the new content, so
  concurrent updates run one after the other. The lock dies with its process; the lock file stays.
- ``s3://``: optimistic. The GET returns the content and its ETag, and the PUT is conditional on it
  (``If-Match: <etag>``, or ``If-None-Match: *`` when there was no object). When another writer came
  first, S3 answers 412 (or 409 for a simultaneous conditional write) and the whole read-change-write
  is retried on the new content, with exponential backoff and jitter, a bounded number of times, each
  retry logged. This needs conditional writes (AWS S3 since 2024, moto, MinIO).
- other writable filesystems (``memory://``, which lives inside the process): a lock in this process.

``change`` may therefore run more than once and must derive its result from its argument alone; it
returns the old bytes unchanged to leave the file as it is. An exception from ``change`` leaves the
file untouched.
"""
from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable

import filelock
from fsspec.asyn import sync

from .io_tools import IoTools, io_tools, protocol_of

log = logging.getLogger(__name__)

LOCK_TIMEOUT_S = 300.0
"""How long a local update waits for other processes' updates of the same file before giving up."""
S3_ATTEMPTS = 8
"""How many read-change-write rounds an S3 update tries before giving up on a file others keep changing."""
S3_BACKOFF_S = 0.05
"""First retry delay on S3; it doubles each retry (capped at 2 s) and is jittered so writers spread out."""
_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict"}
_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()

Change = Callable[[bytes | None], bytes]


def update_file(path: str | os.PathLike, change: Change, io: IoTools = io_tools,
                timeout: float = LOCK_TIMEOUT_S, attempts: int = S3_ATTEMPTS) -> None:
    """Replace the file at `path` by `change(current bytes or None)` without losing concurrent updates."""
    protocol = protocol_of(path)
    if protocol == "file":
        _update_local(str(path), change, io, timeout)
    elif protocol == "s3":
        _update_s3(str(path), change, io, attempts)
    else:
        with _process_lock(str(path)):
            _read_change_write(str(path), change, io)


def lock_path(path: str | os.PathLike) -> str:
    """The lock file guarding local file `path`: a hidden sibling, so dataset listings skip it."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.lock")


def _update_local(path: str, change: Change, io: IoTools, timeout: float) -> None:
    lock_file = lock_path(path)
    os.makedirs(os.path.dirname(lock_file), exist_ok=True)
    lock = filelock.FileLock(lock_file)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        log.info("Waiting for another process updating %s (lock %s)", path, lock_file)
        try:
            lock.acquire(timeout=timeout)
        except filelock.Timeout:
            raise TimeoutError(f"could not lock {path} within {timeout:g} s: another process holds {lock_file}; "
                               "wait for it to finish (a lock of a process that ended is released by itself)") from None
    try:
        _read_change_write(path, change, io)
    finally:
        lock.release()


def _read_change_write(path: str, change: Change, io: IoTools) -> None:
    old = io.read_file(path, cache=False) if io.exists(path) else None
    new = change(old)
    if new != old:
        io.write_file(path, new)


def _process_lock(path: str) -> threading.Lock:
    with _process_locks_guard:
        return _process_locks.setdefault(path, threading.Lock())


def _update_s3(path: str, change: Change, io: IoTools, attempts: int) -> None:
    fs, fs_path = io.filesystem(path)
    bucket, key, _ = fs.split_path(fs_path)
    for attempt in range(1, attempts + 1):
        old, etag = sync(fs.loop, _get_with_etag, fs, bucket, key)
        new = change(old)
        if new == old:
            return
        condition = {"IfMatch": etag} if etag is not None else {"IfNoneMatch": "*"}
        try:
            fs.call_s3("put_object", Bucket=bucket, Key=key, Body=new, **condition)
            fs.invalidate_cache(fs_path)
            return
        except OSError as error:
            if not _lost_race(error):
                raise
        if attempt < attempts:
            delay = random.uniform(0.5, 1.0) * min(S3_BACKOFF_S * 2 ** (attempt - 1), 2.0)
            log.warning("%s changed while this process updated it (attempt %d of %d); retrying on the new content "
                        "in %.2f s", path, attempt, attempts, delay)
            time.sleep(delay)
    raise RuntimeError(f"gave up updating {path} after {attempts} attempts: other writers changed it every time; "
                       "run again when they are done")


async def _get_with_etag(fs, bucket: str, key: str) -> tuple[bytes | None, str | None]:
    """The object's bytes and ETag from one GET (both None when there is no such object)."""
    try:
        response = await fs._call_s3("get_object", Bucket=bucket, Key=key)
    except FileNotFoundError:
        return None, None
    try:
        return await response["Body"].read(), response["ETag"]
    finally:
        response["Body"].close()


def _lost_race(error: OSError) -> bool:
    """Whether a conditional PUT failed because the object changed, appeared or vanished since it was read."""
    if isinstance(error, FileExistsError | FileNotFoundError):
        return True
    response = getattr(error.__cause__, "response", None) or {}
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return response.get("Error", {}).get("Code") in _CONFLICT_CODES or status in (409, 412)
