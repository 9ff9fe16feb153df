"""SIGTERM as an interruption: what schedulers, ``docker stop`` and preemption send becomes a KeyboardInterrupt.

Python turns SIGINT (Ctrl-C) into KeyboardInterrupt but dies silently on SIGTERM, skipping every
``finally`` and leaving a job "running" forever. While a job runs, `terminate_as_interrupt` makes
SIGTERM raise `JobInterrupted` (a KeyboardInterrupt), so both signals end the job the same way:
recorded as interrupted, output written, temp folder removed; ``except KeyboardInterrupt`` handles both.
Left uncaught, JobInterrupted ends the process with status 1 and its traceback (Python exits "by
SIGINT" only for a plain KeyboardInterrupt). `interrupts_deferred` holds both signals back while a
group of writes must land together (an epoch's progress line and output.json).
"""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

log = logging.getLogger(__name__)


class JobInterrupted(KeyboardInterrupt):
    """The job's process received a termination signal (SIGTERM) while the job ran."""

    def __init__(self, signum: int):
        super().__init__(f"received {signal.Signals(signum).name}")
        self.signal_name = signal.Signals(signum).name


def interruption_cause(error: KeyboardInterrupt) -> str:
    """The signal behind an interruption: "SIGTERM" for JobInterrupted, else "SIGINT" (Ctrl-C, KeyboardInterrupt)."""
    return error.signal_name if isinstance(error, JobInterrupted) else "SIGINT"


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Inside the block SIGTERM raises JobInterrupted in the main thread (once; later ones are ignored).

    Nothing changes outside the main thread (only it can handle signals) or when SIGTERM already has a
    handler other than the default (the caller's own). Forked children (DataLoader workers) keep the
    default behaviour: they die on SIGTERM as before.
    """
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    owner = os.getpid()
    received: list[int] = []

    def interrupt(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != owner:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        if received:
            log.warning("%s again while the job is being recorded as interrupted; ignored",
                        signal.Signals(signum).name)
            return
        received.append(signum)
        raise JobInterrupted(signum)

    interrupt.defers = True  # type: ignore[attr-defined]  # interrupts_deferred may hold it back
    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back inside the block and deliver the first one received when it ends.

    Only the default Ctrl-C handler and the handler of `terminate_as_interrupt` are held back (a
    caller's own handler is the caller's business), and only in the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {}
    received: list[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(signum)
        if handler is signal.default_int_handler or getattr(handler, "defers", False):
            held[signum] = handler
            signal.signal(signum, lambda number, frame: received.append(number))
    try:
        yield
    finally:
        for signum, handler in held.items():
            signal.signal(signum, handler)
    if received:
        signal.raise_signal(received[0])
