"""Two real torch.distributed processes (gloo, CPU) read their rank from the process group; their batches add up.

Each process runs ``init_process_group("gloo")`` from the environment (MASTER_ADDR=127.0.0.1, a free
port, RANK, WORLD_SIZE) and iterates ``get_dataset()`` without rank arguments, so the loader must
take its slice from torch.distributed. Per step, rank 0's slice followed by rank 1's must be the
single-process global batch.
"""
import json
import os
import pickle
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch.distributed as dist

import brevetti_torch
from brevetti_torch.pipeline import to_numpy

SETTINGS = {"batch_size": 6, "shuffle": True, "seed": 5, "repeat": 2, "augmentation": {},
            "image": {"target_size": [24, 24], "rescale": "imagenet"}, "output_structure": ["path", "img", "onehot"]}

RANK_SCRIPT = """\
import json, pickle, sys
import torch.distributed as dist
import brevetti_torch
from brevetti_core.dataset import Dataset
from brevetti_torch.pipeline import to_numpy

root, settings, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
settings["output_structure"] = tuple(settings["output_structure"])
dist.init_process_group("gloo")
generator = brevetti_torch.build_image_data_generator(Dataset(bucket=root).get_image_samples(), **settings)
batches = [to_numpy(batch) for batch in generator.get_dataset(num_workers=1, timeout=60)]
counts = [None] * dist.get_world_size()
dist.all_gather_object(counts, len(batches))
with open(out, "wb") as file:
    pickle.dump({"rank": dist.get_rank(), "counts": counts, "batches": batches}, file)
dist.destroy_process_group()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ranks(tmp_path, root, world_size: int) -> list[dict]:
    """Start `world_size` processes of one gloo group; returns what each rank wrote, by rank."""
    script = tmp_path / "rank.py"
    script.write_text(RANK_SCRIPT)
    port = str(free_port())
    processes = []
    for rank in range(world_size):
        env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port, "RANK": str(rank),
               "WORLD_SIZE": str(world_size)}
        out = tmp_path / f"rank{rank}.pkl"
        command = [sys.executable, str(script), str(root), json.dumps(SETTINGS), str(out)]
        processes.append((out, subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                                text=True)))
    results = []
    try:
        for out, process in processes:
            output, _ = process.communicate(timeout=180)
            assert process.returncode == 0, output[-3000:]
            results.append(pickle.loads(out.read_bytes()))
    finally:
        for _, process in processes:
            if process.poll() is None:
                process.kill()
    return results


def test_two_gloo_ranks_together_load_exactly_the_single_process_batches(tmp_path, vials_root):
    settings = {**SETTINGS, "output_structure": tuple(SETTINGS["output_structure"])}
    generator = brevetti_torch.build_image_data_generator(
        brevetti_torch.Dataset(bucket=str(vials_root)).get_image_samples(), **settings)
    expected = [to_numpy(batch) for batch in generator.get_dataset(rank=0, world_size=1)]

    ranks = run_ranks(tmp_path, vials_root, world_size=2)

    assert [r["rank"] for r in ranks] == [0, 1]
    assert ranks[0]["counts"] == ranks[1]["counts"] == [len(expected), len(expected)]
    for step, (paths, img, onehot) in enumerate(expected):
        (paths_0, img_0, onehot_0), (paths_1, img_1, onehot_1) = ranks[0]["batches"][step], ranks[1]["batches"][step]
        assert len(paths_0) == len(paths_1) == len(paths) // 2
        assert paths_0.tolist() + paths_1.tolist() == paths.tolist()
        assert np.concatenate([img_0, img_1]).tobytes() == img.tobytes()
        assert np.concatenate([onehot_0, onehot_1]).tobytes() == onehot.tobytes()


def test_a_process_group_and_a_rank_together_are_a_clear_error(tmp_path, make_generator):
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        with pytest.raises(ValueError, match="give either process_group or rank/world_size, not both"):
            make_generator().get_dataset(process_group=dist.group.WORLD, rank=0)
    finally:
        dist.destroy_process_group()
