"""The record of a run (``artifacts/output.json``): metrics, environment and the job as it ran.

``{"output": metrics, "environment": {python, platform, packages, git}, "job": {id, name, run_id,
settings, datasets, ..., seeds}}``. The job's settings are written with the subclass's own fields
(the reference re-parsed them through the base class and lost them). The api key is removed and
every other occurrence of it is masked with ``*`` before anything is written.
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
        return os.path.abspath(inspect.getsourcefile(job_class))
    except (TypeError, OSError):
        # Classes defined in a notebook or `python -c` have no file.
        return None


def build_output(job: Any, metrics: dict, env: dict) -> dict:
    """The output.json record of `job` (a Job) without its api key."""
    record = job.model_dump(mode="json", exclude={"api_key"}, serialize_as_any=True)
    record["seeds"] = seeds_used(since=job.seed_mark)
    return {"output": metrics, "environment": env, "job": record}


def masked(value: Any, secret: str | None) -> Any:
    """`value` with every occurrence of `secret` in its strings (and dict keys) replaced by '*'s."""
    if not secret:
        return value
    if isinstance(value, str):
        return value.replace(secret, "*" * len(secret))
    if isinstance(value, dict):
        return {masked(k, secret): masked(v, secret) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [masked(v, secret) for v in value]
    return value


def json_value(value: Any) -> Any:
    """A JSON-ready copy of `value` (numpy scalars and arrays become numbers and lists)."""
    return json.loads(json.dumps(value, default=_json_default))


def dumps(value: Any, secret: str | None = None, indent: int | None = None) -> str:
    """JSON text of `value` with `secret` masked."""
    return json.dumps(masked(json_value(value), secret), indent=indent)


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy arrays and scalars, without importing numpy here
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} value {value!r} cannot be written as JSON")
