"""S3 samples in DataLoader workers: any start method, same batches as the numpy pipeline, cache cold and warm.

The images live on the moto S3 server of tests/conftest.py. The parent lists the bucket first (as a
job does), so a fork worker inherits an S3 filesystem whose event loop belongs to the parent.
"""
import numpy as np
import pytest
from adapter_generators import generator_factory
from PIL import Image
from s3_requests import s3_requests

from brevetti_core.dataset import Dataset
from brevetti_core.io_tools import io_tools, sample_cache_root

START_METHODS = ["fork", "spawn"]
WORKER_TIMEOUT_S = 120


@pytest.fixture
def s3_samples(s3_bucket, s3_client, tmp_path):
    """Six small PNGs in two classes on S3, listed by the parent through the shared io_tools."""
    bucket = s3_bucket[len("s3://"):]
    rng = np.random.default_rng(5)
    for i in range(6):
        path = tmp_path / f"{i}.png"
        Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(path)
        s3_client.upload_file(str(path), bucket, f"{('good', 'bad')[i % 2]}/{i}.png")
    return Dataset(bucket=s3_bucket).get_image_samples(io=io_tools)


def make_generator(samples):
    return generator_factory("brevetti_torch", samples)(batch_size=4, image={"target_size": (16, 16)})


def torch_bytes(loader) -> list[bytes]:
    return [tensor.numpy().tobytes() for batch in loader for tensor in batch]


def numpy_bytes(generator) -> list[bytes]:
    return [np.ascontiguousarray(img.transpose(0, 3, 1, 2)).tobytes() if img.ndim == 4 else img.tobytes()
            for batch in generator.get_dataset_numpy() for img in batch]


@pytest.mark.parametrize("start_method", START_METHODS)
def test_workers_read_s3_after_the_parent_listed_the_bucket(s3_samples, start_method):
    generator = make_generator(s3_samples)
    loader = generator.get_dataset(num_workers=2, multiprocessing_context=start_method, timeout=WORKER_TIMEOUT_S)
    assert torch_bytes(loader) == numpy_bytes(generator)


@pytest.fixture
def cache_root(tmp_path):
    """A cache root set on the shared io_tools (the images' io), as a job sets one on its io; unset afterwards."""
    io_tools.set_cache_root(tmp_path / "cache")
    yield io_tools.cache_root
    io_tools.set_cache_root(None)


def loader_of(generator, start_method):
    return generator.get_dataset(num_workers=2, multiprocessing_context=start_method, timeout=WORKER_TIMEOUT_S)


@pytest.mark.parametrize("start_method", START_METHODS)
def test_workers_with_a_cold_cache_get_each_file_once(s3_samples, cache_root, start_method):
    generator = make_generator(s3_samples)
    bucket = s3_samples["bucket"].iloc[0]
    with s3_requests(bucket) as log:
        torch_bytes(loader_of(generator, start_method))
    assert sorted(log.requests) == sorted(("GET", path[4:]) for path in s3_samples["path"])  # nothing else


@pytest.mark.parametrize("start_method", START_METHODS)
def test_workers_with_a_warm_cache_make_no_request_and_give_the_numpy_batches(s3_samples, cache_root, start_method):
    generator = make_generator(s3_samples)
    expected = numpy_bytes(generator)  # warms the cache
    assert sample_cache_root() == cache_root
    bucket = s3_samples["bucket"].iloc[0]
    with s3_requests(bucket) as log:
        warm = torch_bytes(loader_of(generator, start_method))
    assert log.requests == []
    assert warm == expected
