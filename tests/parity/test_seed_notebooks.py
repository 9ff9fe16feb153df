"""The seed notebooks' data parts run on every registered framework adapter with only their imports changed.

Cells are copied from shared/seeds/seed-notebook-datasets.md ("Loading image data" on) and the data part
of seed-notebook-job-api.md ("Accessing datasets" to the end of "Loading image data"). A cell runs as in
Jupyter (its last expression is its output) with its `brevettiai.*` imports pointing at the adapter's
package; matplotlib is not a dependency, so its import is dropped and `plt` is a stand-in that keeps the
images shown (`tile2d` runs for real). The samples are the synthetic vials, listed as the notebooks list theirs.

Every dataset a cell returns is checked twice against the documented layout of its batches (`Spec`s in the
core's terms: NHWC images, strings): as the framework's users see it (`PROMISES`: torch gives a DataLoader
of NCHW tensors with strings as lists, tf a tf.data.Dataset with that element_spec) and, after the
adapter's `to_numpy`, as the core's numpy batch, whose values the tests then compare.
"""
# The cells are copied verbatim, long lines included.
# ruff: noqa: E501
from __future__ import annotations

import ast
import re
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from brevetti_core import jobstore
from brevetti_core.adapters import Adapter, get_adapter, registered_adapters
from brevetti_core.dataset import Dataset, get_image_samples
from brevetti_demo import generate_vials

BATCH = 8  # the notebooks' batch_size

SAMPLER = """\
from brevettiai.data.data_generator import StratifiedSampler, DataGenerator, OneHotEncoder
from brevettiai.data.image import ImagePipeline, ImageAugmenter, SegmentationLoader

ds = StratifiedSampler().get(samples, shuffle=True, batch_size=8, output_structure=("path", "folder"))
"""

# The job API notebook repeats these cells after its own sampler cell.
LOADING_IMAGE_DATA = {
    "loaders": """\
# Return Data Geneator as tensorflow dataset objects to loop over samples or "img" and "category"
ds.get_samples(), ds.get_dataset()
""",
    "numpy iterators": """\
# Get iterator of numpy objects
ds.get_samples_numpy(), ds.get_dataset_numpy()
""",
    "mapped": """\
ds = DataGenerator(samples, shuffle=True, batch_size=8, output_structure=("img", "onehot"))
ds = ds.map(ImagePipeline(target_size=(64,64), antialias=True, rescale="imagenet")) \\
    .map(OneHotEncoder(samples.folder.unique(), output_key="onehot"))

# Use the structure change the default structure of the ouput
ds.get_dataset(structure=("path", "img", "onehot"))
""",
    "tile all": """\
from brevettiai.data.image.utils import tile2d
import matplotlib.pyplot as plt

# Use structure=None to access all the dataset elements
x = next(ds.get_dataset_numpy(structure=None))
plt.imshow(tile2d(x["img"], (2,4))[...,0])
plt.colorbar()
""",
    "tile image": """\
# Use structure="img" to get just the image
x = next(ds.get_dataset_numpy(structure="img"))
plt.imshow(tile2d(x, (2,4))[...,0])
""",
    "build": """\
from brevettiai.data.data_generator import build_image_data_generator
ds = build_image_data_generator(samples, batch_size=8, image=dict(target_size=(224, 224), antialias=True, rescale="imagenet"))
""",
    "two runs": """\
from brevettiai.data.data_generator import build_image_data_generator
ds = build_image_data_generator(samples, batch_size=8, image=dict(target_size=(224, 224), antialias=True, rescale="imagenet"))
x = next(ds.get_dataset_numpy())
plt.figure()
plt.title("Run 1")
plt.imshow(tile2d(x[0], (2,4))[...,0])
plt.figure()
plt.title("Run 2 of the same dataset results in the same sampling and augmentation performed on the dataset")
x = next(ds.get_dataset_numpy())
plt.imshow(tile2d(x[0], (2,4))[...,0])
""",
}

DATASETS_CELLS = {"sampler": SAMPLER, **LOADING_IMAGE_DATA}

JOB_API_DATA_CELLS = {
    "samples": """\
samples = job.datasets[0].get_image_samples()
""",
    "split": """\
from brevettiai.data.sample_integrity import SampleSplit
samples = SampleSplit().update_unassigned(samples, id_path=job.artifact_path("sample_identification.csv"))
""",
    "head": """\
samples.head(5)
""",
    "io": """\
# io_tools is accessible from the job object or directly via import 'from brevettiai.io import io_tools'
# Note that access rights are configured on the IoTools object, and as such different instances of the object
# does not neccesarily have access to the same files.
io_tools = job.io
buf = io_tools.read_file(samples.path[0])
buf[:10]
""",
    "cache": """\
# Set caching of remote objects globally for all operations on the IoTools object
io_tools.set_cache_root(job.temp_path("cache", dir=True))
# Or as a key in the read_file method
""",
    "sampler": """\
from brevettiai.data.data_generator import StratifiedSampler, DataGenerator, OneHotEncoder
from brevettiai.data.image import ImagePipeline, ImageAugmenter, SegmentationLoader

ds = StratifiedSampler().get(samples.drop(columns=["reference"]), shuffle=True, batch_size=8, output_structure=("path", "folder"))
""",
    **LOADING_IMAGE_DATA,
}


def in_flavour(cell: str, package: str) -> str:
    """The cell with its brevettiai imports pointing at `package` and its pyplot import left out."""
    cell = re.sub(r"^from brevettiai(\.\w+)* import", f"from {package} import", cell, flags=re.MULTILINE)
    return re.sub(r"^import matplotlib\.pyplot as plt\n", "", cell, flags=re.MULTILINE)


class Figures:
    """Stands in for matplotlib.pyplot: keeps the images the cells show; figure, title, colorbar do nothing."""

    def __init__(self) -> None:
        self.shown: list[np.ndarray] = []

    def imshow(self, image: Any) -> None:
        self.shown.append(np.asarray(image))

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


@dataclass
class Cell:
    """What running a cell left: its output and the notebook's variables after it."""

    output: Any
    names: dict


@dataclass
class Notebook:
    """Seed cells run in order in one namespace, their imports pointing at `package`."""

    package: str
    namespace: dict
    plt: Figures = field(default_factory=Figures)
    cells: dict[str, Cell] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.namespace["plt"] = self.plt

    def run(self, cells: dict[str, str]) -> Notebook:
        """Runs `cells` in order, keeping each one's output and variables under its name; returns self."""
        for name, source in cells.items():
            tree = ast.parse(in_flavour(source, self.package))
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, f"<cell {name}>", "exec"), self.namespace)
            output = None if last is None else eval(compile(ast.Expression(last.value), f"<cell {name}>", "eval"),
                                                    self.namespace)
            self.cells[name] = Cell(output, dict(self.namespace))
        return self


@dataclass(frozen=True)
class Spec:
    """One array of a documented batch in the core's terms: "str" or a numpy dtype name, NHWC shape, None: any."""

    dtype: str
    shape: tuple

    def fits(self, shape: tuple) -> bool:
        """Whether `shape` is this spec's, with BATCH samples."""
        return (len(shape) == len(self.shape) and shape[0] == BATCH
                and all(expected in (None, actual) for actual, expected in zip(shape[1:], self.shape[1:])))

    def channels_first(self) -> Spec:
        """The spec with an image's channels before its height and width (NCHW)."""
        return Spec(self.dtype, (self.shape[0], self.shape[3], *self.shape[1:3])) if len(self.shape) == 4 else self


STRINGS, LABELS = Spec("str", (None,)), Spec("str", (None, None))
PATH_AND_FOLDER = (STRINGS, STRINGS)
PATH_IMG_ONEHOT = (STRINGS, Spec("float32", (None, 64, 64, 3)), Spec("float32", (None, 4)))
IMG_ONEHOT = (Spec("float32", (None, 224, 224, 3)), Spec("float32", (None, 4)))


def sample_layout(columns) -> dict[str, Spec]:
    """get_samples()' batches: every column of the sample table as strings, the category tuples as labels."""
    return {column: LABELS if column == "category" else STRINGS for column in columns}


def paired(batch: Any, layout: Any) -> Iterator[tuple[Any, Spec]]:
    """(array, spec) for every array of `batch`, walking it alongside `layout` (same keys, same lengths)."""
    if isinstance(layout, Spec):
        yield batch, layout
        return
    assert type(batch) is type(layout) and len(batch) == len(layout), f"{type(batch)} is not laid out as {layout}"
    if isinstance(layout, dict):
        assert set(batch) == set(layout), f"keys {sorted(batch)} != {sorted(layout)}"
        for key in layout:
            yield from paired(batch[key], layout[key])
        return
    for value, spec in zip(batch, layout):
        yield from paired(value, spec)


def torch_promise(loader: Any, batch: Any, layout: Any) -> None:
    """A DataLoader; strings as lists (label tuples as lists of tuples), numbers as tensors, images NCHW."""
    import torch
    from torch.utils.data import DataLoader

    assert isinstance(loader, DataLoader), f"{type(loader)} is not a DataLoader"
    for value, spec in paired(batch, layout):
        if spec.dtype == "str":
            assert isinstance(value, list) and len(value) == BATCH, f"{type(value)} is not a list of {BATCH}"
            kind = tuple if spec == LABELS else str
            assert all(isinstance(item, kind) for item in value), f"{value} are not all {kind.__name__}s"
        else:
            assert isinstance(value, torch.Tensor) and value.dtype == getattr(torch, spec.dtype), value.dtype
            assert spec.channels_first().fits(tuple(value.shape)), f"shape {tuple(value.shape)} != {spec}, NCHW"


def tf_promise(dataset: Any, batch: Any, layout: Any) -> None:
    """A tf.data.Dataset whose element_spec is the layout (strings as tf.string) and whose batches are tensors."""
    import tensorflow as tf

    assert isinstance(dataset, tf.data.Dataset), f"{type(dataset)} is not a tf.data.Dataset"
    for tensor_spec, spec in paired(dataset.element_spec, layout):
        expected = (list(spec.shape), tf.string if spec.dtype == "str" else tf.as_dtype(spec.dtype))
        assert (tensor_spec.shape.as_list(), tensor_spec.dtype) == expected, f"element_spec {tensor_spec} != {spec}"
    assert all(isinstance(value, tf.Tensor) for value, _ in paired(batch, layout))


PROMISES: dict[str, Callable[[Any, Any, Any], None]] = {"torch": torch_promise, "tf": tf_promise}
"""Per framework, what its users are promised of a get_samples() / get_dataset() result and its batches."""


def first_batch(adapter: Adapter, dataset: Any, layout: Any) -> Any:
    """`dataset`'s first batch as the core's numpy batch, once it keeps the framework's promise and the layout."""
    assert adapter.name in PROMISES, f"adapter {adapter.name!r} has no documented batch form: add it to PROMISES"
    raw = next(iter(dataset))
    PROMISES[adapter.name](dataset, raw, layout)
    batch = adapter.to_numpy(raw)
    for value, spec in paired(batch, layout):
        assert (value.dtype.kind == "U") if spec.dtype == "str" else (value.dtype == np.dtype(spec.dtype)), value.dtype
        assert spec.fits(value.shape), f"shape {value.shape} != {spec}"
    return batch


@pytest.fixture(scope="module", params=[name for name in registered_adapters() if name != "numpy"])
def adapter(request) -> Adapter:
    """Each registered framework adapter."""
    return get_adapter(request.param)


@pytest.fixture(scope="module")
def dataset_root(tmp_path_factory):
    return generate_vials(tmp_path_factory.mktemp("seed") / "NeurIPS vials TRAIN", items_per_class=3,
                          annotations=False)


@pytest.fixture(scope="module")
def samples(dataset_root):
    return get_image_samples([Dataset(id="cb14b6e3-b4b9-45bb-955f-47aa6489a192", name="NeurIPS vials TRAIN",
                                      bucket=str(dataset_root))])


@pytest.fixture(scope="module")
def datasets_notebook(adapter, samples) -> Notebook:
    """The datasets notebook from "Loading image data" on, run once in the adapter's flavour."""
    return Notebook(adapter.package.__name__, {"samples": samples}).run(DATASETS_CELLS)


def test_loaders_cell_gives_the_frameworks_datasets_of_samples_and_of_path_and_folder(adapter, samples,
                                                                                     datasets_notebook):
    sampled, mapped = datasets_notebook.cells["loaders"].output
    batch = first_batch(adapter, sampled, sample_layout(samples.columns))
    paths, folders = first_batch(adapter, mapped, PATH_AND_FOLDER)
    assert paths.tolist() == batch["path"].tolist()
    assert folders.tolist() == [path.split("/")[-2] for path in paths]


def test_numpy_iterator_cell_gives_generators_of_the_datasets_batches(adapter, datasets_notebook):
    iterators = datasets_notebook.cells["numpy iterators"].output
    _, mapped = datasets_notebook.cells["loaders"].output
    assert all(isinstance(iterator, types.GeneratorType) for iterator in iterators)
    assert next(iterators[1])[0].tolist() == first_batch(adapter, mapped, PATH_AND_FOLDER)[0].tolist()


def test_mapped_generator_cells_give_the_documented_shapes(adapter, datasets_notebook):
    _, img, _ = first_batch(adapter, datasets_notebook.cells["mapped"].output, PATH_IMG_ONEHOT)
    every_key, image_only = datasets_notebook.plt.shown[:2]
    assert every_key.shape == image_only.shape == (128, 256)
    assert np.array_equal(datasets_notebook.cells["tile image"].names["x"], img)


def test_build_image_data_generator_cells_give_identical_runs_of_image_onehot_pairs(adapter, datasets_notebook):
    run_1, run_2 = datasets_notebook.plt.shown[2:]
    assert run_1.shape == (448, 896) and run_1.tobytes() == run_2.tobytes()
    names = datasets_notebook.cells["two runs"].names
    img, _ = first_batch(adapter, names["ds"].get_dataset(), IMG_ONEHOT)
    assert np.array_equal(img, names["x"][0])


def test_job_api_data_cells_run_on_a_local_job(adapter, dataset_root, samples, data_root, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["notebook"])
    definition = jobstore.create_job("NeurIPS vials TRAIN", [dataset_root])
    job = adapter.package.Job.init(job_id=definition["id"], api_key="seed-api-key")  # the notebook's earlier cells
    job.start(complete=False)
    notebook = Notebook(adapter.package.__name__, {"job": job}).run(JOB_API_DATA_CELLS)

    split = notebook.cells["split"].names["samples"]
    assert split["path"].tolist() == samples["path"].tolist() and set(split["purpose"]) == {"train", "devel"}
    assert (data_root / definition["id"] / "artifacts" / "sample_identification.csv").exists()
    assert list(notebook.cells["head"].output.columns) == list(split.columns)
    assert notebook.cells["io"].output[:2] == b"BM"
    sampled, mapped = notebook.cells["loaders"].output
    first_batch(adapter, sampled, sample_layout(set(split.columns) - {"reference"}))
    first_batch(adapter, mapped, PATH_AND_FOLDER)
    first_batch(adapter, notebook.cells["mapped"].output, PATH_IMG_ONEHOT)
    x = notebook.cells["two runs"].names["x"]
    assert x[0].shape == (8, 224, 224, 3) and x[1].shape == (8, 4)
