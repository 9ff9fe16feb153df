"""`brevetti fingerprint`: one SHA-256 per batch, equal across frameworks, saved and checked as golden files.

Numpy runs call the CLI's main() in this process; torch and tf run as `python -m brevetti_core
fingerprint ...` subprocesses, as CI would call them.
"""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from brevetti_core import jobstore
from brevetti_core.cli.main import main
from brevetti_demo.vials import CLASSES, generate_vials

LINE = re.compile(r"^batch (\d+)  ([0-9a-f]{64})$")


@pytest.fixture(scope="module")
def vials(tmp_path_factory):
    return generate_vials(tmp_path_factory.mktemp("fingerprint") / "vials", items_per_class=3, shots_per_item=2,
                          duplicates=1, size=32, annotations=False)


def data_block(**changes) -> dict:
    block = {"classes": list(CLASSES), "batch_size": 4, "seed": 3, "augmentation": {},
             "image": {"target_size": [24, 24], "antialias": True, "rescale": "imagenet"}}
    return {**block, **changes}


@pytest.fixture
def config(tmp_path, vials):
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data_block(datasets=[str(vials)])))
    return path


def fingerprints(output: str) -> list[str]:
    """The digests of the `batch N  <sha>` lines, checking they are numbered from 0."""
    found = [LINE.match(line) for line in output.splitlines()]
    found = [match for match in found if match]
    assert [int(match[1]) for match in found] == list(range(len(found)))
    return [match[2] for match in found]


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main(["fingerprint", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_subprocess(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "brevetti_core", "fingerprint", *map(str, args)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


def test_prints_one_sha256_per_batch(capsys, config):
    code, out, _ = run_cli(capsys, config, "--batches", 3)
    assert code == 0 and len(fingerprints(out)) == 3 and len(set(fingerprints(out))) == 3


def test_numpy_torch_and_tf_print_the_same_fingerprints(capsys, config):
    _, out, _ = run_cli(capsys, config, "--batches", 3)
    torch_run = run_subprocess(config, "--framework", "torch", "--batches", 3, "--workers", 2)
    tf_run = run_subprocess(config, "--framework", "tf", "--batches", 3, "--workers", 2)
    assert torch_run.returncode == 0, torch_run.stderr[-3000:]
    assert tf_run.returncode == 0, tf_run.stderr[-3000:]
    assert fingerprints(torch_run.stdout) == fingerprints(tf_run.stdout) == fingerprints(out)


def test_save_writes_framework_batches_settings_digest_and_versions(capsys, config, tmp_path):
    golden = tmp_path / "golden.json"
    code, out, _ = run_cli(capsys, config, "--batches", 2, "--save", golden)
    saved = json.loads(golden.read_text())
    assert code == 0 and saved["framework"] == "numpy" and saved["batches"] == fingerprints(out)
    assert re.fullmatch(r"[0-9a-f]{64}", saved["settings_digest"])
    assert {"brevetti", "python", "numpy", "pillow"} <= set(saved["versions"])


def test_check_passes_for_another_framework(capsys, config, tmp_path):
    golden = tmp_path / "golden.json"
    run_cli(capsys, config, "--batches", 3, "--save", golden)
    checked = run_subprocess(config, "--framework", "tf", "--check", golden)
    assert checked.returncode == 0, checked.stdout + checked.stderr[-3000:]
    assert len(fingerprints(checked.stdout)) == 3  # as many batches as the golden file holds
    assert "OK: 3 batches match" in checked.stdout


def test_check_fails_with_exit_1_naming_the_first_differing_batches_after_a_setting_changes(capsys, config, vials,
                                                                                            tmp_path):
    golden = tmp_path / "golden.json"
    run_cli(capsys, config, "--batches", 3, "--save", golden)
    config.write_text(json.dumps(data_block(datasets=[str(vials)], seed=4)))
    code, out, _ = run_cli(capsys, config, "--check", golden)
    expected = json.loads(golden.read_text())["batches"]
    assert code == 1
    assert "MISMATCH: 3 of 3 batches differ" in out and "first: 0, 1, 2" in out
    assert f"batch 0: expected {expected[0]}, got {fingerprints(out)[0]}" in out
    assert "settings digest changed" in out


def test_check_counts_a_missing_batch_as_a_difference(capsys, config, tmp_path):
    golden = tmp_path / "golden.json"
    run_cli(capsys, config, "--batches", 3, "--save", golden)
    code, out, _ = run_cli(capsys, config, "--batches", 2, "--check", golden)
    assert code == 1 and "first: 2" in out and "got (none)" in out


def test_fingerprints_do_not_depend_on_where_the_dataset_lives(capsys, config, vials, tmp_path):
    moved = shutil.copytree(vials, tmp_path / "elsewhere" / "copy")
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps(data_block(datasets=[str(moved)])))
    _, here, _ = run_cli(capsys, config, "--batches", 3)
    _, there, _ = run_cli(capsys, elsewhere, "--batches", 3)
    assert fingerprints(there) == fingerprints(here)


def test_a_job_id_uses_its_data_block_and_its_datasets(capsys, config, vials, data_root):
    definition = jobstore.create_job("vials", [vials], {"data": data_block()})
    _, from_job, _ = run_cli(capsys, definition["id"], "--batches", 3)
    _, from_file, _ = run_cli(capsys, config, "--batches", 3)
    assert len(fingerprints(from_job)) == 3 and fingerprints(from_job) == fingerprints(from_file)


def test_a_job_without_a_data_block_is_a_clear_error(capsys, vials, data_root):
    definition = jobstore.create_job("vials", [vials], {"epochs": 3})
    code, _, err = run_cli(capsys, definition["id"])
    assert code == 2 and f"job {definition['id']} has no settings.data block" in err


def test_an_unknown_data_setting_is_a_clear_error(capsys, config, vials):
    config.write_text(json.dumps(data_block(datasets=[str(vials)], batchsize=8)))
    code, _, err = run_cli(capsys, config)
    assert code == 2 and "invalid DataSettings in config file" in err and "batchsize" in err


def test_a_missing_config_file_is_a_clear_error(capsys, tmp_path):
    code, _, err = run_cli(capsys, tmp_path / "nope.json")
    assert code == 2 and f"no DataSettings JSON file at {tmp_path / 'nope.json'}" in err


def test_a_purpose_without_samples_is_a_clear_error(capsys, config):
    code, _, err = run_cli(capsys, config, "--purpose", "test")
    assert code == 2 and "no samples of purpose 'test'" in err and "'devel', 'train'" in err


def test_a_dataset_and_config_on_s3_give_the_local_fingerprints(capsys, config, vials, s3_bucket, s3_client):
    bucket = s3_bucket[len("s3://"):]
    for file in sorted(vials.rglob("*.bmp")):
        s3_client.put_object(Bucket=bucket, Key=f"vials/{file.relative_to(vials).as_posix()}", Body=file.read_bytes())
    s3_client.put_object(Bucket=bucket, Key="data.json",
                         Body=json.dumps(data_block(datasets=[f"{s3_bucket}/vials"])).encode())
    _, local, _ = run_cli(capsys, config, "--batches", 3)
    code, remote, err = run_cli(capsys, f"{s3_bucket}/data.json", "--batches", 3)
    assert code == 0, err
    assert fingerprints(remote) == fingerprints(local)
