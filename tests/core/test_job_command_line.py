"""A job script's command line is answered like a command-line tool: a bad setting or job id is one line, exit 2.

The scripts run in real subprocesses; from Python (argv given) the same mistakes raise exceptions as before.
"""
import os
import subprocess
import sys
import textwrap
from typing import Literal

import pytest

from brevetti_core.job import Job
from brevetti_core.jobstore import JobNotFoundError
from brevetti_core.settings import JobSettings, SettingsError

SCRIPT = textwrap.dedent("""
    from typing import Literal
    from brevetti_core import Job, JobSettings

    class TrainSettings(JobSettings):
        epochs: int = 3
        framework: Literal["torch", "tf"] = "torch"

    class Train(Job):
        settings: TrainSettings

        def run(self):
            return None

    Train.init().start()
""")


class TrainSettings(JobSettings):
    epochs: int = 3
    framework: Literal["torch", "tf"] = "torch"


class Train(Job):
    settings: TrainSettings


@pytest.fixture
def train_script(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(SCRIPT)
    return path


def run(script, *args):
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=120,
                          env=os.environ.copy())


def assert_one_line_exit_2(done, *fragments):
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    for fragment in fragments:
        assert fragment in done.stderr


def test_a_misspelt_setting_is_one_line_with_a_suggestion_and_no_job_folder(train_script, data_root):
    assert_one_line_exit_2(run(train_script, "--epoch", "5"), "train.py: error:", "epoch", "epochs")
    assert os.listdir(data_root) == []


def test_a_value_outside_a_fixed_set_names_the_allowed_values(train_script, data_root):
    assert_one_line_exit_2(run(train_script, "--framework", "jax"),
                           "setting 'framework' expects one of 'torch' or 'tf'", "got 'jax'")


def test_a_job_id_without_a_definition_is_one_line(train_script, data_root):
    assert_one_line_exit_2(run(train_script, "--job_id", "no-such-job"), "no job definition at",
                           "no-such-job", "brevetti job create")


def test_an_invalid_job_id_is_one_line(train_script, data_root):
    assert_one_line_exit_2(run(train_script, "--job_id", "../../etc"), "invalid job id '../../etc'")


def test_from_python_a_misspelt_setting_raises(data_root):
    with pytest.raises(SettingsError, match="epoch"):
        Train.init(argv=["--epoch", "5"])


def test_from_python_a_missing_job_raises_job_not_found(data_root):
    with pytest.raises(JobNotFoundError, match="no job definition"):
        Train.init(job_id="no-such-job", argv=[])


@pytest.mark.parametrize("value", ["abc", "0", "-5", "nan", "inf"])
def test_a_bad_heartbeat_interval_fails_at_init_before_any_job_folder(data_root, monkeypatch, value):
    monkeypatch.setenv("BREVETTI_HEARTBEAT_SECONDS", value)
    with pytest.raises(ValueError, match="BREVETTI_HEARTBEAT_SECONDS must be a"):
        Train.init(argv=[])
    assert os.listdir(data_root) == []
