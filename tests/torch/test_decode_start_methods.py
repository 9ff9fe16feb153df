"""Decoding is explicit: DataLoader workers decode alike whatever their start method and whatever Pillow
settings the parent process made (a fork worker inherits those, a spawn or forkserver worker does not)."""
import numpy as np
import pytest
from adapter_generators import generator_factory
from PIL import Image, ImageFile

from brevetti_core.dataset import Dataset
from brevetti_core.executor import SampleError

START_METHODS = ["fork", "spawn", "forkserver"]
WORKER_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def cut_samples(tmp_path_factory):
    """Two good images and a JPEG whose second half is missing."""
    root = tmp_path_factory.mktemp("cut") / "parts"
    (root / "good").mkdir(parents=True)
    noise = np.random.default_rng(3).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    Image.fromarray(noise).save(root / "good" / "a.png")
    Image.fromarray(noise[::-1]).save(root / "good" / "b.png")
    Image.fromarray(noise).save(root / "good" / "cut.jpg")
    data = (root / "good" / "cut.jpg").read_bytes()
    (root / "good" / "cut.jpg").write_bytes(data[: len(data) // 2])
    return Dataset(bucket=str(root)).get_image_samples()


def make_generator(samples, **image):
    make = generator_factory("brevetti_torch", samples)
    return make(batch_size=3, shuffle=False, augmentation=None, image={"target_size": (24, 24), **image})


@pytest.mark.parametrize("start_method", START_METHODS)
def test_a_truncated_file_is_refused_by_every_worker_although_the_parent_allows_them(cut_samples, monkeypatch,
                                                                                     start_method):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    loader = make_generator(cut_samples).get_dataset(num_workers=1, multiprocessing_context=start_method,
                                                     timeout=WORKER_TIMEOUT_S)
    with pytest.raises(SampleError, match=r"cannot decode image '.*cut\.jpg': .*truncated"):
        list(loader)


@pytest.mark.parametrize("start_method", START_METHODS)
def test_allow_truncated_gives_the_parents_batches_in_every_worker(cut_samples, start_method):
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    generator = make_generator(cut_samples, allow_truncated=True)
    loader = generator.get_dataset(num_workers=1, multiprocessing_context=start_method, timeout=WORKER_TIMEOUT_S)
    (img, onehot), = list(loader)
    expected_img, expected_onehot = next(generator.get_dataset_numpy())
    assert img.numpy().tobytes() == np.ascontiguousarray(expected_img.transpose(0, 3, 1, 2)).tobytes()
    assert onehot.numpy().tobytes() == expected_onehot.tobytes()
