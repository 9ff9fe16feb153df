"""A job whose data root is an s3:// bucket on a moto server, read back through an independent boto3 client."""
import json

import pytest

from brevetti_core import jobstore
from brevetti_core.job import Job
from brevetti_core.settings import JobSettings


class S3Settings(JobSettings):
    epochs: int = 1


class S3Job(Job):
    settings: S3Settings

    def run(self):
        self.io.write_file(self.artifact_path("weights", "model.bin"), b"\x00\x01\x02")
        self.add_output_metric("epochs", self.settings.epochs)
        self.get_remote_monitor().on_epoch_end(0, {"loss": 0.5})
        self.get_remote_monitor().on_epoch_end(1, {"loss": 0.25})
        return self.artifact_path("weights", "model.bin")


@pytest.fixture
def s3_root(s3_bucket, monkeypatch):
    monkeypatch.setenv("BREVETTI_DATA_BUCKET", s3_bucket)
    monkeypatch.delenv("BREVETTI_CACHE", raising=False)
    return s3_bucket


def get(s3_client, bucket_uri, key):
    return s3_client.get_object(Bucket=bucket_uri[len("s3://"):], Key=key)["Body"].read()


def test_job_defined_and_run_on_s3_is_readable_by_another_client(s3_root, s3_client):
    created = jobstore.create_job("on s3", settings={"epochs": 3})
    job = S3Job.init(created["id"], argv=["--epochs", "4"])
    assert job.job_dir == f"{s3_root}/{created['id']}"
    job.start()

    prefix = f"{created['id']}/artifacts"
    output = json.loads(get(s3_client, s3_root, f"{prefix}/output.json"))
    assert output["output"] == {"epochs": 4}
    assert output["job"]["settings"] == {"epochs": 4}
    assert output["job"]["model_path"] == "artifacts/weights/model.bin"
    assert get(s3_client, s3_root, f"{prefix}/weights/model.bin") == b"\x00\x01\x02"
    progress = [json.loads(line) for line in get(s3_client, s3_root, f"{prefix}/progress.jsonl").splitlines()]
    assert [(p["epoch"], p["loss"]) for p in progress] == [(0, 0.5), (1, 0.25)]
    assert json.loads(get(s3_client, s3_root, f"{prefix}/status.json"))["status"] == "completed"
    definition = json.loads(get(s3_client, s3_root, f"{created['id']}/info.json"))
    assert definition["settings"] == {"epochs": 3}


def test_fresh_local_job_on_an_s3_root_writes_its_definition_to_the_bucket(s3_root, s3_client):
    job = S3Job.init(argv=[])
    definition = json.loads(get(s3_client, s3_root, f"{job.id}/info.json"))
    assert definition["id"] == job.id


def test_artifact_path_on_s3_is_a_url_and_temp_path_is_local(s3_root):
    job = S3Job.init(argv=[])
    job.start(complete=False)
    assert job.artifact_path("a", "b.txt") == f"{s3_root}/{job.id}/artifacts/a/b.txt"
    assert job.temp_path("x.txt").startswith("/")


def test_package_outside_the_job_folder_on_s3_is_refused(s3_root):
    job = S3Job.init(argv=[])
    job.start(complete=False)
    other = f"{s3_root}/elsewhere/model.bin"
    job.io.write_file(other, b"m")
    with pytest.raises(ValueError, match="outside the job folder"):
        job.complete_job(other)
    with pytest.raises(ValueError, match="outside the job folder"):
        job.complete_job(f"{s3_root}/{job.id}/../elsewhere/model.bin")


def test_missing_definition_on_s3_names_the_url(s3_root):
    with pytest.raises(FileNotFoundError, match=f"no job definition at {s3_root}/missing/info.json"):
        S3Job.init("missing", argv=[])


def test_list_jobs_on_s3(s3_root):
    first = jobstore.create_job("first")
    second = jobstore.create_job("second")
    assert [j["id"] for j in jobstore.list_jobs()] == [first["id"], second["id"]]
