"""Conformance: brevettiai 0.10's documented DataGenerator behaviours, on a dataset of real image files.

Each test states one behaviour of the reference (its tests/test_data.py, or the inventory's §5) in its
docstring. The samples are listed from PNG files on disk and decoded by ImagePipeline; each image's
pixels name the sample, so the tests check what was loaded, not only the table rows.
"""
import math

import numpy as np
import pandas as pd
import pytest
from reference_files import sample_numbers, write_numbered_dataset

from brevetti_core import DataGenerator, Dataset, ImagePipeline, OneHotEncoder, StratifiedSampler

COUNTS = {"A": 7, "B": 4, "C": 2, "D": 1}
WEIGHTED = {"big": 10, "mid": 3, "small": 1}  # the reference's weighting tests duplicate samples 10/3/1 per group


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> pd.DataFrame:
    root = write_numbered_dataset(tmp_path_factory.mktemp("conformance") / "numbered", COUNTS)
    return Dataset(bucket=str(root), name="numbered").get_image_samples()


@pytest.fixture(scope="module")
def weighted_samples(tmp_path_factory) -> pd.DataFrame:
    root = write_numbered_dataset(tmp_path_factory.mktemp("conformance") / "weighted", WEIGHTED)
    return Dataset(bucket=str(root), name="weighted").get_image_samples()


def loaded(generator: DataGenerator, batch: bool = True) -> list[int]:
    """The sample numbers decoded from every image the generator yields."""
    images = [np.asarray(x) for x in generator.map(ImagePipeline()).get_dataset_numpy(batch=batch, structure="img")]
    return sample_numbers(np.concatenate(images) if batch else np.stack(images))


def listed(generator: DataGenerator, column: str = "path") -> list:
    return [v for batch in generator.get_samples_numpy(structure=column) for v in np.asarray(batch).tolist()]


def test_listing_numbers_the_samples_as_written(samples):
    """Fixture check: sample i of the table is the image numbered i (categories in folder order)."""
    assert loaded(DataGenerator(samples, batch_size=5)) == list(range(14))
    assert samples.category.tolist() == [(c,) for c, n in COUNTS.items() for _ in range(n)]


def test_unshuffled_unbatched_order_is_the_input_order_every_time(samples):
    """Reference test_data (a): unshuffled and unbatched, the samples come in input order, the same twice."""
    generator = DataGenerator(samples, seed=0)
    assert loaded(generator, batch=False) == list(range(14))
    assert loaded(generator, batch=False) == list(range(14))


def test_len_counts_batches_and_only_the_last_is_short(samples):
    """Reference test_data (b): len == ceil(n / batch_size); every batch is full except the last (the residual)."""
    generator = DataGenerator(samples, batch_size=4, seed=0)
    sizes = [len(batch) for batch in generator.get_samples_numpy(structure="path")]
    assert len(generator) == math.ceil(14 / 4) == len(sizes) and sizes == [4, 4, 4, 2]


def test_shuffle_changes_the_order_and_visits_every_sample_once(samples):
    """Reference test_data (c): shuffled, the order differs from the input and every sample appears once."""
    order = loaded(DataGenerator(samples, batch_size=4, shuffle=True, seed=120))
    assert order != list(range(14)) and sorted(order) == list(range(14))


def test_samples_and_dataset_come_in_the_same_order(samples):
    """Reference test_data (c): get_samples_numpy and get_dataset_numpy of one generator line up."""
    generator = DataGenerator(samples, batch_size=4, shuffle=True, seed=5)
    paths = listed(generator)
    assert [samples.path.tolist().index(p) for p in paths] == loaded(generator)


def test_same_seed_same_sequence_other_seed_another(samples):
    """Reference test_data (c): seed 120 twice gives one sequence; seed 121 gives a different one."""
    first, again, other = (loaded(DataGenerator(samples, batch_size=4, shuffle=True, seed=s)) for s in (120, 120, 121))
    assert first == again and first != other


def test_repeat_two_unshuffled_is_the_input_tiled_and_len_stays_one_epoch(samples):
    """Reference test_data (d): repeat=2 unshuffled yields tile(ids, 2); len is one epoch (n with batch 1)."""
    generator = DataGenerator(samples, batch_size=1, repeat=2, seed=0)
    assert loaded(generator) == np.tile(np.arange(14), 2).tolist()
    assert len(generator) == 14


def test_with_repeat_each_epoch_ends_with_its_own_batch(samples):
    """Reference §5.1 get_dataset: repeat comes before batching, so a batch runs across the epoch boundary.
    Departure: every epoch ends with its own, possibly short, batch (14 samples, batches of 4: 4 4 4 2 per epoch)."""
    generator = DataGenerator(samples, batch_size=4, repeat=2, seed=0)
    assert [len(b) for b in generator.get_samples_numpy(structure="path")] == [4, 4, 4, 2] * 2


def test_shuffle_with_repeat_visits_each_sample_twice_not_in_tiled_order(samples):
    """Reference test_data (e): shuffle + repeat=2: every sample twice, not in the tiled input order."""
    order = loaded(DataGenerator(samples, batch_size=4, shuffle=True, repeat=2, seed=3))
    assert sorted(order) == sorted(list(range(14)) * 2) and order != np.tile(np.arange(14), 2).tolist()


def test_unshuffled_stratified_epoch_interleaves_groups_by_weight_each_in_input_order(samples):
    """Reference §5.1 weighted_dataset_selector: unshuffled, groups 7/4/2/1 interleave A A B B C C D A A A B B A A,
    every sample exactly once, each group in input order."""
    generator = StratifiedSampler(batch_size=1, groupby=["category"], seed=0).get(samples)
    order = loaded(generator)
    assert "".join(samples.folder[order]) == "AABBCCDAAABBAA"
    assert sorted(order) == list(range(14))
    for folder in COUNTS:
        members = [n for n in order if samples.folder[n] == folder]
        assert members == sorted(members)


def test_unshuffled_uniform_weighting_draws_groups_equally_in_input_order(weighted_samples):
    """Reference test_data (f): groups of 10/3/1 samples, groupby category, unshuffled, uniform: equal counts per
    group (std/mean 0 within 0.01), each group consumed in input order (cycling once exhausted)."""
    generator = DataGenerator(weighted_samples, batch_size=14, sampling_groupby="category", repeat=40, seed=0)
    counts = pd.Series(listed(generator, "folder")).value_counts()
    assert counts.std() / counts.mean() == pytest.approx(0, abs=0.01)
    order = loaded(generator)
    for folder, size in WEIGHTED.items():
        first = sum(list(WEIGHTED.values())[:list(WEIGHTED).index(folder)])
        members = [n - first for n in order if first <= n < first + size]
        assert members == [i % size for i in range(len(members))]


def test_four_uniform_groups_cycle_three_two_two_one_like_the_reference_selector(samples):
    """Reference §5.1 weighted_dataset_selector with four equal weights: the state reaches exactly 1.0 every eight
    picks and wraps to the first group, so cycling groups are drawn 3:2:2:1 (kept: see the migration guide)."""
    generator = DataGenerator(samples, batch_size=8, sampling_groupby="category", max_epoch_samples=8, repeat=10,
                              seed=0)
    counts = pd.Series(listed(generator, "folder")).value_counts().reindex(list(COUNTS))
    assert counts.tolist() == [30, 20, 20, 10]


def test_unshuffled_weighting_is_the_same_every_run(weighted_samples):
    """Reference test_data (f): two runs of an unshuffled weighted generator are identical."""
    generator = DataGenerator(weighted_samples, batch_size=7, sampling_groupby="category",
                              sampling_group_weighing="square root", repeat=3, seed=0)
    assert listed(generator) == listed(generator)


@pytest.mark.parametrize("shuffle, weighing, weight", [
    (False, "square root", np.sqrt), (True, "square root", np.sqrt),
    (True, "uniform", np.ones_like), (True, "count", lambda n: n)])
def test_group_frequencies_follow_the_normalised_weighing(weighted_samples, shuffle, weighing, weight):
    """Reference test_data (f, g): group frequencies match the normalised f(group size) within 0.08."""
    generator = DataGenerator(weighted_samples, batch_size=14, sampling_groupby="category",
                              sampling_group_weighing=weighing, shuffle=shuffle, repeat=72, seed=8)
    frequency = pd.Series(listed(generator, "folder")).value_counts(normalize=True).reindex(list(WEIGHTED)).fillna(0)
    expected = weight(np.array(list(WEIGHTED.values()), dtype=float))
    assert np.allclose(frequency.to_numpy(), expected / expected.sum(), atol=0.08)


def test_structure_none_a_key_or_a_tuple(samples):
    """Reference §5.1 structure: None gives the whole dict, a key that array, a tuple a tuple."""
    generator = DataGenerator(samples, batch_size=2, output_structure=("img", "folder")).map(ImagePipeline())
    whole = next(iter(generator.get_dataset_numpy(structure=None)))
    image = next(iter(generator.get_dataset_numpy(structure="img")))
    pair = next(iter(generator.get_dataset_numpy()))
    assert {"img", "path", "category"} <= set(whole) and np.array_equal(image, whole["img"])
    assert isinstance(pair, tuple) and np.array_equal(pair[0], image) and list(pair[1]) == ["A", "A"]


def test_one_hot_of_a_category_outside_the_classes_is_all_zeros(samples):
    """Reference §5.1 OneHotEncoder: a category not among `classes` encodes to a zero vector."""
    generator = DataGenerator(samples, batch_size=14).map(OneHotEncoder(["A", "B"]))
    onehot = next(iter(generator.get_dataset_numpy(structure="onehot")))
    assert onehot[:7].tolist() == [[1, 0]] * 7 and onehot[7:11].tolist() == [[0, 1]] * 4
    assert not onehot[11:].any()


def test_max_epoch_samples_sets_len(samples):
    """Reference §5.1: len == ceil(min(max_epoch_samples, n) / batch_size)."""
    assert len(DataGenerator(samples, batch_size=4, max_epoch_samples=10, shuffle=True, seed=0)) == 3
