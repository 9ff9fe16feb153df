"""Intervals set through environment variables (BREVETTI_HEARTBEAT_SECONDS, BREVETTI_PROGRESS_SECONDS)."""
from __future__ import annotations

import math
import os


def env_seconds(name: str, default: float, *, zero_allowed: bool = False) -> float:
    """The finite number of seconds in environment variable `name`, else `default`; ValueError naming it."""
    text = os.environ.get(name)
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {text!r}") from None
    lowest = "0 or more" if zero_allowed else "more than 0"
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not zero_allowed):
        raise ValueError(f"{name} must be a finite number of seconds, {lowest}, got {text!r}")
    return seconds
