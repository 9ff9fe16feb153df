"""Job hooks: code that runs when any job starts and when it ends (completed, failed or interrupted).

A hook is a callable ``hook(job, event)``; ``event`` is ``"started"`` (storage is ready, output.json
written, ``run()`` not called yet) or the job's final status, one of ``"completed"``, ``"failed"``,
``"interrupted"`` (status.json and output.json already written). A hook registered with
``events=(..., "epoch")`` also sees each epoch the job's remote monitor records, as
``hook(job, "epoch", epoch=<int>, logs=<dict>)`` (progress.jsonl already written). Hooks live in one
process-wide registry and run in registration order::

    import logging
    from brevetti_core import job_hooks

    def log_end(job, event):
        if event in job_hooks.END_EVENTS:
            logging.getLogger("my_hooks").info("job %s %s", job.id, event)

    job_hooks.register(log_end)           # named "<module>.log_end"; register(hook, name=...) to choose
    job_hooks.unregister("report")        # jobs stop writing report.html

A hook may also be registered as a ``"package.module:function"`` reference, imported when an event
first needs it: this is how the job report is registered (as ``"report"``, below), so that
``import brevetti_core.job`` loads neither the report nor Pillow, yet every ``Job`` subclass writes
``artifacts/report.html`` when it ends. Tracking (MLflow, TensorBoard: ``brevetti_core.tracking``) registers
the same way, as ``"tracking"``, for every event including epochs.

A hook that raises (or whose reference cannot be imported) is logged with its name and traceback and
the remaining hooks still run: a hook never fails a job, hides the job's own error, or undoes output
already written. During "failed" and "interrupted" hooks, ``sys.exc_info()`` holds the job's error.
"""
from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

Hook = Callable[..., None]
"""`hook(job, event)`; hooks registered for epochs take `hook(job, event, **details)`."""

START_EVENT = "started"
END_EVENTS = ("completed", "failed", "interrupted")
EPOCH_EVENT = "epoch"
LIFECYCLE_EVENTS = (START_EVENT, *END_EVENTS)
"""What a hook sees unless registered with `events`: a job's start and end."""
EVENTS = (*LIFECYCLE_EVENTS, EPOCH_EVENT)

_hooks: dict[str, tuple[Hook | str, frozenset[str]]] = {}


def register(hook: Hook | str, name: str | None = None, events: Iterable[str] = LIFECYCLE_EVENTS) -> Hook | str:
    """Run `hook(job, event, **details)` on the job `events` from now on; returns `hook` (so it works as a decorator).

    `name` defaults to the hook's qualified name (or the reference string); registering a name again
    replaces that hook in its place.
    """
    if isinstance(hook, str):
        _split_reference(hook)
    elif not callable(hook):
        raise TypeError(f"a job hook must be callable or a 'module:function' reference, got {hook!r}")
    events = frozenset([events] if isinstance(events, str) else events)
    unknown = sorted(events - set(EVENTS))
    if unknown:
        raise ValueError(f"job hook {name or _default_name(hook)!r}: unknown events {unknown}; known: {EVENTS}")
    _hooks[name or _default_name(hook)] = (hook, events)
    return hook


def unregister(name: str) -> Hook | str:
    """Remove the hook registered as `name`; returns it."""
    if name not in _hooks:
        raise KeyError(f"no job hook named {name!r}; registered: {', '.join(_hooks) or 'none'}")
    return _hooks.pop(name)[0]


def registered() -> list[str]:
    """The names of the registered hooks, in the order they run."""
    return list(_hooks)


def fire(job: Any, event: str, **details: Any) -> None:
    """Run the hooks registered for `event` as `hook(job, event, **details)`; a failing hook is logged, never raised."""
    if event not in EVENTS:
        raise ValueError(f"unknown job event {event!r}; expected one of {EVENTS}")
    for name, (hook, events) in list(_hooks.items()):
        if event not in events:
            continue
        try:
            _resolve(hook)(job, event, **details)
        except Exception:
            log.exception("Job hook %r failed on %s of job %s", name, event, getattr(job, "id", job))


def _default_name(hook: Hook | str) -> str:
    if isinstance(hook, str):
        return hook
    return f"{getattr(hook, '__module__', '')}.{getattr(hook, '__qualname__', type(hook).__qualname__)}".lstrip(".")


def _split_reference(reference: str) -> tuple[str, str]:
    module, _, attribute = reference.partition(":")
    if not module or not attribute:
        raise ValueError(f"job hook reference {reference!r} must read 'package.module:function'")
    return module, attribute


def _resolve(hook: Hook | str) -> Hook:
    if not isinstance(hook, str):
        return hook
    module, attribute = _split_reference(hook)
    target: Any = importlib.import_module(module)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


# The job report, written on every end of every job; imported only when a job first ends.
register("brevetti_core.report:report_hook", name="report")
# MLflow runs and TensorBoard logs (when configured); after the report, so that report.html is uploaded too.
register("brevetti_core.tracking:tracking_hook", name="tracking", events=EVENTS)
