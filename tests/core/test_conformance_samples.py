"""Conformance: brevettiai 0.10's documented sample-table behaviours (inventory §3.2 and §10.9-10), on folders
of image files written for each test. Each test states one behaviour of the reference in its docstring."""
import hashlib

import numpy as np
import pytest
from PIL import Image

from brevetti_core import Dataset

COLUMNS = ["category", "folder", "path", "etag", "bucket", "dataset", "dataset_id", "reference", "url"]


def image(path, value: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((2, 2, 3), value, np.uint8)).save(path)


@pytest.fixture
def tree(tmp_path):
    """root.png at the root; good/1.png; defects/scratch/2.png and defects/dent/3.png."""
    root = tmp_path / "ds"
    image(root / "root.png", 1)
    image(root / "good" / "1.png", 2)
    image(root / "defects" / "scratch" / "2.png", 3)
    image(root / "defects" / "dent" / "3.png", 4)
    return root


def categories(samples) -> dict[str, tuple]:
    return {path.rsplit("/", 1)[-1]: category for path, category in zip(samples.path, samples.category)}


def test_columns_come_in_the_reference_order(tree):
    """Reference §3.2: columns category, folder, path, etag, bucket, dataset, dataset_id, reference, url."""
    assert list(Dataset(bucket=str(tree)).get_image_samples().columns) == COLUMNS


def test_category_is_the_leaf_folder_as_a_one_tuple_and_root_files_are_root(tree):
    """Reference §3.2 sample_walk: category = (leaf folder,); files at the dataset root get ('__root__',)."""
    samples = Dataset(bucket=str(tree)).get_image_samples()
    assert categories(samples) == {"root.png": ("__root__",), "1.png": ("good",), "2.png": ("scratch",),
                                   "3.png": ("dent",)}
    assert dict(zip(samples.path.str.rsplit("/", n=1).str[-1], samples.folder)) == {
        "root.png": "__root__", "1.png": "good", "2.png": "scratch", "3.png": "dent"}


def test_class_mapping_is_looked_up_from_the_leaf_upward(tree):
    """Reference §3.2: the first folder found in class_mapping walking from the leaf up to '__root__' wins; a str
    becomes a 1-tuple, a list a tuple. '__root__' is the top of every walk, so it maps root files and every file
    whose folders are not mapped."""
    mapping = {"defects": "defect", "dent": ["defect", "dent"]}
    samples = Dataset(bucket=str(tree)).get_image_samples(class_mapping=mapping)
    assert categories(samples) == {"root.png": ("__root__",), "1.png": ("good",), "2.png": ("defect",),
                                   "3.png": ("defect", "dent")}
    samples = Dataset(bucket=str(tree)).get_image_samples(class_mapping={**mapping, "__root__": "unsorted"})
    assert categories(samples) == {"root.png": ("unsorted",), "1.png": ("unsorted",), "2.png": ("defect",),
                                   "3.png": ("defect", "dent")}


def test_classes_filter_labels_after_mapping_and_drop_emptied_samples(tree):
    """Reference §3.2: `classes` removes labels not listed (after mapping); samples left without one are skipped."""
    samples = Dataset(bucket=str(tree)).get_image_samples(class_mapping={"dent": ["defect", "dent"]},
                                                          classes=["defect", "good"])
    assert categories(samples) == {"1.png": ("good",), "3.png": ("defect",)}


def test_image_files_are_matched_on_the_lower_cased_name(tmp_path):
    """Reference §3.2: the image filter is matched on the lower-cased file name, so .PNG and .BMP are images and
    a .txt is not. (Departure: .tif and .tiff are both images here; the reference's regex took .tif only.)"""
    root = tmp_path / "ds"
    for name in ("a.PNG", "b.BMP", "c.jpeg", "d.JPG", "e.tif", "f.tiff"):
        image(root / "x" / name)
    (root / "x" / "notes.txt").write_text("not an image")
    names = sorted(p.rsplit("/", 1)[-1] for p in Dataset(bucket=str(root)).get_image_samples().path)
    assert names == ["a.PNG", "b.BMP", "c.jpeg", "d.JPG", "e.tif", "f.tiff"]


def test_hidden_files_and_folders_are_not_samples(tree):
    """Reference §3.2: the listing excludes hidden names (starting with '.') at any depth."""
    image(tree / ".cache" / "5.png")
    image(tree / "good" / ".6.png")
    assert len(Dataset(bucket=str(tree)).get_image_samples()) == 4


def test_etag_is_the_content_md5_so_copies_share_it(tree):
    """Reference §3.2 / §10.10: the etag of a local file is the MD5 of its content; identical files share it."""
    image(tree / "good" / "copy.png", 2)
    samples = Dataset(bucket=str(tree)).get_image_samples()
    by_name = dict(zip(samples.path.str.rsplit("/", n=1).str[-1], samples.etag))
    assert by_name["1.png"] == hashlib.md5((tree / "good" / "1.png").read_bytes()).hexdigest() == by_name["copy.png"]


def test_dataset_columns_name_the_dataset_and_reference_defaults_to_na(tree):
    """Reference §3.2 step 3: bucket, dataset (name), dataset_id, reference ('N/A' when empty) on every row."""
    samples = Dataset(id="ds-1", name="vials", bucket=str(tree)).get_image_samples()
    assert set(samples.dataset) == {"vials"} and set(samples.dataset_id) == {"ds-1"}
    assert set(samples.reference) == {"N/A"} and set(samples.bucket) == {str(tree)}
