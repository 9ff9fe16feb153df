"""PlanWorkers' processes do not outlive their owner, even one killed outright."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from brevetti_core.liveness import pid_alive

_OWNER = textwrap.dedent("""
    import sys, time
    import pandas as pd
    from brevetti_core import build_image_data_generator
    from brevetti_core.plan_workers import PlanWorkers

    generator = build_image_data_generator(pd.read_pickle(sys.argv[1]), image={"target_size": (32, 32)},
                                           batch_size=2)
    plan = generator.seeded_plan
    workers = PlanWorkers(generator.sample_loader, True, lambda i: plan.batch_plan(i) if i < plan.total_batches
                          else None, workers=2, context=sys.argv[2])
    workers.result(0)
    print(*workers._started()._processes, flush=True)
    time.sleep(600)
""")


def wait_until_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while any(pid_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [pid for pid in pids if pid_alive(pid)]


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_workers_exit_when_their_owner_is_killed(small_vials_samples, tmp_path, context):
    small_vials_samples.to_pickle(tmp_path / "samples.pkl")
    owner = subprocess.Popen([sys.executable, "-c", _OWNER, str(tmp_path / "samples.pkl"), context],
                             stdout=subprocess.PIPE, text=True)
    try:
        workers = [int(pid) for pid in owner.stdout.readline().split()]
        assert len(workers) == 2 and all(pid_alive(pid) for pid in workers)
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait(timeout=30)
        assert wait_until_gone(workers, seconds=15) == []
    finally:
        owner.kill()
        for pid in workers if "workers" in locals() else []:
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
