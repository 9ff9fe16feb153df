"""Shared fixtures for the parity suite: small generated datasets, the pipeline matrix and the adapters.

A pipeline builds a generator through a framework package (``brevetti_core``, ``brevetti_torch``
or ``brevetti_tf``: the same names in each); an adapter iterates it the way its framework's users
do and converts every batch back to the core's numpy batch (``Adapter.to_numpy``),
so each can be compared with ``get_dataset_numpy()`` byte for byte.

Torch workers use the default start method (fork on Linux) although TensorFlow is imported in the
same process: the workers never call TensorFlow, and every loader gets a ``timeout`` so a worker
that hangs fails the test instead of the suite.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from brevetti_core.adapters import get_adapter, registered_adapters
from brevetti_core.augment.augmenter import ImageAugmenter
from brevetti_core.augment.deformation import ImageDeformation
from brevetti_core.augment.filtering import ImageFiltering
from brevetti_core.augment.noise import ImageNoise
from brevetti_core.augment.transform import RandomTransformer
from brevetti_core.dataset import Dataset
from brevetti_demo.vials import generate_vials

WORKER_TIMEOUT_S = 60
GREY_CLASSES = ("dark", "light", "striped")


@dataclass(frozen=True)
class Data:
    """The parity datasets: RGB vials 48x48 with polygon annotations, greyscale PNGs of 32 to 48 pixels."""

    rgb: pd.DataFrame
    grey: pd.DataFrame


def write_grey_images(root: Path, per_class: int = 8) -> Path:
    """Greyscale PNGs of varying sizes (32..48 pixels a side) in class folders; same call, same bytes."""
    generator = np.random.default_rng(7)
    for k, label in enumerate(GREY_CLASSES):
        for i in range(per_class):
            height, width = 32 + (i * 5) % 17, 48 - (i * 3) % 17
            ramp = np.linspace(0, 255, width)[None, :] * (k + 1) / len(GREY_CLASSES)
            pixels = ramp + generator.normal(0, 20, (height, width))
            if label == "striped":
                pixels[::4] = 255 - pixels[::4]
            path = root / label / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L").save(path)
    return root


@pytest.fixture(scope="session")
def data(tmp_path_factory) -> Data:
    """The parity datasets, generated once per session (real files, listed like any dataset)."""
    root = tmp_path_factory.mktemp("parity")
    vials = generate_vials(root / "vials", items_per_class=4, shots_per_item=2, duplicates=1, size=48,
                           annotations=True)
    grey = write_grey_images(root / "grey")
    return Data(rgb=Dataset(bucket=str(vials)).get_image_samples(annotations=True),
                grey=Dataset(bucket=str(grey)).get_image_samples())


IMAGE = {"target_size": (32, 32), "antialias": True, "rescale": "imagenet"}


def every_augmentation() -> ImageAugmenter:
    """Every part of the augmenter on for every sample: chances 1.0 and a deformation."""
    return ImageAugmenter(random_transformer=RandomTransformer(chance=1.0, rotate_chance=1.0),
                          image_noise=ImageNoise(chance=1.0), image_filter=ImageFiltering(chance=1.0),
                          image_deformation=ImageDeformation(alpha=3.0, sigma=2.0, chance=1.0))


def no_augmentation(package: ModuleType, data: Data):
    return package.build_image_data_generator(data.rgb, batch_size=5, seed=1, image=IMAGE)


def default_augmenter(package: ModuleType, data: Data):
    return package.build_image_data_generator(data.rgb, batch_size=5, shuffle=True, seed=2, image=IMAGE,
                                              augmentation={})


def every_augmentation_forced(package: ModuleType, data: Data):
    return package.build_image_data_generator(data.rgb, batch_size=5, shuffle=True, seed=3, image=IMAGE,
                                              augmentation=every_augmentation())


def greyscale(package: ModuleType, data: Data):
    return package.build_image_data_generator(data.grey, batch_size=5, shuffle=True, seed=4, augmentation={},
                                              image={"target_size": (32, 32), "color_mode": "greyscale"})


ROIS = [((0, 0), (24, 32)), ((20, 10), (44, 42))]


def rois_stacked(package: ModuleType, data: Data):
    image = {"rois": ROIS, "roi_mode": "concatenate_height", "rescale": "imagenet"}
    return package.build_image_data_generator(data.rgb, batch_size=5, shuffle=True, seed=5, image=image,
                                              augmentation={})


def rois_apart(package: ModuleType, data: Data):
    """roi_mode None: one array per ROI, so "img" is a tuple of batches."""
    image = {"rois": ROIS, "roi_mode": None, "target_size": (16, 16)}
    return package.build_image_data_generator(data.rgb, batch_size=5, shuffle=True, seed=5, image=image,
                                              augmentation={})


def segmentation_masks(package: ModuleType, data: Data):
    loader = package.SegmentationLoader(["vial", "cap"])
    generator = package.DataGenerator(data.rgb, batch_size=4, shuffle=True, seed=6,
                                      output_structure=("img", "segmentation"))
    return generator.map(package.ImagePipeline(**IMAGE, segmentation=loader)).map(every_augmentation())


def stratified_sampling(package: ModuleType, data: Data):
    sampler = package.StratifiedSampler(batch_size=6, groupby="category", seed=7)
    generator = sampler.get(data.rgb, shuffle=True, output_structure=("img", "onehot"))
    classes = sorted(data.rgb["folder"].unique())
    return generator.map([package.ImagePipeline(**IMAGE), package.ImageAugmenter(),
                          package.OneHotEncoder(classes)])


def repeat_across_epochs(package: ModuleType, data: Data):
    return package.build_image_data_generator(data.rgb, batch_size=7, shuffle=True, repeat=2, seed=8,
                                              image=IMAGE, augmentation={})


PIPELINES: dict[str, Callable[[ModuleType, Data], Any]] = {
    "no_augmentation": no_augmentation,
    "default_augmenter": default_augmenter,
    "every_augmentation_forced": every_augmentation_forced,
    "greyscale": greyscale,
    "rois_stacked": rois_stacked,
    "rois_apart": rois_apart,
    "segmentation_masks": segmentation_masks,
    "stratified_sampling": stratified_sampling,
    "repeat_across_epochs": repeat_across_epochs,
}


@dataclass(frozen=True)
class Variant:
    """One way of iterating a generator: a registered adapter and the options its iterate() gets."""

    framework: str
    options: dict = field(default_factory=dict)

    def build(self, pipeline: Callable[[ModuleType, Data], Any], data: Data):
        """The pipeline's generator in this adapter's flavour."""
        return pipeline(get_adapter(self.framework).package, data)

    def batches(self, generator, **options: Any) -> list:
        """Every batch of `generator` (structure None unless given) as core numpy batches."""
        adapter = get_adapter(self.framework)
        options = {"structure": None, **self.options, **options}
        if self.framework == "torch" and options.get("workers"):
            options.setdefault("timeout", WORKER_TIMEOUT_S)
        return [adapter.to_numpy(batch) for batch in adapter.iterate(generator, **options)]


def variants() -> dict[str, Variant]:
    """Every registered adapter with 0, 1 and 2 workers (DataLoader processes, tf parallel calls), and numpy."""
    found = {"numpy": Variant("numpy")}
    for name in registered_adapters():
        if name != "numpy":
            found.update({f"{name}-workers-{n}": Variant(name, {"workers": n}) for n in (0, 1, 2)})
    return found


ADAPTERS = variants()


def assert_identical(expected: Any, actual: Any, where: str = "batch") -> None:
    """Same structure, and per array the same dtype, shape and bytes (strings: the same values)."""
    if isinstance(expected, dict):
        found = sorted(map(str, actual)) if isinstance(actual, dict) else type(actual)
        assert found == sorted(map(str, expected)), f"{where}: keys {found} != {sorted(map(str, expected))}"
        for key in expected:
            assert_identical(expected[key], actual[key], f"{where}[{key!r}]")
        return
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple) and len(actual) == len(expected), f"{where}: {type(actual)} != tuple"
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_identical(e, a, f"{where}[{i}]")
        return
    expected, actual = np.asarray(expected), np.asarray(actual)
    assert actual.shape == expected.shape, f"{where}: shape {actual.shape} != {expected.shape}"
    if expected.dtype.kind in "US":
        assert actual.dtype.kind == expected.dtype.kind, f"{where}: dtype {actual.dtype} != {expected.dtype}"
        assert actual.tolist() == expected.tolist(), f"{where}: strings differ"
        return
    assert actual.dtype == expected.dtype, f"{where}: dtype {actual.dtype} != {expected.dtype}"
    if actual.tobytes() != expected.tobytes():
        differing = int(np.count_nonzero(actual != expected))
        raise AssertionError(f"{where}: {differing} of {expected.size} values differ")


def assert_identical_batches(expected: list, actual: list) -> None:
    """The same number of batches, each identical (``assert_identical``)."""
    assert len(actual) == len(expected), f"{len(actual)} batches != {len(expected)}"
    for number, (e, a) in enumerate(zip(expected, actual)):
        assert_identical(e, a, f"batch {number}")


@pytest.fixture(scope="session")
def reference_batches(data) -> Callable[[str], list]:
    """Per pipeline name, the core generator's ``get_dataset_numpy(structure=None)`` batches (computed once)."""
    cache: dict[str, list] = {}

    def batches(name: str) -> list:
        if name not in cache:
            cache[name] = list(PIPELINES[name](get_adapter("numpy").package, data).get_dataset_numpy(structure=None))
        return cache[name]

    return batches
