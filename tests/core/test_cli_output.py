"""What the `brevetti` command writes around its results: progress as log lines off a terminal, no library chatter.

Run in subprocesses with stderr piped, as CI and `brevetti ... 2> log` see it; the terminal case runs
on a real pseudo-terminal.
"""
import os
import pty
import subprocess
import sys

import pytest
from test_samples_s3 import upload_tree

from brevetti_core.progress import LoggedProgress, progress
from brevetti_demo import generate_vials

HASHED = 216  # above samples.PROGRESS_MIN_FILES (200): hashing and decoding report progress


@pytest.fixture(scope="module")
def many_vials(tmp_path_factory):
    """216 small vial images."""
    return generate_vials(tmp_path_factory.mktemp("output") / "vials", items_per_class=24, shots_per_item=3,
                          duplicates=0, size=32, annotations=False)


def brevetti(*args, **env):
    return subprocess.run([sys.executable, "-m", "brevetti_core", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **env})


def test_progress_off_a_terminal_is_log_lines_without_carriage_returns(many_vials):
    done = brevetti("samples", many_vials, BREVETTI_PROGRESS_SECONDS="0")
    assert done.returncode == 0, done.stderr
    images = sum(1 for _ in many_vials.rglob("*.bmp"))
    assert images >= HASHED
    assert "\r" not in done.stderr
    lines = done.stderr.splitlines()
    assert f"INFO:brevetti_core.progress:Hashing files: {images}/{images} file (100%), 0 s (done)" in lines
    assert any(line.startswith(f"INFO:brevetti_core.progress:Decoding images: {images}/{images} file (100%)")
               for line in lines)


def test_progress_lines_come_once_per_interval(many_vials):
    done = brevetti("samples", many_vials, "--no-verify", BREVETTI_PROGRESS_SECONDS="3600")
    progress_lines = [line for line in done.stderr.splitlines() if "brevetti_core.progress" in line]
    assert len(progress_lines) == 1 and progress_lines[0].endswith("(done)")  # only the closing line


def test_progress_on_a_terminal_is_a_tqdm_bar():
    leader, follower = pty.openpty()
    with os.fdopen(follower, "w") as terminal:
        bar = progress(total=3, desc="counting", unit="step", file=terminal)
        assert not isinstance(bar, LoggedProgress)
        with bar:
            for _ in range(3):
                bar.update()
    drawn = os.read(leader, 4096).decode()
    os.close(leader)
    assert "\rcounting:   0%|" in drawn and "0/3" in drawn


def test_progress_off_a_terminal_keeps_the_latest_values(caplog):
    with caplog.at_level("INFO", logger="brevetti_core.progress"), \
            progress(total=2, desc="training", unit="batch", file=sys.stdout) as bar:
        bar.update(2)
        bar.set_postfix({"loss": 0.25})
    assert caplog.messages[-1].startswith("training: 2/2 batch (100%), ") and caplog.messages[-1].endswith(
        "(done), loss=0.25")


def test_a_wrong_progress_interval_names_the_variable(monkeypatch):
    monkeypatch.setenv("BREVETTI_PROGRESS_SECONDS", "often")
    with pytest.raises(ValueError, match="BREVETTI_PROGRESS_SECONDS must be a number of seconds, got 'often'"):
        progress(total=1, file=sys.stdout)


@pytest.fixture
def s3_vials(s3_client, s3_bucket, tmp_path):
    upload_tree(s3_client, generate_vials(tmp_path / "vials", items_per_class=2, shots_per_item=1, size=32), s3_bucket)
    return s3_bucket


def test_other_libraries_info_lines_stay_out_of_cli_output(s3_vials):
    done = brevetti("samples", s3_vials, "--no-verify")
    assert done.returncode == 0, done.stderr
    assert "images" in done.stdout
    assert "aiobotocore" not in done.stderr and "botocore" not in done.stderr and "Found credentials" not in done.stderr


def test_verbose_shows_other_libraries_debug_lines(s3_vials):
    done = brevetti("-v", "samples", s3_vials, "--no-verify")
    assert done.returncode == 0, done.stderr
    assert "botocore" in done.stderr
