"""`brevetti report JOB_ID_OR_DIR`: finds the job by id or folder, writes report.html, prints its path."""
import os
import subprocess
import sys
from pathlib import Path

from brevetti_core import jobstore
from brevetti_core.cli.main import main


def test_report_by_job_id_under_the_data_root(data_root, capsys):
    job_id = jobstore.create_job("cli job")["id"]
    assert main(["report", job_id]) == 0
    path = capsys.readouterr().out.strip()
    assert path == str(data_root / job_id / "artifacts" / "report.html")
    assert "cli job" in Path(path).read_text()


def test_report_by_job_folder(data_root, capsys, monkeypatch):
    job_id = jobstore.create_job("folder job")["id"]
    monkeypatch.chdir(data_root)
    assert main(["report", job_id + os.sep]) == 0
    assert capsys.readouterr().out.strip() == str(data_root / job_id / "artifacts" / "report.html")


def test_an_unknown_job_is_a_usage_error_naming_it(data_root, capsys):
    assert main(["report", "no-such-job"]) == 2
    assert f"'no-such-job' is neither a folder nor a job id under the data root {data_root}" in capsys.readouterr().err


def test_a_folder_that_is_not_a_job_is_a_usage_error(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert f"no job folder at {tmp_path} (expected info.json or artifacts/ in it)" in capsys.readouterr().err


def test_report_of_an_s3_job_by_id(s3_bucket, s3_client):
    env = {**os.environ, "BREVETTI_DATA_BUCKET": s3_bucket}
    created = subprocess.run([sys.executable, "-m", "brevetti_core", "job", "create", "--name", "remote"],
                             capture_output=True, text=True, env=env, timeout=120)
    job_id = created.stdout.strip()
    done = subprocess.run([sys.executable, "-m", "brevetti_core", "report", job_id],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{s3_bucket}/{job_id}/artifacts/report.html"
    html = s3_client.get_object(Bucket=s3_bucket[5:], Key=f"{job_id}/artifacts/report.html")["Body"].read()
    assert b"remote" in html
