"""Progress of long loops: a tqdm bar on a terminal, plain periodic log lines anywhere else.

A bar redraws itself with carriage returns many times a second, which on a terminal is one line but
in a log file or a CI console is one line per redraw (about 130 KB per demo run). So `progress`
draws the bar only when its stream is a terminal, and otherwise logs one INFO line every
``BREVETTI_PROGRESS_SECONDS`` (default 30) and one when the loop ends, through the `logging` logger
``brevetti_core.progress``. In a Jupyter kernel it is tqdm.auto's notebook widget.
"""
from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any

from tqdm import tqdm

from .env_seconds import env_seconds

log = logging.getLogger(__name__)

INTERVAL_ENV = "BREVETTI_PROGRESS_SECONDS"
DEFAULT_INTERVAL = 30.0


def progress(iterable: Iterable[Any] | None = None, *, total: int | None = None, desc: str = "", unit: str = "it",
             disable: bool = False, leave: bool = False, file: IO[str] | None = None) -> Any:
    """A tqdm bar over `iterable` (or updated by hand) when `file` (default stderr) is a terminal, else a
    `LoggedProgress` with the same `update`, `set_postfix`, iteration and context-manager use."""
    stream = file if file is not None else sys.stderr
    if file is None and "ipykernel" in sys.modules:  # a notebook: tqdm.auto draws a widget, not carriage returns
        from tqdm.auto import tqdm as notebook_tqdm

        return notebook_tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable, leave=leave)
    if _is_terminal(stream):
        return tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable, leave=leave, file=stream)
    return LoggedProgress(iterable, total=total, desc=desc, unit=unit, disable=disable)


def interval_seconds() -> float:
    """Seconds between two progress log lines: BREVETTI_PROGRESS_SECONDS, else 30 (0: every step)."""
    return env_seconds(INTERVAL_ENV, DEFAULT_INTERVAL, zero_allowed=True)


class LoggedProgress:
    """A loop's progress as log lines: "<desc>: 120/480 batch (25%), 12 s, loss=0.52" every interval and at the end."""

    def __init__(self, iterable: Iterable[Any] | None = None, *, total: int | None = None, desc: str = "",
                 unit: str = "it", disable: bool = False):
        self.iterable, self.total, self.desc, self.unit, self.disable = iterable, total, desc, unit, disable
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            self.total = len(iterable)  # type: ignore[arg-type]
        self.n = 0
        self.postfix = ""
        self.interval = interval_seconds()
        self.started = self.last = time.monotonic()
        self.closed = False

    def __iter__(self) -> Iterator[Any]:
        if self.iterable is None:
            raise TypeError(f"progress {self.desc!r} was made without an iterable to iterate over")
        try:
            for item in self.iterable:
                yield item
                self.update()
        finally:
            self.close()

    def __enter__(self) -> LoggedProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        """Count `n` more units; logs a line when the interval has passed since the last one."""
        self.n += n
        now = time.monotonic()
        if not self.disable and now - self.last >= self.interval:
            self.last = now
            log.info("%s", self.line(now))

    def set_postfix(self, values: dict[str, Any] | None = None, **more: Any) -> None:
        """Values shown after the count (as tqdm's set_postfix): the latest metrics, say."""
        shown = {**(values or {}), **more}
        self.postfix = ", ".join(f"{name}={value}" for name, value in shown.items())

    def close(self) -> None:
        """Log the final line once (when anything was counted)."""
        if self.closed:
            return
        self.closed = True
        if not self.disable and self.n:
            log.info("%s", self.line(time.monotonic(), done=True))

    def line(self, now: float, done: bool = False) -> str:
        """The progress as one line of text."""
        count = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        share = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        text = f"{self.desc}: {count} {self.unit}{share}, {now - self.started:.0f} s" + (" (done)" if done else "")
        return text + (f", {self.postfix}" if self.postfix else "")


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
