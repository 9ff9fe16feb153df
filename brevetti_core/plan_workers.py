"""`PlanWorkers`: batch plans executed in worker processes, ahead of use, for pipelines that cannot use threads.

tf.data calls Python through ``tf.numpy_function``, which holds the GIL, so its parallel calls
do not run the executor's Python in parallel. Worker processes do: each holds one copy of the
executor and runs whole batch plans; results travel back pickled (a memory copy). Plans are
submitted a bounded window ahead of the element asked for, so a consumer with few threads still
keeps every worker busy, and callers take results by element index, so the order of the
pipeline is the caller's, never the workers'. The same executor runs the same plans as in the
calling process: the batches are the same bytes. Large arrays come back through shared memory
(`shared_batches`), one copy instead of a pickle's four; results dropped unread (a window left
behind by a restarted iteration, a pipeline collected early) have their files removed. Workers
end themselves within a second of their owner's death, SIGKILL included, as DataLoader's do.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from . import shared_batches
from .allocator import keep_freed_memory
from .executor import Executor
from .liveness import pid_alive
from .plan import BatchPlan

OWNER_CHECK_SECONDS = 1.0
_worker: dict[str, Any] = {}  # what _install gave this worker process: executor, load, owner, folder


def _install(executor: Executor, load: bool, owner: int, folder: str | None) -> None:
    """Worker initialiser: the executor every task of this worker runs, where its large arrays go, and a watchdog."""
    _worker.update(executor=executor, load=load, owner=owner, folder=folder)
    threading.Thread(target=_exit_with, args=(owner,), name="brevetti-owner-watchdog", daemon=True).start()


def _exit_with(owner: int) -> None:
    """End this worker once process `owner` is gone: a pool's workers wait forever on an owner killed outright."""
    while pid_alive(owner):
        time.sleep(OWNER_CHECK_SECONDS)
    os._exit(0)


def _execute(plan: BatchPlan) -> tuple[int, Any, list]:
    """Worker task: the epoch of `plan`, its batch (large arrays in shared memory) and the failures it absorbed."""
    if "executor" not in _worker:
        raise RuntimeError("a PlanWorkers task ran in a process that PlanWorkers did not start")
    batch, failures = _worker["executor"].execute(plan, _worker["load"])
    return plan.epoch, shared_batches.export(batch, _worker["owner"], _worker["folder"]), failures


def _drop(future: Future) -> None:
    """Give up `future`: cancel it, or remove the shared-memory files of its result once it comes."""
    if not future.cancel():
        future.add_done_callback(_discard_result)


def _discard_result(future: Future) -> None:
    if not future.cancelled() and future.exception() is None:
        shared_batches.discard(future.result()[1])


def _shut_down(pool: ProcessPoolExecutor, pending: dict[int, Future]) -> None:
    """Stop `pool`, dropping the results nobody will read."""
    for future in pending.values():
        _drop(future)
    pending.clear()
    pool.shutdown(wait=False, cancel_futures=True)


class PlanWorkers:
    """`workers` processes running `executor` on the plans of element indices, `ahead` elements in advance.

    `plans(index)` gives the BatchPlan of element `index`, or None past the last element.
    `context` is a multiprocessing start method ("fork", "spawn", "forkserver"; None for the
    platform's default). The processes start on first use and stop when this object is collected
    or the interpreter exits.
    """

    def __init__(self, executor: Executor, load: bool, plans: Callable[[int], BatchPlan | None], workers: int,
                 context: str | None = None, ahead: int | None = None):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"num_workers must be a whole number >= 1 for worker processes, got {workers!r}")
        self.executor, self.load, self.plans, self.workers = executor, load, plans, workers
        self.context = multiprocessing.get_context(context)  # checks the method's name now
        self.ahead = 2 * workers if ahead is None else ahead
        self._pool: ProcessPoolExecutor | None = None
        self._pending: dict[int, Future] = {}
        self._lock = threading.Lock()

    def result(self, index: int) -> tuple[int, Any, list]:
        """(epoch, batch, failures) of element `index`; batch and failures as ``executor.execute`` gives them."""
        with self._lock:
            pool = self._started()
            future = self._pending.pop(index, None)
            if future is None:
                plan = self.plans(index)
                if plan is None:
                    raise IndexError(f"element {index} is past the end of the plan")
                future = pool.submit(_execute, plan)
            # Keep the window [index, index + ahead] submitted; drop what a restarted iteration left behind.
            for stale in [i for i in self._pending if not index < i <= index + self.ahead]:
                _drop(self._pending.pop(stale))
            for upcoming in range(index + 1, index + self.ahead + 1):
                if upcoming not in self._pending:
                    plan = self.plans(upcoming)
                    if plan is None:
                        break
                    self._pending[upcoming] = pool.submit(_execute, plan)
        epoch, batch, failures = future.result()
        return epoch, shared_batches.restore(batch), failures

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            folder = shared_batches.usable_folder()
            shared_batches.remove_stale(folder)
            keep_freed_memory()  # this process reads every batch into fresh arrays: let them reuse warm pages
            self._pool = ProcessPoolExecutor(self.workers, mp_context=self.context, initializer=_install,
                                             initargs=(self.executor, self.load, os.getpid(), folder))
            weakref.finalize(self, _shut_down, self._pool, self._pending)
        return self._pool
