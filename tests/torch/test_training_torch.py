"""brevetti_torch.training and VialsJob in PyTorch: same weights as the numpy spec, the plan's batches, artifacts.

Training and export load torch's compiler stack, which cannot load once TensorFlow is in the
process (the test session imports it elsewhere), so those run as jobs in a subprocess, as a user
runs them; building models and predicting run here.
"""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from brevetti_core.demo import generate_vials
from brevetti_core.demo.job import VialsSettings
from brevetti_core.demo.model import CnnSpec, initial_weights, reference_logits
from brevetti_core.execution import fingerprint
from brevetti_core.io_tools import io_tools
from brevetti_core.settings import load_settings, parse_argv
from brevetti_torch import training
from brevetti_torch.generator import build_image_data_generator

FRAMEWORK = "torch"
SPEC = CnnSpec(image_size=(20, 18), classes=3, filters=(4, 6), hidden=5)


@pytest.fixture(scope="module")
def vials(tmp_path_factory):
    return generate_vials(tmp_path_factory.mktemp("vials") / "vials", items_per_class=4, duplicates=1, size=64)


def job_argv(vials, *extra):
    return ["--data.datasets", json.dumps([str(vials)]), "--framework", FRAMEWORK, "--epochs", "3",
            "--data.batch_size", "8", "--data.image", '{"target_size": [32, 32], "rescale": "imagenet"}',
            "--filters", "[8, 8]", "--hidden", "0", *extra]


def start_job(root, argv):
    env = {**os.environ, "BREVETTI_DATA_BUCKET": str(root)}
    return subprocess.Popen([sys.executable, "-m", "brevetti_core.demo.job", *argv], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def artifacts_of(root):
    [folder] = [p for p in root.iterdir() if (p / "artifacts").is_dir()]
    return folder / "artifacts"


@pytest.fixture(scope="module")
def finished(vials, tmp_path_factory):
    """The artifacts folder of one completed 3-epoch job."""
    root = tmp_path_factory.mktemp("root")
    process = start_job(root, job_argv(vials))
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr[-3000:]
    return artifacts_of(root)


def plan_fingerprints(vials, purpose, epochs):
    """The fingerprints of the core's numpy batches for the job's settings: what the model should have seen."""
    settings = load_settings(VialsSettings, [], parse_argv(job_argv(vials))[1])
    samples = settings.data.samples()
    options = {"repeat": epochs} if purpose == "train" else {"shuffle": False}
    generator = settings.data.generator(samples, "numpy", purpose, augment=False, **options)
    return [fingerprint(batch) for batch in generator.get_dataset_numpy()]


def read_json(path):
    return json.loads(path.read_text())


# -- the model --------------------------------------------------------------------------------

def test_build_model_holds_the_given_weights():
    weights = initial_weights(SPEC, 1)
    held = training.model_weights(training.build_model(SPEC, weights))
    assert held.keys() == weights.keys()
    assert all(np.array_equal(held[name], weights[name]) for name in weights)


def test_the_model_computes_the_reference_forward_pass():
    weights = initial_weights(SPEC, 2)
    images = np.random.default_rng(0).normal(size=(3, 20, 18, 3)).astype(np.float32)
    logits = training.predict(training.build_model(SPEC, weights), images)
    np.testing.assert_allclose(logits, reference_logits(SPEC, weights, images), atol=1e-5)


def test_weights_of_the_wrong_shape_are_refused_naming_the_layer():
    weights = initial_weights(CnnSpec(image_size=(20, 18), classes=3, filters=(4, 7), hidden=5), 0)
    with pytest.raises(ValueError, match=r"weights conv1/kernel have shape \(3, 3, 4, 7\), the model's layer needs"):
        training.build_model(SPEC, weights)


def test_configure_threads_sets_the_torch_thread_count():
    previous = torch.get_num_threads()
    try:
        assert training.configure_threads(1) == 1 == torch.get_num_threads()
    finally:
        torch.set_num_threads(previous)


def test_learning_rate_decays_from_one_to_zero_along_a_cosine():
    assert [training.cosine_decay(step, 4) for step in range(5)] == pytest.approx([1, 0.853553, 0.5, 0.146447, 0], abs=1e-6)


def test_training_refuses_an_endless_generator(vials):
    settings = load_settings(VialsSettings, [], parse_argv(job_argv(vials))[1])
    endless = settings.data.generator(settings.data.samples(), FRAMEWORK, repeat=True)
    with pytest.raises(ValueError, match="repeats endlessly; build it with repeat=<epochs>"):
        training.train_classifier(training.build_model(SPEC, initial_weights(SPEC, 0)), endless, None,
                                  learning_rate=0.01)


def test_training_refuses_a_generator_without_samples():
    empty = build_image_data_generator([], classes=["a", "b", "c"], image={"target_size": [20, 18]}, repeat=2)
    with pytest.raises(ValueError, match="the train generator has no samples"):
        training.train_classifier(training.build_model(SPEC, initial_weights(SPEC, 0)), empty, None,
                                  learning_rate=0.01)


def test_torch_compiler_stack_after_tensorflow_is_an_error_not_a_crash(tmp_path):
    script = ("import tensorflow; from brevetti_torch import training; from brevetti_core.demo.model import *; "
              "spec = CnnSpec(image_size=(8, 8), classes=2, filters=(2,), hidden=0); "
              "training.export_model(training.build_model(spec, initial_weights(spec, 0)), spec, sys.argv[1])")
    done = subprocess.run([sys.executable, "-c", f"import sys; {script}", str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1, done.stderr[-2000:]  # not -11 (SIGSEGV)
    assert "RuntimeError: export_model: TensorFlow was imported before brevetti_torch.training" in done.stderr
    assert "import brevetti_torch.training before tensorflow, or train each framework in its own process" \
        in done.stderr


# -- the job ----------------------------------------------------------------------------------

def test_job_completes_with_its_model_in_the_artifacts(finished):
    assert read_json(finished / "status.json")["status"] == "completed"
    assert (finished / "model" / training.MODEL_FILE).stat().st_size > 0
    spec = read_json(finished / "model" / "spec.json")
    assert spec["framework"] == FRAMEWORK and spec["spec"]["image_size"] == [32, 32]
    assert spec["classes"] == ["good", "missing_cap", "failed_cap"] and spec["image"]["target_size"] == [32, 32]
    assert (finished / "split_ids.csv").exists()


def test_progress_has_train_and_devel_metrics_for_every_epoch(finished):
    lines = [json.loads(line) for line in (finished / "progress.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [0, 1, 2]
    for line in lines:
        assert {"train_loss", "train_accuracy", "devel_loss", "devel_accuracy"} <= set(line)
        assert 0 <= line["devel_accuracy"] <= 1


def test_output_records_the_last_epochs_metrics_and_the_split(finished):
    output = read_json(finished / "output.json")["output"]
    last = json.loads((finished / "progress.jsonl").read_text().splitlines()[-1])
    assert output["devel_accuracy"] == last["devel_accuracy"] and output["epochs_completed"] == 3
    assert output["framework"] == FRAMEWORK
    assert sum(output["split"]["train"].values()) + sum(output["split"]["devel"].values()) == 12 * 3 + 1


def test_the_model_saw_exactly_the_core_plans_batches(finished, vials):
    seen = read_json(finished / "fingerprints.json")
    assert [digest for _, _, digest in seen["train"]] == plan_fingerprints(vials, "train", 3)
    assert [digest for _, _, digest in seen["devel"]] == plan_fingerprints(vials, "devel", 1) * 3
    assert seen["digest"] == read_json(finished / "output.json")["output"]["fingerprints_digest"]


def test_the_exported_model_classifies_devel_as_the_job_reported(finished, vials, tmp_path):
    settings = load_settings(VialsSettings, [], parse_argv(job_argv(vials))[1])
    devel = settings.data.generator(settings.data.samples(), "numpy", "devel", augment=False, shuffle=False)
    images, onehot = (np.concatenate(parts) for parts in zip(*devel.get_dataset_numpy()))
    np.save(tmp_path / "images.npy", images.transpose(0, 3, 1, 2))
    # Loading an exported program needs torch's compiler stack: a fresh process (see the module docstring).
    script = ("import sys, numpy as np, torch; program = torch.export.load(sys.argv[1]); "
              "np.save(sys.argv[3], program.module()(torch.from_numpy(np.load(sys.argv[2]))).detach().numpy())")
    subprocess.run([sys.executable, "-c", script, str(finished / "model" / training.MODEL_FILE),
                    str(tmp_path / "images.npy"), str(tmp_path / "logits.npy")], check=True, timeout=120)
    accuracy = (np.load(tmp_path / "logits.npy").argmax(1) == onehot.argmax(1)).mean()
    assert accuracy == pytest.approx(read_json(finished / "output.json")["output"]["devel_accuracy"])


def test_ctrl_c_marks_the_job_interrupted_with_its_progress_so_far(vials, tmp_path):
    process = start_job(tmp_path, job_argv(vials, "--epochs", "500"))
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


def test_job_reads_its_dataset_from_s3_and_writes_its_artifacts_there(vials, s3_bucket, tmp_path):
    io_tools.copy(str(vials), f"{s3_bucket}/vials")
    process = start_job(s3_bucket, ["--data.datasets", json.dumps([f"{s3_bucket}/vials"]),
                                    *job_argv(vials, "--epochs", "1")[2:]])
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr[-3000:]
    [status] = [p for p in io_tools.find(s3_bucket) if p.endswith("artifacts/status.json")]
    artifacts = status.rsplit("/", 1)[0]
    assert json.loads(io_tools.read_file(status))["status"] == "completed"
    assert io_tools.exists(f"{artifacts}/model/{training.MODEL_FILE}")
    assert len(io_tools.read_file(f"{artifacts}/progress.jsonl").splitlines()) == 1
