"""Data loading from S3 (the moto server): one GET per file, and with a cache root none at all once cached."""
import errno
import hashlib
import io
import os

import numpy as np
import pytest
from PIL import Image
from s3_requests import s3_requests

from brevetti_core import build_image_data_generator
from brevetti_core.content_cache import CacheFullError
from brevetti_core.dataset import Dataset
from brevetti_core.executor import SampleError
from brevetti_core.io_tools import IoTools

IMAGES = 6


def png(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (12, 12, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def bucket(s3_bucket, s3_client):
    """Six PNGs in two classes on S3."""
    for i in range(IMAGES):
        s3_client.put_object(Bucket=s3_bucket[5:], Key=f"{('good', 'bad')[i % 2]}/{i}.png", Body=png(i))
    return s3_bucket


@pytest.fixture
def io_with_cache(tmp_path):
    io = IoTools()
    io.set_cache_root(tmp_path / "cache")
    return io


def batches(samples, io=None, **settings):
    image = {"target_size": (8, 8), **({"io": io} if io is not None else {})}
    generator = build_image_data_generator(samples, batch_size=4, image=image, **settings)
    return [np.ascontiguousarray(array).tobytes() for batch in generator.get_dataset_numpy() for array in batch]


def test_each_file_is_one_get_without_a_head(bucket):
    io = IoTools()
    samples = Dataset(bucket=bucket).get_image_samples(io=io)
    with s3_requests(bucket) as log:
        batches(samples, io)
    assert sorted(log.of_objects()) == sorted(("GET", path[4:]) for path in samples["path"])


def test_a_cold_cache_makes_one_get_per_file_and_keeps_it_under_its_etag(bucket, io_with_cache):
    samples = Dataset(bucket=bucket).get_image_samples(io=io_with_cache)
    with s3_requests(bucket) as log:
        batches(samples, io_with_cache)
    assert sorted(log.requests) == sorted(("GET", path[4:]) for path in samples["path"])
    cached = {name for _, _, names in os.walk(io_with_cache.cache_root) for name in names}
    assert cached == set(samples["etag"])


def test_a_warm_cache_makes_no_request_and_gives_the_same_batches(bucket, io_with_cache):
    samples = Dataset(bucket=bucket).get_image_samples(io=io_with_cache)
    cold = batches(samples, io_with_cache)
    with s3_requests(bucket) as log:
        warm = batches(samples, io_with_cache)
    assert log.requests == []
    assert warm == cold == batches(samples, IoTools())


def test_cached_files_hold_the_content_their_etag_names(bucket, io_with_cache):
    samples = Dataset(bucket=bucket).get_image_samples(io=io_with_cache)
    batches(samples, io_with_cache)
    for folder, _, names in os.walk(io_with_cache.cache_root):
        for name in names:
            with open(os.path.join(folder, name), "rb") as f:
                assert hashlib.md5(f.read()).hexdigest() == name


def test_an_object_changed_after_listing_is_read_but_not_cached(bucket, s3_client, io_with_cache):
    samples = Dataset(bucket=bucket).get_image_samples(io=io_with_cache)
    s3_client.put_object(Bucket=bucket[5:], Key="good/0.png", Body=png(100))
    batches(samples, io_with_cache)
    cached = {name for _, _, names in os.walk(io_with_cache.cache_root) for name in names}
    assert cached == set(samples["etag"]) - {samples.set_index("path").loc[f"{bucket}/good/0.png", "etag"]}


def test_the_seeds_job_io_cache_root_turns_the_cache_on_for_the_jobs_data_loading(bucket, data_root):
    from brevetti_core.job import Job

    job = Job.init(argv=[])
    job.start(complete=False)
    job.io.set_cache_root(job.temp_path("cache", dir=True))
    samples = Dataset(bucket=bucket).get_image_samples(io=job.io)
    batches(samples)  # the default ImagePipeline, as in the seed notebooks
    with s3_requests(bucket) as log:
        batches(samples)
    job.complete_job()
    assert log.requests == []


def test_a_full_cache_disk_stops_loading_with_an_error_naming_the_cache_folder(bucket, io_with_cache, monkeypatch):
    samples = Dataset(bucket=bucket).get_image_samples(io=io_with_cache)
    real_open = open

    def full_disk(path, mode="r", *args, **kwargs):
        if str(path).startswith(io_with_cache.cache_root) and "w" in mode:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", full_disk)
    with pytest.raises(SampleError, match=f"sample cache folder {io_with_cache.cache_root}.* is full") as raised:
        batches(samples, io_with_cache, on_error="skip")
    assert isinstance(raised.value.__cause__, CacheFullError)
    assert not [name for _, _, names in os.walk(io_with_cache.cache_root) for name in names if name.endswith(".part")]


def test_a_missing_object_fails_naming_its_path(bucket, s3_client):
    io = IoTools()
    samples = Dataset(bucket=bucket).get_image_samples(io=io)
    s3_client.delete_object(Bucket=bucket[5:], Key="bad/1.png")
    with pytest.raises(SampleError, match=f"no such file: {bucket}/bad/1.png"):
        batches(samples, io)
