"""job.io: each job owns its file access; the module-level io_tools stays for code without a job."""
import os
import pickle

import pytest

from brevetti_core.io_tools import IoTools, io_tools
from brevetti_core.job import Job


class RecordingIo(IoTools):
    """An IoTools noting every path it reads or writes."""

    def __init__(self):
        super().__init__()
        self.read, self.written = [], []

    def read_file(self, path, cache=None):
        self.read.append(str(path))
        return super().read_file(path, cache)

    def write_file(self, path, content):
        self.written.append(str(path))
        super().write_file(path, content)


class NotingJob(Job):
    def run(self):
        self.io.write_file(self.artifact_path("notes.txt"), "ran")


@pytest.fixture(autouse=True)
def no_cache_env(monkeypatch):
    monkeypatch.delenv("BREVETTI_CACHE", raising=False)


def relative(job, paths):
    return sorted(os.path.relpath(p, job.job_dir).replace(os.sep, "/") for p in paths)


def test_each_job_has_its_own_io():
    first, second = Job(), Job()
    assert isinstance(first.io, IoTools) and first.io is not second.io and first.io is not io_tools


def test_a_job_with_its_io_still_pickles(data_root, tmp_path):
    job = Job.init(argv=[])
    job.io.set_cache_root(tmp_path / "cache")
    copy = pickle.loads(pickle.dumps(job))
    assert copy.id == job.id and copy.io is not job.io and copy.io.cache_root == job.io.cache_root


def test_a_cache_root_set_on_a_jobs_io_stays_with_that_job(data_root, tmp_path):
    first, second = Job.init(argv=[]), Job.init(argv=[])
    first.io.set_cache_root(tmp_path / "cache")
    assert first.io.cache_root == str(tmp_path / "cache")
    assert second.io.cache_root is None and io_tools.cache_root != first.io.cache_root


def test_a_job_writes_its_definition_status_output_and_report_through_its_io(data_root):
    io = RecordingIo()
    job = NotingJob.init(argv=[], io=io)
    assert job.io is io
    job.start()
    assert set(relative(job, io.written)) == {
        "info.json", "artifacts/status.json", "artifacts/output.json", "artifacts/notes.txt", "artifacts/report.html",
    }


def test_a_job_reads_its_definition_through_its_io(data_root):
    made = Job.init(argv=[])
    io = RecordingIo()
    job = Job.init(job_id=made.id, argv=[], io=io)
    assert relative(job, io.read) == ["info.json"]
