"""DataGenerator ordering, batching, seeding, repetition and weighted sampling.

The reference's test_data.py, as behaviour.
"""
import itertools
import math

import numpy as np
import pandas as pd
import pytest

from brevetti_core import rng
from brevetti_core.generator import DataGenerator, StratifiedSampler


def ten_samples() -> pd.DataFrame:
    return pd.DataFrame({"id": np.arange(10), "category": [("a",), ("b",), ("a", "b"), ("c",), ("a",)] * 2,
                         "path": [f"img_{i}.bmp" for i in range(10)]})


def ids(generator, batch=False, **kw) -> list:
    values = generator.get_samples_numpy(batch=batch, structure="id", **kw)
    return np.concatenate(list(values)).tolist() if batch else [int(v) for v in values]


def grouped_samples() -> pd.DataFrame:
    """Groups of 10, 3 and 1 samples (the reference duplicates samples per category the same way)."""
    rows = [("big", i) for i in range(10)] + [("mid", i) for i in range(3)] + [("small", 0)]
    return pd.DataFrame({"kind": [r[0] for r in rows], "member": [r[1] for r in rows], "id": np.arange(14)})


def test_unshuffled_unbatched_samples_keep_input_order_every_time():
    generator = DataGenerator(ten_samples(), seed=0)
    assert ids(generator) == list(range(10))
    assert ids(generator) == list(range(10))


def test_batches_are_full_except_the_last_and_len_counts_them():
    generator = DataGenerator(ten_samples(), batch_size=4, seed=0)
    sizes = [len(batch) for batch in generator.get_samples_numpy(structure="id")]
    assert len(generator) == math.ceil(10 / 4) == len(sizes)
    assert sizes == [4, 4, 2]


def test_shuffle_changes_the_order_and_keeps_every_sample_once():
    order = ids(DataGenerator(ten_samples(), shuffle=True, seed=120))
    assert order != list(range(10))
    assert sorted(order) == list(range(10))


def test_samples_and_dataset_iterate_in_the_same_order():
    generator = DataGenerator(ten_samples(), batch_size=3, shuffle=True, seed=4)
    generator = generator.map(lambda x: {**x, "twice": x["id"] * 2})
    samples = [batch["id"].tolist() for batch in generator.get_samples_numpy()]
    loaded = [batch["id"].tolist() for batch in generator.get_dataset_numpy()]
    assert samples == loaded


def test_same_seed_same_sequence_other_seed_other_sequence():
    first = ids(DataGenerator(ten_samples(), shuffle=True, seed=120), batch=True)
    again = ids(DataGenerator(ten_samples(), shuffle=True, seed=120), batch=True)
    other = ids(DataGenerator(ten_samples(), shuffle=True, seed=121), batch=True)
    assert first == again
    assert first != other


def test_repeat_two_without_shuffle_tiles_the_samples():
    generator = DataGenerator(ten_samples(), batch_size=1, repeat=2, seed=0)
    assert ids(generator, batch=True) == np.tile(np.arange(10), 2).tolist()
    assert len(generator) == 10


def test_shuffle_with_repeat_gives_each_epoch_its_own_permutation():
    order = ids(DataGenerator(ten_samples(), shuffle=True, repeat=2, seed=3))
    assert np.bincount(order).tolist() == [2] * 10
    assert order != np.tile(np.arange(10), 2).tolist()
    assert order[:10] != order[10:]
    assert sorted(order[:10]) == list(range(10))


def test_repeat_true_is_endless():
    endless = DataGenerator(ten_samples(), batch_size=4, repeat=True, seed=1).get_samples_numpy(structure="id")
    batches = list(itertools.islice(endless, 30))
    assert len(batches) == 30
    assert [len(b) for b in batches[:3]] == [4, 4, 2]


def test_repeat_minus_one_is_endless_like_true():
    endless = DataGenerator(ten_samples(), batch_size=4, shuffle=True, repeat=-1, seed=1)
    assert endless.epochs is None and endless.total_batches is None
    same = DataGenerator(ten_samples(), batch_size=4, shuffle=True, repeat=True, seed=1)
    first = [b.tolist() for b in itertools.islice(endless.get_samples_numpy(structure="id"), 30)]
    assert first == [b.tolist() for b in itertools.islice(same.get_samples_numpy(structure="id"), 30)]


@pytest.mark.parametrize("repeat", [0, -2, 1.5, "yes"])
def test_repeat_must_be_a_bool_or_a_positive_count(repeat):
    with pytest.raises(ValueError, match="repeat"):
        DataGenerator(ten_samples(), repeat=repeat, seed=0)


def test_max_epoch_samples_shortens_epochs_and_len():
    generator = DataGenerator(ten_samples(), batch_size=2, max_epoch_samples=5, repeat=2, seed=0)
    assert len(generator) == 3
    assert ids(generator) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]


def interleaved_samples() -> pd.DataFrame:
    """Groups A, B, C and D of 7, 4, 2 and 1 samples, listed mixed; `member` numbers each group in input order."""
    kinds = list("CABBADAAABACAB")
    return pd.DataFrame({"kind": kinds, "member": [kinds[:i].count(k) for i, k in enumerate(kinds)],
                         "id": np.arange(len(kinds))})


def kinds_and_members(generator) -> tuple[str, dict]:
    drawn = pd.DataFrame(list(generator.get_samples_numpy(batch=False, structure={"kind": "kind", "id": "id",
                                                                                   "member": "member"})))
    members = {kind: drawn.loc[drawn.kind == kind, "member"].tolist() for kind in "ABCD"}
    return "".join(drawn.kind), {"ids": sorted(drawn.id.tolist()), **members}


def test_an_unshuffled_stratified_epoch_visits_every_sample_once_interleaving_the_groups():
    kinds, drawn = kinds_and_members(StratifiedSampler(batch_size=4, groupby="kind", seed=0).get(interleaved_samples()))
    assert kinds == "AABBCCDAAABBAA"
    assert drawn == {"ids": list(range(14)), "A": list(range(7)), "B": list(range(4)), "C": [0, 1], "D": [0]}


def test_count_weighting_without_shuffle_visits_every_group():
    generator = DataGenerator(interleaved_samples(), sampling_groupby="kind", sampling_group_weighing="count", seed=0)
    kinds, drawn = kinds_and_members(generator)
    assert kinds == "AAAAAAABBBBCCD" and drawn["ids"] == list(range(14))


def test_log_weighing_without_shuffle_visits_a_single_sample_group_last():
    generator = DataGenerator(interleaved_samples(), sampling_groupby="kind", sampling_group_weighing="log", seed=0)
    kinds, drawn = kinds_and_members(generator)
    assert kinds[-1] == "D" and drawn["ids"] == list(range(14))


WEIGHINGS = ["uniform", "count", "square root", "log", "logx+1", np.sqrt, np.log1p, lambda n: n * n,
             lambda n, key: 2.0 if key == "A" else 1.0]


@pytest.mark.parametrize("weighing", WEIGHINGS)
def test_every_weighing_gives_an_unshuffled_epoch_of_every_sample_once(weighing):
    generator = DataGenerator(interleaved_samples(), sampling_groupby="kind", sampling_group_weighing=weighing, seed=0)
    assert kinds_and_members(generator)[1]["ids"] == list(range(14))


@pytest.mark.parametrize("weighing", WEIGHINGS)
def test_every_weighing_draws_shuffled_epochs_from_its_weighted_groups(weighing):
    generator = DataGenerator(interleaved_samples(), sampling_groupby="kind", sampling_group_weighing=weighing,
                              shuffle=True, repeat=3, seed=0)
    weighted = {kind for kind, weight in generator.group_weights.items() if weight > 0}
    kinds = [kinds_and_members(generator)[0][epoch * 14:(epoch + 1) * 14] for epoch in range(3)]
    assert [len(k) for k in kinds] == [14] * 3 and set("".join(kinds)) <= weighted


def test_a_numpy_ufunc_weighing_gets_the_group_size():
    generator = StratifiedSampler(groupby="kind", group_weighing=np.sqrt, seed=0).get(interleaved_samples())
    assert generator.group_weights.to_dict() == pytest.approx(dict(zip("ABCD", np.sqrt([7, 4, 2, 1]) /
                                                                        np.sqrt([7, 4, 2, 1]).sum())))


def test_unshuffled_uniform_weighting_draws_groups_equally():
    generator = DataGenerator(grouped_samples(), sampling_groupby="kind", max_epoch_samples=14, repeat=50, seed=0)
    kinds = np.concatenate(list(generator.get_samples_numpy(structure="kind")))
    counts = pd.Series(kinds).value_counts()
    assert counts.std() / counts.mean() == pytest.approx(0, abs=0.01)


def test_unshuffled_weighting_consumes_each_group_in_input_order():
    generator = DataGenerator(grouped_samples(), sampling_groupby="kind", repeat=10, seed=0)
    drawn = pd.DataFrame(list(generator.get_samples_numpy(batch=False, structure={"kind": "kind", "member": "member"})))
    for kind, size in (("big", 10), ("mid", 3), ("small", 1)):
        members = drawn.loc[drawn.kind == kind, "member"].tolist()
        assert members == [i % size for i in range(len(members))]


def test_unshuffled_weighting_is_the_same_every_run():
    generator = DataGenerator(grouped_samples(), sampling_groupby="kind", sampling_group_weighing="square root",
                              repeat=3, seed=0)
    assert ids(generator) == ids(generator)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("weighing, expected", [
    ("square root", np.sqrt([10, 3, 1])), ("uniform", np.ones(3)), ("count", np.array([10, 3, 1])),
    ("logx+1", np.log([10, 3, 1]) + 1)])
def test_group_frequencies_follow_the_weighing(shuffle, weighing, expected):
    generator = DataGenerator(grouped_samples(), sampling_groupby="kind", sampling_group_weighing=weighing,
                              shuffle=shuffle, max_epoch_samples=14, repeat=72, seed=8)
    kinds = pd.Series(np.concatenate(list(generator.get_samples_numpy(structure="kind"))))
    frequency = kinds.value_counts(normalize=True).reindex(["big", "mid", "small"]).to_numpy()
    assert np.allclose(frequency, expected / expected.sum(), atol=0.08)


def test_log_weighing_never_draws_a_single_sample_group():
    generator = DataGenerator(grouped_samples(), sampling_groupby="kind", sampling_group_weighing="log",
                              shuffle=True, repeat=20, seed=1)
    assert "small" not in set(np.concatenate(list(generator.get_samples_numpy(structure="kind"))))


def test_a_callable_weighing_gets_the_group_size_and_optionally_its_key():
    by_size = DataGenerator(grouped_samples(), sampling_groupby="kind", sampling_group_weighing=lambda n: n * n, seed=0)
    assert by_size.group_weights.to_dict() == pytest.approx({"big": 100 / 110, "mid": 9 / 110, "small": 1 / 110})
    by_key = DataGenerator(grouped_samples(), sampling_groupby="kind",
                           sampling_group_weighing=lambda n, key: 3.0 if key == "small" else 1.0, seed=0)
    assert by_key.group_weights["small"] == pytest.approx(0.6)


def test_an_unknown_weighing_lists_the_known_ones():
    with pytest.raises(ValueError, match="square root"):
        DataGenerator(grouped_samples(), sampling_groupby="kind", sampling_group_weighing="sqrt", seed=0)


def test_grouping_by_a_missing_column_names_it():
    with pytest.raises(KeyError, match="'folder'"):
        DataGenerator(grouped_samples(), sampling_groupby=["folder"], seed=0)


def test_grouping_by_two_columns_makes_one_group_per_combination():
    samples = pd.DataFrame({"dataset_id": ["d1", "d1", "d2", "d2"], "category": [("a",), ("b",), ("a",), ("a",)]})
    generator = DataGenerator(samples, sampling_groupby=["dataset_id", "category"], seed=0)
    assert list(generator.group_weights.index) == [("d1", ("a",)), ("d1", ("b",)), ("d2", ("a",))]


def test_a_sample_column_named_like_a_plan_column_is_refused():
    with pytest.raises(ValueError, match="'index'"):
        DataGenerator(ten_samples().reset_index(), seed=0)


def test_an_unseeded_generator_records_the_seed_it_drew():
    generator = DataGenerator(ten_samples(), shuffle=True)
    assert {"owner": "DataGenerator", "seed": generator.seed, "drawn": True} in rng.seeds_used()
    replay = DataGenerator(ten_samples(), shuffle=True, seed=generator.seed)
    assert ids(generator) == ids(replay)


def test_stratified_sampler_builds_the_generator_with_its_settings():
    sampler = StratifiedSampler(batch_size=4, groupby="kind", group_weighing="count", seed=5)
    generator = sampler.get(grouped_samples(), shuffle=True, repeat=2, output_structure=("id",))
    assert (generator.batch_size, generator.sampling_groupby, generator.sampling_group_weighing) == \
           (4, ["kind"], "count")
    assert (generator.seed, generator.shuffle, generator.epochs, generator.output_structure) == (5, True, 2, ("id",))


def test_stratified_sampler_keyword_arguments_override_its_settings():
    generator = StratifiedSampler(batch_size=4).get(ten_samples(), batch_size=8)
    assert generator.batch_size == 8


def test_stratified_sampler_seed_minus_one_draws_a_seed():
    generator = StratifiedSampler(groupby=[]).get(ten_samples())
    assert generator.sampling_groupby is None
    assert rng.seeds_used()[-1] == {"owner": "DataGenerator", "seed": generator.seed, "drawn": True}


def test_stratified_sampler_refuses_an_unknown_weighing():
    with pytest.raises(ValueError, match="unknown group weighing 'median'"):
        StratifiedSampler(group_weighing="median")
