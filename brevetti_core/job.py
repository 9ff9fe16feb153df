"""The job context: settings, storage, output record, progress and completion of one training run.

``Job.init()`` finds the job definition (see ``jobstore``), layers its settings under the command
line, and ``job.start()`` runs ``run()`` with a temp folder and the job's artifacts folder at hand.
Status lives in ``artifacts/status.json``: running, then completed, failed or interrupted (Ctrl-C or SIGTERM).
While running it carries the host, pid and a heartbeat, so that readers (`read_status`, ``brevetti job
list/show``, the report) show a job whose process died without a word (SIGKILL, a lost machine) as
``lost`` (see ``liveness``); output.json is rewritten after every epoch the remote monitor records.

Each job reads and writes its files through its own ``job.io`` (an ``IoTools``, so settings such as
its cache root stay with the job); the module-level ``io_tools`` is for code without a job.
What happens around a job's start and end beyond its own files (``artifacts/report.html``, tracking)
is done by job hooks (``job_hooks``), which this module runs without importing them.

``host_name`` (the platform address used for links and for relative ``remote_url`` /
``complete_url``) comes from the job definition, else ``BREVETTI_HOST_NAME``, else the data root
itself (there is no web platform locally, so links point at where the job's files are).
"""
from __future__ import annotations

import copy
import datetime
import difflib
import logging
import os
import posixpath
import re
import shutil
import sys
import uuid
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self
from urllib.parse import quote

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from . import job_hooks, jobstore, rng
from .dataset import Dataset
from .interrupts import interruption_cause, interrupts_deferred, terminate_as_interrupt
from .io_tools import IoTools, is_remote, join
from .job_paths import confined_path
from .liveness import Heartbeat, heartbeat_seconds, this_process, utc_now
from .monitor import RemoteMonitor
from .output import build_output, dumps, environment, json_value
from .platform_backend import PlatformBackend
from .redaction import redact_text, redact_url
from .settings import JobSettings, SettingsError, load_settings, parse_argv, script_argv, script_name, settings_help
from .temp_folder import make_temp_folder, remove_stale_temp_folders

log = logging.getLogger(__name__)

CACHE_ENV = "BREVETTI_CACHE"
OUTPUT_FILE = "output.json"


class JobNotStartedError(PermissionError):
    """The job's storage, output or monitor was used before `start()`."""


class Job(BaseModel):
    """One training run: subclass it, declare `settings: MySettings`, override `run()`, then `MyJob.init().start()`."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    id: str = Field(default_factory=lambda: str(uuid.uuid4()),
                    description="Job id; names its folder under the data root")
    name: str = Field(default="", description="Human-readable job name")
    run_id: str = Field(default_factory=lambda: datetime.datetime.now().strftime("%Y-%m-%dT%H%M%S"))
    settings: JobSettings = Field(default_factory=JobSettings)
    datasets: list[Dataset] = Field(default_factory=list)
    backend: PlatformBackend = Field(default_factory=PlatformBackend, exclude=True, repr=False,
                                     description="The data root the job's folder is under (brevettiai 0.10's form)")
    host_name: str = Field(default_factory=lambda data: (data.get("backend") or PlatformBackend()).host)
    remote_url: str | None = Field(default=None, description="Where the remote monitor POSTs progress")
    complete_url: str | None = Field(default=None, description="Where complete_job() POSTs the model path")
    model_path: str | None = Field(default=None, description="The model package, relative to the job folder")
    api_key: SecretStr | None = Field(default=None, repr=False, exclude=True)

    _job_dir: str = PrivateAttr("")
    _temp_dir_given: str | None = PrivateAttr(None)
    _temp_dir: str | None = PrivateAttr(None)
    _temp_cleanup: weakref.finalize | None = PrivateAttr(None)
    _started: bool = PrivateAttr(False)
    _completed: bool = PrivateAttr(False)
    _metrics: dict = PrivateAttr(default_factory=dict)
    _environment: dict = PrivateAttr(default_factory=dict)
    _seed_mark: int = PrivateAttr(default_factory=rng.ledger_mark)
    _io: IoTools = PrivateAttr(default_factory=IoTools)
    _progress: dict = PrivateAttr(default_factory=lambda: {"epochs_completed": 0, "last_epoch": None})
    _heartbeat: Heartbeat | None = PrivateAttr(None)
    _heartbeat_seconds: float = PrivateAttr(0.0)

    @model_validator(mode="before")
    @classmethod
    def _settings_default(cls, data: Any) -> Any:
        # A subclass that redeclares `settings: MySettings` without a default still gets one.
        if isinstance(data, dict) and "settings" not in data:
            data = {**data, "settings": {}}
        return data

    @field_validator("id")
    @classmethod
    def _id_names_a_folder(cls, value: str) -> str:
        return jobstore.check_job_id(value)

    def model_post_init(self, context: Any) -> None:
        self._job_dir = self.backend.resource_path(self.id)

    # -- creation --------------------------------------------------------------------------------
    @classmethod
    def init(cls, job_id: str | None = None, api_key: str | None = None, *, info_file: str | None = None,
             job_config: dict | None = None, argv: list[str] | None = None, temp_dir: str | None = None,
             io: IoTools | None = None, backend: PlatformBackend | None = None,
             cache_path: str | None = None, **kw: Any) -> Self:
        """The job to run, with its settings from class defaults < job definition < `kw['settings']` < argv.

        `job_id`, `api_key` and `info_file` come from the arguments, else from ``--job_id`` (or brevettiai's
        ``--model_id`` / ``--test_id``), ``--api_key`` and ``--info_file`` in argv (default ``sys.argv[1:]``).
        The definition is `job_config`, else `info_file`, else ``<data root>/<job_id>/info.json``; with no job id at all
        a new local job is created (its info.json written under the data root). Other keywords
        override fields of the definition (``name=``, ``datasets=``, ``settings=``...); a new local job's
        info.json records them (argv overrides are per run and are recorded in output.json only).
        `temp_dir` is a folder of yours to use as the temp folder (kept after the job); `cache_path` is
        brevettiai's name for it. `io` is the job's file access, used for all of its files (default: a new
        `IoTools` of its own). `backend` (brevettiai 0.10's ``PlatformBackend(data_bucket=...)``) names
        the data root instead of BREVETTI_DATA_BUCKET.
        """
        if temp_dir is not None and cache_path is not None:
            raise ValueError("Job.init: give temp_dir or cache_path (brevettiai's name for it), not both")
        temp_dir = temp_dir if temp_dir is not None else cache_path
        heartbeat_seconds()  # a wrong BREVETTI_HEARTBEAT_SECONDS fails here, before any job folder is written
        try:
            return cls._init(job_id, api_key, info_file, job_config, argv, temp_dir, io, backend, kw)
        except (SettingsError, jobstore.JobDefinitionError) as error:
            if argv is not None or not _running_a_script():
                raise
            # The bad input came from the script's command line: answer like a command-line tool, in one line.
            sys.stderr.write(f"{script_name(cls.__name__)}: error: {error}\n")
            raise SystemExit(2) from None

    @classmethod
    def _init(cls, job_id: str | None, api_key: str | None, info_file: str | None, job_config: dict | None,
              argv: list[str] | None, temp_dir: str | None, io: IoTools | None, backend: PlatformBackend | None,
              kw: dict[str, Any]) -> Self:
        argv = _job_id_flags(script_argv() if argv is None else list(argv), cls._settings_class())
        if "--help" in argv or "-h" in argv:
            cls._print_help()
        job_args, overrides = parse_argv(argv)
        job_id = job_id or job_args.get("job_id")
        api_key = api_key or job_args.get("api_key")
        info_file = info_file or job_args.get("info_file")
        backend = backend if backend is not None else PlatformBackend()
        root = backend.data_bucket
        io = io if io is not None else IoTools()
        new_job = False
        if job_config is not None:
            definition, source = dict(job_config), "job_config"
            if job_id:
                definition["id"] = job_id
        elif info_file:
            definition, source = jobstore.read_definition(str(info_file), job_id, io), str(info_file)
        elif job_id:
            source = jobstore.definition_path(job_id, root)
            definition = jobstore.read_definition(source, job_id, io)
        else:
            new_job = True
            definition = {"id": str(uuid.uuid4()), "name": f"{cls.__name__} (local)", "settings": {}, "datasets": []}
            source = jobstore.definition_path(definition["id"], root)

        settings_cls = cls._settings_class()
        layers = [(definition.get("settings"), source)]
        given_settings = kw.pop("settings", None)
        if isinstance(given_settings, BaseModel):
            given_settings = given_settings.model_dump()
        if given_settings is not None:
            layers.append((given_settings, f"{cls.__name__}.init(settings=...)"))
        definition.update(kw)
        definition["settings"] = load_settings(settings_cls, layers, overrides)
        definition["backend"] = backend
        if api_key:
            definition["api_key"] = api_key
        job = cls._from_definition(definition, source)
        job._io = io
        job._temp_dir_given = os.fspath(temp_dir) if temp_dir is not None else None
        if new_job:
            given = set(definition) - {"settings", "api_key", "backend"}
            settings_record = json_value(given_settings or {})
            record = {**job.model_dump(mode="json", include=given), "settings": settings_record}
            jobstore.write_definition(record, root, io)
            log.info("Created local job %s at %s", job.id, job.job_dir)
        log.info("%s %s initialized", cls.__name__, job.id)
        return job

    @classmethod
    def _print_help(cls) -> None:
        """Print the job's settings (names, types, defaults, descriptions) and exit 0; no job is created."""
        sys.stdout.write(settings_help(cls._settings_class(), script_name(cls.__name__), cls.__name__))
        raise SystemExit(0)

    @classmethod
    def _settings_class(cls) -> type[JobSettings]:
        settings_cls = cls.model_fields["settings"].annotation
        if not (isinstance(settings_cls, type) and issubclass(settings_cls, JobSettings)):
            raise TypeError(f"{cls.__name__}.settings must be annotated with a JobSettings subclass, "
                            f"got {settings_cls!r}")
        return settings_cls

    @classmethod
    def _from_definition(cls, definition: dict, source: str) -> Self:
        try:
            return cls.model_validate(definition)
        except ValidationError as error:
            problems = []
            for e in error.errors():
                where = ".".join(str(p) for p in e["loc"])
                if e["type"] == "extra_forbidden":
                    close = difflib.get_close_matches(where, list(cls.model_fields), n=2)
                    if close:
                        hint = f"; did you mean {' or '.join(map(repr, close))}?"
                    else:
                        hint = f"; known fields: {', '.join(cls.model_fields)}"
                    problems.append(f"unknown field '{where}'{hint}")
                else:
                    problems.append(f"field '{where}': {e['msg']}")
            raise ValueError(f"job definition {source}: " + "; ".join(problems)) from None

    # -- properties ------------------------------------------------------------------------------
    @property
    def io(self) -> IoTools:
        """This job's file access (one `IoTools` per job: its cache root is the job's own)."""
        return self._io

    @property
    def seed_mark(self) -> int:
        """The seed-ledger position when this job was made: output.json lists the seeds resolved since."""
        return self._seed_mark

    @property
    def job_dir(self) -> str:
        """`<data root>/<id>`: the job's folder (local path or s3:// URI)."""
        return self._job_dir

    def read_status(self) -> dict | None:
        """This job's status record as readers see it ("lost" when its process is gone); None before any start."""
        return jobstore.read_status(self.job_dir, self.io)

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self, complete: bool = True, *, complete_job: bool | None = None,
              resolve_access_rights: bool = True) -> Any:
        """Set up storage, write output.json, call `run()`, then `complete_job(<run's result>)` if `complete`.

        Returns what `run()` returned. On an exception the status becomes "failed" (KeyboardInterrupt,
        Ctrl-C or SIGTERM: "interrupted"), output.json is rewritten, the temp folder removed, the job
        hooks run and the exception propagates (SIGTERM as `JobInterrupted`, a KeyboardInterrupt).
        brevettiai 0.10's keywords are accepted: `complete_job` is its name for `complete`, and
        `resolve_access_rights` changes nothing, since storage access comes from the environment
        (AWS variables, BREVETTI_S3_ENDPOINT) rather than from platform credentials.
        """
        if complete_job is not None:
            complete = complete_job
        if self._completed:
            raise RuntimeError(f"job {self.id} is already completed; call {type(self).__name__}.init() for a new run")
        self._heartbeat_seconds = heartbeat_seconds()  # a wrong setting fails here, before any status is written
        self._started = True
        self._environment = environment(type(self))
        with terminate_as_interrupt():
            try:
                self._make_temp_dir()
                self._write_status("running")
                self.upload_job_output()
                job_hooks.fire(self, job_hooks.START_EVENT)
                result = self.run()
                if complete:
                    self.complete_job(result)
            except KeyboardInterrupt as interruption:
                self._stop("interrupted", interruption)
                raise
            except BaseException as error:
                self._stop("failed", error)
                raise
        return result

    def run(self) -> str | None:
        """The job's work; override it. Returns the path of a model package to record, or None."""
        return None

    def complete(self, package_path: str | os.PathLike | None = None) -> str | None:
        """brevettiai 0.10's name for `complete_job`."""
        return self.complete_job(package_path)

    def check_started(self, raise_error: bool = True) -> bool:
        """True once `start()` was called; before that a JobNotStartedError (a PermissionError), or False."""
        if not self._started and raise_error:
            self._require_started("check_started", call=False)
        return self._started

    def complete_job(self, package_path: str | os.PathLike | None = None) -> str | None:
        """Record the model package (inside the job folder), rewrite output.json, mark the job completed.

        Removes the automatic temp folder, runs the job hooks (report.html) and POSTs to `complete_url`
        when the definition has one. Returns the package path relative to the job folder (or None).
        """
        self._require_started("complete_job")
        if self._completed:
            raise RuntimeError(f"job {self.id} is already completed")
        if package_path is not None:
            if not isinstance(package_path, (str, os.PathLike)):
                raise TypeError(
                    f"the model package must be a path (what run() returns is recorded as one), got {package_path!r}"
                )
            self.model_path = self._relative_to_job_dir(os.fspath(package_path))
        self.upload_job_output()
        self._remove_temp_dir()
        self._write_status("completed")
        self._completed = True
        job_hooks.fire(self, "completed")
        log.info("Job %s completed", self.id)
        if self.complete_url:
            self._notify_completion()
        return self.model_path

    # -- storage ---------------------------------------------------------------------------------
    def artifact_path(self, *parts: str, dir: bool = False) -> str:
        """`<job folder>/artifacts/<parts>`; creates the folder (`dir=True`) or the parent folder (local roots).

        Parts that leave the artifacts folder are refused: ``..``, absolute parts, and (local roots) symlinks
        inside the folder that point out of it.
        """
        self._require_started("artifact_path")
        return confined_path(join(self.job_dir, "artifacts"), parts, dir, "artifact_path")

    @property
    def artifacts_path(self) -> Path:
        """brevettiai 0.10's path object for `<job folder>/artifacts` (created); a local data root only.

        Refused before `start()` like `artifact_path()`. On object storage use `artifact_path(...)` and `job.io`.
        """
        self._require_started("artifacts_path", call=False)
        if is_remote(self.job_dir):
            raise ValueError(f"job {self.id}: artifacts_path is a local path object, but the job folder is "
                             f"{self.job_dir}; use job.artifact_path(...) with job.io on object storage")
        return Path(self.artifact_path(dir=True))

    def upload_artifact(self, artifact_name: str | Sequence[str], payload: str | bytes | os.PathLike,
                        is_file: bool = False) -> str:
        """Write `payload` (or copy the file it names, `is_file`) to `artifact_path(*artifact_name)`; returns the path.

        brevettiai 0.5's call; `artifact_name` is a name or a sequence of path parts.
        """
        parts = (artifact_name,) if isinstance(artifact_name, str) else tuple(artifact_name)
        path = self.artifact_path(*parts)
        if is_file:
            if isinstance(payload, bytes):
                raise TypeError(f"upload_artifact({artifact_name!r}): is_file=True takes a file path, got bytes")
            self.io.copy(payload, path)
        elif isinstance(payload, (str, bytes)):
            self.io.write_file(path, payload)
        else:
            raise TypeError(f"upload_artifact({artifact_name!r}): content must be str or bytes "
                            f"(a file to copy needs is_file=True), got {type(payload).__name__}")
        return path

    def temp_path(self, *parts: str, dir: bool = False) -> str:
        """`<temp folder>/<parts>`, a local folder made at start; creates the folder or the parent folder."""
        self._require_started("temp_path")
        if self._temp_dir is None:
            raise RuntimeError(f"job {self.id} is completed and its temporary folder was removed")
        return confined_path(self._temp_dir, parts, dir, "temp_path")

    # -- output ----------------------------------------------------------------------------------
    def add_output_metric(self, key: str, value: Any) -> None:
        """Record a metric for output.json (written on `upload_job_output()` and at completion)."""
        self._require_started("add_output_metric")
        try:
            self._metrics[str(key)] = json_value(value)
        except TypeError as error:
            raise TypeError(f"output metric {key!r}: {error}") from None

    def add_output_metrics(self, metrics: Mapping[str, Any]) -> None:
        """Record several metrics at once."""
        for key, value in metrics.items():
            self.add_output_metric(key, value)

    def upload_job_output(self) -> str:
        """Write output.json to the artifacts in one atomic step; returns 'artifacts/output.json'."""
        self._require_started("upload_job_output")
        path = self.artifact_path(OUTPUT_FILE)
        record = build_output(self, self._metrics, self._environment, self._progress, self._secret())
        log.debug("Uploading %s to %s", OUTPUT_FILE, path)
        self.io.write_file(path, dumps(record, indent=2))
        return f"artifacts/{OUTPUT_FILE}"

    def get_remote_monitor(self) -> RemoteMonitor:
        """A monitor writing artifacts/progress.jsonl (and output.json, after each epoch), POSTing to
        host_name + remote_url when that is set."""
        self._require_started("get_remote_monitor")
        url = _url(self.host_name, self.remote_url) if self.remote_url else None
        return JobMonitor(self, self.artifact_path("progress.jsonl"), url)

    def record_epoch(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        """Count a completed epoch and rewrite output.json with it (the job's monitor calls this after each epoch).

        So a job killed outright (SIGKILL) loses at most the epoch it was in.
        """
        self._require_started("record_epoch")
        self._progress = {"epochs_completed": self._progress["epochs_completed"] + 1,
                          "last_epoch": json_value({"epoch": int(epoch), **(logs or {})})}
        self.upload_job_output()

    # -- internals -------------------------------------------------------------------------------
    def __repr_args__(self):
        # URLs in the definition may carry credentials (as platform URLs do).
        for name, value in super().__repr_args__():
            yield name, redact_text(value) if isinstance(value, str) else value

    def _secret(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key else None

    def _require_started(self, what: str, call: bool = True) -> None:
        if not self._started:
            raise JobNotStartedError(
                f"{what}{'()' if call else ''} needs a started job: call job.start() first "
                "(it sets up storage and calls run())"
            )

    def _make_temp_dir(self) -> None:
        if self._temp_dir is not None:
            return
        given = self._temp_dir_given or os.environ.get(CACHE_ENV)
        if given:
            self._temp_dir = os.path.abspath(given)
            os.makedirs(self._temp_dir, exist_ok=True)
            return
        remove_stale_temp_folders()
        self._temp_dir = make_temp_folder(self.id)
        # Also removed when the job object is collected or the interpreter exits without completion.
        self._temp_cleanup = weakref.finalize(self, shutil.rmtree, self._temp_dir, True)

    def _remove_temp_dir(self) -> None:
        if self._temp_cleanup is not None:
            self._temp_cleanup()
            self._temp_cleanup = None
            self._temp_dir = None

    def _write_status(self, status: str, error: BaseException | None = None) -> None:
        """Write status.json; "running" starts the heartbeat, and every write stops the previous one first."""
        record = {"status": status, "job_id": self.id, "run_id": self.run_id, "time": utc_now(), **this_process()}
        if isinstance(error, KeyboardInterrupt):
            record["interrupted_by"] = interruption_cause(error)
        elif error is not None:
            record["error"] = redact_text(f"{type(error).__name__}: {error}", self._secret())
        if self._heartbeat is not None:
            self._heartbeat.stop()  # no beat lands after this, so the record written below has the last word
            self._heartbeat = None
        path = jobstore.status_path(self.job_dir)
        if status == "running":
            seconds = self._heartbeat_seconds
            record.update(heartbeat=record["time"], heartbeat_seconds=seconds)
            # Its own copy of the job's file access: a fork (DataLoader workers) while a beat holds the job's
            # IoTools lock would leave that lock held forever in the child.
            beat_io = copy.copy(self.io)
            self._heartbeat = Heartbeat(lambda: beat_io.write_file(path, dumps({**record, "heartbeat": utc_now()},
                                                                               indent=2)),
                                        seconds, name=f"heartbeat of job {self.id}")
        self.io.write_file(path, dumps(record, indent=2))
        if self._heartbeat is not None:
            self._heartbeat.start()
            # A job nobody holds any more cannot end itself: let its heartbeat stop, so that readers see it lost.
            weakref.finalize(self, self._heartbeat.stop)

    def _stop(self, status: str, error: BaseException) -> None:
        """End the job as `status` (failed, interrupted): status, output, temp folder, hooks; never hides `error`."""
        if self._completed:
            return  # interrupted while its completion hooks ran: it stays completed
        cause = f" ({interruption_cause(error)})" if isinstance(error, KeyboardInterrupt) else ""
        log.warning("Job %s %s%s", self.id, status, cause)
        for what, write in (("status", lambda: self._write_status(status, error)), ("output", self.upload_job_output)):
            try:
                write()
            except Exception as problem:  # the job's own error is what propagates; readers will see it as lost
                log.error("Job %s: could not record its %s %s: %s", self.id, status, what, problem)
        self._remove_temp_dir()
        job_hooks.fire(self, status)

    def _relative_to_job_dir(self, path: str) -> str:
        outside = ValueError(
            f"model package {path} is outside the job folder {self.job_dir}: "
            f"write it under job.artifact_path(...) and pass that path"
        )
        if is_remote(self.job_dir) or is_remote(path):
            prefix = self.job_dir.rstrip("/") + "/"
            relative = path[len(prefix):] if path.startswith(prefix) else None
            if relative is None or ".." in relative.split("/") or not relative.strip("/"):
                raise outside
            relative = posixpath.normpath(relative)
        else:
            folder, target = os.path.realpath(self.job_dir), os.path.realpath(path)
            if target == folder or os.path.commonpath([folder, target]) != folder:
                raise outside
            relative = os.path.relpath(target, folder).replace(os.sep, "/")
        if not self.io.exists(path):
            raise FileNotFoundError(f"model package {path} does not exist")
        return relative

    def _notify_completion(self) -> None:
        import requests

        url = _url(self.host_name, self.complete_url or "") + quote(self.model_path or "")
        try:
            response = requests.post(url, timeout=30)
            response.raise_for_status()
            log.info("Platform notified of completion: %s", redact_url(url))
        except (requests.RequestException, ValueError) as error:
            log.warning("%s", redact_text(f"could not notify completion at {url}: {error}", self._secret()))


def _job_id_flags(argv: list[str], settings_cls: type[JobSettings]) -> list[str]:
    """`argv` with brevettiai's ``--model_id`` / ``--test_id`` (its names for the job id) as ``--job_id``.

    A settings field of that name keeps its flag.
    """
    aliases = {f"--{name}{sep}" for name in ("model_id", "test_id") if name not in settings_cls.model_fields
               for sep in ("", "=")}
    renamed = []
    for token in argv:
        name, sep, value = token.partition("=")
        renamed.append(f"--job_id{sep}{value}" if name + sep in aliases else token)
    return renamed


def _url(host: str, path: str) -> str:
    if re.match(r"^[a-z][a-z0-9+.-]*://", path):
        return path
    return host.rstrip("/") + "/" + path.lstrip("/")


class JobMonitor(RemoteMonitor):
    """The job's remote monitor: after each epoch's progress record, the job rewrites output.json."""

    def __init__(self, job: Job, progress_path: str, url: str | None):
        super().__init__(progress_path, url, io=job.io, secret=job._secret(), job=job)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Append the epoch to progress.jsonl (and POST it), then record it in output.json.

        Ctrl-C or SIGTERM during these writes takes effect once both agree on the epochs completed.
        """
        with interrupts_deferred():
            super().on_epoch_end(epoch, logs)
            self.job.record_epoch(epoch, logs)


def _running_a_script() -> bool:
    """Whether this process runs a script file or module, not a notebook, a REPL or ``python -c``."""
    return getattr(sys.modules.get("__main__"), "__file__", None) is not None
