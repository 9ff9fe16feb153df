"""build_image_data_generator on real image files: classes, shapes, exact replay across runs, processes and threads."""
import hashlib
import multiprocessing
import pathlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from brevetti_core.executor import SampleError
from brevetti_core.generator import build_image_data_generator

AUGMENT = {}  # ImageAugmenter() with the reference defaults


def write_images(folder, count=10) -> pd.DataFrame:
    """BMP files of varying sizes in category folders, as a sample table."""
    rows, generator = [], np.random.default_rng(0)
    categories = [("good",), ("missing_cap",), ("failed_cap",), ("__UNLABELED__",), ("good", "scratch")]
    for i in range(count):
        category = categories[i % len(categories)]
        path = folder / "_".join(category) / f"img_{i}.bmp"
        path.parent.mkdir(parents=True, exist_ok=True)
        pixels = generator.integers(0, 256, (40 + i, 50 + 2 * i, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(path)
        rows.append({"category": category, "folder": path.parent.name, "path": str(path)})
    return pd.DataFrame(rows)


def first_batch_digest(folder: str) -> str:
    samples = write_images(pathlib.Path(folder))
    generator = build_image_data_generator(samples, batch_size=4, shuffle=True, seed=3, augmentation=AUGMENT,
                                           image={"target_size": (24, 32), "antialias": True, "rescale": "imagenet"})
    img, onehot = next(generator.get_dataset_numpy())
    return hashlib.sha256(img.tobytes() + onehot.tobytes()).hexdigest()


@pytest.fixture
def samples(tmp_path) -> pd.DataFrame:
    return write_images(tmp_path)


def test_classes_default_to_every_label_except_unlabeled(samples):
    generator = build_image_data_generator(samples, seed=0)
    assert generator.actions[-1].classes == ["failed_cap", "good", "missing_cap", "scratch"]


def test_a_plain_string_category_counts_as_one_label(samples):
    samples["category"] = samples["folder"]
    generator = build_image_data_generator(samples, seed=0)
    assert generator.actions[-1].classes == ["failed_cap", "good", "good_scratch", "missing_cap"]


def test_batches_are_image_and_onehot_of_the_documented_shapes(samples):
    generator = build_image_data_generator(samples, batch_size=4, seed=0, image={"target_size": (24, 32)})
    batches = list(generator.get_dataset_numpy())
    assert [(img.shape, onehot.shape) for img, onehot in batches] == \
           [((4, 24, 32, 3), (4, 4)), ((4, 24, 32, 3), (4, 4)), ((2, 24, 32, 3), (2, 4))]
    assert batches[0][0].dtype == np.float32
    assert batches[0][1].tolist() == [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
    assert batches[1][1][0].tolist() == [0, 1, 0, 1]


def test_the_images_are_the_files_pixels_when_nothing_is_resized(samples):
    generator = build_image_data_generator(samples, batch_size=1, seed=0)
    img, _ = next(generator.get_dataset_numpy())
    assert np.array_equal(img[0], np.asarray(Image.open(samples.path[0]), dtype=np.float32))


def test_iterating_twice_gives_identical_augmented_batches(samples):
    generator = build_image_data_generator(samples, batch_size=4, shuffle=True, seed=1, augmentation=AUGMENT,
                                           image={"target_size": (24, 32), "rescale": "imagenet"})
    run_1 = list(generator.get_dataset_numpy())
    run_2 = list(generator.get_dataset_numpy())
    for (img_1, onehot_1), (img_2, onehot_2) in zip(run_1, run_2):
        assert img_1.tobytes() == img_2.tobytes() and onehot_1.tobytes() == onehot_2.tobytes()


def test_the_seed_decides_the_augmentation(samples):
    def first_images(seed):
        generator = build_image_data_generator(samples, batch_size=10, seed=seed, augmentation=AUGMENT,
                                               image={"target_size": (24, 32)})
        return next(generator.get_dataset_numpy(structure="img"))

    assert first_images(5).tobytes() == first_images(5).tobytes()
    assert first_images(5).tobytes() != first_images(6).tobytes()


def test_batches_are_byte_identical_in_a_fresh_process(tmp_path):
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        remote = pool.apply(first_batch_digest, (str(tmp_path / "remote"),))
    assert remote == first_batch_digest(str(tmp_path / "local"))


def test_samples_load_the_same_alone_in_any_order_and_thread(samples):
    generator = build_image_data_generator(samples, batch_size=10, shuffle=True, seed=2, augmentation=AUGMENT,
                                           image={"target_size": (24, 32)})
    rows = next(iter(generator.batch_plans())).rows
    batch = next(generator.get_dataset_numpy(structure="img"))
    with ThreadPoolExecutor(4) as pool:
        reversed_loads = list(pool.map(generator.load_sample, rows[::-1]))[::-1]
    assert all(loaded["img"].tobytes() == expected.tobytes() for loaded, expected in zip(reversed_loads, batch))


def test_an_empty_image_file_names_the_file_the_sample_and_its_place(samples):
    open(samples.path[6], "wb").close()
    generator = build_image_data_generator(samples, batch_size=4, seed=0, image={"target_size": (24, 32)})
    with pytest.raises(SampleError) as caught:
        list(generator.get_dataset_numpy())
    message = str(caught.value)
    assert f"failed on sample 6 (path {samples.path[6]!r}) at epoch 0, batch 1, position 2" in message
    assert "ImagePipeline" in caught.value.action
    assert isinstance(caught.value.__cause__, ValueError)


def test_an_empty_image_file_becomes_a_zero_image_on_request(samples, caplog):
    open(samples.path[1], "wb").close()
    generator = build_image_data_generator(samples, batch_size=4, seed=0, on_error="zeros",
                                           image={"target_size": (24, 32)})
    img, onehot = next(generator.get_dataset_numpy())
    assert not img[1].any() and img[0].any()
    assert onehot[1].tolist() == [0, 0, 0, 0]
    assert "1 samples failed in epoch 0 and were replaced by zeros" in caplog.text
