"""`brevetti job create|run|show|list`: job definitions under the data root (BREVETTI_DATA_BUCKET).

``brevetti job run ID -- python train.py --epochs 3`` runs a job script on the job ``create`` made:
the command gets ``--job_id ID`` after its own arguments (every ``Job.init()`` reads it), its exit
status is the command's, and the job's status is printed when it ends.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys

from .. import jobstore
from ..io_tools import io_tools, join
from ..liveness import LOST
from ..redaction import REDACTED, redact_values
from ..tracking.lost import end_lost_run
from .main import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("job", help="create, show and list jobs under the data root")
    commands = parser.add_subparsers(dest="job_command", required=True)

    create = commands.add_parser(
        "create", help="write a new job definition and print its id",
        description="Writes <data root>/<new id>/info.json (name, datasets, settings) and prints the new job's id; "
                    "run a job script on it with 'brevetti job run ID -- python train.py'.")
    create.add_argument("--name", required=True, help="job name")
    create.add_argument("--dataset", action="append", default=[], metavar="PATH_OR_URI",
                        help="a dataset folder or s3:// URI (repeat for several)")
    create.add_argument("--settings", metavar="JSON", help="the job's settings as a JSON object")
    create.add_argument("--remote-url", help="where the remote monitor POSTs progress")
    create.add_argument("--complete-url", help="where completion is POSTed")
    create.set_defaults(func=create_job)

    run = commands.add_parser(
        "run", help="run a job script on a job made with 'job create'",
        description="Runs COMMAND (a job script: a program whose Job subclass calls Job.init()) on the job ID, "
                    "by appending --job_id ID to its arguments, and prints the job's status when it ends. "
                    "Settings given to the script (--epochs 3) override the job definition's for this run.",
        epilog="example: brevetti job run 3f2a... -- python train.py --epochs 3")
    run.add_argument("job_id", metavar="ID", help="the job's id (as 'job create' printed it)")
    run.add_argument("script", nargs=argparse.REMAINDER, metavar="-- COMMAND ...",
                     help="the job script to run, after '--' (e.g. -- python train.py)")
    run.set_defaults(func=run_job)

    show = commands.add_parser(
        "show", help="print a job's definition, status and artifacts",
        description="Prints the job's definition (api key and URL credentials hidden), its status (a running job "
                    "whose process is gone reads 'lost'; its MLflow run is then ended as KILLED) and its artifacts.")
    show.add_argument("job_id", metavar="ID", help="the job's id")
    show.set_defaults(func=show_job)

    listing = commands.add_parser(
        "list", help="list the jobs under the data root",
        description="One line per job under the data root (BREVETTI_DATA_BUCKET): id, status, datasets, name. A "
                    "running job whose process is gone reads 'lost', and its MLflow run is then ended as KILLED.")
    listing.set_defaults(func=list_jobs)


def create_job(args: argparse.Namespace) -> int:
    """Write the definition and print the new job's id."""
    settings = None
    if args.settings is not None:
        try:
            settings = json.loads(args.settings)
        except json.JSONDecodeError as error:
            raise UsageError(f"--settings is not valid JSON: {error}") from None
        if not isinstance(settings, dict):
            raise UsageError(f"--settings must be a JSON object, got {type(settings).__name__}")
    definition = jobstore.create_job(args.name, args.dataset, settings,
                                     remote_url=args.remote_url, complete_url=args.complete_url)
    print(definition["id"])
    return 0


def run_job(args: argparse.Namespace) -> int:
    """Run the command on the job (its exit status is ours) and print the job's status afterwards."""
    command = args.script[1:] if args.script[:1] == ["--"] else args.script
    if not command:
        raise UsageError("job run needs the command to run after '--', e.g. brevetti job run ID -- python train.py")
    if "--job_id" in command or any(part.startswith("--job_id=") for part in command):
        raise UsageError("job run gives the command --job_id itself; leave it out of the command")
    jobstore.read_definition(jobstore.definition_path(args.job_id), args.job_id)  # the job exists, else a clear error
    try:
        process = subprocess.Popen([*command, "--job_id", args.job_id])
    except OSError as error:
        raise UsageError(f"cannot run {command[0]!r}: {error}") from None
    # A SIGTERM to us (a scheduler stopping the run) goes on to the job, which marks itself interrupted.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: process.send_signal(signum))
    try:
        code = _wait(process)
    finally:
        signal.signal(signal.SIGTERM, previous)
    status = jobstore.read_status(jobstore.job_dir(args.job_id))
    print(f"job {args.job_id}: {describe_status(status)}", file=sys.stderr)
    return code


def _wait(process: subprocess.Popen) -> int:
    """The exit status of `process`; Ctrl-C reaches it too (same process group), so we wait for its own end."""
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            continue


def show_job(args: argparse.Namespace) -> int:
    """Print the definition (api key and URL credentials hidden), the status and the artifact listing; the MLflow run
    of a lost job is ended as KILLED."""
    path = jobstore.definition_path(args.job_id)
    definition = redact_values(jobstore.read_definition(path, args.job_id))
    if definition.get("api_key"):
        definition["api_key"] = REDACTED
    print(json.dumps(definition, indent=2))
    folder = jobstore.job_dir(args.job_id)
    status = jobstore.read_status(folder)
    end_lost_run(folder, status)
    print(f"status: {describe_status(status)}")
    artifacts = join(folder, "artifacts")
    found = io_tools.find(artifacts, detail=True) if io_tools.exists(artifacts) else {}
    print(f"artifacts ({len(found)} files in {artifacts}):")
    for file, info in sorted(found.items()):
        print(f"  {_relative(file, artifacts)}  {info.get('size', 0)} bytes")
    return 0


def list_jobs(args: argparse.Namespace) -> int:
    """One line per job: id, status, dataset count, name; the MLflow run of a lost job is ended as KILLED."""
    root = jobstore.data_root()
    jobs = jobstore.list_jobs(root)
    if not jobs:
        print(f"no jobs under {root}")
    for job in jobs:
        if job.get("status") == LOST:
            folder = jobstore.job_dir(job["id"], root)
            end_lost_run(folder, jobstore.read_status(folder))
        if "error" in job:
            print(f"{job['id']}  unreadable: {job['error']}")
        else:
            print(f"{job['id']}  {job['status'] or 'not started':<11}  {job['datasets']} dataset(s)  {job['name']}")
    return 0


def describe_status(status: dict | None) -> str:
    """A status record as one line: "running (since ..., pid 12 on host)", "lost (process 12 on host is gone)"."""
    if status is None:
        return "not started"
    state = status.get("status") or "unknown"
    if state == "lost":
        detail = status.get("lost", "")
    elif state == "running":
        detail = f"since {status.get('time', '?')}, pid {status.get('pid', '?')} on {status.get('host', '?')}"
    else:
        detail = status.get("time", "")
    extra = status.get("error") or (f"by {status['interrupted_by']}" if status.get("interrupted_by") else "")
    return f"{state} ({detail})" + (f": {extra}" if extra else "")


def _relative(path: str, folder: str) -> str:
    return path[len(folder.rstrip("/")) + 1:] if "://" in folder else os.path.relpath(path, folder)
