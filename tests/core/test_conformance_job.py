"""Conformance: brevettiai 0.10's documented job behaviours (its tests/test_platform_job.py, inventory §1 and §10).

Each test states one behaviour of the reference in its docstring. Where brevetti departs on purpose the test
asserts brevetti's behaviour and says so; docs/migrating-from-brevettiai.md gives the reasons.
"""
import json
import os

import pytest
from pydantic import BaseModel, Field

from brevetti_core import Job, JobSettings, PlatformBackend

API_KEY = "key-5150"


class WritesThroughArtifactsPath(Job):
    def run(self):
        (self.artifacts_path / "test.txt").write_text("test")


class Nested(BaseModel):
    b: int = 1


class DotSettings(JobSettings):
    a: Nested = Nested()
    lst: list[int] = Field(default_factory=list)
    flag: bool = False


class DotJob(Job):
    settings: DotSettings


@pytest.fixture(autouse=True)
def no_cache_env(monkeypatch):
    monkeypatch.delenv("BREVETTI_CACHE", raising=False)
    monkeypatch.delenv("BREVETTI_HOST_NAME", raising=False)


def test_run_using_artifacts_path_before_start_raises_permission_error(data_root):
    """Reference test_platform_job (1): run() of a job that uses artifacts_path, called before start(), raises
    PermissionError."""
    with pytest.raises(PermissionError):
        WritesThroughArtifactsPath.init(argv=[]).run()


def test_unknown_settings_are_an_error_not_extra():
    """Reference test_platform_job (2): JobSettings(test="value").extra == {"test": "value"}. Departure: an unknown
    setting is an error naming it (a typo must not train with the default)."""
    with pytest.raises(ValueError, match="test"):
        JobSettings(test="value")


def test_platform_schema_builds_from_the_settings():
    """Reference test_platform_job (3): settings.platform_schema() builds a schema of the settings' fields."""
    models = [field["model"] for field in DotSettings.platform_schema()["fields"]]
    assert {"a.b", "lst", "flag"} <= set(models)


def test_local_mode_lifecycle_runs_the_job_and_writes_its_artifacts(data_root, tmp_path):
    """Reference test_platform_job (4): Job(backend=PlatformBackend(data_bucket=tmpdir)).start(resolve_access_rights=
    False) runs run(); the artifacts are {test.txt, output.json}. brevetti adds status.json and report.html."""
    job = WritesThroughArtifactsPath(name="Test", backend=PlatformBackend(data_bucket=str(tmp_path)))
    job.start(resolve_access_rights=False)
    assert job.job_dir == str(tmp_path / job.id)
    assert set(os.listdir(job.artifacts_path)) == {"test.txt", "output.json", "status.json", "report.html"}


@pytest.mark.parametrize("argv", [["--a.b", "42"], ["--a.b=42"]])
def test_dot_notation_overrides_a_nested_setting_with_its_type(data_root, argv):
    """Reference §1.3 / §10.1: `--a.b 42` and `--a.b=42` set settings a.b, typed like the existing value (int)."""
    assert DotJob.init(argv=argv).settings.a.b == 42


def test_list_and_bool_settings_from_argv(data_root):
    """Reference §1.3: a list value is JSON (`--lst=[1,2]`), a bool takes strtobool words (`--flag yes`)."""
    settings = DotJob.init(argv=["--lst=[1,2]", "--flag", "yes"]).settings
    assert settings.lst == [1, 2] and settings.flag is True


def test_a_new_top_level_setting_from_argv_is_an_error(data_root):
    """Reference §1.3: `--new 7` adds a str setting that JobSettings puts in extra. Departure: an error naming it."""
    with pytest.raises(ValueError, match="new"):
        DotJob.init(argv=["--new", "7"])


def test_start_writes_output_json_before_run_and_returns_runs_result(data_root):
    """Reference §1.7: start() writes output.json, calls run() and completes with run()'s package path."""
    class Packaging(Job):
        def run(self):
            assert os.path.isfile(self.artifact_path("output.json"))
            self.io.write_file(self.artifact_path("model.tar.gz"), b"model")
            return self.artifact_path("model.tar.gz")

    job = Packaging.init(argv=[])
    assert job.start() == job.artifact_path("model.tar.gz")
    assert job.model_path == "artifacts/model.tar.gz"


def test_output_json_holds_output_environment_and_job_without_the_api_key(data_root):
    """Reference §1.9 / §10.4: output.json has top-level output, environment and job. The reference masks the api
    key with '*'; brevetti never writes it."""
    job = Job.init(api_key=API_KEY, argv=[])
    job.start(complete=False)
    job.add_output_metric("accuracy", 0.5)
    job.upload_job_output()
    text = (job.artifacts_path / "output.json").read_text()
    record = json.loads(text)
    assert {"output", "environment", "job"} <= set(record) and record["output"] == {"accuracy": 0.5}
    assert API_KEY not in text and "api_key" not in record["job"]


def test_remote_monitor_before_start_raises_permission_error(data_root):
    """Reference §1.7: get_remote_monitor() needs a started job (PermissionError)."""
    with pytest.raises(PermissionError):
        Job.init(argv=[]).get_remote_monitor()


def test_completion_posts_the_package_path_relative_to_the_job_folder(data_root, platform):
    """Reference §1.7 / §10.5: completion POSTs host_name + complete_url + quote(package path relative to the job
    folder)."""
    url, received = platform
    job = Job.init(argv=[], host_name=url, complete_url="/api/models/7/complete?path=")
    job.start(complete=False)
    job.io.write_file(job.artifact_path("my model.tar.gz"), b"model")
    job.complete(package_path=job.artifact_path("my model.tar.gz"))
    assert [path for path, _ in received] == ["/api/models/7/complete?path=artifacts/my%20model.tar.gz"]


def test_a_package_outside_the_job_folder_is_refused(data_root, tmp_path):
    """Reference §1.7: a package_path outside job_dir raises ValueError."""
    (tmp_path / "elsewhere.tar.gz").write_bytes(b"model")
    job = Job.init(argv=[])
    job.start(complete=False)
    with pytest.raises(ValueError, match="outside the job folder"):
        job.complete(package_path=str(tmp_path / "elsewhere.tar.gz"))
