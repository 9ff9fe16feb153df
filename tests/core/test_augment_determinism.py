"""Same file bytes and plan parameters give byte-identical arrays in any process, thread and order."""
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

CHAIN = """
import hashlib, json, sys
import numpy as np
from brevetti_core.augment.augmenter import ImageAugmenter
from brevetti_core.augment.deformation import ImageDeformation
from brevetti_core.image.pipeline import ImagePipeline
from brevetti_core.rng import ParamStreams

def digests(paths, slots):
    pipeline = ImagePipeline(target_size=(48, 64), antialias=True, rescale="imagenet")
    augmenter = ImageAugmenter(image_deformation=ImageDeformation(alpha=2.0, sigma=3.0))
    params = augmenter.sample_params(ParamStreams(seed=5, stream=1001, epoch=0), len(paths))
    out = {}
    for slot in slots:
        row = {name: values[slot] for name, values in params.items()}
        image = augmenter(pipeline({"path": paths[slot]}, {}), row)["img"]
        out[slot] = hashlib.sha256(image.tobytes()).hexdigest()
    return out

if __name__ == "__main__":
    paths = json.loads(sys.argv[1])
    print(json.dumps(digests(paths, range(len(paths)))))
"""


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    folder = tmp_path_factory.mktemp("determinism")
    script = folder / "chain.py"
    script.write_text(CHAIN)
    namespace = {}
    exec(compile(CHAIN, str(script), "exec"), namespace)
    rng = np.random.default_rng(1)
    paths = []
    for i in range(12):
        path = folder / f"image_{i}.{'jpg' if i % 2 else 'png'}"
        Image.fromarray((rng.random((120, 160, 3)) * 255).astype(np.uint8)).save(path)
        paths.append(str(path))
    return script, paths, namespace["digests"]


def test_a_fresh_process_computes_byte_identical_images(chain):
    script, paths, digests = chain
    here = digests(paths, range(len(paths)))
    result = subprocess.run([sys.executable, str(script), json.dumps(paths)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    there = {int(slot): digest for slot, digest in json.loads(result.stdout).items()}
    assert there == here
    assert len(set(here.values())) == len(paths)


def test_threads_in_any_order_compute_byte_identical_images(chain):
    _, paths, digests = chain
    sequential = digests(paths, range(len(paths)))
    order = list(np.random.default_rng(2).permutation(len(paths)))
    with ThreadPoolExecutor(max_workers=4) as pool:
        parts = list(pool.map(lambda slot: digests(paths, [int(slot)]), order))
    threaded = {slot: digest for part in parts for slot, digest in part.items()}
    assert threaded == sequential

