"""SampleSplit.assign: fractions, seeding, strata, uniqueness groups, existing purposes, hash mode."""
import numpy as np
import pandas as pd
import pytest

from brevetti_core.rng import seeds_used
from brevetti_core.split import SampleSplit

N = 10_000


def table(n=N, seed=0):
    """n samples with unique etags, 10 folders of unequal size and items of 1-4 shots in the path."""
    rng = np.random.default_rng(seed)
    folder = rng.choice([f"f{i}" for i in range(10)], size=n, p=np.arange(1, 11) / 55)
    item = np.sort(rng.integers(0, n // 2.5, size=n))
    return pd.DataFrame({
        "etag": [f"{i:032x}" for i in range(n)],
        "folder": folder,
        "path": [f"/data/{f}/{it}_{i}.bmp" for f, it, i in zip(folder, item, range(n))],
    })


def train_fraction(samples, column="purpose"):
    return (samples[column] == "train").mean()


def item_of(samples):
    return samples["path"].str.extract(r"/(\d+)_\d+\.bmp$", expand=False)


def test_sorted_permutation_hits_the_split_fraction():
    assert abs(train_fraction(SampleSplit(split=0.8, seed=1).assign(table())) - 0.8) <= 0.001


def test_hash_mode_hits_the_split_fraction_approximately():
    assert abs(train_fraction(SampleSplit(split=0.8, seed=1, mode="hash").assign(table())) - 0.8) <= 0.04


def test_murmurhash3_is_an_alias_of_hash_mode():
    assert SampleSplit(mode="murmurhash3").mode == "hash"


def test_unassigned_samples_stay_empty_without_remainder():
    samples = SampleSplit(split=0.8, seed=1).assign(table())
    assert samples["purpose"].isna().sum() == 2000


def test_remainder_fills_every_other_sample():
    samples = SampleSplit(split=0.8, seed=1).assign(table(), remainder="devel")
    assert samples["purpose"].value_counts().to_dict() == {"train": 8000, "devel": 2000}


@pytest.mark.parametrize("mode", ["sorted_permutation", "hash"])
def test_same_seed_gives_the_same_split(mode):
    a = SampleSplit(split=0.5, seed=7, mode=mode).assign(table())
    b = SampleSplit(split=0.5, seed=7, mode=mode).assign(table())
    pd.testing.assert_series_equal(a["purpose"], b["purpose"])


@pytest.mark.parametrize("mode", ["sorted_permutation", "hash"])
def test_another_seed_gives_another_split(mode):
    a = SampleSplit(split=0.5, seed=7, mode=mode).assign(table())
    b = SampleSplit(split=0.5, seed=8, mode=mode).assign(table())
    assert not a["purpose"].equals(b["purpose"])


def test_unseeded_splits_differ_and_their_seed_is_recorded():
    first, second = SampleSplit(split=0.5), SampleSplit(split=0.5, seed=None)
    a, b = first.assign(table()), second.assign(table())
    assert not a["purpose"].equals(b["purpose"])
    recorded = [entry["seed"] for entry in seeds_used() if entry["owner"] == "SampleSplit" and entry["drawn"]]
    assert first.seed_used in recorded and second.seed_used in recorded
    replay = SampleSplit(split=0.5, seed=first.seed_used).assign(table())
    pd.testing.assert_series_equal(replay["purpose"], a["purpose"])


def test_empty_in_empty_out():
    empty = table().iloc[:0]
    samples = SampleSplit(seed=1).assign(empty, remainder="devel")
    assert samples.empty and "purpose" in samples.columns


def test_row_order_and_index_are_kept():
    samples = table().sample(frac=1.0, random_state=3)
    assigned = SampleSplit(seed=1).assign(samples)
    assert assigned.index.equals(samples.index)
    assert assigned["path"].equals(samples["path"])


def test_assignment_does_not_depend_on_row_order():
    samples = table()
    shuffled = samples.sample(frac=1.0, random_state=3)
    a = SampleSplit(seed=1).assign(samples)
    b = SampleSplit(seed=1).assign(shuffled).loc[samples.index]
    pd.testing.assert_series_equal(a["purpose"], b["purpose"])


@pytest.mark.parametrize("stratification", [["folder"], r"/(f\d)/"])
def test_each_stratum_gets_the_split_fraction(stratification):
    samples = SampleSplit(stratification=stratification, split=0.8, seed=2).assign(table())
    per_folder = samples.groupby("folder")["purpose"].apply(lambda p: (p == "train").mean())
    assert (per_folder - 0.8).abs().max() <= 0.02


def test_small_strata_are_not_rounded_down_on_average():
    samples = pd.DataFrame({"etag": [f"{i}" for i in range(3000)], "group": [str(i // 3) for i in range(3000)],
                            "path": [f"/{i}.bmp" for i in range(3000)]})
    assigned = SampleSplit(stratification=["group"], split=0.5, seed=4).assign(samples)
    assert abs(train_fraction(assigned) - 0.5) <= 0.03


@pytest.mark.parametrize("uniqueness", [r"/(\d+)_\d+\.bmp$", ["item"]])
@pytest.mark.parametrize("mode", ["sorted_permutation", "hash"])
def test_every_uniqueness_group_is_wholly_in_or_out(uniqueness, mode):
    samples = table().assign(item=item_of)
    assigned = SampleSplit(uniqueness=uniqueness, split=0.8, seed=5, mode=mode).assign(samples, remainder="devel")
    assert assigned.groupby("item")["purpose"].nunique().max() == 1
    assert abs(train_fraction(assigned) - 0.8) <= 0.04


def test_duplicate_files_share_a_purpose_by_default():
    samples = table(2000).assign(etag=[f"content-{i % 700}" for i in range(2000)])
    assigned = SampleSplit(split=0.5, seed=1).assign(samples, remainder="devel")
    assert assigned.groupby("etag")["purpose"].nunique().max() == 1


def test_a_unit_spanning_strata_still_gets_one_purpose():
    samples = pd.DataFrame({"etag": ["a", "a", "b", "c", "d"], "folder": ["x", "y", "x", "y", "y"],
                            "path": [f"/{i}.bmp" for i in range(5)]})
    for seed in range(20):
        assigned = SampleSplit(stratification=["folder"], split=0.5, seed=seed).assign(samples, remainder="devel")
        assert assigned["purpose"].iloc[0] == assigned["purpose"].iloc[1]


def test_existing_purposes_are_kept_and_count_towards_the_split():
    samples = table().assign(purpose=pd.Series(np.nan, dtype="str"))
    samples.loc[:999, "purpose"] = "test"
    samples.loc[1000:4999, "purpose"] = "train"
    assigned = SampleSplit(split=0.8, seed=1).assign(samples, remainder="devel")
    assert (assigned.loc[:999, "purpose"] == "test").all()
    assert (assigned.loc[1000:4999, "purpose"] == "train").all()
    assert (assigned["purpose"] == "train").sum() == 8000


def test_conflicting_duplicates_resolve_train_over_devel_over_test():
    samples = pd.DataFrame({"etag": ["a", "a", "a", "b", "b", "c", "c"],
                            "purpose": ["test", "train", "devel", "test", "devel", "test", np.nan],
                            "path": [f"/{i}.bmp" for i in range(7)]})
    assigned = SampleSplit(split=0.0, seed=1).assign(samples)
    assert assigned["purpose"].tolist() == ["train"] * 3 + ["devel"] * 2 + ["test"] * 2


def test_split_zero_assigns_nothing_and_one_assigns_everything():
    assert SampleSplit(split=0.0, seed=1).assign(table(100))["purpose"].isna().all()
    assert (SampleSplit(split=1.0, seed=1).assign(table(100))["purpose"] == "train").all()


def test_another_purpose_and_column_can_be_assigned():
    assigned = SampleSplit(split=0.1, seed=1).assign(table(), purpose="test", column="role")
    assert (assigned["role"] == "test").sum() == 1000 and "purpose" not in assigned.columns


def test_a_test_split_then_a_train_split_partition_the_rest():
    samples = SampleSplit(split=0.1, seed=1).assign(table(), purpose="test")
    samples = SampleSplit(split=0.8, seed=1).assign(samples, remainder="devel")
    assert samples["purpose"].value_counts().to_dict() == {"train": 8000, "devel": 1000, "test": 1000}


def test_hash_mode_keeps_every_assignment_when_ten_percent_more_items_arrive():
    grown = table(11_000)
    original = grown.iloc[:10_000]
    split = SampleSplit(uniqueness=r"/(\d+)_\d+\.bmp$", split=0.8, seed=9, mode="hash")
    before = split.assign(original, remainder="devel")
    after = split.assign(grown, remainder="devel")
    pd.testing.assert_series_equal(after["purpose"].iloc[:10_000], before["purpose"])


def test_hash_mode_assignment_of_an_item_ignores_the_other_items():
    samples = table(1000)
    split = SampleSplit(split=0.5, seed=9, mode="hash")
    alone = pd.concat([split.assign(samples.iloc[[i]]) for i in range(0, 1000, 97)])
    together = split.assign(samples).loc[alone.index]
    pd.testing.assert_series_equal(alone["purpose"], together["purpose"])


def test_missing_stratification_column_is_an_error_listing_the_columns():
    with pytest.raises(ValueError, match=r"stratification column 'colour' .*\['etag', 'folder', 'path'\]"):
        SampleSplit(stratification=["colour"], seed=1).assign(table(10))


def test_missing_uniqueness_column_is_an_error_listing_the_columns():
    with pytest.raises(ValueError, match=r"uniqueness column 'item' .*\['etag', 'folder', 'path'\]"):
        SampleSplit(uniqueness=["item"], seed=1).assign(table(10))


@pytest.mark.parametrize("split", [-0.1, 1.5])
def test_split_outside_zero_one_is_an_error(split):
    with pytest.raises(ValueError, match="split"):
        SampleSplit(split=split)


def test_regex_without_a_group_is_an_error():
    with pytest.raises(ValueError, match="capture group"):
        SampleSplit(uniqueness=r"\d+_\d+")


def test_json_list_strings_are_column_lists():
    assert SampleSplit(stratification='["folder", "dataset"]').stratification == ["folder", "dataset"]


def test_the_reference_mode_constants_are_class_attributes():
    assert (SampleSplit.MODE_MURMURHASH3, SampleSplit.MODE_SORTED_PERMUTATION) == ("murmurhash3", "sorted_permutation")
    assert SampleSplit(mode=SampleSplit.MODE_MURMURHASH3).mode == SampleSplit.MODE_HASH == "hash"
    assert SampleSplit(mode=SampleSplit.MODE_SORTED_PERMUTATION).mode == "sorted_permutation"
