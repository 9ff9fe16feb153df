"""`brevetti fingerprint JOB_OR_CONFIG`: one SHA-256 per batch, to prove two runs see the same data.

JOB_OR_CONFIG is a JSON file holding a DataSettings block, or the id of a job under the data root.
For a job that ran (``brevetti demo``'s jobs, say) the block is its effective ``data`` setting from
artifacts/output.json, else ``settings["data"]`` of its definition; its datasets are the job's unless
the block names some, and a job's boolean ``augment`` setting (the demo's) says whether the batches
are augmented. The batches are built in the chosen framework and converted back to numpy; each hash
covers what identifies the data and nothing machine-specific: the images (and masks when present),
the one-hot labels and the sample ids (``etag``, a content hash), never paths. The split is
recomputed from ``data.split`` (seeded), not read from a job's cached split file. ``--save`` writes a
golden file; ``--check`` compares with one and exits 1 naming the first batches that differ, so CI
can compare frameworks, library versions and machines.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import logging
import os
import platform
from collections.abc import Iterator
from typing import Any

import numpy as np
import PIL

from .. import __version__, jobstore
from ..adapters import get_adapter, registered_adapters
from ..batching import fingerprint
from ..data_settings import DataSettings
from ..dataset import Dataset
from ..io_tools import io_tools, is_remote, join
from ..settings.help import settings_listing
from .main import UsageError

log = logging.getLogger(__name__)

FINGERPRINTED = ("img", "segmentation", "onehot", "etag")
"""The batch values a fingerprint covers, when present: images, masks, labels and sample ids."""
LISTED_DIFFERENCES = 5
CONFIG_EXAMPLE = {"datasets": ["/data/vials"], "classes": ["good", "missing_cap", "failed_cap"],
                  "split": {"stratification": ["folder"], "uniqueness": "/(\\d+)_\\d+\\.bmp$", "split": 0.8, "seed": 0},
                  "batch_size": 16, "seed": 0, "image": {"target_size": [64, 64], "rescale": "imagenet"},
                  "augmentation": {}}


def config_help() -> str:
    """The --help epilog: the config file's format, an example and every key with its type and default."""
    example = json.dumps(CONFIG_EXAMPLE, indent=2).replace("\n", "\n  ")
    return (f"config file: a JSON object holding a DataSettings block, e.g.\n  {example}\n\n"
            + settings_listing(DataSettings, "its keys (nested ones dotted here, nested objects in the file):",
                               prefix=""))


def register(subparsers) -> None:
    parser = subparsers.add_parser("fingerprint", help="print a SHA-256 per batch of a job's data, in any framework",
                                   description=__doc__.split("\n\n")[1], epilog=config_help(),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", metavar="JOB_OR_CONFIG",
                        help="a job id (a demo job's too), or a JSON file holding a DataSettings block (see below)")
    parser.add_argument("--framework", choices=registered_adapters(), default="numpy",
                        help="adapter that builds the batches")
    parser.add_argument("--batches", type=int, default=None, metavar="N",
                        help="batches to fingerprint (default: as many as --check's file holds, else 4)")
    parser.add_argument("--purpose", default="train", help="samples of this purpose ('all': every sample)")
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                        help="augment the batches with the block's augmentation (default: a job's 'augment' setting "
                             "when it has one, else yes)")
    parser.add_argument("--workers", type=int, default=0,
                        help="torch DataLoader workers / tf parallel calls (fingerprints must not depend on it)")
    golden = parser.add_mutually_exclusive_group()
    golden.add_argument("--save", metavar="GOLDEN", help="write the fingerprints to this JSON file or URI")
    golden.add_argument("--check", metavar="GOLDEN", help="compare with this JSON file; exit 1 if any batch differs")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the fingerprints; save or check them. Returns 1 when --check finds a difference, else 0."""
    golden = read_golden(args.check) if args.check else None
    count = args.batches if args.batches is not None else len(golden["batches"]) if golden else 4
    if count < 1:
        raise UsageError(f"--batches must be at least 1, got {count}")
    if args.workers < 0:
        raise UsageError(f"--workers must be >= 0, got {args.workers}")
    settings, job_datasets, job_augments = load_data_settings(args.source)
    augment = args.augment if args.augment is not None else job_augments if job_augments is not None else True
    purpose = None if args.purpose == "all" else args.purpose
    log.info("Fingerprinting %d %s batches of %s in %s", count, args.purpose, args.source, args.framework)
    digests = []
    for number, digest in enumerate(batch_fingerprints(settings, job_datasets, args.framework, purpose, count,
                                                       args.workers, augment)):
        print(f"batch {number}  {digest}", flush=True)
        digests.append(digest)
    if len(digests) < count:
        log.warning("the plan has only %d batches of %s samples; fingerprinted all of them", len(digests), args.purpose)
    record = {"framework": args.framework, "purpose": args.purpose, "batches": digests,
              "settings_digest": settings_digest(settings, job_datasets), "versions": versions(args.framework)}
    if args.save:
        io_tools.write_file(args.save, json.dumps(record, indent=2))
        print(f"saved {len(digests)} fingerprints to {args.save}")
    if golden is not None:
        return check(record, golden, args.check)
    return 0


def load_data_settings(source: str) -> tuple[DataSettings, list[Dataset], bool | None]:
    """The DataSettings block of a JSON file or of a job, the job's datasets (none for a file) and the job's
    `augment` setting (None when it has none)."""
    datasets: list[Dataset] = []
    augment: bool | None = None
    if is_remote(source) or os.path.isfile(source):
        block, where = _read_json(source), f"config file {source}"
    elif source.endswith(".json") or os.sep in source:
        raise FileNotFoundError(f"no DataSettings JSON file at {source}")
    else:
        block, where, datasets, augment = _job_data(source)
    if not isinstance(block, dict):
        raise UsageError(f"the DataSettings block of {where} must be a JSON object, got {type(block).__name__}")
    try:
        return DataSettings.model_validate(block), datasets, augment
    except ValueError as error:
        raise UsageError(f"invalid DataSettings in {where}: {error}") from None


def _job_data(job_id: str) -> tuple[Any, str, list[Dataset], bool | None]:
    """(data block, where it came from, datasets, augment setting) of a job: what it ran with, else its definition."""
    definition = jobstore.read_definition(jobstore.definition_path(job_id), job_id)
    output_path = join(jobstore.job_dir(job_id), "artifacts", "output.json")
    ran = (_read_json(output_path).get("job") or {}) if io_tools.exists(output_path) else {}
    settings = ran.get("settings") or definition.get("settings") or {}
    where = f"job {job_id} ({output_path if ran.get('settings') else 'its definition'})"
    if settings.get("data") is None:
        raise UsageError(f"job {job_id} has no settings.data block (a DataSettings: datasets, classes, split, "
                         f"batch_size, image, augmentation); give a JSON file holding one instead")
    entries = ran.get("datasets") or definition.get("datasets") or []
    augment = settings.get("augment")
    return settings["data"], where, [Dataset(**entry) for entry in entries], augment if isinstance(augment, bool) \
        else None


def batch_fingerprints(settings: DataSettings, job_datasets: list[Dataset], framework: str, purpose: str | None,
                       count: int, workers: int = 0, augment: bool = True) -> Iterator[str]:
    """The fingerprint of each of the first `count` batches of the plan, built in `framework`."""
    samples = settings.samples(job_datasets)
    if purpose is not None and not (samples["purpose"] == purpose).any():
        found = sorted(samples["purpose"].dropna().unique().tolist())
        raise UsageError(f"no samples of purpose {purpose!r}; the split gives {found} (or use --purpose all)")
    adapter = get_adapter(framework)
    generator = settings.generator(samples, framework, purpose, augment=augment)
    for batch in itertools.islice(adapter.iterate(generator, structure=None, workers=workers), count):
        values = adapter.to_numpy(batch)
        yield fingerprint({key: values[key] for key in FINGERPRINTED if key in values})


def settings_digest(settings: DataSettings, job_datasets: list[Dataset]) -> str:
    """SHA-256 of the settings and the datasets' buckets: equal digests, equal inputs (on one machine)."""
    inputs = {"data": settings.model_dump(mode="json"), "job_datasets": [d.bucket for d in job_datasets]}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def versions(framework: str) -> dict[str, str]:
    """The versions that could change the pixels: brevetti, python, numpy, Pillow and the framework's."""
    found = {"brevetti": __version__, "python": platform.python_version(), "numpy": np.__version__,
             "pillow": PIL.__version__}
    version = get_adapter(framework).version
    if version is not None:
        found[framework] = version
    return found


def read_golden(path: str) -> dict[str, Any]:
    """A golden file written by --save; errors name the file and what is wrong."""
    golden = _read_json(path)
    if not isinstance(golden, dict) or not isinstance(golden.get("batches"), list) or not golden["batches"]:
        raise UsageError(f"golden file {path} has no 'batches' list; write one with --save")
    return golden


def check(record: dict[str, Any], golden: dict[str, Any], path: str) -> int:
    """Print the comparison with the golden file; 0 when every batch matches, else 1."""
    ours, theirs = record["batches"], golden["batches"]
    differing = [i for i in range(max(len(ours), len(theirs)))
                 if i >= len(ours) or i >= len(theirs) or ours[i] != theirs[i]]
    if not differing:
        print(f"OK: {len(ours)} batches match {path} (saved from {golden.get('framework', '?')})")
        return 0
    print(f"MISMATCH: {len(differing)} of {max(len(ours), len(theirs))} batches differ from {path} "
          f"(saved from {golden.get('framework', '?')}); first: {', '.join(map(str, differing[:LISTED_DIFFERENCES]))}")
    for i in differing[:LISTED_DIFFERENCES]:
        expected = theirs[i] if i < len(theirs) else "(none)"
        got = ours[i] if i < len(ours) else "(none)"
        print(f"  batch {i}: expected {expected}, got {got}")
    if golden.get("settings_digest") != record["settings_digest"]:
        print("  the settings or datasets differ from the golden file's (settings digest changed)")
    changed = {name: (golden.get("versions", {}).get(name), version) for name, version in record["versions"].items()
               if golden.get("versions", {}).get(name) not in (None, version)}
    for name, (before, now) in changed.items():
        print(f"  {name} version changed: {before} -> {now}")
    return 1


def _read_json(path: str) -> Any:
    try:
        text = io_tools.read_file(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {path}") from None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"{path} is not valid JSON: {error}") from None
