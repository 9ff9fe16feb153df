"""MLflow runs of jobs, read back through MlflowClient from a real `mlflow server` (SQLite store) on 127.0.0.1.

The server is started once for the module (job execution off: it is not needed and costs processes);
local stores (sqlite, file) and an unreachable server need none. One test puts the artifacts in an S3
store on the moto server; the last ones run `brevetti demo` against the server and open the MLflow UI
in headless Chromium (driven as test_report_browser does), keeping the screenshot as
test-artifacts/mlflow-demo.png.
"""
import base64
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests
from mlflow import MlflowClient
from pydantic import BaseModel, Field
from test_report_browser import ARTIFACTS, Page, browser, chromium  # noqa: F401  # browser fixtures, reused

from brevetti_core import Job, tracking
from brevetti_core.io_tools import join
from brevetti_core.settings import JobSettings
from brevetti_demo import generate_vials

SERVER_START_SECONDS = 300
EPOCHS = [{"loss": 1.0, "val_loss": 1.5, "accuracy": 0.5, "val_accuracy": 0.4},
          {"loss": 0.6, "val_loss": 0.9, "accuracy": 0.7, "val_accuracy": 0.6},
          {"loss": 0.4, "val_loss": 0.8, "accuracy": 0.8, "val_accuracy": 0.7}]


class DataPart(BaseModel):
    batch_size: int = 16
    image: dict = Field(default_factory=lambda: {"target_size": [64, 64]})


class TrainSettings(JobSettings):
    framework: str = "torch"
    learning_rate: float = 0.01
    data: DataPart = Field(default_factory=DataPart)
    source: str = "https://bob:pa55word@example.com/data?token=abc123"
    notes: str = "short"


class TrainingJob(Job):
    """Reports EPOCHS through its remote monitor (Keras' names), saves a model folder, records output metrics."""

    settings: TrainSettings

    def run(self):
        monitor = self.get_remote_monitor()
        for epoch, logs in enumerate(EPOCHS):
            monitor.on_epoch_end(epoch, logs)
        model = self.artifact_path("model", dir=True)
        self.io.write_file(join(model, "weights.bin"), b"\x00\x01weights")
        self.add_output_metrics({"devel_accuracy": 0.7, "test_accuracy": 0.65, "framework": "torch"})
        return model


class FailingJob(TrainingJob):
    def run(self):
        self.get_remote_monitor().on_epoch_end(0, EPOCHS[0])
        raise ValueError("diverged")


class InterruptedJob(TrainingJob):
    def run(self):
        self.get_remote_monitor().on_epoch_end(0, EPOCHS[0])
        raise KeyboardInterrupt


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module", autouse=True)
def server_process(tmp_path_factory):
    """`mlflow server` on a free port with a SQLite store and proxied artifacts, launched when the module starts."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    log_file = open(folder / "server.log", "wb")  # noqa: SIM115  # the server writes to it until the end
    process = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "mlflow"), "server", "--backend-store-uri",
         f"sqlite:///{folder}/mlflow.db", "--artifacts-destination", str(folder / "artifacts"),
         "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        cwd=folder, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})
    yield process, f"http://127.0.0.1:{port}", folder / "server.log"
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    log_file.close()


@pytest.fixture(scope="module")
def mlflow_server(server_process):
    """The server's URL once it answers /health."""
    process, url, log_path = server_process
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mlflow server exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            if requests.get(f"{url}/health", timeout=2).ok:
                return url
        except requests.RequestException:
            pass
        time.sleep(0.5)
    pytest.fail(f"mlflow server did not answer within {SERVER_START_SECONDS} s:\n{log_path.read_text()[-3000:]}")


@pytest.fixture
def client(mlflow_server):
    return MlflowClient(mlflow_server)


@pytest.fixture(autouse=True)
def tracking_from_env(data_root, monkeypatch):
    """Tracking as the environment says (no enable() left from elsewhere); no experiment name unless a test sets one."""
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    tracking.enable()


@pytest.fixture
def tracked(mlflow_server, monkeypatch):
    """Jobs started in the test are MLflow runs on the module's server."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    return mlflow_server


def run_of(client, job):
    """The MLflow run a job recorded in its tracking.json."""
    return client.get_run(tracking.read_record(job.job_dir)["mlflow"]["run_id"])


def finished(job_class, *argv, **kw):
    job = job_class.init(argv=list(argv), **kw)
    with contextlib.suppress(ValueError, KeyboardInterrupt):  # the failed and interrupted jobs' own errors
        job.start()
    return job


def output_of(job):
    return json.loads(Path(job.job_dir, "artifacts", "output.json").read_text())


# -- stores without a server ------------------------------------------------------------------------
def test_an_unreachable_server_is_one_warning_naming_it_and_the_job_completes(monkeypatch, caplog):
    uri = f"http://127.0.0.1:{_free_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    with caplog.at_level(logging.WARNING):
        job = finished(TrainingJob, name="offline")
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "MLflow" in r.getMessage()]
    assert len(warnings) == 1 and uri in warnings[0] and "runs on without an MLflow run" in warnings[0]
    assert job.read_status()["status"] == "completed"
    assert len(Path(job.job_dir, "artifacts", "progress.jsonl").read_text().splitlines()) == len(EPOCHS)
    assert tracking.read_record(job.job_dir) is None


@pytest.mark.parametrize("store", ["sqlite", "file"])
def test_a_local_store_holds_the_run(store, tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path}/mlflow.db" if store == "sqlite" else (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps file stores behind this opt-in
    monkeypatch.chdir(tmp_path)  # where MLflow puts a sqlite store's artifacts (./mlruns)
    job = finished(TrainingJob, name="local")
    run = run_of(MlflowClient(uri), job)
    assert run.info.status == "FINISHED" and run.data.metrics["devel_loss"] == pytest.approx(0.8)
    assert tracking.read_record(job.job_dir)["mlflow"]["run_url"] is None
    assert "output.json" in [a.path for a in MlflowClient(uri).list_artifacts(run.info.run_id)]


# -- a tracking server ------------------------------------------------------------------------------
def test_a_job_is_a_run_named_after_it_with_its_settings_as_dot_named_params(tracked, client):
    job = finished(TrainingJob, "--learning_rate", "0.05", "--data.batch_size", "8", name="vials, lr 0.05")
    run = run_of(client, job)
    assert run.info.run_name == "vials, lr 0.05"
    assert {k: run.data.params[k] for k in ("learning_rate", "data.batch_size", "data.image.target_size")} == \
        {"learning_rate": "0.05", "data.batch_size": "8", "data.image.target_size": "[64, 64]"}
    assert run.data.tags["brevetti.job_id"] == job.id and run.data.tags["brevetti.framework"] == "torch"
    assert run.data.tags["mlflow.source.git.commit"] == output_of(job)["environment"]["git"]["commit"]
    assert client.get_experiment(run.info.experiment_id).name == "TrainingJob"


def test_each_epoch_is_a_step_of_the_runs_metrics(tracked, client):
    run = run_of(client, finished(TrainingJob))
    history = {name: [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, name)]
               for name in ("train_loss", "devel_loss", "train_accuracy", "devel_accuracy")}
    assert history["train_loss"] == [(0, 1.0), (1, 0.6), (2, 0.4)]
    assert history["devel_loss"] == [(0, 1.5), (1, 0.9), (2, 0.8)]
    assert history["devel_accuracy"] == [(0, 0.4), (1, 0.6), (2, 0.7)]  # the equal output metric adds no point


def test_output_metrics_are_logged_at_the_last_epoch(tracked, client):
    run = run_of(client, finished(TrainingJob))
    assert [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "test_accuracy")] == [(2, 0.65)]


def test_the_artifacts_folder_is_uploaded_when_the_job_ends(tracked, client, tmp_path):
    job = finished(TrainingJob)
    run = run_of(client, job)
    listed = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"output.json", "report.html", "progress.jsonl", "tracking.json", "model", "tensorboard"} <= listed
    assert [a.path for a in client.list_artifacts(run.info.run_id, "model")] == ["model/weights.bin"]
    downloaded = client.download_artifacts(run.info.run_id, "output.json", str(tmp_path))
    assert Path(downloaded).read_bytes() == Path(job.job_dir, "artifacts", "output.json").read_bytes()


@pytest.mark.parametrize("job_class, status", [(TrainingJob, "FINISHED"), (FailingJob, "FAILED"),
                                               (InterruptedJob, "KILLED")])
def test_the_run_status_mirrors_the_job(job_class, status, tracked, client):
    job = finished(job_class)
    assert run_of(client, job).info.status == status
    assert run_of(client, job).info.end_time is not None


SLOW_JOB = textwrap.dedent("""
    import time
    from brevetti_core import Job
    class SlowJob(Job):
        def run(self):
            self.get_remote_monitor().on_epoch_end(0, {"loss": 1.0})
            print(self.id, flush=True)
            time.sleep(600)
    SlowJob.init(argv=[]).start()
""")


@contextlib.contextmanager
def slow_job():
    """A job process past its first epoch (so its run is RUNNING): yields (process, job id); killed at the end."""
    process = subprocess.Popen([sys.executable, "-c", SLOW_JOB], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        job_id = process.stdout.readline().strip()
        assert job_id, process.stderr.read()[-3000:]
        yield process, job_id
    finally:
        process.kill()
        process.wait()


def run_id_of(data_root, job_id):
    return tracking.read_record(str(data_root / job_id))["mlflow"]["run_id"]


def test_a_job_killed_by_sigterm_is_a_killed_run_not_a_running_one(tracked, client, data_root):
    with slow_job() as (process, job_id):
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
    assert client.get_run(run_id_of(data_root, job_id)).info.status == "KILLED"


@pytest.mark.parametrize("command", [["job", "list"], ["job", "show"]])
def test_a_job_killed_by_sigkill_is_a_killed_run_once_read_as_lost(command, tracked, client, data_root):
    with slow_job() as (process, job_id):
        process.kill()
        process.wait()
        run_id = run_id_of(data_root, job_id)
        assert client.get_run(run_id).info.status == "RUNNING"  # nothing ran in the killed process to end it
    argv = command + ([job_id] if command[-1] == "show" else [])
    done = subprocess.run([sys.executable, "-m", "brevetti_core", *argv], capture_output=True, text=True,
                          timeout=120, env=os.environ.copy())
    assert done.returncode == 0 and "lost" in done.stdout, done.stderr
    run = client.get_run(run_id)
    assert run.info.status == "KILLED" and run.info.end_time is not None


def test_the_seeds_a_job_drew_are_a_param(tracked, client):
    class SeedingJob(TrainingJob):
        def run(self):
            from brevetti_core.rng import resolve_seed

            self.add_output_metric("seed", resolve_seed(None, owner="SeedingJob.run"))

    job = finished(SeedingJob)
    drawn = output_of(job)["job"]["seeds"]
    assert drawn and json.loads(run_of(client, job).data.params["seeds"]) == drawn


def test_credentials_reach_no_param_tag_record_or_output(mlflow_server, client, monkeypatch, capsys, caplog):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.replace("http://", "http://ci:tr4ck-pw@"))
    with caplog.at_level(logging.INFO):
        job = finished(TrainingJob, "--notes", "api key K3y-0f-job here", api_key="K3y-0f-job")
    run = run_of(client, job)
    written = json.dumps([run.data.params, run.data.tags]) + Path(job.job_dir, "artifacts", "tracking.json").read_text()
    written += capsys.readouterr().out + caplog.text
    for secret in ("tr4ck-pw", "pa55word", "abc123", "K3y-0f-job"):
        assert secret not in written
    assert run.data.params["source"] == "https://bob:***@example.com/data?token=***"


def test_overlong_values_and_experiment_names_are_shortened_with_a_note(tracked, client, monkeypatch, caplog):
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "e" * 600)
    with caplog.at_level(logging.WARNING):
        job = finished(TrainingJob, "--notes", "n" * 7000)
    run = run_of(client, job)
    assert len(run.data.params["notes"]) == 6000 and run.data.params["notes"][-9] == "~"
    assert run.data.tags["brevetti.shortened"] == "notes"
    assert len(client.get_experiment(run.info.experiment_id).name) == 500
    assert "shortened" in caplog.text and run.info.status == "FINISHED"


def test_a_failing_artifact_store_is_a_warning_and_the_run_still_ends(tracked, client, tmp_path, monkeypatch, caplog):
    (tmp_path / "a-file").write_text("artifacts cannot go under a file")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "broken artifacts")
    client.create_experiment("broken artifacts", artifact_location=(tmp_path / "a-file" / "mlflow").as_uri())
    with caplog.at_level(logging.WARNING):
        job = finished(TrainingJob)
    assert "could not log the artifacts" in caplog.text
    assert run_of(client, job).info.status == "FINISHED"


def test_artifacts_go_to_the_s3_store_the_experiment_names(mlflow_server, client, s3_env, s3_bucket, s3_client,
                                                           monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", s3_env)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "s3 artifacts")
    monkeypatch.setenv("BREVETTI_DATA_BUCKET", f"{s3_bucket}/data")  # the job's own artifacts on S3 too
    client.create_experiment("s3 artifacts", artifact_location=f"{s3_bucket}/mlflow")
    job = finished(TrainingJob)
    run = run_of(client, job)
    bucket = s3_bucket.removeprefix("s3://")
    keys = {o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]}
    prefix = f"mlflow/{run.info.run_id}/artifacts/"
    assert {f"{prefix}output.json", f"{prefix}model/weights.bin", f"{prefix}report.html"} <= keys
    assert any(k.startswith(f"{prefix}tensorboard/events.out.tfevents.") for k in keys)
    assert any(k.startswith(f"data/{job.id}/artifacts/tensorboard/events.out.tfevents.") for k in keys)
    assert run.info.status == "FINISHED"


# -- the demo, and the MLflow UI on it ----------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(mlflow_server, tmp_path_factory):
    """`brevetti demo` (torch, then tf; 2 epochs on a small vials set) run against the server: its stdout and runs."""
    root = tmp_path_factory.mktemp("demo")
    generate_vials(root / "datasets" / "vials", items_per_class=4, duplicates=1, size=64)
    env = {**os.environ, "BREVETTI_DATA_BUCKET": str(root), "MLFLOW_TRACKING_URI": mlflow_server}
    env.pop("MLFLOW_EXPERIMENT_NAME", None)
    done = subprocess.run([sys.executable, "-m", "brevetti_core", "demo", "--epochs", "2",
                           "--data.image", '{"target_size": [32, 32], "rescale": "imagenet"}'],
                          capture_output=True, text=True, env=env, timeout=560)
    assert done.returncode == 0, done.stderr[-3000:]
    records = {}
    for folder in root.iterdir():
        record = tracking.read_record(str(folder))
        if record:
            records[json.loads((folder / "artifacts" / "output.json").read_text())["output"]["framework"]] = record
    return done.stdout, records


def test_the_demo_prints_both_runs_and_their_comparison(demo):
    stdout, records = demo
    assert set(records) == {"torch", "tf"}
    for framework, record in records.items():
        assert f"{framework:<6} {record['mlflow']['run_url']}" in stdout
    assert f"compare {tracking.compare_url([records['torch'], records['tf']])}" in stdout


def test_torch_and_tf_demo_runs_have_the_same_metrics_per_epoch(demo, client):
    _, records = demo
    runs = {framework: client.get_run(record["mlflow"]["run_id"]) for framework, record in records.items()}
    assert set(runs["torch"].data.metrics) == set(runs["tf"].data.metrics) >= {"train_loss", "devel_accuracy"}
    for run in runs.values():
        assert [m.step for m in client.get_metric_history(run.info.run_id, "devel_accuracy")] == [0, 1]
        assert run.info.status == "FINISHED"


def test_the_mlflow_ui_shows_both_demo_runs_and_a_metric_chart(demo, mlflow_server, browser):  # noqa: F811
    _, records = demo
    experiment = records["torch"]["mlflow"]["experiment_id"]
    page = Page(browser, f"{mlflow_server}/#/experiments/{experiment}/runs?compareRunsMode=CHART")
    # A wide screen, so that the runs list, the charts and MLflow's side panel all fit.
    browser.send("Emulation.setDeviceMetricsOverride", {"width": 1920, "height": 1200, "deviceScaleFactor": 1,
                                                        "mobile": False}, page.session)
    shown = wait_for(page, """(() => {
        const text = document.body.innerText;
        const charts = Array.from(document.querySelectorAll('.js-plotly-plot'));
        const lines = charts.map(chart => chart.querySelectorAll('.scatterlayer .trace').length);
        const ready = text.includes('vials demo (torch)') && text.includes('vials demo (tf)')
            && text.includes('devel_accuracy') && lines.some(count => count >= 2);
        return ready && {charts: charts.length, lines: lines};
    })()""")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "mlflow-demo.png").write_bytes(viewport_png(page))
    assert shown["charts"] >= 1 and max(shown["lines"]) >= 2


def viewport_png(page) -> bytes:
    """The visible page (the MLflow UI scrolls inside a full-height layout, so the viewport is the page)."""
    shot = page.browser.send("Page.captureScreenshot", {"format": "png"}, page.session)
    return base64.b64decode(shot["data"])


def wait_for(page, expression, seconds=180):
    """The first truthy value of `expression` in the page, polled each second; fails with a screenshot when none."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value:
            return value
        time.sleep(1)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "mlflow-demo-timeout.png").write_bytes(viewport_png(page))
    text = page.evaluate("document.body.innerText")
    pytest.fail(f"the MLflow page did not show the runs and a chart within {seconds} s "
                f"(screenshot test-artifacts/mlflow-demo-timeout.png); it shows:\n{text[:2000]}")
