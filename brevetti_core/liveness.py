"""Whether a "running" job is still running: its host, process id and heartbeat in status.json.

A running job records ``host``, ``pid``, ``heartbeat`` (a UTC time refreshed every
``heartbeat_seconds`` by a daemon thread, `Heartbeat`) and ``heartbeat_seconds`` itself. A reader
shows a running job as ``lost`` when its process is gone (same host: no process with that pid) or its
heartbeat is older than ``STALE_AFTER`` intervals (any host: the machine died, the process hangs, or
the pid was reused). The interval is ``BREVETTI_HEARTBEAT_SECONDS`` (default 30 s).
"""
from __future__ import annotations

import datetime
import logging
import os
import re
import socket
import threading
from collections.abc import Callable
from typing import Any

from .env_seconds import env_seconds

log = logging.getLogger(__name__)

HEARTBEAT_ENV = "BREVETTI_HEARTBEAT_SECONDS"
DEFAULT_HEARTBEAT_SECONDS = 30.0
STALE_AFTER = 3
"""A heartbeat older than this many intervals means the job is lost."""
LOST = "lost"


def heartbeat_seconds() -> float:
    """The heartbeat interval: BREVETTI_HEARTBEAT_SECONDS, else 30 s."""
    return env_seconds(HEARTBEAT_ENV, DEFAULT_HEARTBEAT_SECONDS)


def utc_now() -> str:
    """The current UTC time as ISO 8601 text."""
    return datetime.datetime.now(datetime.UTC).isoformat()


def this_process() -> dict:
    """{host, pid} of this process, as a running job records them."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def owner_tag(pid: int | None = None) -> str:
    """``<pid>@<host>`` (this process by default): how a file or folder name says which process owns it."""
    return f"{os.getpid() if pid is None else pid}@{_host_tag()}"


def owner_gone(owner: re.Match[str] | None) -> bool:
    """Whether `owner` (a name matched with ``pid`` and ``host`` groups, see `owner_tag`) names a dead process here.

    Names of other hosts, and names that did not match, are never gone: nothing here can tell.
    """
    return owner is not None and owner["host"] == _host_tag() and not pid_alive(int(owner["pid"]))


def _host_tag() -> str:
    # Only the characters a file name and the owners' name patterns allow.
    return re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname()) or "localhost"


def pid_alive(pid: int) -> bool:
    """Whether a process `pid` exists on this host (a zombie, already dead but not reaped, does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True  # no /proc (macOS): the signal test is all there is


def lost_reason(record: dict, now: datetime.datetime | None = None) -> str | None:
    """Why the "running" job of status `record` is lost, or None while it looks alive (or is not running)."""
    if record.get("status") != "running":
        return None
    pid, host = record.get("pid"), record.get("host")
    if isinstance(pid, int) and host == socket.gethostname() and not pid_alive(pid):
        return f"process {pid} on {host} is gone"
    interval = record.get("heartbeat_seconds")
    beat = _parse_time(record.get("heartbeat"))
    if beat is None or not isinstance(interval, (int, float)):
        return None  # written before heartbeats existed: nothing to judge by
    age = ((now or datetime.datetime.now(datetime.UTC)) - beat).total_seconds()
    if age > STALE_AFTER * interval:
        return f"no heartbeat from {host} (pid {pid}) for {age:.0f} s (expected every {interval:g} s)"
    return None


def current_status(record: Any) -> Any:
    """`record` with "status" "lost" (and a "lost" reason) when its running job is gone; anything else as it is."""
    if not isinstance(record, dict):
        return record
    reason = lost_reason(record)
    if reason is None:
        return record
    return {**record, "status": LOST, "lost": reason}


def _parse_time(text: object) -> datetime.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


class Heartbeat:
    """A daemon thread calling `beat()` every `seconds` until `stop()`.

    After `stop()` returns no beat is in flight and none follows, so a final status written then is
    never overwritten by a late heartbeat. A failing beat (storage down) is logged and retried at the
    next interval.
    """

    def __init__(self, beat: Callable[[], None], seconds: float, name: str):
        self._beat, self._seconds = beat, seconds
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._warned = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Start beating (the first beat comes after one interval)."""
        self._thread.start()

    def stop(self) -> None:
        """Stop beating; waits for a beat in flight to finish."""
        self._stopped.set()
        with self._lock:
            pass

    def _run(self) -> None:
        while not self._stopped.wait(self._seconds):
            with self._lock:
                if self._stopped.is_set():
                    return
                try:
                    self._beat()
                except Exception as error:  # the job goes on; readers judge it by the heartbeat's age
                    level = logging.DEBUG if self._warned else logging.WARNING
                    log.log(level, "%s could not be written: %s", self._thread.name, error)
                    self._warned = True
