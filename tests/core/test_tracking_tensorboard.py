"""TensorBoard logs of jobs: event files under artifacts/tensorboard/ read back with TensorBoard's own readers."""
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import types

import pytest

# TensorBoard's readers go through TensorFlow's file API when TensorFlow is installed (slow to import);
# this marker module makes them use TensorBoard's own stub instead, as its TensorFlow-free build does.
sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))

from PIL import Image  # noqa: E402
from pydantic import Field  # noqa: E402
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.backend.event_processing.plugin_event_multiplexer import EventMultiplexer  # noqa: E402
from tensorboard.plugins.hparams import api_pb2, metadata  # noqa: E402

from brevetti_core import Dataset, Job, build_image_data_generator, tracking  # noqa: E402
from brevetti_core.report import record_first_batch  # noqa: E402
from brevetti_core.settings import JobSettings  # noqa: E402

EPOCHS = [{"loss": 1.0, "val_loss": 1.5, "accuracy": 0.5, "val_accuracy": 0.4},
          {"loss": 0.6, "val_loss": 0.9, "accuracy": 0.7, "val_accuracy": 0.6},
          {"loss": 0.4, "val_loss": 0.8, "accuracy": 0.8, "val_accuracy": 0.7}]


class TrainSettings(JobSettings):
    framework: str = "tf"
    learning_rate: float = 0.01
    filters: list[int] = Field(default_factory=lambda: [8, 16])


class TrainingJob(Job):
    """Reports EPOCHS through the job's remote monitor, as the Keras callback does."""

    settings: TrainSettings

    def run(self):
        monitor = self.get_remote_monitor()
        for epoch, logs in enumerate(EPOCHS):
            monitor.on_epoch_end(epoch, logs)


class FirstBatchJob(TrainingJob):
    """Records the first training batch of its dataset for the report, then trains."""

    def run(self):
        samples = self.datasets[0].get_image_samples()
        record_first_batch(self, build_image_data_generator(samples, batch_size=6, shuffle=True, seed=1,
                                                            image={"target_size": (32, 32)}))
        super().run()


class FailingJob(TrainingJob):
    def run(self):
        self.get_remote_monitor().on_epoch_end(0, EPOCHS[0])
        raise ValueError("diverged")


@pytest.fixture(autouse=True)
def tensorboard_only(data_root, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("BREVETTI_TENSORBOARD", raising=False)
    tracking.enable()


def events_of(job) -> EventAccumulator:
    folder = os.path.join(job.job_dir, "artifacts", "tensorboard")
    accumulator = EventAccumulator(folder, size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    return accumulator.Reload()


def session_of(accumulator: EventAccumulator, tag: str):
    assert len(accumulator.Tensors(tag)) == 1
    content = accumulator.SummaryMetadata(tag).plugin_data.content
    return (metadata.parse_session_start_info_plugin_data if tag == metadata.SESSION_START_INFO_TAG
            else metadata.parse_session_end_info_plugin_data)(content)


def test_each_epoch_is_a_step_of_train_and_devel_scalars_on_one_chart():
    job = TrainingJob.init(argv=[])
    job.start()
    events = events_of(job)
    assert sorted(events.Tags()["scalars"]) == ["accuracy/devel", "accuracy/train", "loss/devel", "loss/train"]
    assert [(s.step, round(s.value, 6)) for s in events.Scalars("loss/train")] == [(0, 1.0), (1, 0.6), (2, 0.4)]
    assert [(s.step, round(s.value, 6)) for s in events.Scalars("loss/devel")] == [(0, 1.5), (1, 0.9), (2, 0.8)]


def test_the_settings_are_hparams_of_the_job(tmp_path):
    job = TrainingJob.init(argv=["--learning_rate", "0.05"])
    job.start()
    start = session_of(events_of(job), metadata.SESSION_START_INFO_TAG)
    hparams = {name: value.WhichOneof("kind") and getattr(value, value.WhichOneof("kind"))
               for name, value in start.hparams.items()}
    assert hparams == {"framework": "tf", "learning_rate": 0.05, "filters": "[8, 16]"}
    assert start.group_name == job.id


@pytest.mark.parametrize("job_class, status", [(TrainingJob, api_pb2.STATUS_SUCCESS),
                                               (FailingJob, api_pb2.STATUS_FAILURE)])
def test_the_hparams_session_ends_with_the_jobs_status(job_class, status):
    job = job_class.init(argv=[])
    with contextlib.suppress(ValueError):  # FailingJob's own error
        job.start()
    assert session_of(events_of(job), metadata.SESSION_END_INFO_TAG).status == status


def test_the_first_augmented_batch_is_an_image(small_vials_root):
    job = FirstBatchJob.init(argv=[], datasets=[Dataset(bucket=str(small_vials_root))])
    job.start()
    [image] = events_of(job).Images("first_batch")
    atlas = os.path.join(job.job_dir, "artifacts", "report", "first_batch", "spriteatlas.jpeg")
    with open(atlas, "rb") as f:
        assert image.encoded_image_string == f.read()
    assert (image.width, image.height) == Image.open(atlas).size
    assert image.step == 0


def test_the_data_root_as_logdir_shows_every_job(data_root):
    jobs = [TrainingJob.init(argv=[]) for _ in range(2)]
    for job in jobs:
        job.start()
    runs = EventMultiplexer().AddRunsFromDirectory(str(data_root)).Reload().Runs()
    assert sorted(runs) == sorted(f"{job.id}/artifacts/tensorboard" for job in jobs)


def test_the_variable_turns_tensorboard_off(monkeypatch):
    monkeypatch.setenv("BREVETTI_TENSORBOARD", "0")
    job = TrainingJob.init(argv=[])
    job.start()
    assert not os.path.exists(os.path.join(job.job_dir, "artifacts", "tensorboard"))


def test_a_job_that_trains_nothing_has_no_log():
    job = Job.init(argv=[])
    job.start()
    assert not os.path.exists(os.path.join(job.job_dir, "artifacts", "tensorboard"))


def test_tracking_loads_neither_tensorflow_nor_torch(data_root, tmp_path):
    script = textwrap.dedent(f"""
        import json, sys
        from brevetti_core import Job, tracking
        class TrainingJob(Job):
            def run(self):
                self.get_remote_monitor().on_epoch_end(0, {{"loss": 1.0, "val_loss": 2.0}})
        tracking.enable("{(tmp_path / 'mlruns').as_uri()}", tensorboard=True)
        job = TrainingJob.init(argv=[])
        job.start()
        print(json.dumps({{"loaded": sorted(m for m in ("tensorflow", "torch", "keras") if m in sys.modules),
                          "tracked": tracking.read_record(job.job_dir)["mlflow"]["run_id"]}}))
    """)
    # A file store (MLflow 3 wants the opt-in) spares the SQLite schema setup: this test is about imports.
    env = {**os.environ, "BREVETTI_DATA_BUCKET": str(data_root), "MLFLOW_ALLOW_FILE_STORE": "true"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                          cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["loaded"] == [] and result["tracked"]


KILLED_ON_S3 = textwrap.dedent("""
    import os, signal
    from brevetti_core import tracking
    from brevetti_core.job import Job

    class OneEpoch(Job):
        def run(self):
            self.get_remote_monitor().on_epoch_end(0, {"loss": 1.0})
            os.kill(os.getpid(), signal.SIGKILL)

    tracking.enable()
    OneEpoch.init(argv=[]).start()
""")


def test_the_local_copy_of_a_killed_s3_jobs_log_is_removed_by_the_next_start(s3_env, s3_bucket, tmp_path,
                                                                                  monkeypatch):
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp_root))
    monkeypatch.setattr(tempfile, "tempdir", str(temp_root))
    monkeypatch.setenv("BREVETTI_DATA_BUCKET", f"{s3_bucket}/data")
    killed = subprocess.run([sys.executable, "-c", KILLED_ON_S3], env=os.environ.copy(), capture_output=True,
                            text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr
    logs = [name for name in os.listdir(temp_root) if "tensorboard" in name]
    assert len(logs) == 1 and os.listdir(temp_root / logs[0])  # the event file's local copy, left by the kill
    Job.init(argv=[]).start()
    assert not any("tensorboard" in name for name in os.listdir(temp_root))
