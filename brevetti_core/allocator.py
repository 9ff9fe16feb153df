"""Keep freed memory in the process heap, so per-image temporaries stop costing page faults.

Every kernel of an image pipeline makes temporaries of about one image (600 KB for 224x224x3
float32). glibc serves blocks that large with a fresh ``mmap`` and unmaps them on free, so every
temporary is new memory whose pages the kernel must fault in and zero: measured here, a 3-tap
filter spent 80% of its time in those page faults (410 faults a call). Raising glibc's mmap and
trim thresholds makes such blocks come from the heap and stay there when freed, so the next
image reuses warm pages. `keep_freed_memory` does that once per process, where plans execute
(the calling process, DataLoader workers, tf worker processes); the cost is that a process keeps
up to `TRIM_BYTES` of freed heap instead of returning it to the system at once. Set
``BREVETTI_KEEP_FREED_MEMORY=0`` to leave the allocator as it is. Elsewhere than glibc (macOS,
musl) it does nothing.
"""
from __future__ import annotations

import ctypes
import logging
import os

log = logging.getLogger(__name__)

MMAP_THRESHOLD_BYTES = 64 << 20  # blocks below this come from the heap (glibc's default ceiling is 32 MiB)
TRIM_BYTES = 256 << 20  # freed heap kept before any is given back
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers (malloc.h)

_applied_in: set[int] = set()  # the pids that applied it: a forked child applies it again (cheap, harmless)


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once in this process; True when they are set (now or before)."""
    if applied():
        return True
    if os.environ.get("BREVETTI_KEEP_FREED_MEMORY", "1").strip() == "0":
        return False
    mallopt = _mallopt()
    if mallopt is None:
        return False
    done = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_BYTES))
    if done:
        _applied_in.add(os.getpid())
        log.debug("glibc keeps freed blocks below %d MiB in the heap (process %d)", MMAP_THRESHOLD_BYTES >> 20,
                  os.getpid())
    return done


def applied() -> bool:
    """True when `keep_freed_memory` has set the thresholds in this process."""
    return os.getpid() in _applied_in


def _mallopt():
    """glibc's ``mallopt``, or None where the C library has none (not glibc)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the symbols the interpreter is linked with, the C library's among them
    except (OSError, AttributeError):
        return None
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt
