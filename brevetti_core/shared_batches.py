"""Batches handed from worker processes to their owner through files in shared memory (``/dev/shm``).

A batch of 32 images of 224x224x3 float32 is 19 MB. Returned through a process pool it is
pickled, pushed through a pipe in 64 KB pieces and unpickled: four copies and hundreds of
system calls. Written by the worker to a file in shared memory and mapped by the owner (a
private, page-aligned mapping, which tf.numpy_function hands on without copying), it is one copy.
Arrays of at least `MIN_BYTES` travel that way; smaller values, and every value where no
shared-memory folder is writable or has room (a full one is logged once), are pickled as before.
Files are named for the owning process (``brevetti-batch-<pid>@<host>-...``): the owner unlinks
each file as it maps it (the memory lives as long as the array) or drops its result, and removes
files of owners that died (SIGKILL) when its workers start.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
from typing import Any, NamedTuple

import numpy as np

from .liveness import owner_gone, owner_tag

log = logging.getLogger(__name__)

FOLDER = "/dev/shm"
MIN_BYTES = 1 << 20
PREFIX = "brevetti-batch-"
_warned: list[str] = []  # a full folder is said once per process
_OWNED = re.compile(r"^brevetti-batch-(?P<pid>\d+)@(?P<host>[A-Za-z0-9.-]+)-")


class SharedArray(NamedTuple):
    """An array written to a shared-memory file: where, and how to read it back."""

    path: str
    shape: tuple[int, ...]
    dtype: str


def usable_folder() -> str | None:
    """The shared-memory folder when it exists and is writable here, else None (then batches are pickled)."""
    return FOLDER if os.path.isdir(FOLDER) and os.access(FOLDER, os.W_OK | os.X_OK) else None


def export(value: Any, owner: int, folder: str | None) -> Any:
    """`value` (a batch: dicts, tuples, lists, arrays) with its large arrays written to `folder` for process `owner`."""
    if folder is None:
        return value
    if isinstance(value, dict):
        return {key: export(item, owner, folder) for key, item in value.items()}
    if isinstance(value, (tuple, list)) and not isinstance(value, SharedArray):
        return type(value)(export(item, owner, folder) for item in value)
    if isinstance(value, np.ndarray) and value.nbytes >= MIN_BYTES and value.dtype.kind in "biuf":
        return _written(value, owner, folder) or value
    return value


def _written(array: np.ndarray, owner: int, folder: str) -> SharedArray | None:
    """`array` written to a new file in `folder`; None (and no file) when the folder is full or refuses it."""
    descriptor, path = tempfile.mkstemp(prefix=f"{PREFIX}{owner_tag(owner)}-", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as file:
            np.ascontiguousarray(array).tofile(file)
    except OSError as error:  # a full /dev/shm (Docker gives 64 MB unless --shm-size) must not stop training
        os.unlink(path)
        if not _warned:
            _warned.append(path)
            log.warning("cannot write a %d MB batch array to %s (%s): batches of this worker are pickled instead, "
                        "which is slower; give the container more shared memory (docker --shm-size)",
                        array.nbytes >> 20, folder, error)
        return None
    return SharedArray(path, array.shape, array.dtype.str)


def restore(value: Any) -> Any:
    """`value` with every exported array read back (and its file removed)."""
    if isinstance(value, SharedArray):
        try:  # mapped, not read: the worker's pages become the array's, page-aligned (tf can then use them as they are)
            return np.memmap(value.path, dtype=np.dtype(value.dtype), mode="c", shape=value.shape).view(np.ndarray)
        finally:
            os.unlink(value.path)
    if isinstance(value, dict):
        return {key: restore(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(restore(item) for item in value)
    return value


def discard(value: Any) -> None:
    """Remove the files of an exported value that will not be read."""
    if isinstance(value, SharedArray):
        with contextlib.suppress(FileNotFoundError):  # removed already
            os.unlink(value.path)
    elif isinstance(value, dict):
        for item in value.values():
            discard(item)
    elif isinstance(value, (tuple, list)):
        for item in value:
            discard(item)


def remove_stale(folder: str | None) -> list[str]:
    """Remove the batch files in `folder` whose owner process on this host is gone; their paths."""
    if folder is None:
        return []
    removed = []
    for name in os.listdir(folder):
        if owner_gone(_OWNED.match(name)):
            try:
                os.unlink(os.path.join(folder, name))
            except FileNotFoundError:
                continue
            removed.append(os.path.join(folder, name))
    if removed:
        log.info("removed %d batch files in %s left by worker owners that died", len(removed), folder)
    return removed

