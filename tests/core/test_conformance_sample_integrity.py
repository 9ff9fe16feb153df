"""Conformance: brevettiai 0.10's documented sample-integrity behaviours (SampleSplit and the id file).

Each test states one behaviour of the reference (its tests/test_data.py SampleSplit and
merge_sample_identification cases, or the inventory's §4) in its docstring. The statistical cases
run on 10 000-row tables as the reference's do; duplicates and id files use image files on disk and
id files written the way brevettiai's save_sample_identification writes them.
"""
import shutil

import numpy as np
import pandas as pd
import pytest
from reference_files import write_numbered_dataset

from brevetti_core import Dataset, SampleSplit

N = 10_000


def table(n: int = N) -> pd.DataFrame:
    """Rows like the reference's test table: unique etags, paths '<i % 10>/<i>_<i % 7>.png', a category."""
    i = np.arange(n)
    return pd.DataFrame({"etag": [f"{k:032x}" for k in i], "path": [f"{k % 10}/{k}_{k % 7}.png" for k in i],
                         "category": [("a",), ("b",), ("c",)] * (n // 3) + [("a",)] * (n % 3)})


def train_fraction(df: pd.DataFrame) -> float:
    return float((df.purpose == "train").mean())


def write_like_brevettiai(path, etags, purposes) -> None:
    """An id file as brevettiai's save_sample_identification writes it: indexed by etag, to_csv(header=True)."""
    pd.DataFrame({"etag": etags, "purpose": purposes}).set_index("etag").to_csv(path, header=True)


@pytest.fixture
def listed(tmp_path) -> pd.DataFrame:
    """14 distinct images in four folders, listed from disk."""
    root = write_numbered_dataset(tmp_path / "numbered", {"A": 7, "B": 4, "C": 2, "D": 1})
    return Dataset(bucket=str(root), name="numbered").get_image_samples()


def test_sorted_permutation_splits_the_fraction_within_a_thousandth():
    """Reference test_data SampleSplit: the default mode gives `split` of 10 000 rows within ±0.001."""
    assert train_fraction(SampleSplit(split=0.8, seed=1).assign(table(), remainder="devel")) == \
        pytest.approx(0.8, abs=0.001)


def test_murmurhash3_splits_the_fraction_within_four_hundredths():
    """Reference test_data SampleSplit: mode MODE_MURMURHASH3 gives `split` of 10 000 rows within ±0.04."""
    split = SampleSplit(split=0.6, seed=2, mode=SampleSplit.MODE_MURMURHASH3)
    assert train_fraction(split.assign(table())) == pytest.approx(0.6, abs=0.04)


def test_same_seed_same_split_unseeded_another():
    """Reference test_data SampleSplit: the same seed gives the same assignment; an unseeded split differs."""
    seeded = SampleSplit(seed=7).assign(table()).purpose
    assert seeded.equals(SampleSplit(seed=7).assign(table()).purpose)
    assert not seeded.equals(SampleSplit(seed=-1).assign(table()).purpose)


def test_empty_in_empty_out():
    """Reference test_data SampleSplit: an empty table gives an empty table."""
    assert SampleSplit(seed=1).assign(table(0)).empty


@pytest.mark.parametrize("role", ["stratification", "uniqueness"])
def test_a_missing_column_is_an_error_naming_it(role):
    """Reference test_data SampleSplit: a stratification or uniqueness column the table lacks is refused
    (AssertionError there; here a ValueError naming the column and the columns there are)."""
    with pytest.raises(ValueError, match=f"SampleSplit {role} column 'nope' is not in the samples"):
        SampleSplit(seed=1, **{role: ["nope"]}).assign(table())


def test_regex_stratification_splits_each_stratum():
    """Reference test_data SampleSplit: stratification by the regex `(\\d)\\.png$` keeps every stratum within ±0.01."""
    out = SampleSplit(stratification=r"(\d)\.png$", split=0.7, seed=3).assign(table())
    stratum = out.path.str.extract(r"(\d)\.png$", expand=False)
    fractions = (out.purpose == "train").groupby(stratum).mean()
    assert len(fractions) == 7 and np.allclose(fractions, 0.7, atol=0.01)


def test_column_stratification_splits_each_stratum():
    """Reference test_data SampleSplit: stratification by a column keeps every stratum within ±0.01."""
    out = SampleSplit(stratification=["category"], split=0.3, seed=4).assign(table())
    fractions = (out.purpose == "train").groupby(out.category).mean()
    assert len(fractions) == 3 and np.allclose(fractions, 0.3, atol=0.01)


def test_regex_uniqueness_puts_each_group_wholly_in_or_out():
    """Reference test_data SampleSplit: uniqueness by the regex `^(\\d)` puts every group fully in or out."""
    out = SampleSplit(uniqueness=r"^(\d)", split=0.5, seed=5).assign(table())
    per_group = out.purpose.eq("train").groupby(out.path.str[0]).agg(["min", "max"])
    assert (per_group["min"] == per_group["max"]).all() and per_group["min"].any() and not per_group["min"].all()


def test_column_uniqueness_puts_each_group_wholly_in_or_out():
    """Reference test_data SampleSplit: uniqueness by columns puts every group fully in or out."""
    df = table().assign(item=lambda d: d.path.str.split("_").str[1])
    out = SampleSplit(uniqueness=["item"], split=0.5, seed=6).assign(df, remainder="devel")
    assert out.groupby("item").purpose.nunique().eq(1).all() and set(out.purpose) == {"train", "devel"}


def test_identical_files_share_one_purpose(tmp_path):
    """Reference §3.2/§4.2: the etag is the content MD5, so copies of one image form one unit with one purpose."""
    root = write_numbered_dataset(tmp_path / "copies", {"A": 20})
    for n in range(0, 20, 2):  # every even image also appears as a copy in folder B
        (root / "B").mkdir(exist_ok=True)
        shutil.copy(root / "A" / f"{n:03d}.png", root / "B" / f"copy_{n:03d}.png")
    samples = Dataset(bucket=str(root)).get_image_samples()
    out = SampleSplit(split=0.5, seed=8).assign(samples, remainder="devel")
    assert samples.etag.nunique() == 20 and len(samples) == 30
    assert out.groupby("etag").purpose.nunique().eq(1).all()


def test_default_update_unassigned_gives_train_and_devel_never_test(listed, tmp_path):
    """Reference §4.2 update_unassigned: about 80 % train, the rest devel; 'test' only comes from an id file."""
    out = SampleSplit(seed=9).update_unassigned(listed, id_path=tmp_path / "ids.csv")
    assert set(out.purpose) == {"train", "devel"} and (out.purpose == "train").sum() == round(0.8 * 14)


def test_an_id_file_transfers_its_purposes_and_keeps_the_sample_order(listed, tmp_path):
    """Reference merge_sample_identification: the samples' order is kept and every non-NA purpose in the
    file is transferred to the sample with that etag."""
    ids = tmp_path / "ids.csv"
    purposes = ["test", "devel", "train"] * 4 + ["test", "devel"]
    write_like_brevettiai(ids, listed.etag, purposes)
    out = SampleSplit(seed=10).update_unassigned(listed, id_path=ids)
    assert out.path.tolist() == listed.path.tolist() and out.purpose.tolist() == purposes


def test_an_empty_purpose_in_the_id_file_leaves_the_sample_to_the_split(listed, tmp_path):
    """Reference merge_sample_identification: an NA purpose leaves the sample as it was (unassigned), so
    update_unassigned assigns it; the others keep the file's purpose."""
    ids = tmp_path / "ids.csv"
    write_like_brevettiai(ids, listed.etag, ["test"] * 7 + [None] * 7)
    out = SampleSplit(seed=11).update_unassigned(listed, id_path=ids)
    assert out.purpose[:7].eq("test").all() and out.purpose[7:].isin(["train", "devel"]).all()


def test_ids_of_samples_no_longer_listed_are_kept_in_the_file(listed, tmp_path):
    """Reference save_sample_identification(known_ids=...): ids in the file whose samples are gone are written
    back, so a later run with those samples finds their purposes."""
    ids = tmp_path / "ids.csv"
    write_like_brevettiai(ids, [*listed.etag, "f" * 32], ["devel"] * 14 + ["test"])
    SampleSplit(seed=12).update_unassigned(listed, id_path=ids)
    written = pd.read_csv(ids)
    assert list(written.columns[:2]) == ["etag", "purpose"] and len(written) == 15
    assert written.set_index("etag").purpose["f" * 32] == "test"


def test_a_purpose_given_in_the_samples_wins_over_the_file(listed, tmp_path):
    """Reference §4.2 assign: samples that already hold a purpose keep it."""
    ids = tmp_path / "ids.csv"
    write_like_brevettiai(ids, listed.etag, ["devel"] * 14)
    given = listed.assign(purpose=["train"] + [None] * 13)
    out = SampleSplit(seed=13).update_unassigned(given, id_path=ids)
    assert out.purpose.tolist() == ["train"] + ["devel"] * 13


def test_samples_without_a_stratum_value_are_split_as_a_stratum_of_their_own():
    """Reference §4.2: rows whose stratification value is NaN are dropped by groupby and stay unassigned.
    Departure: they form one stratum and are split like the others."""
    df = table(12).assign(site=["a"] * 4 + [None] * 4 + ["b"] * 4)
    out = SampleSplit(stratification=["site"], split=0.5, seed=14).assign(df)
    assert (out.purpose[4:8] == "train").sum() == 2


def test_a_unit_whose_samples_disagree_takes_devel_over_test():
    """Reference §4.2 assign ranks a unit's purposes train, then test, then the rest (its id file: train, devel,
    test). Departure: train, devel, test everywhere."""
    df = pd.DataFrame({"etag": ["same", "same", "other"], "path": ["a.png", "b.png", "c.png"],
                       "purpose": ["test", "devel", None]})
    assert SampleSplit(seed=15).assign(df).purpose[:2].tolist() == ["devel", "devel"]
