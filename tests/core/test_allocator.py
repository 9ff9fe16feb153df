"""keep_freed_memory: image-sized temporaries stop faulting in fresh pages once plans execute in a process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

# 200 rounds of three image-sized (600 KB) temporaries alive together, as in a filter kernel,
# before and after the call; counts the minor page faults a round costs: memory handed out anew.
_FAULTS = textwrap.dedent("""
    import json, resource, sys
    import numpy as np
    from brevetti_core import allocator

    def faults_per_temporary():
        def round_():
            a = np.ones((224, 224, 3), np.float32)
            b = a * np.float32(2)
            return float((a + b)[0, 0, 0])

        round_()  # warm-up
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(200):
            round_()
        return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 200

    plain = faults_per_temporary()
    applied = allocator.keep_freed_memory()
    print(json.dumps({"plain": plain, "applied": applied, "kept": faults_per_temporary()}))
""")


def _faults(env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, "-c", _FAULTS], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_freed_image_temporaries_are_reused_without_page_faults():
    result = _faults({})
    assert result["applied"] is True
    assert result["plain"] > 100  # glibc gives the freed blocks back: their pages fault in again every round
    assert result["kept"] < 1


def test_zero_in_the_environment_leaves_the_allocator_alone():
    result = _faults({"BREVETTI_KEEP_FREED_MEMORY": "0"})
    assert result["applied"] is False
    assert result["kept"] > 100


def test_loading_a_batch_keeps_freed_memory_in_that_process(small_vials_samples, tmp_path):
    small_vials_samples.to_pickle(tmp_path / "samples.pkl")
    script = textwrap.dedent(f"""
        import pandas as pd
        from brevetti_core import allocator, build_image_data_generator
        samples = pd.read_pickle({str(tmp_path / "samples.pkl")!r})
        generator = build_image_data_generator(samples, image={{"target_size": (32, 32)}}, batch_size=2)
        assert not allocator.applied()
        next(iter(generator.get_dataset_numpy()))
        print(allocator.applied())
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip().splitlines()[-1] == "True"
