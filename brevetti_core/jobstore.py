"""The local platform: job definitions and status under a data root (a folder or an s3:// URI).

Layout: ``<root>/<job_id>/info.json`` is the job definition
``{id, name, settings, datasets: [{id, name, bucket}], remote_url?, complete_url?, host_name?}``;
``<root>/<job_id>/artifacts/`` holds what the job writes, including ``status.json``, which readers here
see through ``liveness``: a "running" job whose process is gone reads as "lost".
The root is ``BREVETTI_DATA_BUCKET`` when set, else ``$XDG_DATA_HOME/brevetti``
(``~/.local/share/brevetti`` when XDG_DATA_HOME is unset).
"""
from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

from .dataset import Dataset
from .io_tools import IoTools, io_tools, is_remote, join
from .liveness import current_status

log = logging.getLogger(__name__)

DATA_ROOT_ENV = "BREVETTI_DATA_BUCKET"


def data_root() -> str:
    """The data root: BREVETTI_DATA_BUCKET, else $XDG_DATA_HOME/brevetti (~/.local/share/brevetti)."""
    root = os.environ.get(DATA_ROOT_ENV)
    if root:
        return root.rstrip("/") if is_remote(root) else os.path.abspath(os.path.expanduser(root))
    xdg = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return os.path.join(xdg, "brevetti")


class JobDefinitionError(ValueError):
    """A job id or job definition (info.json) that cannot be used; the message names it and the problem."""


class JobNotFoundError(JobDefinitionError, FileNotFoundError):
    """No job definition where a job id points."""


def check_job_id(job_id: str) -> str:
    """`job_id` itself when it can name a folder under the data root; JobDefinitionError otherwise."""
    if not isinstance(job_id, str) or not job_id or job_id in (".", "..") or any(c in job_id for c in "/\\"):
        raise JobDefinitionError(
            f"invalid job id {job_id!r}: it names a folder under the data root, "
            "so it cannot be empty, '..', or contain '/' or '\\'"
        )
    return job_id


def job_dir(job_id: str, root: str | None = None) -> str:
    """`<root>/<job_id>`."""
    return join(root or data_root(), check_job_id(job_id))


def definition_path(job_id: str, root: str | None = None) -> str:
    """`<root>/<job_id>/info.json`."""
    return join(job_dir(job_id, root), "info.json")


def status_path(folder: str) -> str:
    """Where a job folder keeps its status: `<job folder>/artifacts/status.json`."""
    return join(folder, "artifacts", "status.json")


def read_definition(path: str, job_id: str | None = None, io: IoTools = io_tools) -> dict:
    """The job definition in `path` (an info.json); errors name the file and the problem."""
    try:
        text = io.read_file(path)
    except FileNotFoundError:
        hint = " (create the job with `brevetti job create`, or check the job id and BREVETTI_DATA_BUCKET)"
        raise JobNotFoundError(f"no job definition at {path}{hint}") from None
    try:
        definition = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise JobDefinitionError(f"job definition {path} is not valid JSON: {error}") from None
    if not isinstance(definition, dict):
        raise JobDefinitionError(f"job definition {path} must be a JSON object, got {type(definition).__name__}")
    if job_id is not None:
        found = definition.setdefault("id", job_id)
        if found != job_id:
            raise JobDefinitionError(f"job definition {path} has id {found!r}, but it was loaded as job {job_id!r}")
    return definition


def write_definition(definition: dict, root: str | None = None, io: IoTools = io_tools) -> str:
    """Write `definition` to `<root>/<id>/info.json`; returns that path."""
    path = definition_path(definition["id"], root)
    io.write_file(path, json.dumps(definition, indent=2))
    return path


def create_job(
    name: str,
    datasets: Iterable[str | os.PathLike | Dataset] = (),
    settings: dict | None = None,
    *,
    root: str | None = None,
    remote_url: str | None = None,
    complete_url: str | None = None,
) -> dict:
    """A new job definition (fresh id) written under the data root; returns the definition.

    Datasets are Dataset objects or folders/URIs, which must exist.
    """
    if settings is not None and not isinstance(settings, dict):
        raise ValueError(f"settings must be a JSON object, got {type(settings).__name__}")
    entries = []
    for given in datasets:
        dataset = given if isinstance(given, Dataset) else Dataset(
            bucket=str(given) if is_remote(given) else os.path.abspath(given))
        if not io_tools.exists(dataset.bucket):
            raise FileNotFoundError(f"dataset {dataset.name!r}: no folder or bucket at {dataset.bucket}")
        entries.append(dataset.model_dump())
    definition = {"id": str(uuid.uuid4()), "name": name, "settings": settings or {}, "datasets": entries}
    definition.update({k: v for k, v in (("remote_url", remote_url), ("complete_url", complete_url)) if v})
    path = write_definition(definition, root)
    log.info("Created job %s (%s) at %s", definition["id"], name, path)
    return definition


def read_status(folder: str, io: IoTools = io_tools) -> dict | None:
    """The job's status record ({"status", "time", "host", "pid", ...}), or None before its first start.

    A "running" record whose process is gone or whose heartbeat is stale reads as "lost", with the reason
    under "lost" (see ``liveness``).
    """
    path = status_path(folder)
    if not io.exists(path):
        return None
    try:
        record = json.loads(io.read_file(path))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"job status {path} is not valid JSON: {error}") from None
    if not isinstance(record, dict):
        raise ValueError(f"job status {path} must be a JSON object, got {type(record).__name__}")
    return current_status(record)


def list_jobs(root: str | None = None) -> list[dict]:
    """Every job under the data root: [{id, name, datasets, status}], sorted by name then id.

    Folders without an info.json are not jobs and are left out; a job whose files cannot be read
    is listed with an "error" entry instead of hiding it or failing the whole listing.
    """
    root = root or data_root()
    if not io_tools.exists(root):
        return []
    jobs = []
    for folder in io_tools.ls(root):
        job_id = folder.rstrip("/").rsplit("/", 1)[-1] if is_remote(folder) else os.path.basename(folder)
        path = join(folder, "info.json")
        if not io_tools.exists(path):
            continue
        try:
            definition = read_definition(path, job_id)
            status = read_status(folder)
        except ValueError as error:
            jobs.append({"id": job_id, "name": "", "datasets": 0, "status": None, "error": str(error)})
            continue
        jobs.append({
            "id": job_id,
            "name": definition.get("name", ""),
            "datasets": len(definition.get("datasets") or ()),
            "status": (status or {}).get("status"),
        })
    return sorted(jobs, key=lambda j: (j["name"], j["id"]))

