"""brevettiai 0.10's job call forms: `artifacts_path`, local mode through `PlatformBackend(data_bucket=...)`,
`start(resolve_access_rights=False)`, and the other names a migrating job script uses.

The reference's own job tests are stated in test_conformance_job.py."""
import json
import os
from pathlib import Path

import pytest

import brevetti_core
from brevetti_core import Job, JobSettings, PlatformBackend
from brevetti_core.job import JobNotStartedError


@pytest.fixture(autouse=True)
def no_cache_env(monkeypatch):
    monkeypatch.delenv("BREVETTI_CACHE", raising=False)
    monkeypatch.delenv("BREVETTI_HOST_NAME", raising=False)


def read_json(path):
    with open(path) as f:
        return json.load(f)


def test_artifacts_path_before_start_is_refused_like_artifact_path(data_root):
    job = Job.init(argv=[])
    for use in (lambda: job.artifacts_path, lambda: job.artifact_path("x.txt")):
        with pytest.raises(JobNotStartedError, match="needs a started job: call job.start"):
            use()


def test_artifacts_path_is_the_artifacts_folder_as_a_path_object(data_root):
    job = Job.init(argv=[])
    job.start(complete=False)
    assert isinstance(job.artifacts_path, Path)
    assert job.artifacts_path == Path(job.job_dir) / "artifacts" == Path(job.artifact_path())
    assert (job.artifacts_path / "output.json").is_file()


def test_init_with_a_platform_backend_creates_a_new_job_under_its_data_bucket(data_root, tmp_path):
    job = Job.init(backend=PlatformBackend(data_bucket=tmp_path / "bucket"), argv=[])
    assert read_json(tmp_path / "bucket" / job.id / "info.json")["id"] == job.id
    assert not os.listdir(data_root)


def test_init_with_a_platform_backend_reads_the_job_definition_from_its_data_bucket(data_root, tmp_path):
    bucket = tmp_path / "bucket"
    (bucket / "job-7").mkdir(parents=True)
    (bucket / "job-7" / "info.json").write_text(json.dumps({"name": "from the bucket", "settings": {}}))
    job = Job.init("job-7", backend=PlatformBackend(data_bucket=str(bucket)), argv=[])
    assert (job.name, job.job_dir) == ("from the bucket", str(bucket / "job-7"))


def test_init_with_a_job_id_missing_from_the_backends_bucket_names_the_file(data_root, tmp_path):
    with pytest.raises(FileNotFoundError, match=f"no job definition at {tmp_path}/bucket/job-8/info.json"):
        Job.init("job-8", backend=PlatformBackend(data_bucket=str(tmp_path / "bucket")), argv=[])


def test_the_default_backend_is_the_data_root(data_root):
    job = Job.init(argv=[])
    assert job.backend.data_bucket == str(data_root)
    assert job.backend.resource_path(job.id) == job.job_dir
    assert job.host_name == job.backend.host == f"file://{data_root}"


def test_a_backends_host_is_the_host_name_env_when_set(monkeypatch, tmp_path):
    monkeypatch.setenv("BREVETTI_HOST_NAME", "https://platform.example")
    assert PlatformBackend(data_bucket=str(tmp_path)).host == "https://platform.example"


def test_the_backend_is_written_to_neither_info_json_nor_output_json(data_root, tmp_path):
    job = Job.init(backend=PlatformBackend(data_bucket=str(tmp_path / "bucket")), argv=[])
    job.start()
    assert "backend" not in read_json(os.path.join(job.job_dir, "info.json"))
    assert "backend" not in read_json(job.artifact_path("output.json"))["job"]


def test_a_backend_with_an_empty_data_bucket_is_an_error_naming_it():
    with pytest.raises(ValueError, match="data_bucket must be a folder or an s3:// URI"):
        PlatformBackend(data_bucket="")


def test_artifacts_path_on_object_storage_points_to_artifact_path(s3_bucket, data_root):
    job = Job.init(backend=PlatformBackend(data_bucket=s3_bucket), argv=[])
    job.start(complete=False)
    assert job.artifact_path("x.txt") == f"{s3_bucket}/{job.id}/artifacts/x.txt"
    with pytest.raises(ValueError, match=r"use job.artifact_path\(...\) with job.io on object storage"):
        _ = job.artifacts_path


def test_start_complete_job_false_is_start_complete_false(data_root):
    job = Job.init(argv=[])
    job.start(complete_job=False)
    assert job.read_status()["status"] == "running"
    job.complete()
    assert job.read_status()["status"] == "completed"


def test_complete_records_the_package_like_complete_job(data_root):
    job = Job.init(argv=[])
    job.start(complete=False)
    job.io.write_file(job.artifact_path("model.tar.gz"), b"model")
    assert job.complete(package_path=job.artifact_path("model.tar.gz")) == "artifacts/model.tar.gz"


def test_check_started_raises_before_start_or_answers_false(data_root):
    job = Job.init(argv=[])
    with pytest.raises(PermissionError, match="check_started needs a started job"):
        job.check_started()
    assert job.check_started(raise_error=False) is False
    job.start(complete=False)
    assert job.check_started() is True


def test_cache_path_is_the_temp_folder_and_is_kept(data_root, tmp_path):
    job = Job.init(cache_path=str(tmp_path / "cache"), argv=[])
    job.start()
    assert os.path.isdir(tmp_path / "cache")
    with pytest.raises(ValueError, match="give temp_dir or cache_path"):
        Job.init(cache_path=str(tmp_path / "a"), temp_dir=str(tmp_path / "b"), argv=[])


def test_upload_artifact_writes_content_under_the_artifacts(data_root):
    job = Job.init(argv=[])
    job.start(complete=False)
    path = job.upload_artifact(("models", "notes.txt"), "trained")
    assert path == job.artifact_path("models", "notes.txt")
    assert job.io.read_file(path) == b"trained"


def test_upload_artifact_copies_a_file_with_is_file(data_root, tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"\x00\x01")
    job = Job.init(argv=[])
    job.start(complete=False)
    path = job.upload_artifact("weights.bin", str(tmp_path / "weights.bin"), is_file=True)
    assert job.io.read_file(path) == b"\x00\x01"


def test_upload_artifact_refuses_a_path_object_as_content(data_root, tmp_path):
    job = Job.init(argv=[])
    job.start(complete=False)
    with pytest.raises(TypeError, match="needs is_file=True"):
        job.upload_artifact("weights.bin", tmp_path / "weights.bin")


@pytest.mark.parametrize("package", ["brevetti_core", "brevetti_torch", "brevetti_tf"])
def test_platform_backend_is_importable_where_job_is(package):
    module = __import__(package)
    assert module.PlatformBackend is brevetti_core.PlatformBackend


@pytest.mark.parametrize("flag", [["--model_id", "job-9"], ["--test_id=job-9"]])
def test_model_id_and_test_id_flags_name_the_job_like_job_id(data_root, flag):
    (data_root / "job-9").mkdir()
    (data_root / "job-9" / "info.json").write_text(json.dumps({"name": "nine", "settings": {}}))
    assert Job.init(argv=flag).id == "job-9"


def test_a_setting_named_model_id_keeps_its_flag(data_root):
    class WithModelId(JobSettings):
        model_id: str = "none"

    class ModelJob(Job):
        settings: WithModelId

    assert ModelJob.init(argv=["--model_id", "resnet"]).settings.model_id == "resnet"
