"""Job.init: where the job definition comes from, argv, and errors for missing or malformed definitions."""
import json
import os
import uuid

import pytest
from pydantic import BaseModel, Field

from brevetti_core import jobstore
from brevetti_core.dataset import Dataset
from brevetti_core.job import Job
from brevetti_core.settings import JobSettings, SettingsError


class Optimizer(BaseModel):
    lr: float = 0.1
    momentum: float = 0.9


class MySettings(JobSettings):
    my_custom_int_setting: int = 25
    optimizer: Optimizer = Optimizer()


class MyJob(Job):
    settings: MySettings


@pytest.fixture(autouse=True)
def no_host_env(monkeypatch):
    monkeypatch.delenv("BREVETTI_HOST_NAME", raising=False)


def test_init_without_a_job_id_creates_a_local_job_definition(data_root):
    job = MyJob.init(argv=[])
    definition = json.loads((data_root / job.id / "info.json").read_text())
    assert definition == {"id": job.id, "name": "MyJob (local)", "datasets": [], "settings": {}}
    assert job.settings == MySettings()


def test_fresh_local_job_records_the_definition_fields_it_was_given(data_root, tmp_path):
    dataset = Dataset(name="vials", bucket=str(tmp_path))
    job = MyJob.init(argv=[], name="named", datasets=[dataset], settings={"my_custom_int_setting": 5})
    definition = json.loads((data_root / job.id / "info.json").read_text())
    assert definition == {"id": job.id, "name": "named", "datasets": [dataset.model_dump()],
                          "settings": {"my_custom_int_setting": 5}}
    assert job.settings.my_custom_int_setting == 5


def test_settings_object_can_be_given_to_init(data_root):
    job = MyJob.init(argv=["--optimizer.lr", "0.5"], settings=MySettings(my_custom_int_setting=6))
    assert job.settings == MySettings(my_custom_int_setting=6, optimizer=Optimizer(lr=0.5))


def test_data_root_defaults_to_the_xdg_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("BREVETTI_DATA_BUCKET", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert jobstore.data_root() == str(tmp_path / "xdg" / "brevetti")
    monkeypatch.delenv("XDG_DATA_HOME")
    assert jobstore.data_root() == os.path.join(os.path.expanduser("~"), ".local", "share", "brevetti")


def test_init_with_a_job_id_reads_its_definition(data_root, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    created = jobstore.create_job("vials", [images], {"my_custom_int_setting": 30})
    job = MyJob.init(created["id"], argv=[])
    assert (job.id, job.name, job.settings.my_custom_int_setting) == (created["id"], "vials", 30)
    assert job.datasets == [Dataset(id=created["datasets"][0]["id"], name="images", bucket=str(images))]


def test_job_id_and_api_key_come_from_argv(data_root):
    created = jobstore.create_job("from argv")
    job = MyJob.init(argv=["--job_id", created["id"], "--api_key", "k3y", "--my_custom_int_setting", "10"])
    assert job.id == created["id"] and job.api_key.get_secret_value() == "k3y"
    assert job.settings.my_custom_int_setting == 10


def test_argv_overrides_nested_settings_of_the_definition(data_root):
    created = jobstore.create_job("nested", settings={"optimizer": {"lr": 0.5, "momentum": 0.5}})
    job = MyJob.init(created["id"], argv=["--optimizer.lr=0.01"])
    assert job.settings.optimizer == Optimizer(lr=0.01, momentum=0.5)


def test_init_settings_keyword_sits_between_definition_and_argv(data_root):
    created = jobstore.create_job("layers", settings={"my_custom_int_setting": 1, "optimizer": {"lr": 0.2}})
    job = MyJob.init(created["id"], argv=["--optimizer.lr", "0.3"],
                     settings={"my_custom_int_setting": 2, "optimizer": {"lr": 9}})
    assert (job.settings.my_custom_int_setting, job.settings.optimizer.lr) == (2, 0.3)


def test_info_file_is_read_from_anywhere(data_root, tmp_path):
    info = tmp_path / "elsewhere.json"
    info.write_text(json.dumps({"id": "job-1", "name": "from file", "settings": {"my_custom_int_setting": 7}}))
    job = MyJob.init(argv=["--info_file", str(info)])
    assert (job.id, job.name, job.settings.my_custom_int_setting) == ("job-1", "from file", 7)
    assert job.job_dir == os.path.join(str(data_root), "job-1")


def test_job_config_skips_reading_info_json(data_root):
    job = MyJob.init(job_config={"id": "cfg", "name": "config", "settings": {"my_custom_int_setting": 3}}, argv=[])
    assert (job.id, job.settings.my_custom_int_setting) == ("cfg", 3)
    assert not (data_root / "cfg").exists()


def test_missing_info_json_error_names_the_file(data_root):
    with pytest.raises(FileNotFoundError, match=f"no job definition at {data_root / 'nope' / 'info.json'}"):
        MyJob.init("nope", argv=[])


def test_malformed_info_json_error_names_the_file_and_the_problem(data_root):
    (data_root / "bad").mkdir()
    (data_root / "bad" / "info.json").write_text('{"id": "bad", "name": }')
    path = data_root / "bad" / "info.json"
    with pytest.raises(ValueError, match=rf"job definition {path} is not valid JSON: Expecting value: line 1"):
        MyJob.init("bad", argv=[])


def test_info_json_that_is_not_an_object_is_refused(data_root):
    (data_root / "list").mkdir()
    (data_root / "list" / "info.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="must be a JSON object, got list"):
        MyJob.init("list", argv=[])


def test_info_json_of_another_job_is_refused(data_root):
    (data_root / "a").mkdir()
    (data_root / "a" / "info.json").write_text('{"id": "b"}')
    with pytest.raises(ValueError, match="has id 'b', but it was loaded as job 'a'"):
        MyJob.init("a", argv=[])


def test_unknown_definition_field_names_the_file_and_close_matches(data_root):
    (data_root / "typo").mkdir()
    (data_root / "typo" / "info.json").write_text('{"id": "typo", "remote_ulr": "/x"}')
    with pytest.raises(ValueError, match=r"job definition .*typo/info.json: unknown field 'remote_ulr'; "
                                         r"did you mean 'remote_url'\?"):
        MyJob.init("typo", argv=[])


def test_wrong_setting_type_in_info_json_names_the_file(data_root):
    created = jobstore.create_job("typed", settings={"optimizer": {"lr": "fast"}})
    path = jobstore.definition_path(created["id"])
    with pytest.raises(SettingsError, match=f"setting 'optimizer.lr' expects a float, got 'fast' \\(from {path}\\)"):
        MyJob.init(created["id"], argv=[])


def test_unknown_setting_on_the_command_line_names_the_flag(data_root):
    with pytest.raises(SettingsError, match=r"unknown setting 'my_custom_int_settin' \(from --my_custom_int_settin\); "
                                            r"did you mean 'my_custom_int_setting'\?"):
        MyJob.init(argv=["--my_custom_int_settin", "3"])


def test_bad_settings_create_no_local_job(data_root):
    with pytest.raises(SettingsError):
        MyJob.init(argv=["--my_custom_int_setting", "many"])
    assert list(data_root.iterdir()) == []


def test_invalid_job_id_is_refused(data_root):
    with pytest.raises(ValueError, match=r"invalid job id '\.\./x'"):
        MyJob.init("../x", argv=[])


def test_settings_annotation_must_be_job_settings(data_root):
    class Broken(Job):
        settings: dict = Field(default_factory=dict)

    with pytest.raises(TypeError, match="Broken.settings must be annotated with a JobSettings subclass"):
        Broken.init(argv=[])


def test_host_name_from_definition_then_env_then_data_root(data_root, monkeypatch):
    job = MyJob.init(job_config={"id": str(uuid.uuid4()), "host_name": "https://platform.example"}, argv=[])
    assert job.host_name == "https://platform.example"
    monkeypatch.setenv("BREVETTI_HOST_NAME", "https://env.example")
    assert MyJob.init(job_config={}, argv=[]).host_name == "https://env.example"
    monkeypatch.delenv("BREVETTI_HOST_NAME")
    assert MyJob.init(job_config={}, argv=[]).host_name == f"file://{data_root}"


def test_list_jobs_reports_unreadable_definitions_instead_of_hiding_them(data_root):
    good = jobstore.create_job("good")
    (data_root / "broken").mkdir()
    (data_root / "broken" / "info.json").write_text("{")
    (data_root / "not-a-job").mkdir()
    jobs = {j["id"]: j for j in jobstore.list_jobs()}
    assert set(jobs) == {good["id"], "broken"}
    assert jobs[good["id"]]["name"] == "good" and jobs[good["id"]]["status"] is None
    assert "not valid JSON" in jobs["broken"]["error"]
