"""`brevetti job create|show|list`, run as a user would, in a subprocess (the demo: test_demo_cli.py)."""
import json
import os
import signal
import subprocess
import sys

import pytest


def brevetti(*args, env=None):
    return subprocess.run([sys.executable, "-m", "brevetti_core", *args], capture_output=True, text=True,
                          env=env or os.environ.copy(), timeout=120)


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    return folder


def test_create_prints_the_id_of_a_new_definition(data_root, images):
    done = brevetti("job", "create", "--name", "vials", "--dataset", str(images), "--settings", '{"epochs": 3}')
    assert done.returncode == 0, done.stderr
    job_id = done.stdout.strip()
    definition = json.loads((data_root / job_id / "info.json").read_text())
    assert definition["id"] == job_id and definition["name"] == "vials"
    assert definition["settings"] == {"epochs": 3}
    assert [(d["name"], d["bucket"]) for d in definition["datasets"]] == [("images", str(images))]


def test_show_prints_definition_status_and_artifacts(data_root, images):
    job_id = brevetti("job", "create", "--name", "shown", "--dataset", str(images)).stdout.strip()
    done = brevetti("job", "show", job_id)
    assert done.returncode == 0, done.stderr
    assert f'"id": "{job_id}"' in done.stdout and "status: not started" in done.stdout
    assert "artifacts (0 files" in done.stdout


def test_list_shows_every_job(data_root, images):
    ids = [brevetti("job", "create", "--name", name).stdout.strip() for name in ("b-job", "a-job")]
    done = brevetti("job", "list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [ids[1], ids[0]]
    assert lines[0].endswith("a-job") and " not started " in lines[0]


TRAIN_SCRIPT = """
from pydantic import Field
from brevetti_core import Job, JobSettings

class TrainSettings(JobSettings):
    epochs: int = Field(1, description="passes")
    learning_rate: float = Field(0.1, description="step size")

class TrainJob(Job):
    settings: TrainSettings

    def run(self):
        if self.settings.epochs < 0:
            raise ValueError("epochs must not be negative")
        self.add_output_metrics({"epochs": self.settings.epochs, "learning_rate": self.settings.learning_rate})

TrainJob.init().start()
"""


@pytest.fixture
def train_script(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(TRAIN_SCRIPT)
    return path


def test_run_runs_the_script_on_the_created_job_with_its_settings(data_root, train_script):
    job_id = brevetti("job", "create", "--name", "trained", "--settings", '{"epochs": 4}').stdout.strip()
    done = brevetti("job", "run", job_id, "--", sys.executable, str(train_script), "--learning_rate", "0.5")
    assert done.returncode == 0, done.stderr
    assert f"job {job_id}: completed" in done.stderr
    output = json.loads((data_root / job_id / "artifacts" / "output.json").read_text())["output"]
    assert output == {"epochs": 4, "learning_rate": 0.5}  # the definition's epochs, the command line's rate
    assert os.listdir(data_root) == [job_id]  # no new job was made


def test_run_exits_with_the_scripts_status_and_prints_the_jobs(data_root, train_script):
    job_id = brevetti("job", "create", "--name", "bad", "--settings", '{"epochs": -1}').stdout.strip()
    done = brevetti("job", "run", job_id, "--", sys.executable, str(train_script))
    assert done.returncode == 1
    assert f"job {job_id}: failed" in done.stderr and "epochs must not be negative" in done.stderr


def test_run_passes_sigterm_on_to_the_job_which_ends_interrupted(data_root, tmp_path):
    script = tmp_path / "slow.py"
    script.write_text("import time\nfrom brevetti_core import Job\n\nclass SlowJob(Job):\n    def run(self):\n"
                      "        print('training', flush=True)\n        time.sleep(300)\n\nSlowJob.init().start()\n")
    job_id = brevetti("job", "create", "--name", "slow").stdout.strip()
    process = subprocess.Popen([sys.executable, "-m", "brevetti_core", "job", "run", job_id, "--", sys.executable,
                                str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "training", process.stderr.read()[-3000:]
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode != 0
    assert json.loads((data_root / job_id / "artifacts" / "status.json").read_text())["status"] == "interrupted"
    assert f"job {job_id}: interrupted" in stderr


@pytest.mark.parametrize("args, message", [
    (["job", "run", "missing", "--", "python", "train.py"], "no job definition at"),
    (["job", "run", "some-id"], "job run needs the command to run after '--'"),
    (["job", "create", "--name", "x", "--settings", "{epochs: 3}"], "--settings is not valid JSON"),
    (["job", "create", "--name", "x", "--settings", "[1]"], "--settings must be a JSON object, got list"),
    (["job", "create", "--name", "x", "--dataset", "/no/such/folder"], "no folder or bucket at /no/such/folder"),
    (["job", "show", "missing"], "no job definition at"),
])
def test_bad_input_exits_2_with_a_message_and_no_traceback(data_root, args, message):
    done = brevetti(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_job_commands_work_on_an_s3_root(s3_bucket, monkeypatch):
    monkeypatch.setenv("BREVETTI_DATA_BUCKET", s3_bucket)
    job_id = brevetti("job", "create", "--name", "remote").stdout.strip()
    assert brevetti("job", "list").stdout.split()[0] == job_id
    assert '"name": "remote"' in brevetti("job", "show", job_id).stdout
