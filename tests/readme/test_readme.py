"""README.md is true: its code blocks run as written, in order, in a fresh folder with a fresh data root.

Blocks fenced as ``python`` run one after another in one interpreter, as a reader pasting them into one
session would (later blocks use names earlier ones made); blocks fenced as ``bash`` then run each in
``bash -euo pipefail`` with the virtual environment's commands on PATH. ``text`` blocks are output, and
``shell`` blocks are the two set-up commands themselves (`make demo`, `make test`), which this suite is
part of and so does not run.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)
RUNNER = textwrap.dedent("""
    import json, sys, traceback
    blocks = json.load(open(sys.argv[1]))
    sys.argv = ["README.md"]  # as a reader's interactive session: no command-line arguments
    namespace = {"__name__": "__main__"}
    for line, code in blocks:
        try:
            exec(compile(code, f"README.md, python block at line {line}", "exec"), namespace)
        except BaseException:
            traceback.print_exc()
            sys.exit(f"README.md: the python block at line {line} failed")
""")


def readme_blocks(language: str) -> list[tuple[int, str]]:
    """(line number, code) of README.md's blocks fenced as `language`, in order."""
    text = README.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(2)) for m in FENCE.finditer(text) if m.group(1) == language]


def test_the_readme_has_runnable_blocks_of_both_kinds():
    assert len(readme_blocks("python")) >= 3 and len(readme_blocks("bash")) >= 3


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    """A fresh working folder, data root and home for the README's commands; yields (folder, environment)."""
    folder = tmp_path_factory.mktemp("readme")
    (folder / "home").mkdir()
    env = {**os.environ, "HOME": str(folder / "home"), "BREVETTI_DATA_BUCKET": str(folder / "data"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("MLFLOW_TRACKING_URI", None)
    return folder, env


@pytest.fixture(scope="module")
def python_blocks_ran(reader):
    """Run every python block in order in one interpreter; returns the finished process."""
    folder, env = reader
    blocks = folder / "readme-python-blocks.json"
    blocks.write_text(json.dumps(readme_blocks("python")))
    return subprocess.run([sys.executable, "-c", RUNNER, str(blocks)], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=900)


def test_the_python_blocks_run_in_order(python_blocks_ran):
    assert python_blocks_ran.returncode == 0, python_blocks_ran.stderr[-6000:]


@pytest.mark.parametrize("line, code", readme_blocks("bash"), ids=lambda v: f"line-{v}" if isinstance(v, int) else "")
def test_the_bash_block_runs(python_blocks_ran, reader, line, code):
    folder, env = reader
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, f"README.md line {line}:\n{code}\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
