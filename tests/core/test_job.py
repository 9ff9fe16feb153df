"""Job lifecycle on a local data root: start/run/complete, storage paths, status, output.json."""
import json
import os
import re
import sys

import numpy as np
import pytest
from pydantic import BaseModel, Field

from brevetti_core import rng
from brevetti_core.job import Job, JobNotStartedError
from brevetti_core.settings import JobSettings


class Model(BaseModel):
    width: int = 8


class TrainSettings(JobSettings):
    epochs: int = Field(default=2, description="training epochs")
    model: Model = Model()


class TrainJob(Job):
    settings: TrainSettings

    def run(self):
        self.io.write_file(self.artifact_path("notes", "run.txt"), f"epochs={self.settings.epochs}")
        self.add_output_metric("accuracy", np.float32(0.75))
        return None


class FailingJob(Job):
    def run(self):
        raise ValueError("diverged")


class InterruptedJob(Job):
    def run(self):
        raise KeyboardInterrupt


@pytest.fixture(autouse=True)
def no_cache_env(monkeypatch):
    monkeypatch.delenv("BREVETTI_CACHE", raising=False)
    monkeypatch.delenv("BREVETTI_HOST_NAME", raising=False)


def artifacts(job):
    return os.path.join(job.job_dir, "artifacts")


def read_json(path):
    with open(path) as f:
        return json.load(f)


def read_text(path):
    with open(path) as f:
        return f.read()


def test_start_runs_the_job_and_completes_it(data_root):
    job = TrainJob.init(argv=[])
    assert job.start() is None
    assert sorted(os.listdir(artifacts(job))) == ["notes", "output.json", "report.html", "status.json"]
    assert read_text(os.path.join(artifacts(job), "notes", "run.txt")) == "epochs=2"
    assert read_json(os.path.join(artifacts(job), "status.json"))["status"] == "completed"
    assert read_json(os.path.join(artifacts(job), "output.json"))["output"] == {"accuracy": 0.75}


def test_job_folder_is_under_the_data_root(data_root):
    job = TrainJob.init(argv=[])
    assert job.job_dir == os.path.join(str(data_root), job.id)


def test_start_returns_what_run_returns(data_root):
    class Returning(Job):
        def run(self):
            return 42

    assert Returning.init(argv=[]).start(complete=False) == 42


@pytest.mark.parametrize("use", [
    lambda job: job.artifact_path("x.txt"),
    lambda job: job.temp_path("x.txt"),
    lambda job: job.add_output_metric("m", 1),
    lambda job: job.add_output_metrics({"m": 1}),
    lambda job: job.upload_job_output(),
    lambda job: job.get_remote_monitor(),
    lambda job: job.complete_job(),
], ids=["artifact_path", "temp_path", "add_output_metric", "add_output_metrics", "upload_job_output",
        "get_remote_monitor", "complete_job"])
def test_using_the_job_before_start_says_to_call_start(data_root, use):
    job = TrainJob.init(argv=[])
    with pytest.raises(JobNotStartedError, match=r"call job\.start\(\)"):
        use(job)


def test_not_started_error_is_a_permission_error():
    assert issubclass(JobNotStartedError, PermissionError)


def test_artifact_path_creates_the_parent_folder_or_the_folder_itself(data_root):
    job = TrainJob.init(argv=[])
    job.start(complete=False)
    file_path = job.artifact_path("a", "b", "model.bin")
    assert file_path == os.path.join(artifacts(job), "a", "b", "model.bin")
    assert os.path.isdir(os.path.dirname(file_path)) and not os.path.exists(file_path)
    folder = job.artifact_path("pivot", dir=True)
    assert os.path.isdir(folder)


@pytest.mark.parametrize("parts", [("..", "x"), ("a/../../x",), ("/etc/passwd",), ("s3://bucket/x",),
                                   ("a\\..\\..\\x",)])
@pytest.mark.parametrize("method", ["artifact_path", "temp_path"])
def test_paths_refuse_parts_that_leave_their_folder(data_root, method, parts):
    job = TrainJob.init(argv=[])
    job.start(complete=False)
    with pytest.raises(ValueError, match=re.escape(f"{method}: part {parts[0]!r}")):
        getattr(job, method)(*parts)


def test_temp_folder_is_made_at_start_and_removed_at_completion(data_root):
    job = TrainJob.init(argv=[])
    job.start(complete=False)
    temp = job.temp_path("x.txt")
    folder = os.path.dirname(temp)
    assert os.path.basename(folder).startswith(f"brevetti-job-{job.id}-") and os.path.isdir(folder)
    job.complete_job()
    assert not os.path.exists(folder)
    with pytest.raises(RuntimeError, match="temporary folder was removed"):
        job.temp_path("x.txt")


def test_temp_folder_given_to_init_is_used_and_kept(data_root, tmp_path):
    given = tmp_path / "my-temp"
    job = TrainJob.init(argv=[], temp_dir=str(given))
    job.start(complete=False)
    assert job.temp_path("cache", dir=True) == str(given / "cache")
    job.complete_job()
    assert (given / "cache").is_dir()


def test_temp_folder_from_brevetti_cache_is_kept(data_root, tmp_path, monkeypatch):
    monkeypatch.setenv("BREVETTI_CACHE", str(tmp_path / "cache"))
    job = TrainJob.init(argv=[])
    job.start()
    assert (tmp_path / "cache").is_dir()


def test_complete_false_leaves_the_job_running(data_root):
    job = TrainJob.init(argv=[])
    job.start(complete=False)
    assert read_json(os.path.join(artifacts(job), "status.json"))["status"] == "running"
    assert os.path.isdir(os.path.dirname(job.temp_path("x")))


def test_failed_run_is_recorded_and_reraised(data_root):
    job = FailingJob.init(argv=[])
    with pytest.raises(ValueError, match="diverged"):
        job.start()
    status = read_json(os.path.join(artifacts(job), "status.json"))
    assert status["status"] == "failed" and status["error"] == "ValueError: diverged"
    assert read_json(os.path.join(artifacts(job), "output.json"))["job"]["id"] == job.id


def test_interrupted_run_is_recorded_with_a_complete_output_and_reraised(data_root):
    job = InterruptedJob.init(argv=[])
    with pytest.raises(KeyboardInterrupt):
        job.start()
    assert read_json(os.path.join(artifacts(job), "status.json"))["status"] == "interrupted"
    assert set(read_json(os.path.join(artifacts(job), "output.json"))) == {"output", "environment", "job", "progress"}


def test_completed_job_cannot_be_started_again(data_root):
    job = TrainJob.init(argv=[])
    job.start()
    with pytest.raises(RuntimeError, match="already completed"):
        job.start()


def test_output_json_records_metrics_environment_and_the_job_as_it_ran(data_root):
    class SeededJob(TrainJob):
        def run(self):
            rng.resolve_seed(None, owner="test-seeded-job")
            self.add_output_metrics({"loss": np.float64(0.5), "confusion": np.eye(2, dtype=int)})

    job = SeededJob.init(argv=["--model.width", "16"])
    job.start()
    output = read_json(os.path.join(artifacts(job), "output.json"))
    assert output["output"] == {"loss": 0.5, "confusion": [[1, 0], [0, 1]]}
    env = output["environment"]
    assert env["python"] == sys.version
    assert {"numpy", "pandas", "pydantic", "fsspec"} <= set(env["packages"])
    assert env["packages"]["numpy"] == np.__version__
    assert len(env["git"]["commit"]) == 40 and isinstance(env["git"]["dirty"], bool)
    assert env["git"]["file"] == os.path.abspath(__file__)
    recorded = output["job"]
    assert recorded["id"] == job.id and recorded["name"] == job.name and recorded["run_id"] == job.run_id
    assert recorded["settings"] == {"epochs": 2, "model": {"width": 16}}
    assert recorded["datasets"] == []
    assert any(s["owner"] == "test-seeded-job" and s["drawn"] for s in recorded["seeds"])


def test_upload_job_output_returns_the_artifact_name(data_root):
    job = TrainJob.init(argv=[])
    job.start(complete=False)
    job.add_output_metric("My custom metric", 277)
    assert job.upload_job_output() == "artifacts/output.json"
    assert read_json(os.path.join(artifacts(job), "output.json"))["output"]["My custom metric"] == 277


def test_crash_between_writing_and_renaming_output_keeps_the_previous_file(data_root, monkeypatch):
    job = TrainJob.init(argv=[])
    job.start(complete=False)
    job.add_output_metric("epoch", 1)
    job.upload_job_output()
    before = read_text(os.path.join(artifacts(job), "output.json"))

    def crash(src, dst):
        raise OSError("killed between write and rename")

    job.add_output_metric("epoch", 2)
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="killed"):
        job.upload_job_output()
    monkeypatch.undo()
    assert read_text(os.path.join(artifacts(job), "output.json")) == before
    assert json.loads(before)["output"]["epoch"] == 1
    assert not [name for name in os.listdir(artifacts(job)) if name.endswith(".part")]


def test_metric_that_is_not_json_names_the_metric(data_root):
    job = TrainJob.init(argv=[])
    job.start(complete=False)
    with pytest.raises(TypeError, match="output metric 'model': object value"):
        job.add_output_metric("model", object())


def test_complete_job_records_the_package_relative_to_the_job_folder(data_root):
    job = TrainJob.init(argv=[])
    job.start(complete=False)
    package = job.artifact_path("model.tar.gz")
    job.io.write_file(package, b"model")
    assert job.complete_job(package) == "artifacts/model.tar.gz"
    assert read_json(os.path.join(artifacts(job), "output.json"))["job"]["model_path"] == "artifacts/model.tar.gz"
    assert read_json(os.path.join(artifacts(job), "status.json"))["status"] == "completed"


def test_complete_job_refuses_a_package_outside_the_job_folder(data_root, tmp_path):
    job = TrainJob.init(argv=[])
    job.start(complete=False)
    outside = tmp_path / "model.tar.gz"
    outside.write_bytes(b"model")
    with pytest.raises(ValueError, match=f"model package {outside} is outside the job folder"):
        job.complete_job(str(outside))
    sneaky = os.path.join(job.job_dir, "..", "model.tar.gz")
    with pytest.raises(ValueError, match="outside the job folder"):
        job.complete_job(sneaky)


def test_complete_job_refuses_a_missing_package(data_root):
    job = TrainJob.init(argv=[])
    job.start(complete=False)
    with pytest.raises(FileNotFoundError, match="model.tar.gz does not exist"):
        job.complete_job(job.artifact_path("model.tar.gz"))


def test_run_returning_a_package_path_completes_with_it(data_root):
    class Packaging(Job):
        def run(self):
            path = self.artifact_path("model.bin")
            self.io.write_file(path, b"weights")
            return path

    job = Packaging.init(argv=[])
    job.start()
    assert job.model_path == "artifacts/model.bin"


def test_run_returning_something_other_than_a_path_fails_clearly(data_root):
    class Returning(Job):
        def run(self):
            return {"accuracy": 1.0}

    job = Returning.init(argv=[])
    with pytest.raises(TypeError, match="the model package must be a path"):
        job.start()
    assert read_json(os.path.join(artifacts(job), "status.json"))["status"] == "failed"


def test_output_lists_only_the_seeds_resolved_since_the_job_was_made(data_root):
    rng.resolve_seed(111, "BeforeTheJob")
    job = Job.init(argv=[])
    job.start(complete=False)
    rng.resolve_seed(222, "DataGenerator")
    rng.resolve_seed(222, "DataGenerator")  # a second generator with the same seed is listed once
    job.upload_job_output()
    seeds = read_json(os.path.join(artifacts(job), "output.json"))["job"]["seeds"]
    assert seeds == [{"owner": "DataGenerator", "seed": 222, "drawn": False}]


@pytest.mark.parametrize("method", ["artifact_path", "temp_path"])
def test_paths_refuse_a_symlink_that_leads_out_of_their_folder(data_root, tmp_path, method):
    job = TrainJob.init(argv=[])
    job.start(complete=False)
    outside = tmp_path / "outside"
    outside.mkdir()
    link = os.path.join(os.path.dirname(getattr(job, method)("probe")), "link")
    os.symlink(outside, link)
    with pytest.raises(ValueError, match=re.escape(f"{method}: {link}/sub/x.txt resolves to {outside}/sub/x.txt")):
        getattr(job, method)("link", "sub", "x.txt")
    assert list(outside.iterdir()) == []


def test_paths_follow_a_symlink_that_stays_inside_their_folder(data_root):
    job = TrainJob.init(argv=[])
    job.start(complete=False)
    run = job.artifact_path("run1", dir=True)
    os.symlink(run, os.path.join(artifacts(job), "latest"))
    assert job.artifact_path("latest", "model.bin") == os.path.join(artifacts(job), "latest", "model.bin")
