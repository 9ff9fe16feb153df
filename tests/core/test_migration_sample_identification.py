"""brevettiai's sample_integrity calls by hand: merge_sample_identification (its tests/test_data.py cases),
load_sample_identification and save_sample_identification on id files written its way and ours."""
import hashlib

import numpy as np
import pandas as pd
import pytest
from reference_files import write_numbered_dataset

from brevetti_core import (
    Dataset,
    SampleSplit,
    load_sample_identification,
    merge_sample_identification,
    save_sample_identification,
)


@pytest.fixture
def listed(tmp_path) -> pd.DataFrame:
    root = write_numbered_dataset(tmp_path / "numbered", {"A": 4, "B": 2})
    return Dataset(bucket=str(root)).get_image_samples()


def write_like_brevettiai(path, etags, purposes) -> None:
    """An id file as brevettiai's save_sample_identification writes it: indexed by etag, to_csv(header=True)."""
    pd.DataFrame({"etag": etags, "purpose": purposes}).set_index("etag").to_csv(path, header=True)


def frame() -> pd.DataFrame:
    return pd.DataFrame({"etag": ["e3", "e1", "e2"], "purpose": [np.nan, "train", np.nan]})


def test_merge_keeps_the_samples_order():
    """Reference test_data merge_sample_identification: the etag order of the samples is kept."""
    ids = pd.DataFrame({"purpose": ["devel", "test", "train"]}, index=pd.Index(["e1", "e2", "e3"], name="etag"))
    merged, _ = merge_sample_identification(frame(), ids)
    assert merged.etag.tolist() == ["e3", "e1", "e2"]


def test_merge_transfers_the_ids_values_that_are_not_missing():
    """Reference test_data merge_sample_identification: non-NA values of the id table overwrite the samples'."""
    ids = pd.DataFrame({"etag": ["e1", "e2", "e3"], "purpose": ["devel", "test", "train"]})
    assert merge_sample_identification(frame(), ids)[0].purpose.tolist() == ["train", "devel", "test"]


def test_merge_leaves_the_samples_as_they_are_where_the_ids_are_missing():
    """Reference test_data merge_sample_identification: NA ids leave the samples unchanged."""
    ids = pd.DataFrame({"etag": ["e1", "e2", "e3"], "purpose": [np.nan] * 3})
    merged, _ = merge_sample_identification(frame(), ids)
    assert merged.purpose.isna().tolist() == [True, False, True] and merged.purpose[1] == "train"


def test_merge_returns_the_ids_of_no_sample_and_adds_new_columns():
    """Reference §4.1: extra_ids are the id rows whose key is not a sample's; new columns are added."""
    ids = pd.DataFrame({"etag": ["e1", "gone"], "purpose": ["devel", "test"], "note": ["x", "y"]})
    merged, extra = merge_sample_identification(frame(), ids)
    assert merged.note.tolist()[1] == "x" and extra.index.tolist() == ["gone"]


def test_merge_without_the_key_column_names_it():
    with pytest.raises(KeyError, match=r"the id table lack the key columns \['etag'\]"):
        merge_sample_identification(frame(), pd.DataFrame({"purpose": ["train"]}))


def test_load_reads_an_id_file_written_by_brevettiai(listed, tmp_path):
    """Reference load_sample_identification: the file's purposes are merged into the samples by etag."""
    write_like_brevettiai(tmp_path / "ids.csv", [*listed.etag, "f" * 32], ["train", "devel", "test"] * 2 + ["test"])
    loaded, extra = load_sample_identification(listed, tmp_path / "ids.csv")
    assert loaded.purpose.tolist() == ["train", "devel", "test"] * 2 and extra.index.tolist() == ["f" * 32]


def test_load_maps_brevettiai_sha1_path_ids(listed, tmp_path):
    """Reference 0.10 local listing with calculate_md5=False keys files by sha1(path): recognised and mapped."""
    sha1 = [hashlib.sha1(p.encode()).hexdigest() for p in listed.path]
    write_like_brevettiai(tmp_path / "ids.csv", sha1, ["devel"] * 6)
    assert load_sample_identification(listed, tmp_path / "ids.csv")[0].purpose.tolist() == ["devel"] * 6


def test_load_of_a_file_matching_no_sample_is_an_error_naming_it(listed, tmp_path):
    write_like_brevettiai(tmp_path / "ids.csv", ["0" * 32], ["train"])
    with pytest.raises(ValueError, match=r"split id file .*ids.csv: none of its 1 keys"):
        load_sample_identification(listed, tmp_path / "ids.csv")


def test_save_keeps_the_highest_priority_purpose_per_key_and_the_known_ids(tmp_path):
    """Reference save_sample_identification: duplicate keys keep train over devel over test; known_ids appended."""
    df = pd.DataFrame({"etag": ["a", "a", "b", "b"], "purpose": ["test", "devel", "devel", "train"]})
    known = pd.DataFrame({"purpose": ["test"]}, index=pd.Index(["old"], name="etag"))
    save_sample_identification(df, tmp_path / "ids.csv", known_ids=known)
    assert (tmp_path / "ids.csv").read_text() == "etag,purpose\na,devel\nb,train\nold,test\n"


def test_a_saved_file_is_reused_by_update_unassigned(listed, tmp_path):
    """save_sample_identification writes the file update_unassigned reads: the purposes carry over."""
    split = SampleSplit(seed=3).assign(listed, remainder="devel")
    save_sample_identification(split, tmp_path / "ids.csv")
    assert SampleSplit(seed=4).update_unassigned(listed, tmp_path / "ids.csv").purpose.tolist() == \
        split.purpose.tolist()
