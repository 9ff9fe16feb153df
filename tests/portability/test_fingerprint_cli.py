"""CI's cross-machine workflow: `brevetti fingerprint --save` on one machine, `--check` on another.

The "other machine" is this one under each restricted dispatch variant; both commands run the
installed `brevetti` script in a subprocess, exactly as CI would.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .dispatch import VARIANTS, environment

BREVETTI = Path(sys.executable).with_name("brevetti")
BATCHES = 4
EVERY_PART = {"random_transformer": {"chance": 1.0, "rotate_chance": 1.0}, "image_noise": {"chance": 1.0},
              "image_filter": {"chance": 1.0}, "image_deformation": {"alpha": 2.0, "sigma": 1.5, "chance": 1.0}}


def fingerprint(*args, variant: str | None = None) -> subprocess.CompletedProcess:
    """`brevetti fingerprint ARGS` in a subprocess whose dispatch is `variant`'s (None: plain)."""
    return subprocess.run([str(BREVETTI), "fingerprint", *map(str, args)], env=environment(variant),
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def golden(photos, tmp_path_factory) -> tuple[Path, Path]:
    """(config, golden file): the photos with every augmentation part on, saved by a plain run."""
    folder = tmp_path_factory.mktemp("golden")
    config = folder / "data.json"
    config.write_text(json.dumps({"datasets": [str(photos)], "batch_size": 4, "seed": 7, "augmentation": EVERY_PART,
                                  "image": {"target_size": [24, 32], "antialias": True, "rescale": "imagenet"}}))
    saved = fingerprint(config, "--purpose", "all", "--batches", BATCHES, "--save", folder / "golden.json")
    assert saved.returncode == 0, saved.stdout + saved.stderr[-3000:]
    return config, folder / "golden.json"


@pytest.mark.parametrize("variant", VARIANTS)
def test_check_passes_under_restricted_dispatch(golden, variant):
    config, saved = golden
    checked = fingerprint(config, "--purpose", "all", "--check", saved, variant=variant)
    assert checked.returncode == 0, checked.stdout + checked.stderr[-3000:]
    assert f"OK: {BATCHES} batches match" in checked.stdout
