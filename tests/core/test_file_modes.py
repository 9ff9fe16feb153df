"""Files written through IoTools get the mode any program's new file gets: 0666 less the process umask."""
import os
import stat

import pytest

from brevetti_core.io_tools import IoTools


@pytest.fixture(params=[0o022, 0o077, 0o002])
def umask(request):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_written_file_has_the_mode_the_umask_gives_new_files(tmp_path, umask):
    target = tmp_path / "output.json"
    IoTools().write_file(target, "{}")
    assert mode_of(target) == 0o666 & ~umask


def test_a_written_file_has_the_same_mode_as_a_file_appended_to_by_open(tmp_path, umask):
    written, appended = tmp_path / "output.json", tmp_path / "progress.jsonl"
    IoTools().write_file(written, "{}")
    with open(appended, "a", encoding="utf-8") as f:
        f.write("{}\n")
    assert mode_of(written) == mode_of(appended)


def test_a_rewritten_file_keeps_the_umask_mode(tmp_path, umask):
    target = tmp_path / "status.json"
    io = IoTools()
    io.write_file(target, "1")
    io.write_file(target, "2")
    assert mode_of(target) == 0o666 & ~umask


def test_every_file_a_job_writes_has_the_umask_mode(data_root, umask):
    from brevetti_core.job import Job

    job = Job.init(argv=[])
    job.start(complete=False)
    job.add_output_metric("accuracy", 0.5)
    job.get_remote_monitor().on_epoch_end(0, {"loss": 1.0})
    job.upload_job_output()
    job.complete_job()
    files = [os.path.join(folder, name) for folder, _, names in os.walk(data_root) for name in names]
    assert len(files) >= 3
    assert {os.path.relpath(path, data_root): mode_of(path) for path in files} == \
        {os.path.relpath(path, data_root): 0o666 & ~umask for path in files}


def test_a_model_archive_has_the_umask_mode(tmp_path, umask):
    from brevetti_core.archive import ModelArchive

    target = tmp_path / "model.tar.gz"
    with ModelArchive(target, {"name": "vials", "producer": "test"}).open_write() as archive:
        archive.add_asset("weights", "weights.bin", b"\x00" * 16)
    assert mode_of(target) == 0o666 & ~umask
