"""File access over fsspec URLs: local paths, ``s3://``, ``memory://`` and read-only ``http(s)://``.

One ``IoTools`` object routes every path to an fsspec filesystem. A remote read is one request (a
GET, no HEAD first). Remote reads can be cached on local disk (``set_cache_root``): sample files
that data loading reads by their content etag go to the ``ContentCache`` (``batch_reads.py``;
the root set last in the process, as ``job.io.set_cache_root(...)`` in the seeds, is the one data
loading uses), and other reads to fsspec's ``filecache``, which revalidates each cached file
against the remote ETag before serving it, so a changed object is downloaded again. The S3
endpoint comes from ``BREVETTI_S3_ENDPOINT`` or the standard ``AWS_ENDPOINT_URL``; credentials
from the usual AWS variables.

An ``IoTools`` survives ``fork``: the child drops the filesystems (an S3 client belongs to the
event loop of the process that made it) and makes its own on first use; a pickled copy (a spawn
worker's) keeps the cache root.

On S3, the first use of a bucket checks it (one listing request), and failures of the storage itself
(a missing bucket, refused credentials, an endpoint that cannot be reached) raise ``StorageError``
naming the bucket, the endpoint and the fix; transient failures are retried first (``storage_errors``).
"""
from __future__ import annotations

import contextlib
import logging
import os
import posixpath
import secrets
import stat
import tempfile
import threading
import weakref
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from pathlib import Path

import fsspec
from fsspec.core import split_protocol

from .content_cache import CacheFullError
from .storage_errors import StorageError, denied, error_code, s3_attempts, s3_retry_options, translate

log = logging.getLogger(__name__)

REMOTE_PROTOCOLS = ("s3", "http", "https")
READ_ONLY_PROTOCOLS = ("http", "https")


def s3_endpoint() -> str | None:
    """The configured S3 endpoint URL, or None for AWS itself."""
    return os.environ.get("BREVETTI_S3_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL") or None


def protocol_of(path: str | os.PathLike) -> str:
    """The fsspec protocol of a path ('file' for local paths)."""
    protocol, _ = split_protocol(str(path))
    return protocol or "file"


def is_remote(path: str | os.PathLike) -> bool:
    return protocol_of(path) in REMOTE_PROTOCOLS


def bucket_of(path: str) -> str:
    """The bucket of an s3:// URI."""
    return split_protocol(path)[1].lstrip("/").split("/", 1)[0]


def join(base: str | os.PathLike, *parts: str) -> str:
    """Join path parts with '/' for URLs and os.path for local paths."""
    base = str(base)
    if protocol_of(base) == "file":
        return os.path.join(base, *parts)
    return posixpath.join(base, *parts)


_staged = threading.local()
_instances: weakref.WeakSet[IoTools] = weakref.WeakSet()
_sample_cache: weakref.WeakValueDictionary[str, IoTools] = weakref.WeakValueDictionary()  # "owner": the last setter


def sample_cache_root() -> str | None:
    """The cache root that data loading uses: the one set last in this process by a live IoTools, else None."""
    owner = _sample_cache.get("owner")
    return owner.cache_root if owner is not None else None


@contextlib.contextmanager
def staged_reads(reads: Mapping[str, Future[bytes]]) -> Iterator[None]:
    """Within the block, ``read_file`` of a path in `reads` (in this thread) takes its bytes from there."""
    previous = getattr(_staged, "reads", None)
    _staged.reads = reads
    try:
        yield
    finally:
        _staged.reads = previous


def _staged_read(path: str) -> bytes | None:
    """The bytes read ahead for `path` in this thread, None when there are none (or reading them failed)."""
    reads = getattr(_staged, "reads", None)
    future = reads.get(path) if reads else None
    if future is None:
        return None
    try:
        return future.result()
    except CacheFullError:
        raise
    except Exception:  # the caller reads the file itself and reports the failure as it would without read-ahead
        return None


class IoTools:
    """Read, write, list and copy files on any fsspec URL, with an optional read cache."""

    def __init__(self, cache_root: str | os.PathLike | None = None):
        self._forget_filesystems()
        self._checked_buckets: set[tuple] = set()
        self.cache_root: str | None = None
        self.set_cache_root(cache_root)
        _instances.add(self)

    def _forget_filesystems(self) -> None:
        self._filesystems: dict[tuple, fsspec.AbstractFileSystem] = {}
        self._cache_filesystems: dict[int, fsspec.AbstractFileSystem] = {}
        self._lock = threading.Lock()
        self._bucket_lock = threading.Lock()

    def __getstate__(self) -> dict:
        # Filesystems and the lock are rebuilt on demand, so a copy (a job's, a DataLoader worker's)
        # routes paths the same way with the same cache root, without checking the same buckets again.
        return {"cache_root": self.cache_root, "checked_buckets": set(self._checked_buckets)}

    def __setstate__(self, state: dict) -> None:
        IoTools.__init__(self)
        self._use_root(state["cache_root"])  # a copy does not become the process's data-loading cache
        self._checked_buckets = set(state.get("checked_buckets", ()))

    # -- routing -------------------------------------------------------------------------------
    def filesystem(self, path: str | os.PathLike) -> tuple[fsspec.AbstractFileSystem, str]:
        """The filesystem serving `path` and the path as that filesystem names it (S3 buckets checked on first use)."""
        path = str(path)
        protocol = protocol_of(path)
        key: tuple = (protocol,)
        if protocol == "s3":
            key = (protocol, s3_endpoint(), s3_attempts())
        with self._lock:
            fs = self._filesystems.get(key)
            if fs is None:
                fs = self._new_filesystem(protocol)
                self._filesystems[key] = fs
        if protocol == "s3":
            self._check_bucket(fs, key, path)
        return fs, fs._strip_protocol(path) if protocol != "file" else os.path.abspath(path)

    @staticmethod
    def _new_filesystem(protocol: str) -> fsspec.AbstractFileSystem:
        if protocol != "s3":
            return fsspec.filesystem(protocol, skip_instance_cache=True)
        options: dict = s3_retry_options(s3_attempts())
        endpoint = s3_endpoint()
        if endpoint:
            options["client_kwargs"] = {"endpoint_url": endpoint}
        # Listings must reflect writes made by other clients (other jobs, the platform).
        fs = fsspec.filesystem("s3", skip_instance_cache=True, use_listings_cache=False, **options)
        fs.retries = 1  # botocore retries (storage_errors); s3fs's loop on top would multiply the attempts
        return fs

    def _check_bucket(self, fs: fsspec.AbstractFileSystem, key: tuple, path: str) -> None:
        """Raise StorageError when the bucket of `path` is missing, refuses the credentials or cannot be reached.

        Asked once per bucket (one listing of at most one key). A bucket that forbids listing may still
        serve its keys, so "access denied" here is not an error: the requests themselves will tell.
        """
        bucket = bucket_of(path)
        if not bucket or (key, bucket) in self._checked_buckets:
            return
        with self._bucket_lock:  # threads reading ahead (batch_reads) would each ask otherwise
            if (key, bucket) not in self._checked_buckets:
                self._ask_bucket(fs, key, bucket, path)

    def _ask_bucket(self, fs: fsspec.AbstractFileSystem, key: tuple, bucket: str, path: str) -> None:
        try:
            fs.call_s3("list_objects_v2", Bucket=bucket, MaxKeys=1)
        except Exception as error:
            problem = translate(error, bucket, path, s3_endpoint())
            if problem is not None and error_code(error) != "AccessDenied":
                raise problem from error
            if not isinstance(error, PermissionError):
                raise
        self._checked_buckets.add((key, bucket))

    @contextlib.contextmanager
    def _storage_errors(self, path: str | os.PathLike) -> Iterator[None]:
        """S3 failures of the storage itself as StorageError; a missing key stays a FileNotFoundError."""
        if protocol_of(path) != "s3":
            yield
            return
        try:
            yield
        except StorageError:
            raise
        except Exception as error:
            bucket = bucket_of(str(path))
            problem = translate(error, bucket, str(path), s3_endpoint())
            if problem is None and isinstance(error, PermissionError):
                problem = denied(bucket, str(path), s3_endpoint())
            if problem is None:
                raise
            raise problem from error

    def _cached_filesystem(self, path: str) -> tuple[fsspec.AbstractFileSystem, str]:
        assert self.cache_root is not None, "read_file decides on caching only when a cache root is set"
        fs, fs_path = self.filesystem(path)
        with self._lock:
            cache = self._cache_filesystems.get(id(fs))
            if cache is None:
                cache = fsspec.filesystem(
                    "filecache", fs=fs, cache_storage=os.path.join(self.cache_root, protocol_of(path)),
                    check_files=True, skip_instance_cache=True,
                )
                self._cache_filesystems[id(fs)] = cache
        return cache, fs_path

    def set_cache_root(self, path: str | os.PathLike | None) -> None:
        """Cache remote reads under `path` (created if needed), data loading's included; None turns caching off."""
        self._use_root(path)
        if path is not None:
            _sample_cache["owner"] = self

    def _use_root(self, path: str | os.PathLike | None) -> None:
        self._cache_filesystems = {}
        if path is None:
            self.cache_root = None
            return
        path = str(path)
        if is_remote(path):
            raise ValueError(f"cache root must be a local folder, got {path!r}")
        os.makedirs(path, exist_ok=True)
        self.cache_root = os.path.abspath(path)

    # -- reading -------------------------------------------------------------------------------
    def read_file(self, path: str | os.PathLike, cache: bool | None = None) -> bytes:
        """The bytes of `path` (one request when remote). Remote files go through the cache when one is set.

        Bytes that data loading read ahead for `path` in this thread (``batch_reads``) are returned as they are.
        """
        path = str(path)
        staged = _staged_read(path)
        if staged is not None:
            return staged
        use_cache = self.cache_root is not None and is_remote(path) and cache is not False
        fs, fs_path = self._cached_filesystem(path) if use_cache else self.filesystem(path)
        if protocol_of(path) == "file":
            _refuse_special_file(fs_path)
        try:
            with self._storage_errors(path):
                if use_cache:
                    with fs.open(fs_path, "rb") as f:
                        return f.read()
                # s3fs asks for the size (a HEAD) before a GET that it may split; one GET is all a sample needs.
                return fs.cat_file(fs_path, max_concurrency=1) if protocol_of(path) == "s3" else fs.cat_file(fs_path)
        except FileNotFoundError:
            raise FileNotFoundError(f"no such file: {path}") from None

    def exists(self, path: str | os.PathLike) -> bool:
        fs, fs_path = self.filesystem(path)
        with self._storage_errors(path):
            return fs.exists(fs_path)

    def isfile(self, path: str | os.PathLike) -> bool:
        fs, fs_path = self.filesystem(path)
        with self._storage_errors(path):
            return fs.isfile(fs_path)

    def info(self, path: str | os.PathLike) -> dict:
        fs, fs_path = self.filesystem(path)
        with self._storage_errors(path):
            return fs.info(fs_path)

    def ls(self, path: str | os.PathLike) -> list[str]:
        """Full paths (with protocol) of the entries directly in folder `path`, sorted."""
        fs, fs_path = self.filesystem(path)
        with self._storage_errors(path):
            return sorted(self._unstrip(path, p) for p in fs.ls(fs_path, detail=False))

    def walk(self, path: str | os.PathLike) -> Iterator[tuple[str, list[str], list[str]]]:
        """os.walk-style (folder, subfolders, files) over `path`, folders with their protocol."""
        fs, fs_path = self.filesystem(path)
        with self._storage_errors(path):
            for folder, dirs, files in fs.walk(fs_path):
                yield self._unstrip(path, folder), sorted(dirs), sorted(files)

    def find(self, path: str | os.PathLike, detail: bool = False):
        """Every file below `path`: full paths, or {path: info} with `detail`."""
        fs, fs_path = self.filesystem(path)
        with self._storage_errors(path):
            found = fs.find(fs_path, detail=detail)
        if detail:
            return {self._unstrip(path, p): info for p, info in found.items()}
        return [self._unstrip(path, p) for p in found]

    @staticmethod
    def _unstrip(original: str | os.PathLike, fs_path: str) -> str:
        protocol = protocol_of(original)
        return fs_path if protocol == "file" else f"{protocol}://{fs_path.lstrip('/')}"

    # -- writing -------------------------------------------------------------------------------
    def write_file(self, path: str | os.PathLike, content: str | bytes) -> None:
        """Write `content` to `path` in one step: local files via temp file + rename, S3 as one PUT.

        A crash mid-write leaves any previous version of the file intact. Parent folders are created.
        """
        path = str(path)
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        protocol = protocol_of(path)
        if protocol in READ_ONLY_PROTOCOLS:
            raise PermissionError(f"{path} is read-only ({protocol}:// URLs cannot be written)")
        if protocol == "file":
            _atomic_local_write(os.path.abspath(path), data)
            return
        fs, fs_path = self.filesystem(path)
        with self._storage_errors(path):
            fs.pipe_file(fs_path, data)

    def make_dirs(self, path: str | os.PathLike) -> None:
        fs, fs_path = self.filesystem(path)
        with self._storage_errors(path):
            fs.makedirs(fs_path, exist_ok=True)

    def copy(self, src: str | os.PathLike, dst: str | os.PathLike) -> None:
        """Copy a file or a folder tree; across filesystems the bytes pass through this process."""
        src, dst = str(src), str(dst)
        if self.isfile(src):
            self.write_file(dst, self.read_file(src))
            return
        for path in self.find(src):
            rel = path[len(src.rstrip("/")) + 1:] if not path.startswith(os.sep) else os.path.relpath(path, src)
            self.write_file(join(dst, *rel.replace(os.sep, "/").split("/")), self.read_file(path))

    def remove(self, path: str | os.PathLike, recursive: bool = False) -> None:
        fs, fs_path = self.filesystem(path)
        with self._storage_errors(path):
            fs.rm(fs_path, recursive=recursive)


def create_temp_file(folder: str | None = None, prefix: str = "tmp", suffix: str = "") -> tuple[int, str]:
    """A new, uniquely named file opened for writing, as (fd, path): ``tempfile.mkstemp`` with the usual mode.

    mkstemp makes every file 0600 whatever the umask; this one gets what ``open(path, "w")`` gives
    (0666 less the umask), so every file a job writes has the same mode however it was written.
    """
    folder = folder if folder is not None else tempfile.gettempdir()
    for _ in range(100):
        path = os.path.join(folder, f"{prefix}{secrets.token_hex(8)}{suffix}")
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary file name in {folder} with prefix {prefix!r}")


def _atomic_local_write(path: str, data: bytes) -> None:
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = create_temp_file(folder, prefix=f".{os.path.basename(path)}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_inherited: list[fsspec.AbstractFileSystem] = []


def _forget_filesystems_after_fork() -> None:
    # A forked child shares its parent's S3 clients and their event loop, which fsspec refuses to use
    # ("This class is not fork-safe"); a lock another thread held at the fork would stay held forever.
    # The parent's filesystems stay referenced, unused: collecting one would close its client on the
    # parent's event loop, which has no thread in this process (an error logged at every worker start).
    for io in list(_instances):
        _inherited.extend(io._filesystems.values())
        _inherited.extend(io._cache_filesystems.values())
        io._forget_filesystems()


os.register_at_fork(after_in_child=_forget_filesystems_after_fork)

io_tools = IoTools()


def _refuse_special_file(path: str) -> None:
    """OSError naming `path` if it is a FIFO, socket or device: opening one can block forever; none holds a file."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return  # the read itself reports it
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise OSError(f"not a regular file (a FIFO, socket or device): {path}")
