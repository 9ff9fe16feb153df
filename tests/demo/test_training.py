"""The demo's trainers and VialsJob, one test per behaviour for every framework the demo trains in.

Same weights as the numpy spec, the plan's batches, artifacts. Jobs run in a subprocess, as a
user runs them (torch's compiler stack cannot load once TensorFlow is in the test process);
building models and predicting run here.
"""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from brevetti_core.adapters import get_adapter
from brevetti_core.batching import fingerprint
from brevetti_core.io_tools import io_tools
from brevetti_core.settings import load_settings, parse_argv
from brevetti_demo import generate_vials
from brevetti_demo.job import TRAINERS, VialsSettings, training_module
from brevetti_demo.model import CnnSpec, initial_weights, reference_logits

SPEC = CnnSpec(image_size=(20, 18), classes=3, filters=(4, 6), hidden=5)
PREDICT_EXPORTED = {
    "torch": "import torch; model = torch.export.load(path).module(); "
             "logits = model(torch.from_numpy(images.transpose(0, 3, 1, 2).copy())).detach().numpy()",
    "tf": "import keras; logits = keras.models.load_model(path)(images).numpy()",
}
"""How a user loads each framework's exported model and predicts NHWC `images`."""

pytestmark = pytest.mark.parametrize("framework", list(TRAINERS))


@pytest.fixture(scope="module")
def vials(tmp_path_factory):
    return generate_vials(tmp_path_factory.mktemp("vials") / "vials", items_per_class=4, duplicates=1, size=64)


def job_argv(vials, framework, *extra):
    return ["--data.datasets", json.dumps([str(vials)]), "--framework", framework, "--epochs", "3",
            "--data.batch_size", "8", "--data.image", '{"target_size": [32, 32], "rescale": "imagenet"}',
            "--filters", "[8, 8]", "--hidden", "0", *extra]


def settings_of(vials, framework):
    return load_settings(VialsSettings, [], parse_argv(job_argv(vials, framework))[1])


def start_job(root, argv):
    env = {**os.environ, "BREVETTI_DATA_BUCKET": str(root)}
    return subprocess.Popen([sys.executable, "-m", "brevetti_demo.job", *argv], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def artifacts_of(root):
    [folder] = [p for p in root.iterdir() if (p / "artifacts").is_dir()]
    return folder / "artifacts"


_finished = {}


@pytest.fixture
def finished(vials, framework, tmp_path_factory):
    """The artifacts folder of one completed 3-epoch job per framework (run once per session)."""
    if framework not in _finished:
        root = tmp_path_factory.mktemp(f"root-{framework}")
        process = start_job(root, job_argv(vials, framework))
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr[-3000:]
        _finished[framework] = artifacts_of(root)
    return _finished[framework]


def plan_fingerprints(vials, purpose, epochs):
    """The fingerprints of the core's numpy batches for the job's settings: what the model should have seen."""
    settings = settings_of(vials, "torch")
    options = {"repeat": epochs} if purpose == "train" else {"shuffle": False}
    generator = settings.data.generator(settings.data.samples(), "numpy", purpose, augment=False, **options)
    return [fingerprint(batch) for batch in generator.get_dataset_numpy()]


def read_json(path):
    return json.loads(path.read_text())


class Recorder:
    def __init__(self):
        self.calls = []

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append((epoch, logs))


# -- the model --------------------------------------------------------------------------------

def test_build_model_holds_the_given_weights(framework):
    trainer = training_module(framework)
    weights = initial_weights(SPEC, 1)
    held = trainer.model_weights(trainer.build_model(SPEC, weights))
    assert held.keys() == weights.keys()
    assert all(np.array_equal(held[name], weights[name]) for name in weights)


def test_the_model_computes_the_reference_forward_pass(framework):
    trainer = training_module(framework)
    weights = initial_weights(SPEC, 2)
    images = np.random.default_rng(0).normal(size=(3, 20, 18, 3)).astype(np.float32)
    logits = trainer.predict(trainer.build_model(SPEC, weights), images)
    np.testing.assert_allclose(logits, reference_logits(SPEC, weights, images), atol=1e-5)


def test_weights_of_the_wrong_shape_are_refused_naming_the_layer(framework):
    trainer = training_module(framework)
    weights = initial_weights(CnnSpec(image_size=(20, 18), classes=3, filters=(4, 7), hidden=5), 0)
    with pytest.raises(ValueError, match=r"weights conv1/kernel have shape \(3, 3, 4, 7\), the model's layer needs"):
        trainer.build_model(SPEC, weights)


def test_configure_threads_sets_the_frameworks_thread_count_in_a_fresh_process(framework):
    script = (f"from brevetti_demo.job import training_module; trainer = training_module({framework!r}); "
              f"print(trainer.configure_threads(1))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1"]


def test_training_refuses_an_endless_generator(vials, framework):
    trainer = training_module(framework)
    settings = settings_of(vials, framework)
    endless = settings.data.generator(settings.data.samples(), framework, repeat=True)
    with pytest.raises(ValueError, match="repeats endlessly; build it with repeat=<epochs>"):
        trainer.train_classifier(trainer.build_model(SPEC, initial_weights(SPEC, 0)), endless, None,
                                 learning_rate=0.01)


def test_training_refuses_a_generator_without_samples(framework):
    trainer = training_module(framework)
    empty = get_adapter(framework).build_image_data_generator([], classes=["a", "b", "c"],
                                                              image={"target_size": [20, 18]}, repeat=2)
    with pytest.raises(ValueError, match="the train generator has no samples"):
        trainer.train_classifier(trainer.build_model(SPEC, initial_weights(SPEC, 0)), empty, None,
                                 learning_rate=0.01)


def test_training_reports_each_epoch_to_the_monitor_and_sees_the_plans_batches(vials, framework):
    trainer = training_module(framework)
    settings = settings_of(vials, framework)
    train = settings.data.generator(settings.data.samples(), framework, "train", augment=False, repeat=2)
    spec = CnnSpec(image_size=(32, 32), classes=3, filters=(8, 8), hidden=0)
    recorder, seen = Recorder(), []
    final = trainer.train_classifier(trainer.build_model(spec, initial_weights(spec, 0)), train, None,
                                     learning_rate=0.01, monitor=recorder, on_batch=lambda *batch: seen.append(batch))
    assert [epoch for epoch, _ in recorder.calls] == [0, 1] and recorder.calls[-1][1] == final
    assert set(final) == {"train_loss", "train_accuracy"} and all(isinstance(v, float) for v in final.values())
    assert [digest for _, _, digest in seen] == plan_fingerprints(vials, "train", 2)


# -- the job ----------------------------------------------------------------------------------

def test_job_completes_with_its_model_in_the_artifacts(finished, framework):
    assert read_json(finished / "status.json")["status"] == "completed"
    assert (finished / "model" / training_module(framework).MODEL_FILE).stat().st_size > 0
    spec = read_json(finished / "model" / "spec.json")
    assert spec["framework"] == framework and spec["spec"]["image_size"] == [32, 32]
    assert spec["classes"] == ["good", "missing_cap", "failed_cap"] and spec["image"]["target_size"] == [32, 32]
    assert (finished / "split_ids.csv").exists()


def test_progress_has_train_and_devel_metrics_for_every_epoch(finished):
    lines = [json.loads(line) for line in (finished / "progress.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [0, 1, 2]
    for line in lines:
        assert {"train_loss", "train_accuracy", "devel_loss", "devel_accuracy"} <= set(line)
        assert 0 <= line["devel_accuracy"] <= 1


def test_output_records_the_last_epochs_metrics_and_the_split(finished, framework):
    output = read_json(finished / "output.json")["output"]
    last = json.loads((finished / "progress.jsonl").read_text().splitlines()[-1])
    assert output["devel_accuracy"] == last["devel_accuracy"] and output["epochs_completed"] == 3
    assert output["framework"] == framework
    assert sum(output["split"]["train"].values()) + sum(output["split"]["devel"].values()) == 12 * 3 + 1


def test_the_model_saw_exactly_the_core_plans_batches(finished, vials):
    seen = read_json(finished / "fingerprints.json")
    assert [digest for _, _, digest in seen["train"]] == plan_fingerprints(vials, "train", 3)
    assert [digest for _, _, digest in seen["devel"]] == plan_fingerprints(vials, "devel", 1) * 3
    assert seen["digest"] == read_json(finished / "output.json")["output"]["fingerprints_digest"]


def test_the_exported_model_classifies_devel_as_the_job_reported(finished, vials, framework, tmp_path):
    settings = settings_of(vials, framework)
    devel = settings.data.generator(settings.data.samples(), "numpy", "devel", augment=False, shuffle=False)
    images, onehot = (np.concatenate(parts) for parts in zip(*devel.get_dataset_numpy()))
    np.save(tmp_path / "images.npy", images)
    # A fresh process, as a user loads the model (and torch's exported programs need its compiler stack).
    script = (f"import sys, numpy as np; path = sys.argv[1]; images = np.load(sys.argv[2]); "
              f"{PREDICT_EXPORTED[framework]}; np.save(sys.argv[3], logits)")
    model = finished / "model" / training_module(framework).MODEL_FILE
    subprocess.run([sys.executable, "-c", script, str(model), str(tmp_path / "images.npy"),
                    str(tmp_path / "logits.npy")], check=True, timeout=120)
    accuracy = (np.load(tmp_path / "logits.npy").argmax(1) == onehot.argmax(1)).mean()
    assert accuracy == pytest.approx(read_json(finished / "output.json")["output"]["devel_accuracy"])


def test_the_devel_predictions_are_recorded_and_scored_in_the_report(finished):
    predictions = pd.read_csv(finished / "report" / "predictions.csv", dtype=str)
    output = read_json(finished / "output.json")["output"]
    assert set(predictions["purpose"]) == {"devel"} and len(predictions) == sum(output["split"]["devel"].values())
    assert set(predictions["true"]) | set(predictions["predicted"]) <= set(output["classes"])
    assert (predictions["true"] == predictions["predicted"]).mean() == pytest.approx(output["devel_accuracy"])
    report = (finished / "report.html").read_text()
    assert "Confusion matrix (rows: true class, columns: predicted class)" in report
    assert f"{len(predictions)} devel samples" in report


def test_ctrl_c_marks_the_job_interrupted_with_its_progress_so_far(vials, framework, tmp_path):
    process = start_job(tmp_path, job_argv(vials, framework, "--epochs", "500"))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        progress = list(tmp_path.glob("*/artifacts/progress.jsonl"))
        if progress and len(progress[0].read_text().splitlines()) >= 2:
            break
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=120)
    assert process.returncode == 130
    artifacts = artifacts_of(tmp_path)
    assert read_json(artifacts / "status.json")["status"] == "interrupted"
    epochs = len((artifacts / "progress.jsonl").read_text().splitlines())
    output = read_json(artifacts / "output.json")["output"]
    assert 2 <= output["epochs_completed"] == epochs < 500
    assert {epoch for epoch, _, _ in read_json(artifacts / "fingerprints.json")["devel"]} == set(range(epochs))


def test_job_reads_its_dataset_from_s3_and_writes_its_artifacts_there(vials, framework, s3_bucket):
    io_tools.copy(str(vials), f"{s3_bucket}/vials")
    process = start_job(s3_bucket, ["--data.datasets", json.dumps([f"{s3_bucket}/vials"]),
                                    *job_argv(vials, framework, "--epochs", "1")[2:]])
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr[-3000:]
    [status] = [p for p in io_tools.find(s3_bucket) if p.endswith("artifacts/status.json")]
    artifacts = status.rsplit("/", 1)[0]
    assert json.loads(io_tools.read_file(status))["status"] == "completed"
    assert io_tools.exists(f"{artifacts}/model/{training_module(framework).MODEL_FILE}")
    assert len(io_tools.read_file(f"{artifacts}/progress.jsonl").splitlines()) == 1
