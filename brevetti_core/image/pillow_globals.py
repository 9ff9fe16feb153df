"""Pillow's decode switches scoped to one decode instead of set for the whole process.

Pillow reads ``ImageFile.LOAD_TRUNCATED_IMAGES`` and ``Image.MAX_IMAGE_PIXELS`` as module globals
while it opens and loads a file. Left to the user, a value set in the parent process reaches fork
workers but not spawn or forkserver ones, so one plan gave different batches by start method.
`pillow_globals` sets both for the duration of one decode and restores what was there before.

The globals are shared by every thread, so decodes wanting different values must not overlap. A
shared gate lets any number of decodes with the same values run at once (the common case: one
pipeline per process) and makes a decode wanting other values wait until those have finished.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image, ImageFile

Switches = tuple[bool, "int | None"]  # (LOAD_TRUNCATED_IMAGES, MAX_IMAGE_PIXELS)


class _Gate:
    """Holds Pillow's globals at one value while any decode that wants that value is running."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.condition = threading.Condition()
        self.active: Switches | None = None
        self.users = 0
        self.saved: Switches = _read()

    def enter(self, wanted: Switches) -> None:
        with self.condition:
            while self.users and self.active != wanted:
                self.condition.wait()
            if not self.users:
                self.saved, self.active = _read(), wanted
                _write(wanted)
            self.users += 1

    def exit(self) -> None:
        with self.condition:
            self.users -= 1
            if not self.users:
                _write(self.saved)
                self.active = None
                self.condition.notify_all()

    def after_fork_in_child(self) -> None:
        # A fork taken while a parent thread decoded copies its scoped values and a held count: undo both.
        if self.users:
            _write(self.saved)
        self.reset()  # a fresh lock too: another parent thread may have held it at the fork


def _read() -> Switches:
    return ImageFile.LOAD_TRUNCATED_IMAGES, Image.MAX_IMAGE_PIXELS


def _write(switches: Switches) -> None:
    ImageFile.LOAD_TRUNCATED_IMAGES, Image.MAX_IMAGE_PIXELS = switches


_GATE = _Gate()
os.register_at_fork(after_in_child=_GATE.after_fork_in_child)


@contextmanager
def pillow_globals(allow_truncated: bool) -> Iterator[None]:
    """Pillow decodes inside run with truncated files allowed or not, and without Pillow's own pixel limit.

    The pixel limit is the caller's to check (from the header, before decoding); Pillow's would
    otherwise depend on what the process set. The previous values are back once no decode is running.
    """
    _GATE.enter((bool(allow_truncated), None))
    try:
        yield
    finally:
        _GATE.exit()
