"""The synthetic vials dataset, and the seed notebook's "Accessing datasets" on it, locally and on S3."""
import hashlib
import json
import logging
import re
from collections import Counter

import numpy as np
import pytest
from PIL import Image
from test_samples_s3 import upload_tree

from brevetti_core.dataset import Dataset, get_image_samples
from brevetti_core.io_tools import IoTools
from brevetti_core.split import SampleSplit
from brevetti_demo import generate_vials

ITEM_REGEX = r"/(\d*)_\d*.bmp"


@pytest.fixture(scope="module")
def vials(tmp_path_factory):
    return generate_vials(tmp_path_factory.mktemp("vials") / "NeurIPS vials TRAIN", items_per_class=6)


def image_files(root):
    return sorted(p for p in root.rglob("*.bmp") if ".annotations" not in p.parts)


def test_layout_has_the_three_classes_and_one_unknown(vials):
    counts = Counter(p.parent.name for p in image_files(vials))
    assert set(counts) == {"good", "missing_cap", "failed_cap", "unknown"}
    assert counts["unknown"] == 1
    assert counts["good"] + counts["missing_cap"] + counts["failed_cap"] == 3 * 6 * 3 + 3


def test_files_are_24_bit_bmps_named_item_underscore_timestamp(vials):
    for path in image_files(vials):
        assert re.fullmatch(r"\d+_\d{13}\.bmp", path.name)
        with Image.open(path) as image:
            assert (image.format, image.mode, image.size) == ("BMP", "RGB", (224, 224))


def test_each_item_has_several_shots_in_one_class_folder(vials):
    shots = Counter((p.parent.name, p.name.split("_")[0]) for p in image_files(vials) if p.parent.name != "unknown")
    assert len({item for _, item in shots}) == len(shots) == 18
    assert set(shots.values()) <= {3, 4}  # 3 shots, plus one byte-identical copy for a few items


def test_shots_of_one_item_differ_in_pixels(vials):
    shots = sorted((vials / "good").glob("0_*.bmp"))
    a, b = (np.asarray(Image.open(p), dtype=np.int16) for p in shots[:2])
    assert np.abs(a - b).mean() > 2


def test_there_are_byte_identical_duplicates_under_other_names(vials):
    digests = Counter(hashlib.md5(p.read_bytes()).hexdigest() for p in image_files(vials))
    assert sorted(digests.values(), reverse=True)[:4] == [2, 2, 2, 1]


def test_generation_is_deterministic(tmp_path):
    a = generate_vials(tmp_path / "a", items_per_class=2, shots_per_item=2)
    b = generate_vials(tmp_path / "b", items_per_class=2, shots_per_item=2)
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files_a == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files_a)


def test_another_seed_gives_other_images(tmp_path):
    a = generate_vials(tmp_path / "a", items_per_class=1, shots_per_item=1, duplicates=0)
    b = generate_vials(tmp_path / "b", items_per_class=1, shots_per_item=1, duplicates=0, seed=1)
    assert (image_files(a)[0]).read_bytes() != (image_files(b)[0]).read_bytes()


def test_annotations_are_platform_polygons_for_existing_images(vials):
    files = sorted((vials / ".annotations").rglob("*.json"))
    assert len(files) == 6
    for path in files:
        image = vials / path.parent.relative_to(vials / ".annotations")
        assert image.is_file()
        document = json.loads(path.read_text())
        assert document["image"] == {"height": 224, "width": 224}
        labels = {a["label"] for a in document["annotations"]}
        assert labels == ({"vial"} if image.parent.name == "missing_cap" else {"vial", "cap"})
        for annotation in document["annotations"]:
            assert annotation["type"] == "polygon" and annotation["color"].startswith("#")
            assert all(0 <= p["x"] < 224 and 0 <= p["y"] < 224 for p in annotation["points"])


def cap_tilt(document):
    """Angle of the cap's top edge from horizontal, in degrees."""
    cap = next(a for a in document["annotations"] if a["label"] == "cap")["points"]
    return abs(np.degrees(np.arctan2(cap[1]["y"] - cap[0]["y"], cap[1]["x"] - cap[0]["x"])))


def test_good_caps_sit_straight_and_failed_caps_are_tilted(vials):
    tilts = {folder: [cap_tilt(json.loads(p.read_text())) for p in (vials / ".annotations" / folder).rglob("*.json")]
             for folder in ("good", "failed_cap")}
    assert max(tilts["good"]) < 1 and min(tilts["failed_cap"]) > 25


def test_missing_caps_show_no_cap_colour_above_the_neck(vials):
    def saturated_pixels(path):
        rgb = np.asarray(Image.open(path), dtype=np.int16)[:100]
        return int(((rgb.max(axis=-1) - rgb.min(axis=-1)) > 80).sum())

    assert max(saturated_pixels(p) for p in (vials / "missing_cap").glob("*.bmp")) < 50
    assert min(saturated_pixels(p) for p in (vials / "good").glob("*.bmp")) > 500


def assert_no_item_in_train_and_devel(samples):
    items = samples["path"].str.extract(ITEM_REGEX, expand=False)
    purposes = samples.groupby(items)["purpose"].agg(set)
    assert not any({"train", "devel"} <= p for p in purposes)
    assert set(samples["purpose"]) == {"train", "devel"}


def test_reference_split_example_keeps_items_out_of_both_train_and_devel(vials):
    samples = get_image_samples([Dataset(name="NeurIPS vials TRAIN", bucket=vials)])
    samples = SampleSplit(stratification=["folder"], uniqueness=ITEM_REGEX, split=0.8, seed=42).assign(
        samples, remainder="devel")
    assert_no_item_in_train_and_devel(samples)


def test_reference_split_example_on_s3(vials, s3_bucket, s3_client):
    upload_tree(s3_client, vials, s3_bucket)
    samples = get_image_samples([Dataset(name="NeurIPS vials TRAIN", bucket=s3_bucket)], io=IoTools())
    assert len(samples) == len(image_files(vials))
    samples = SampleSplit(stratification=["folder"], uniqueness=ITEM_REGEX, split=0.8, seed=42).assign(
        samples, remainder="devel")
    assert_no_item_in_train_and_devel(samples)


def test_seed_notebook_accessing_datasets(vials, tmp_path, caplog):
    datasets = [Dataset(id="cb14b6e3-b4b9-45bb-955f-47aa6489a192", name="NeurIPS vials TRAIN", bucket=vials)]
    artifact = tmp_path / "artifacts" / "sample_identification.csv"
    with caplog.at_level(logging.INFO, logger="brevetti_core"):
        samples = get_image_samples(datasets)
        samples = SampleSplit().update_unassigned(samples, id_path=artifact)
        samples = get_image_samples(datasets)
        samples = SampleSplit().update_unassigned(samples, id_path=artifact)
    assert "Getting image samples from dataset 'NeurIPS vials TRAIN'" in caplog.text
    assert re.search(r"Contents: \{\('\w+',\): \d+, .*\('unknown',\): 1\}", caplog.text)
    assert "Using train / development split from run cached in artifacts" in caplog.text
    head = samples.head(5)
    assert list(head.columns) == ["category", "folder", "path", "etag", "bucket", "dataset", "dataset_id",
                                  "reference", "url", "purpose"]
    assert head["category"].iloc[0] == ("failed_cap",) and head["reference"].iloc[0] == "N/A"
    assert set(samples["purpose"]) == {"train", "devel"}
    assert IoTools().read_file(samples.path[0])[:2] == b"BM"
