"""The datasets seed notebook from "Loading image data" on runs framework-free with only its imports changed.

The cells are copied from shared/seeds/seed-notebook-datasets.md with `brevettiai.*` imports replaced by
`brevetti_core`, `get_dataset(...)` by `get_dataset_numpy(...)` (the tf.data cell has no framework-free
counterpart) and the matplotlib calls left out (`tile2d` is kept). The sample table is the synthetic vials
dataset listed with `get_image_samples`, as in the notebook's first part.
"""
import types

import numpy as np
import pytest

from brevetti_core.dataset import Dataset, get_image_samples
from brevetti_demo import generate_vials


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    root = generate_vials(tmp_path_factory.mktemp("seed") / "NeurIPS vials TRAIN", items_per_class=3, annotations=False)
    return get_image_samples([Dataset(id="cb14b6e3-b4b9-45bb-955f-47aa6489a192", name="NeurIPS vials TRAIN",
                                      bucket=str(root))])


def test_stratified_sampler_cell_gives_path_and_folder_batches(samples):
    from brevetti_core import (  # noqa: F401  # the seed cell's imports, not all used in it
        DataGenerator,
        ImageAugmenter,
        ImagePipeline,
        OneHotEncoder,
        SegmentationLoader,
        StratifiedSampler,
    )

    ds = StratifiedSampler().get(samples, shuffle=True, batch_size=8, output_structure=("path", "folder"))

    samples_iterator, dataset_iterator = ds.get_samples_numpy(), ds.get_dataset_numpy()
    assert isinstance(samples_iterator, types.GeneratorType) and isinstance(dataset_iterator, types.GeneratorType)
    batch = next(samples_iterator)
    assert set(batch) == set(samples.columns) and batch["category"].shape == (8, 1)
    paths, folders = next(dataset_iterator)
    assert paths.shape == folders.shape == (8,)
    assert paths.tolist() == batch["path"].tolist()


def test_mapped_generator_cells_give_the_documented_shapes(samples):
    from brevetti_core import DataGenerator, ImagePipeline, OneHotEncoder

    ds = DataGenerator(samples, shuffle=True, batch_size=8, output_structure=("img", "onehot"))
    ds = ds.map(ImagePipeline(target_size=(64,64), antialias=True, rescale="imagenet")) \
        .map(OneHotEncoder(samples.folder.unique(), output_key="onehot"))

    # Use the structure change the default structure of the ouput
    path, img, onehot = next(ds.get_dataset_numpy(structure=("path", "img", "onehot")))
    assert (path.shape, img.shape, onehot.shape) == ((8,), (8, 64, 64, 3), (8, 4))
    assert (path.dtype.kind, img.dtype, onehot.dtype) == ("U", np.float32, np.float32)
    assert -1 <= img.min() < img.max() <= 1

    from brevetti_core import tile2d

    # Use structure=None to access all the dataset elements
    x = next(ds.get_dataset_numpy(structure=None))
    assert tile2d(x["img"], (2,4))[...,0].shape == (128, 256)

    # Use structure="img" to get just the image
    x = next(ds.get_dataset_numpy(structure="img"))
    assert tile2d(x, (2,4))[...,0].shape == (128, 256)
    assert np.array_equal(x, img)


def test_build_image_data_generator_runs_give_identical_batches(samples):
    from brevetti_core import build_image_data_generator, tile2d
    ds = build_image_data_generator(samples, batch_size=8, image=dict(target_size=(224, 224), antialias=True, rescale="imagenet"))  # noqa: C408, E501  # the seed cell's line, verbatim
    x = next(ds.get_dataset_numpy())
    run_1 = tile2d(x[0], (2,4))[...,0]
    x = next(ds.get_dataset_numpy())
    run_2 = tile2d(x[0], (2,4))[...,0]

    assert x[0].shape == (8, 224, 224, 3) and x[1].shape == (8, 4)
    assert run_1.shape == (448, 896)
    assert run_1.tobytes() == run_2.tobytes()
