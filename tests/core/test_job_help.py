"""`--help` on a job script lists its settings and exits 0 without creating a job."""
import os
import subprocess
import sys

import pytest
from pydantic import BaseModel, Field

from brevetti_core.job import Job
from brevetti_core.settings import JobSettings


class Optimizer(BaseModel):
    lr: float = Field(0.1, description="learning rate")


class HelpSettings(JobSettings):
    epochs: int = Field(3, description="passes over the data")
    mode: str | None = Field(None, description="what to do")
    optimizer: Optimizer = Optimizer(lr=0.5)


class HelpJob(Job):
    settings: HelpSettings


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_the_settings_and_exits_0(data_root, capsys, flag):
    with pytest.raises(SystemExit) as exited:
        HelpJob.init(argv=["--epochs", "5", flag])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "  --epochs  int  (default: 3)\n      passes over the data\n" in out
    assert "  --mode  str | None  (default: null)\n      what to do\n" in out
    assert "  --optimizer.lr  float  (default: 0.5)\n      learning rate\n" in out
    assert "--job_id" in out and "--api_key" in out


def test_help_creates_no_job(data_root):
    with pytest.raises(SystemExit):
        HelpJob.init(argv=["--help"])
    assert os.listdir(data_root) == []


def test_the_demo_job_script_prints_its_settings(data_root):
    done = subprocess.run([sys.executable, "-m", "brevetti_demo.job", "--help"], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m brevetti_demo.job [--job_id ID]")
    assert "  --data.image  dict[str, any]  (default: {\"target_size\": [64, 64]" in done.stdout
    assert "      Passes over the training samples\n" in done.stdout
    assert os.listdir(data_root) == []
