"""The record of a run (``artifacts/output.json``): metrics, environment and the job as it ran.

``{"output": metrics, "environment": {python, platform, packages, git}, "job": {id, name, run_id,
settings, datasets, ..., seeds}, "progress": {epochs_completed, last_epoch}}``. The job's settings are
written with the subclass's own fields (the reference re-parsed them through the base class and lost them).
The api key is not a field of the record; URLs in it are written without their credentials, and recorded
metrics (free values a user chose) without the key (see ``redaction``).
"""
from __future__ import annotations

import importlib.metadata
import inspect
import json
import logging
import os
import platform
import subprocess
import sys
from typing import Any

from .redaction import redact_values
from .rng import seeds_used

log = logging.getLogger(__name__)

PACKAGES = (
    "brevetti", "numpy", "pandas", "pydantic", "fsspec", "s3fs", "pillow", "scikit-learn",
    "torch", "torchvision", "tensorflow", "tensorflow-cpu",
)


def environment(job_class: type) -> dict:
    """What the run ran on: python, platform, installed versions of PACKAGES, git state of the job's code."""
    return {
        "python": sys.version,
        "platform": platform.platform(),
        "packages": package_versions(),
        "git": git_state(_source_file(job_class)),
    }


def package_versions() -> dict[str, str]:
    """{distribution: version} of the installed PACKAGES (read from metadata, nothing is imported)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def git_state(source_file: str | None) -> dict | None:
    """{commit, dirty, file} of the git checkout holding `source_file` (else the working folder); None outside git.

    `dirty` is true when tracked files have uncommitted changes or the job's file is not committed.
    """
    folder = os.path.dirname(source_file) if source_file else os.getcwd()
    commit = _git(folder, "rev-parse", "HEAD")
    if commit is None:
        return None
    changes = _git(folder, "status", "--porcelain", "--untracked-files=no")
    dirty = bool(changes)
    if source_file and _git(folder, "ls-files", "--error-unmatch", source_file) is None:
        dirty = True
    return {"commit": commit, "dirty": dirty, "file": source_file}


def _git(folder: str, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", folder, *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _source_file(job_class: type) -> str | None:
    try:
        source = inspect.getsourcefile(job_class)
    except (TypeError, OSError):
        source = None
    # Classes defined in a notebook or `python -c` have no file.
    return os.path.abspath(source) if source else None


def build_output(job: Any, metrics: dict, env: dict, progress: dict | None = None, secret: str | None = None) -> dict:
    """The output.json record of `job` (a Job): metrics, environment, the job without its api key, the progress.

    Strings of the job record lose URL credentials; metrics and progress also lose `secret` (whole tokens).
    """
    record = job.model_dump(mode="json", exclude={"api_key"}, serialize_as_any=True)
    record = redact_values(record)  # URL credentials only: a job's own fields never hold the key
    record["seeds"] = seeds_used(since=job.seed_mark)
    return {
        "output": redact_values(metrics, secret),
        "environment": env,
        "job": record,
        "progress": redact_values(progress or {"epochs_completed": 0, "last_epoch": None}, secret),
    }


def json_value(value: Any) -> Any:
    """A JSON-ready copy of `value` (numpy scalars and arrays become numbers and lists)."""
    return json.loads(json.dumps(value, default=_json_default))


def dumps(value: Any, indent: int | None = None) -> str:
    """JSON text of `value` (numpy values as numbers)."""
    return json.dumps(json_value(value), indent=indent)


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy arrays and scalars, without importing numpy here
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} value {value!r} cannot be written as JSON")
