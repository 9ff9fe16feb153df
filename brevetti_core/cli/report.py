"""`brevetti report JOB_ID_OR_DIR`: write a job's artifacts/report.html and print where it is."""
from __future__ import annotations

import argparse
import os

from .. import jobstore
from ..io_tools import io_tools, is_remote
from ..report import write_report


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="write a job's self-contained HTML report (artifacts/report.html)",
        description="Writes <job folder>/artifacts/report.html: settings, seeds, datasets, the category x purpose "
                    "pivot, duplicates, training curves, metrics, the first batch and the environment.",
    )
    parser.add_argument("job", metavar="JOB_ID_OR_DIR",
                        help="a job id under the data root (BREVETTI_DATA_BUCKET), or a job folder path / s3:// URI")
    parser.set_defaults(func=run)


def job_folder(target: str) -> str:
    """The job folder `target` names: an existing folder or URI as given, else the folder of job id `target`."""
    if is_remote(target):
        return target.rstrip("/")
    if os.path.isdir(target):
        return os.path.abspath(target)
    if any(separator in target for separator in ("/", "\\")) or target in (".", ".."):
        raise FileNotFoundError(f"no job folder at {target}")
    folder = jobstore.job_dir(target)
    if not io_tools.exists(folder):
        raise FileNotFoundError(f"{target!r} is neither a folder nor a job id under the data root "
                                f"{jobstore.data_root()}")
    return folder


def run(args: argparse.Namespace) -> int:
    print(write_report(job_folder(args.job)))
    return 0
