"""Large batch arrays travel from worker processes through shared-memory files, and no file outlives its use."""
from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from brevetti_core import build_image_data_generator, shared_batches
from brevetti_core.plan_workers import PlanWorkers

FOLDER = shared_batches.usable_folder()
pytestmark = pytest.mark.skipif(FOLDER is None, reason="needs a writable /dev/shm (Linux)")


def owned_files(pid: int | None = None) -> list[str]:
    """The batch files in the shared-memory folder owned by `pid` (this process by default)."""
    prefix = f"{shared_batches.PREFIX}{pid or os.getpid()}@"
    return sorted(name for name in os.listdir(FOLDER) if name.startswith(prefix))


def wait_for_no_owned_files(seconds: float = 30) -> list[str]:
    deadline = time.monotonic() + seconds
    while owned_files() and time.monotonic() < deadline:
        time.sleep(0.1)
    return owned_files()


def test_large_arrays_come_back_equal_and_their_files_are_removed_on_reading():
    big = np.arange(512 * 1024, dtype=np.float32).reshape(512, 1024)
    batch = {"img": big, "label": np.array(["a", "b"]), "pair": (big[:2], big.astype(np.int64))}
    exported = shared_batches.export(batch, os.getpid(), FOLDER)
    assert isinstance(exported["img"], shared_batches.SharedArray)
    assert isinstance(exported["pair"][1], shared_batches.SharedArray)
    assert exported["label"] is batch["label"] and exported["pair"][0] is batch["pair"][0]  # small: pickled as before
    assert len(owned_files()) == 2
    restored = shared_batches.restore(exported)
    assert np.array_equal(restored["img"], big) and restored["img"].dtype == big.dtype
    assert np.array_equal(restored["pair"][1], big.astype(np.int64)) and restored["pair"][1].dtype == np.int64
    assert owned_files() == []


def test_restored_arrays_are_writable_page_aligned_and_outlive_their_file():
    big = np.arange(1 << 18, dtype=np.float32)
    restored = shared_batches.restore(shared_batches.export(big, os.getpid(), FOLDER))
    assert owned_files() == [] and restored.ctypes.data % 4096 == 0
    restored[:3] = -1  # a private mapping: the array is the caller's own
    assert restored[:4].tolist() == [-1, -1, -1, 3] and np.array_equal(restored[3:], big[3:])


def test_files_of_a_dead_owner_are_removed_and_those_of_a_live_one_kept():
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    dead_pid = int(dead.stdout)
    big = np.zeros(1 << 18, np.float32)
    shared_batches.export(big, dead_pid, FOLDER)
    mine = shared_batches.export(big, os.getpid(), FOLDER)
    removed = shared_batches.remove_stale(FOLDER)
    assert owned_files(dead_pid) == [] and len(removed) >= 1
    assert len(owned_files()) == 1
    shared_batches.discard(mine)
    assert owned_files() == []


@pytest.fixture
def large_batches(small_vials_samples):
    """A generator whose image batches (8 x 256 x 256 x 3 float32, 6 MB) travel through shared memory."""
    return build_image_data_generator(small_vials_samples, image={"target_size": (256, 256)}, batch_size=8,
                                      shuffle=True, seed=3)


def workers_for(generator, ahead: int = 4) -> PlanWorkers:
    plan = generator.seeded_plan

    def element_plan(index: int):
        return plan.batch_plan(index) if index < plan.total_batches else None

    return PlanWorkers(generator.sample_loader, True, element_plan, workers=2, context="spawn", ahead=ahead)


def test_worker_batches_through_shared_memory_equal_the_calling_process_and_leave_no_file(large_batches):
    expected = list(large_batches.get_dataset_numpy())
    workers = workers_for(large_batches)
    got = [workers.result(index)[1] for index in range(len(expected))]
    assert [batch["img"].tobytes() for batch in got] == [img.tobytes() for img, _ in expected]
    assert owned_files() == []


def test_results_dropped_unread_have_their_files_removed(large_batches):
    workers = workers_for(large_batches, ahead=4)
    workers.result(0)  # four more batches are now on their way
    del workers
    gc.collect()
    assert wait_for_no_owned_files() == []


# A process whose files may not grow past 1 MB (RLIMIT_FSIZE, SIGXFSZ ignored): every write of a larger
# array fails with EFBIG, as a full /dev/shm fails with ENOSPC.
_FULL_FOLDER = textwrap.dedent("""
    import json, logging, os, resource, signal, sys
    import numpy as np
    from brevetti_core import shared_batches

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    big = np.arange(1 << 19, dtype=np.float32)  # 2 MB
    batch = shared_batches.export({"img": big, "again": big * 2}, os.getpid(), sys.argv[1])
    print(json.dumps({"kept": [isinstance(v, np.ndarray) for v in batch.values()],
                      "equal": bool(np.array_equal(batch["img"], big)),
                      "files": [n for n in os.listdir(sys.argv[1]) if n.startswith(f"brevetti-batch-{os.getpid()}@")]}))
""")


def test_a_full_folder_leaves_arrays_to_be_pickled_says_so_once_and_leaves_no_file():
    done = subprocess.run([sys.executable, "-c", _FULL_FOLDER, FOLDER], capture_output=True, text=True, timeout=120,
                          check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"kept": [True, True], "equal": True, "files": []}
    warnings = [line for line in done.stderr.splitlines() if "docker --shm-size" in line]
    assert len(warnings) == 1 and FOLDER in warnings[0]
