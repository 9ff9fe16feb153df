"""tf.distribute: MirroredStrategy over two logical CPU devices, fed by distribute_datasets_from_function.

Logical devices must be configured before TensorFlow initialises, which the test process has
long done, so the strategy runs in a fresh interpreter that pickles each step's per-replica
values. Per step, replica 0's values followed by replica 1's must be the single-process global
batch, also across an epoch boundary where the second replica's slice is empty.
"""
import json
import os
import pickle
import subprocess
import sys

import numpy as np

from brevetti_core.generator import build_image_data_generator

# 20 samples in batches of 9: per epoch 9, 9 and 2; repeat=3 puts two epoch boundaries mid-run.
SETTINGS = {"batch_size": 9, "shuffle": True, "seed": 4, "repeat": 3, "augmentation": {},
            "image": {"target_size": [16, 16], "rescale": "imagenet"}}
SMALL_LAST = {**SETTINGS, "batch_size": 19, "repeat": 2}  # batches of 19 and 1: replica 1 gets an empty slice

STRATEGY_SCRIPT = """\
import json, os, pickle, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import brevetti_tf
from brevetti_core.dataset import Dataset

root, settings, out, options = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
generator = brevetti_tf.build_image_data_generator(Dataset(bucket=root).get_image_samples(),
                                                   output_structure=("path", "img", "onehot"), **settings)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
dataset = strategy.distribute_datasets_from_function(
    lambda context: generator.get_dataset(input_context=context, **options))
steps = []
for element in dataset:
    replicas = tf.nest.map_structure(lambda value: [t.numpy() for t in strategy.experimental_local_results(value)],
                                     element)
    steps.append(replicas)
with open(out, "wb") as file:
    pickle.dump({"replicas": strategy.num_replicas_in_sync, "steps": steps}, file)
"""


def run_strategy(tmp_path, root, settings: dict, options: dict | None = None) -> dict:
    """Iterate the distributed dataset (get_dataset `options`) in a fresh interpreter; the replica count and steps."""
    script, out = tmp_path / "strategy.py", tmp_path / "steps.pkl"
    script.write_text(STRATEGY_SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(root), json.dumps(settings), str(out),
                           json.dumps(options or {})],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0"})
    assert done.returncode == 0, done.stderr[-3000:]
    return pickle.loads(out.read_bytes())


def expected_batches(root, settings: dict) -> list:
    from brevetti_core.dataset import Dataset

    generator = build_image_data_generator(Dataset(bucket=str(root)).get_image_samples(),
                                           output_structure=("path", "img", "onehot"), **settings)
    return list(generator.get_dataset_numpy())


def assert_replicas_concatenate_to(expected: list, run: dict) -> None:
    assert run["replicas"] == 2 and len(run["steps"]) == len(expected)
    for (paths, img, onehot), (replica_paths, replica_img, replica_onehot) in zip(expected, run["steps"]):
        assert [p.decode() for part in replica_paths for p in part] == paths.tolist()
        assert np.concatenate(replica_img).tobytes() == img.tobytes()
        assert np.concatenate(replica_onehot).tobytes() == onehot.tobytes()


def test_mirrored_replicas_together_get_exactly_the_global_batches(tmp_path, tf_vials_root):
    run = run_strategy(tmp_path, tf_vials_root, SETTINGS)
    assert [len(step[0][0]) for step in run["steps"]][:3] == [5, 5, 1]  # array_split halves: 9 -> 5 + 4, 2 -> 1 + 1
    assert_replicas_concatenate_to(expected_batches(tf_vials_root, SETTINGS), run)


def test_an_empty_replica_slice_keeps_the_replicas_in_step(tmp_path, tf_vials_root):
    run = run_strategy(tmp_path, tf_vials_root, SMALL_LAST)
    assert [[len(part) for part in step[0]] for step in run["steps"]] == [[10, 9], [1, 0], [10, 9], [1, 0]]
    assert_replicas_concatenate_to(expected_batches(tf_vials_root, SMALL_LAST), run)


def test_a_strategy_resumed_at_the_end_takes_no_step(tmp_path, tf_vials_root):
    run = run_strategy(tmp_path, tf_vials_root, SETTINGS, {"start_batch": 9})  # 3 epochs of 3 batches
    assert run == {"replicas": 2, "steps": []}
