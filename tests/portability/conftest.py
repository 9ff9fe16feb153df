"""Fixtures of the portability suite: generated photos and vials, and fingerprint runs under every dispatch variant.

The runs are subprocesses of `fingerprint_pipelines.py`, the plain one and one per variant,
started together two at a time (the suite's budget is a few minutes on two cores) and shared by
every test of the session.
"""
from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from brevetti_demo.vials import generate_vials

from .dispatch import VARIANTS, environment
from .photos import write_photos

WORKER = Path(__file__).with_name("fingerprint_pipelines.py")
PARALLEL_RUNS = 2
RUN_TIMEOUT_S = 1800  # a hung run fails rather than hangs; pytest's own timeout usually ends things first


@pytest.fixture(scope="session")
def photos(tmp_path_factory) -> Path:
    """The photo-like test images (JPEG, PNG, 16-bit PNG, BMP, greyscale) in class folders."""
    return write_photos(tmp_path_factory.mktemp("portability") / "photos")


@pytest.fixture(scope="session")
def vials(tmp_path_factory) -> Path:
    """Annotated vial images, for masks."""
    return generate_vials(tmp_path_factory.mktemp("portability") / "vials", items_per_class=4, shots_per_item=2,
                          duplicates=1, size=48, annotations=True)


@pytest.fixture(scope="session")
def fingerprint_runs(photos, vials, tmp_path_factory) -> dict[str, dict[str, Any]]:
    """Run name ("plain" or a variant) -> the worker's result, or {"error": ...} when the run failed."""
    folder = tmp_path_factory.mktemp("runs")

    def run(name: str) -> tuple[str, dict[str, Any]]:
        out = folder / f"{name}.json"
        done = subprocess.run([sys.executable, str(WORKER), str(photos), str(vials), str(out)],
                              env=environment(None if name == "plain" else name), capture_output=True, text=True,
                              timeout=RUN_TIMEOUT_S)
        if done.returncode != 0:
            return name, {"error": f"exit {done.returncode}: {done.stderr[-3000:]}"}
        return name, json.loads(out.read_text())

    with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
        return dict(pool.map(run, ["plain", *VARIANTS]))
