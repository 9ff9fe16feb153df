"""The seed notebooks' data parts run on brevetti_torch with only their imports changed.

Cells are copied from shared/seeds/seed-notebook-datasets.md ("Loading image data" on) and the data
part of seed-notebook-job-api.md ("Accessing datasets" to the end of "Loading image data"), with
`brevettiai.*` imports replaced by `brevetti_torch` and the matplotlib lines left out (`tile2d` is
kept, on the numpy iterators). `get_samples()` / `get_dataset()` return DataLoaders: images come
NCHW, strings as lists. The samples are the synthetic vials, listed as the notebooks list theirs.
"""
import sys
import types

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from brevetti_core import jobstore
from brevetti_core.dataset import Dataset, get_image_samples
from brevetti_core.demo import generate_vials


@pytest.fixture(scope="module")
def dataset_root(tmp_path_factory):
    return generate_vials(tmp_path_factory.mktemp("seed_torch") / "NeurIPS vials TRAIN", items_per_class=3,
                          annotations=False)


@pytest.fixture(scope="module")
def samples(dataset_root):
    return get_image_samples([Dataset(id="cb14b6e3-b4b9-45bb-955f-47aa6489a192", name="NeurIPS vials TRAIN",
                                      bucket=str(dataset_root))])


def test_stratified_sampler_cell_gives_dataloaders_of_path_and_folder(samples):
    from brevetti_torch import StratifiedSampler, DataGenerator, OneHotEncoder  # noqa: F401
    from brevetti_torch import ImagePipeline, ImageAugmenter, SegmentationLoader  # noqa: F401

    ds = StratifiedSampler().get(samples, shuffle=True, batch_size=8, output_structure=("path", "folder"))

    # Return Data Geneator as torch DataLoaders to loop over samples or "img" and "category"
    sampled, mapped = ds.get_samples(), ds.get_dataset()

    assert isinstance(sampled, DataLoader) and isinstance(mapped, DataLoader)
    batch = next(iter(sampled))
    assert set(batch) == set(samples.columns)
    assert all(isinstance(value, list) and len(value) == 8 for value in batch.values())
    assert all(isinstance(category, tuple) for category in batch["category"])
    paths, folders = next(iter(mapped))
    assert paths == batch["path"] and folders == [p.split("/")[-2] for p in paths]


def test_numpy_iterator_cell_gives_generators(samples):
    from brevetti_torch import StratifiedSampler

    ds = StratifiedSampler().get(samples, shuffle=True, batch_size=8, output_structure=("path", "folder"))

    # Get iterator of numpy objects
    iterators = ds.get_samples_numpy(), ds.get_dataset_numpy()

    assert all(isinstance(iterator, types.GeneratorType) for iterator in iterators)
    assert next(iterators[1])[0].tolist() == next(iter(ds.get_dataset()))[0]


def test_mapped_generator_cells_give_the_documented_shapes(samples):
    from brevetti_torch import DataGenerator, OneHotEncoder
    from brevetti_torch import ImagePipeline

    ds = DataGenerator(samples, shuffle=True, batch_size=8, output_structure=("img", "onehot"))
    ds = ds.map(ImagePipeline(target_size=(64,64), antialias=True, rescale="imagenet")) \
        .map(OneHotEncoder(samples.folder.unique(), output_key="onehot"))

    # Use the structure change the default structure of the ouput
    loader = ds.get_dataset(structure=("path", "img", "onehot"))

    path, img, onehot = next(iter(loader))
    assert len(path) == 8 and isinstance(path[0], str)
    assert (img.shape, img.dtype, onehot.shape, onehot.dtype) == ((8, 3, 64, 64), torch.float32, (8, 4), torch.float32)

    from brevetti_torch import tile2d

    # Use structure=None to access all the dataset elements
    x = next(ds.get_dataset_numpy(structure=None))
    assert tile2d(x["img"], (2,4))[...,0].shape == (128, 256)

    # Use structure="img" to get just the image
    x = next(ds.get_dataset_numpy(structure="img"))
    assert tile2d(x, (2,4))[...,0].shape == (128, 256)
    assert np.array_equal(x, img.numpy().transpose(0, 2, 3, 1))


def test_build_image_data_generator_cells_give_image_onehot_pairs_and_identical_runs(samples):
    from brevetti_torch import build_image_data_generator, tile2d
    ds = build_image_data_generator(samples, batch_size=8, image=dict(target_size=(224, 224), antialias=True, rescale="imagenet"))
    x = next(ds.get_dataset_numpy())
    run_1 = tile2d(x[0], (2,4))[...,0]
    x = next(ds.get_dataset_numpy())
    run_2 = tile2d(x[0], (2,4))[...,0]

    assert run_1.tobytes() == run_2.tobytes()
    img, onehot = next(iter(ds.get_dataset()))
    assert img.shape == (8, 3, 224, 224) and onehot.shape == (8, 4)
    assert np.array_equal(img.numpy().transpose(0, 2, 3, 1), x[0])


JOB_API_DATA_CELLS = [
    """\
samples = job.datasets[0].get_image_samples()
""",
    """\
from brevetti_torch import SampleSplit
samples = SampleSplit().update_unassigned(samples, id_path=job.artifact_path("sample_identification.csv"))
""",
    """\
head = samples.head(5)
""",
    """\
# io_tools is accessible from the job object or directly via import 'from brevetti_torch import io_tools'
io_tools = job.io
buf = io_tools.read_file(samples.path[0])
start = buf[:10]
""",
    """\
# Set caching of remote objects globally for all operations on the IoTools object
io_tools.set_cache_root(job.temp_path("cache", dir=True))
""",
    """\
from brevetti_torch import StratifiedSampler, DataGenerator, OneHotEncoder
from brevetti_torch import ImagePipeline, ImageAugmenter, SegmentationLoader

ds = StratifiedSampler().get(samples.drop(columns=["reference"]), shuffle=True, batch_size=8, output_structure=("path", "folder"))
loaders = ds.get_samples(), ds.get_dataset()
numpy_iterators = ds.get_samples_numpy(), ds.get_dataset_numpy()
""",
    """\
ds = DataGenerator(samples, shuffle=True, batch_size=8, output_structure=("img", "onehot"))
ds = ds.map(ImagePipeline(target_size=(64,64), antialias=True, rescale="imagenet")) \\
    .map(OneHotEncoder(samples.folder.unique(), output_key="onehot"))

# Use the structure change the default structure of the ouput
structured = ds.get_dataset(structure=("path", "img", "onehot"))
""",
    """\
from brevetti_torch import build_image_data_generator
ds = build_image_data_generator(samples, batch_size=8, image=dict(target_size=(224, 224), antialias=True, rescale="imagenet"))
x = next(ds.get_dataset_numpy())
""",
]


def test_job_api_data_cells_run_on_a_local_job(dataset_root, samples, data_root, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["notebook"])
    definition = jobstore.create_job("NeurIPS vials TRAIN", [dataset_root])
    from brevetti_torch import Job
    job = Job.init(job_id=definition["id"], api_key="seed-api-key")  # the notebook's earlier cells
    job.start(complete=False)
    namespace = {"job": job}
    for number, cell in enumerate(JOB_API_DATA_CELLS):
        exec(compile(cell, f"<cell {number}>", "exec"), namespace)

    listed, samples = samples, namespace["samples"]
    assert samples["path"].tolist() == listed["path"].tolist() and set(samples["purpose"]) == {"train", "devel"}
    assert (data_root / definition["id"] / "artifacts" / "sample_identification.csv").exists()
    assert list(namespace["head"].columns) == list(samples.columns) and namespace["start"][:2] == b"BM"
    sampled, mapped = namespace["loaders"]
    assert set(next(iter(sampled))) == set(samples.columns) - {"reference"}
    assert [len(column) for column in next(iter(mapped))] == [8, 8]
    path, img, onehot = next(iter(namespace["structured"]))
    assert (len(path), img.shape, onehot.shape) == (8, (8, 3, 64, 64), (8, 4))
    assert namespace["x"][0].shape == (8, 224, 224, 3) and namespace["x"][1].shape == (8, 4)
