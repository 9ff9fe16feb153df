"""`brevetti demo`: the vials dataset, the job in PyTorch then TensorFlow, and the comparison, run as a user would."""
import json
import os
import subprocess
import sys

import pytest

from brevetti_core.cli.main import UsageError
from brevetti_core.io_tools import io_tools
from brevetti_demo import generate_vials
from brevetti_demo.cli import VIALS, ensure_dataset


def brevetti(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "brevetti_core", *args], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=timeout)


def jobs_under(root):
    """{framework: artifacts folder} of the jobs under a data root."""
    found = {}
    for folder in root.iterdir():
        output = folder / "artifacts" / "output.json"
        if output.exists():
            found[json.loads(output.read_text())["output"]["framework"]] = folder / "artifacts"
    return found


def read_json(path):
    return json.loads(path.read_text())


@pytest.fixture
def small_vials(data_root):
    """A small vials dataset where the demo looks for it, so it is not generated again."""
    return generate_vials(data_root / "datasets" / "vials", items_per_class=4, duplicates=1, size=64)


def test_demo_trains_both_frameworks_on_identical_batches(data_root):
    done = brevetti("demo", "--epochs", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    assert (data_root / "datasets" / "vials" / "good").is_dir()
    jobs = jobs_under(data_root)
    assert set(jobs) == {"torch", "tf"}
    torch_seen, tf_seen = (read_json(jobs[name] / "fingerprints.json") for name in ("torch", "tf"))
    assert torch_seen["train"] == tf_seen["train"] and torch_seen["devel"] == tf_seen["devel"]
    assert "every batch: IDENTICAL" in done.stdout
    assert f"train epoch 0 batch 0    {torch_seen['train'][0][2][:16]}  {tf_seen['train'][0][2][:16]}" in done.stdout
    for artifacts in jobs.values():
        assert read_json(artifacts / "status.json")["status"] == "completed"
        output = read_json(artifacts / "output.json")["output"]
        assert output["epochs_completed"] == 1
        assert f"{output['devel_accuracy']:.3f}" in done.stdout.split("devel_accuracy")[1].splitlines()[0]
        assert str(artifacts) in done.stdout


def test_help_lists_the_demo_jobs_settings_with_types_defaults_and_descriptions(data_root):
    done = brevetti("demo", "--help", timeout=120)
    assert done.returncode == 0, done.stderr
    assert "  --epochs  int  (default: 30)\n      Passes over the training samples\n" in done.stdout
    assert "  --data.batch_size  int  (default: 16)\n      Samples per batch\n" in done.stdout
    assert "  --framework  'torch' | 'tf'  (default: \"torch\")" in done.stdout
    assert os.listdir(data_root) == []  # nothing generated, nothing trained


def test_fingerprint_takes_a_demo_jobs_id_and_uses_the_settings_it_ran_with(small_vials, data_root, tmp_path):
    done = brevetti("demo", "--framework", "torch", "--epochs", "1", "--data.batch_size", "8",
                    "--data.image", '{"target_size": [32, 32]}')
    assert done.returncode == 0, done.stderr[-3000:]
    artifacts = jobs_under(data_root)["torch"]
    job = read_json(artifacts / "output.json")["job"]
    by_id = brevetti("fingerprint", job["id"], "--batches", "3", timeout=300)
    assert by_id.returncode == 0, by_id.stderr[-3000:]
    # The same data written out as a config file: the block it ran with, on the job's dataset, not augmented.
    config = tmp_path / "data.json"
    config.write_text(json.dumps({**job["settings"]["data"], "datasets": [job["datasets"][0]["bucket"]]}))
    by_file = brevetti("fingerprint", str(config), "--batches", "3", "--no-augment", timeout=300)
    assert by_file.returncode == 0, by_file.stderr[-3000:]
    digests = [line for line in by_id.stdout.splitlines() if line.startswith("batch ")]
    assert len(digests) == 3 and digests == [line for line in by_file.stdout.splitlines() if line.startswith("batch ")]


def test_demo_output_off_a_terminal_is_log_lines_not_progress_bars(small_vials):
    done = brevetti("demo", "--framework", "torch", "--epochs", "2", "--data.image", '{"target_size": [32, 32]}')
    assert done.returncode == 0, done.stderr[-3000:]
    assert "\r" not in done.stderr and len(done.stderr) < 10_000
    finished = [line for line in done.stderr.splitlines()
                if line.startswith("INFO:brevetti_core.progress:torch training")]
    assert len(finished) == 1 and " (100%), " in finished[0] and "(done), train_loss=" in finished[0]


def test_framework_flag_runs_that_framework_only(small_vials, data_root):
    done = brevetti("demo", "--framework", "tf", "--epochs", "1", "--data.image", '{"target_size": [32, 32]}')
    assert done.returncode == 0, done.stderr[-3000:]
    assert set(jobs_under(data_root)) == {"tf"}
    assert "every batch" not in done.stdout


def test_a_missing_framework_exits_2_with_the_install_command_before_any_work(data_root):
    script = ("import sys; sys.modules['tensorflow'] = None; "  # what an environment without tensorflow looks like
              "from brevetti_core.cli.main import main; sys.exit(main(['demo']))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "framework 'tf' is not installed; install it with: pip install -c constraints.txt -e \".[tf]\"" \
        in done.stderr
    assert list(data_root.iterdir()) == []


def test_a_bad_setting_exits_2_before_any_work(data_root):
    done = brevetti("demo", "--epochs", "many")
    assert done.returncode == 2
    assert "setting 'epochs' expects an integer, got 'many' (from --epochs)" in done.stderr
    assert "Traceback" not in done.stderr and list(data_root.iterdir()) == []


def test_a_data_root_that_cannot_be_written_exits_2_naming_the_fix(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("in the way")
    monkeypatch.setenv("BREVETTI_DATA_BUCKET", str(tmp_path / "a-file" / "root"))
    done = brevetti("demo", "--epochs", "1")
    assert done.returncode == 2
    assert f"cannot write the demo dataset to {tmp_path / 'a-file' / 'root' / 'datasets' / 'vials'}" in done.stderr
    assert "export BREVETTI_DATA_BUCKET=" in done.stderr and "Traceback" not in done.stderr


def test_the_dataset_is_generated_once_then_reused(tmp_path):
    target = ensure_dataset(str(tmp_path))
    images = [p for p in (tmp_path / "datasets" / "vials").rglob("*.bmp") if ".annotations" not in p.parts]
    assert len(images) == 3 * VIALS["items_per_class"] * VIALS["shots_per_item"] + VIALS["duplicates"] + 1
    marker = tmp_path / "datasets" / "vials" / "good" / "added-later.txt"
    marker.write_text("kept")
    assert ensure_dataset(str(tmp_path)) == target and marker.read_text() == "kept"
    assert [p.name for p in (tmp_path / "datasets").iterdir()] == ["vials"]  # no partial folder left behind


def test_the_dataset_is_uploaded_to_an_s3_data_root(s3_bucket):
    target = ensure_dataset(s3_bucket)
    assert target == f"{s3_bucket}/datasets/vials"
    images = [p for p in io_tools.find(target) if p.endswith(".bmp") and "/.annotations/" not in p]
    assert len(images) == 3 * VIALS["items_per_class"] * VIALS["shots_per_item"] + VIALS["duplicates"] + 1


def test_ensure_dataset_raises_a_usage_error_for_a_root_below_a_file(tmp_path):
    (tmp_path / "a-file").write_text("in the way")
    with pytest.raises(UsageError, match="cannot write the demo dataset to .*; point BREVETTI_DATA_BUCKET at"):
        ensure_dataset(str(tmp_path / "a-file"))
