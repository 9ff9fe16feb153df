"""SampleSplit uniqueness regexes: every path must match, keys never depend on where the dataset lies."""
import re
import shutil

import pandas as pd
import pytest
from PIL import Image

from brevetti_core.dataset import Dataset
from brevetti_core.split import SampleSplit

ITEM = r"/(\d+)_\d+\.png$"


@pytest.fixture
def two_copies(tmp_path):
    """The same 60 images (30 items of 2 shots in 2 folders, 1 duplicate) in two folders at different depths."""
    original = tmp_path / "a" / "vials"
    for i in range(60):
        folder = original / ("good" if i % 3 else "bad")
        folder.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (4, 4), (i, 255 - i, i % 7)).save(folder / f"{i // 2}_{i % 2}.png")
    shutil.copyfile(original / "good" / "1_0.png", original / "good" / "1_9.png")
    copy = tmp_path / "b" / "deeper" / "vials-copy"
    shutil.copytree(original, copy)
    return [Dataset(bucket=str(root)).get_image_samples() for root in (original, copy)]


def by_place_in_dataset(samples: pd.DataFrame) -> pd.Series:
    return samples.set_index(samples["path"].str.slice(len(samples["bucket"].iloc[0])))["purpose"].sort_index()


@pytest.mark.parametrize("split", [
    SampleSplit(seed=3),
    SampleSplit(uniqueness=ITEM, seed=3),
    SampleSplit(uniqueness=r"(.*)_\d+\.png$", stratification=r"^/(\w+)/", seed=3),
    SampleSplit(uniqueness=ITEM, seed=3, mode="hash"),
], ids=["etag", "item regex", "regex capturing folders", "hash mode"])
def test_a_dataset_copied_to_another_folder_gets_the_same_split(two_copies, split):
    original, copy = (split.assign(samples, remainder="devel") for samples in two_copies)
    assert set(original["purpose"]) == {"train", "devel"}
    pd.testing.assert_series_equal(by_place_in_dataset(original), by_place_in_dataset(copy))


def test_a_dataset_copied_to_another_folder_reuses_its_id_file_unchanged(two_copies, tmp_path):
    split = SampleSplit(uniqueness=r"(.*)_\d+\.png$", seed=3)
    original = split.update_unassigned(two_copies[0], tmp_path / "ids.csv")
    written = (tmp_path / "ids.csv").read_text()
    copy = SampleSplit(uniqueness=r"(.*)_\d+\.png$", seed=4).update_unassigned(two_copies[1], tmp_path / "ids.csv")
    pd.testing.assert_series_equal(by_place_in_dataset(original), by_place_in_dataset(copy))
    assert (tmp_path / "ids.csv").read_text() == written
    items = pd.read_csv(tmp_path / "ids.csv", dtype=str)["unique_id"]
    assert "/good/1" in set(items) and not items.str.contains(str(tmp_path), regex=False).any()


def test_regex_keys_are_taken_from_the_path_within_the_dataset(two_copies):
    keys = SampleSplit(uniqueness=r"(.*)_\d+\.png$").unique_keys(two_copies[0])
    assert keys["unique_id"].iloc[0] == "/bad/0"


def test_a_uniqueness_regex_matching_no_path_is_an_error(two_copies):
    with pytest.raises(ValueError, match=re.escape(r"uniqueness regex '/(\\d+)\\.bmp' matches none of the 61 sample "
                                                   "paths, e.g. '/bad/0_0.png'")):
        SampleSplit(uniqueness=r"/(\d+)\.bmp").assign(two_copies[0])


def test_a_uniqueness_regex_matching_some_paths_is_an_error_naming_how_many_and_three(two_copies):
    with pytest.raises(ValueError, match=r"does not match 41 of 61 sample paths, e\.g\. '/good/[^']+', '/good/[^']+', "
                                         r"'/good/[^']+'; .*unmatched_uniqueness='etag'"):
        SampleSplit(uniqueness=r"/bad/(\d+)_").assign(two_copies[0])


def test_unmatched_uniqueness_etag_keys_unmatched_samples_by_their_content(two_copies):
    samples = two_copies[0]
    keys = SampleSplit(uniqueness=r"/bad/(\d+)_", unmatched_uniqueness="etag").unique_keys(samples)
    bad = samples["folder"] == "bad"
    assert keys["unique_id"][bad].str.fullmatch(r"\d+").all()
    assert (keys["unique_id"][~bad] == "etag:" + samples["etag"][~bad]).all()
    assigned = SampleSplit(uniqueness=r"/bad/(\d+)_", unmatched_uniqueness="etag", split=0.5, seed=1).assign(
        samples, remainder="devel")
    duplicate = samples["path"].str.endswith(("/good/1_0.png", "/good/1_9.png"))
    assert assigned.loc[duplicate, "purpose"].nunique() == 1


def test_a_regex_capturing_an_absolute_path_is_an_error_without_a_bucket_column():
    samples = pd.DataFrame({"etag": ["a", "b"], "path": ["/data/good/1_0.png", "/data/good/1_1.png"]})
    with pytest.raises(ValueError, match=r"captures an absolute path for 2 samples, e\.g\. '/data/good/1' from "
                                         r"'/data/good/1_0\.png'.*'bucket' column"):
        SampleSplit(uniqueness=r"(.*)_\d+\.png$").assign(samples)


def test_unknown_unmatched_uniqueness_is_an_error():
    with pytest.raises(ValueError, match="unmatched_uniqueness"):
        SampleSplit(uniqueness=ITEM, unmatched_uniqueness="path")
