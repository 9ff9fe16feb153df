"""`brevetti demo`: the vials classifier trained in PyTorch, then in TensorFlow, on identical batches.

Generates the vials dataset under ``<data root>/datasets/vials`` when it is absent, runs
`VialsJob` once per framework (extra flags are the job's settings: ``--epochs 3``,
``--data.batch_size 8``; ``--framework tf`` runs that framework only), then prints both runs'
split, per-batch fingerprints side by side, accuracies and wall times. With ``MLFLOW_TRACKING_URI`` set,
each run is an MLflow run too (``brevetti_core.tracking``) and their pages are printed.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import tempfile
import textwrap
import time
from dataclasses import dataclass
from typing import Any

from brevetti_core import jobstore
from brevetti_core.cli.main import UsageError
from brevetti_core.dataset import Dataset
from brevetti_core.io_tools import io_tools, is_remote, join
from brevetti_core.settings import load_settings, parse_argv
from brevetti_core.settings.help import argv_heading, settings_listing
from brevetti_core.tracking import compare_url, read_record

from .job import FINGERPRINTS_FILE, TRAINERS, VialsJob, VialsSettings
from .vials import generate_vials

DATASET = ("datasets", "vials")
VIALS: dict[str, Any] = {"items_per_class": 40, "shots_per_item": 3, "duplicates": 3, "seed": 0}
"""generate_vials arguments of the demo dataset: 40 vials a class keep ~24 vials per class out for devel."""
SHOWN_BATCHES = 6
WRITABLE_HINT = "point BREVETTI_DATA_BUCKET at a folder you can write: export BREVETTI_DATA_BUCKET=$HOME/brevetti"


@dataclass
class Run:
    """One finished VialsJob and what the comparison needs from its artifacts."""

    framework: str
    job: VialsJob
    seconds: float
    output: dict
    fingerprints: dict
    tracking: dict | None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="train the vials classifier in PyTorch and TensorFlow on identical data and compare",
        description=textwrap.fill(
            "Generates the vials dataset under <data root>/datasets/vials if absent, runs the VialsJob with "
            "--framework torch and then tf, and compares the runs. Extra flags set the job's settings, e.g. "
            "--epochs 3 --data.batch_size 8; --framework tf runs one framework only. With MLFLOW_TRACKING_URI set, "
            "both runs are recorded in MLflow and their pages printed.", width=100),
        usage="brevetti demo [-h] [--SETTING VALUE ...]",
        epilog=settings_listing(VialsSettings, argv_heading("VialsJob")),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=run_demo, accepts_extra=True)


def run_demo(args: argparse.Namespace) -> int:
    """Generate the data if needed, train in each framework, print the comparison; 1 if the batches differ."""
    started = time.perf_counter()
    # Read by TensorFlow when the tf run loads it: no C++ info lines, and the documented defaults.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    frameworks = _frameworks(args.extra)
    for framework in frameworks:
        check_installed(framework)
    dataset = ensure_dataset(jobstore.data_root())
    runs = []
    for framework in frameworks:
        print(f"== training in {framework} ...", flush=True)
        runs.append(run_job(framework, args.extra, dataset))
    print()
    print(compare(runs, dataset))
    print(f"\ntotal wall time {time.perf_counter() - started:.1f} s")
    return 0 if _identical(runs) else 1


def _frameworks(extra: list[str]) -> list[str]:
    """The frameworks to run: the one --framework names, else both; checks every setting before any work."""
    _, overrides = parse_argv(extra)
    settings = load_settings(VialsSettings, [], overrides)
    chosen = any(o.path == "framework" for o in overrides)
    return [settings.framework] if chosen else list(TRAINERS)


def check_installed(framework: str) -> None:
    """UsageError with the install command when `framework`'s package cannot be found.

    Looked up, not imported: in one process torch must load before TensorFlow (see
    ``brevetti_demo.torch_trainer``), and the torch run comes first.
    """
    if importlib.util.find_spec(TRAINERS[framework][1]) is None:
        raise UsageError(f"framework {framework!r} is not installed; install it with: "
                         f"pip install -c constraints.txt -e \".[{framework}]\"   (or run `make demo`, "
                         f"which installs everything)")


def ensure_dataset(root: str) -> str:
    """`<root>/datasets/vials`, generated first when absent; UsageError when the root cannot be written."""
    target = join(root, *DATASET)
    try:
        if io_tools.exists(target):
            return target
        if is_remote(target):
            with tempfile.TemporaryDirectory(prefix="brevetti-vials-") as folder:
                io_tools.copy(_generate(os.path.join(folder, "vials")), target)
            return target
        parent = os.path.dirname(target)
        os.makedirs(parent, exist_ok=True)
        # Generated beside the target and renamed into place, so an interrupted run leaves no half dataset.
        partial = tempfile.mkdtemp(prefix=".vials-partial-", dir=parent)
        try:
            os.replace(_generate(os.path.join(partial, "vials")), target)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    except OSError as error:  # PermissionError, NotADirectoryError, a read-only file system...
        raise UsageError(f"cannot write the demo dataset to {target} ({error}); {WRITABLE_HINT}") from None
    return target


def _generate(folder: str) -> str:
    print(f"== generating the vials dataset ({VIALS['items_per_class']} vials a class) ...", flush=True)
    generate_vials(folder, **VIALS)
    return folder


def run_job(framework: str, extra: list[str], dataset: str) -> Run:
    """Run VialsJob in `framework` on `dataset` (extra argv as its settings) and read back its artifacts."""
    # The last --framework wins, so this one overrides any in `extra`.
    job = VialsJob.init(argv=[*extra, "--framework", framework], name=f"vials demo ({framework})",
                        datasets=[Dataset(name="vials", bucket=dataset)])
    started = time.perf_counter()
    job.start()
    seconds = time.perf_counter() - started
    artifacts = join(job.job_dir, "artifacts")
    output = json.loads(io_tools.read_file(join(artifacts, "output.json")))
    fingerprints = json.loads(io_tools.read_file(join(artifacts, FINGERPRINTS_FILE)))
    return Run(framework, job, seconds, output.get("output", {}), fingerprints, read_record(job.job_dir))


def compare(runs: list[Run], dataset: str) -> str:
    """The side-by-side report of the runs: split, fingerprints, metrics, wall times and artifacts."""
    names = [run.framework for run in runs]
    lines = [f"dataset  {dataset}", "", "split (by vial id; cached per job in artifacts/split_ids.csv):"]
    for run in runs:
        lines.append(f"  {run.framework:<6} " + "  ".join(
            f"{purpose} {sum(counts.values())} ({', '.join(f'{k} {v}' for k, v in counts.items())})"
            for purpose, counts in run.output.get("split", {}).items()))
    lines += ["", "per-batch fingerprints (SHA-256 of the arrays each model was given; first 16 hex digits):",
              f"  {'batch':<25}" + "".join(f"{name:<18}" for name in names)]
    for purpose in ("train", "devel"):
        rows = [run.fingerprints.get(purpose, []) for run in runs]
        for index in range(min(SHOWN_BATCHES, max(map(len, rows)))):
            cells = [row[index] if index < len(row) else None for row in rows]
            label = next(f"{purpose} epoch {c[0]} batch {c[1]}" for c in cells if c)
            digests = [c[2][:16] if c else "-" for c in cells]
            mark = "same" if len(set(digests)) == 1 and len(runs) > 1 else ""
            lines.append(f"  {label:<25}" + "".join(f"{d:<18}" for d in digests) + mark)
        lines.append(f"  ... {max(map(len, rows))} {purpose} batches in all")
    if len(runs) > 1:
        verdict = "IDENTICAL" if _identical(runs) else "DIFFERENT"
        lines.append(f"  every batch: {verdict} (digests " + ", ".join(
            f"{run.framework} {run.fingerprints.get('digest', '')[:16]}" for run in runs) + ")")
    lines += ["", "                  " + "".join(f"{name:>12}" for name in names)]
    for key in ("devel_accuracy", "devel_loss", "train_accuracy", "train_loss", "epochs_completed"):
        lines.append(f"  {key:<16}" + "".join(_cell(run.output.get(key)) for run in runs))
    lines.append(f"  {'wall time (s)':<16}" + "".join(_cell(run.seconds) for run in runs))
    lines += ["", "artifacts:"] + [f"  {run.framework:<6} {join(run.job.job_dir, 'artifacts')}" for run in runs]
    lines += _mlflow_lines(runs)
    return "\n".join(line.rstrip() for line in lines)


def _mlflow_lines(runs: list[Run]) -> list[str]:
    """The MLflow run of each job (its UI page on a tracking server) and the page comparing them."""
    records = [(run.framework, run.tracking) for run in runs if run.tracking and run.tracking.get("mlflow")]
    if not records:
        return []
    lines = ["", "MLflow runs:"]
    for framework, record in records:
        mlflow = record["mlflow"]
        where = mlflow["run_url"] or f"run {mlflow['run_id']} in {mlflow['tracking_uri']}"
        lines.append(f"  {framework:<6} {where}")
    compare = compare_url(record for _, record in records)
    if compare:
        lines.append(f"  compare {compare}")
    return lines


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:>12.3f}"
    return f"{value if value is not None else '-':>12}"


def _identical(runs: list[Run]) -> bool:
    seen = [(run.fingerprints.get("train"), run.fingerprints.get("devel")) for run in runs]
    return all(batches == seen[0] for batches in seen)
