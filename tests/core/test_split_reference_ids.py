"""SampleSplit.update_unassigned on id files written elsewhere: brevettiai 0.10's sha1 path ids, other datasets."""
import hashlib
import logging
import shutil

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from brevetti_core.dataset import Dataset
from brevetti_core.split import SampleSplit


@pytest.fixture
def listed(tmp_path):
    """58 distinct images in 2 folders, listed as a sample table."""
    root = tmp_path / "data" / "vials"
    for i in range(58):
        folder = root / ("good" if i % 4 else "bad")
        folder.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (4, 4), (i, 3 * i % 256, 7)).save(folder / f"{i}_0.png")
    return Dataset(bucket=str(root)).get_image_samples()


def write_like_brevettiai(path, etags, purposes) -> None:
    """An id file as brevettiai's save_sample_identification writes it: indexed by etag, to_csv(header=True)."""
    pd.DataFrame({"etag": etags, "purpose": purposes}).set_index("etag").to_csv(path, header=True)


def reference_purposes(n: int) -> list[str]:
    return np.random.default_rng(0).choice(["train", "train", "train", "devel", "test"], size=n).tolist()


def sha1_of_paths(samples: pd.DataFrame) -> list[str]:
    """brevettiai 0.10's local ids with calculate_md5=False: hex sha1 of each listed path's UTF-8."""
    return [hashlib.sha1(path.encode("utf-8")).hexdigest() for path in samples["path"]]


def test_an_id_file_matching_no_sample_is_an_error_naming_file_and_cause_and_is_left_untouched(listed, tmp_path):
    other_dataset = [f"{i:032x}" for i in range(10**6, 10**6 + 58)]
    write_like_brevettiai(tmp_path / "ids.csv", other_dataset, reference_purposes(58))
    content = (tmp_path / "ids.csv").read_text()
    with pytest.raises(ValueError, match=r"split id file .*ids\.csv: none of its 58 keys \['etag'\] matches any of "
                                         r"the 58 samples .*written for another dataset.*delete the file"):
        SampleSplit(seed=1).update_unassigned(listed, tmp_path / "ids.csv")
    assert (tmp_path / "ids.csv").read_text() == content


def test_a_regex_id_file_matching_no_item_is_an_error_naming_the_uniqueness_setting(listed, tmp_path):
    (tmp_path / "ids.csv").write_text("unique_id,purpose\nvial-1,train\nvial-2,devel\n")
    with pytest.raises(ValueError, match=r"none of its 2 keys \['unique_id'\] .*\(file: \['vial-1'\], samples: "
                                         r"\['0'\]\); .*another uniqueness setting"):
        SampleSplit(uniqueness=r"/(\d+)_\d+\.png$", seed=1).update_unassigned(listed, tmp_path / "ids.csv")


def test_brevettiai_sha1_path_ids_give_their_samples_the_stored_purposes(listed, tmp_path):
    purposes = reference_purposes(len(listed))
    write_like_brevettiai(tmp_path / "ids.csv", sha1_of_paths(listed), purposes)
    assigned = SampleSplit(seed=1).update_unassigned(listed, tmp_path / "ids.csv")
    assert assigned["purpose"].tolist() == purposes


def test_brevettiai_sha1_path_ids_are_rewritten_as_content_etags_after_a_log_message(listed, tmp_path, caplog):
    purposes = reference_purposes(len(listed))
    write_like_brevettiai(tmp_path / "ids.csv", sha1_of_paths(listed), purposes)
    with caplog.at_level(logging.WARNING, logger="brevetti_core.split_ids"):
        SampleSplit(seed=1).update_unassigned(listed, tmp_path / "ids.csv")
    assert "none of its 58 keys is a content etag of the samples, but 58 are sha1 hashes of sample paths" in caplog.text
    assert "rewriting the file with content etags" in caplog.text
    written = pd.read_csv(tmp_path / "ids.csv", dtype=str).set_index("etag")["purpose"]
    assert len(written) == 58
    assert written.loc[listed["etag"]].tolist() == purposes


def test_brevettiai_sha1_path_ids_of_the_dataset_in_another_folder_are_an_error_saying_so(listed, tmp_path):
    write_like_brevettiai(tmp_path / "ids.csv", sha1_of_paths(listed), reference_purposes(len(listed)))
    moved = tmp_path / "moved"
    shutil.copytree(listed["bucket"].iloc[0], moved)
    with pytest.raises(ValueError, match=r"look like sha1 hashes of file paths.*listed from another folder"):
        SampleSplit(seed=1).update_unassigned(Dataset(bucket=str(moved)).get_image_samples(), tmp_path / "ids.csv")
