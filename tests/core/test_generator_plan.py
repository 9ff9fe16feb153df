"""generator.plan(epoch), mapped-action parameter streams, replay, determinism across processes, resume and shard."""
import hashlib
import io
import multiprocessing

import numpy as np
import pandas as pd
import pytest

from brevetti_core import rng
from brevetti_core.actions import Action
from brevetti_core.generator import DataGenerator


class Jitter(Action):
    """A small augmentation: a random offset and a random flag, applied to a per-sample array."""

    plan_prefix = "jitter"

    def __init__(self, scale: float = 1.0):
        self.scale = scale
        self.calls = 0

    def sample_params(self, streams, n):
        return {"offset": streams.uniform("offset", n, -self.scale, self.scale), "flip": streams.chance("flip", n, 0.5)}

    def __call__(self, sample, params):
        self.calls += 1
        values = np.arange(4, dtype=np.float32) + np.float32(sample["id"])
        values = values[::-1] if params["flip"] else values
        return {**sample, "x": values + np.float32(params["offset"])}


def samples(n: int = 23) -> pd.DataFrame:
    return pd.DataFrame({"id": np.arange(n), "path": [f"s3://bucket/{i}.png" for i in range(n)],
                         "category": [("good",) if i % 3 else ("bad",) for i in range(n)],
                         "kind": ["a" if i % 4 else "b" for i in range(n)]})


def generator(**kw) -> DataGenerator:
    settings = {"batch_size": 4, "shuffle": True, "repeat": 3, "seed": 11, "sampling_groupby": "kind"} | kw
    return DataGenerator(samples(), **settings).map(Jitter())


def plan_digest(seed: int) -> str:
    plan = generator(seed=seed).plan(1)
    return hashlib.sha256(plan.to_csv(index=False).encode()).hexdigest()


def test_plan_has_the_place_sample_columns_and_parameters_of_every_slot():
    plan = generator().plan(0)
    assert list(plan.columns) == ["epoch", "batch", "position", "index", "group", "id", "path", "category", "kind",
                                  "jitter.offset", "jitter.flip"]
    assert len(plan) == 23
    assert plan["batch"].tolist() == [i // 4 for i in range(23)]
    assert plan["position"].tolist() == [i % 4 for i in range(23)]
    assert (plan["id"] == plan["index"]).all()


def test_plan_batches_are_numbered_globally():
    plan = generator().plan(2)
    assert plan["epoch"].unique().tolist() == [2]
    assert plan["batch"].iloc[0] == 2 * 6


def test_plan_parameters_come_from_the_actions_stream_at_its_chain_position():
    plan = DataGenerator(samples(), seed=5, repeat=2).map([lambda x: x, Jitter()]).plan(1)
    streams = rng.ParamStreams(5, rng.STREAM_ACTIONS + 1, 1)
    assert np.array_equal(plan["jitter.offset"], streams.uniform("offset", 23, -1, 1).astype(np.float32))


def test_parameters_do_not_depend_on_other_map_calls_made_before():
    base = DataGenerator(samples(), seed=5)
    first = base.map(Jitter()).plan(0)
    base.map(Jitter(scale=9))
    base.map([Jitter(), Jitter()])
    assert first.equals(base.map(Jitter()).plan(0))
    assert first.equals(DataGenerator(samples(), seed=5).map(Jitter()).plan(0))


def test_map_returns_a_new_generator_and_leaves_the_original_alone():
    base = DataGenerator(samples(), seed=5)
    mapped = base.map([Jitter(), None])
    assert base.actions == ()
    assert len(mapped.actions) == 1


def test_repeated_prefixes_are_numbered_by_chain_position():
    plan = DataGenerator(samples(), seed=5).map([Jitter(), Jitter(scale=2)]).plan(0)
    assert [c for c in plan.columns if "." in c] == ["jitter.offset", "jitter.flip", "jitter_2.offset", "jitter_2.flip"]
    assert not np.array_equal(plan["jitter.offset"], plan["jitter_2.offset"])


def test_a_plain_function_taking_a_seed_gets_a_seed_column():
    def noisy(sample, seed):
        return {**sample, "noise": rng.pixel_rng(seed).random(2)}

    generator = DataGenerator(samples(), batch_size=23, seed=5).map(noisy)
    plan = generator.plan(0)
    assert plan["noisy.seed"].dtype == np.uint64
    batch = next(generator.get_dataset_numpy())
    assert np.array_equal(batch["noise"][3], rng.pixel_rng(plan["noisy.seed"][3]).random(2))


def test_plan_of_an_epoch_outside_the_run_is_refused():
    with pytest.raises(ValueError, match="3 epoch"):
        generator().plan(3)


def test_plan_can_be_limited_to_some_sample_columns():
    plan = generator().plan(0, sample_columns=["path"])
    assert list(plan.columns) == ["epoch", "batch", "position", "index", "group", "path",
                                  "jitter.offset", "jitter.flip"]
    with pytest.raises(KeyError, match="'label'"):
        generator().plan(0, sample_columns=["label"])


def test_batch_plan_rows_are_the_plan_rows():
    gen = generator()
    plan = gen.plan(1)
    rows = [row for batch in gen.batch_plans(start_batch=6) for row in batch.rows if row["epoch"] == 1]
    assert len(rows) == len(plan)
    for row, (_, expected) in zip(rows, plan.iterrows()):
        assert {k: row[k] for k in ("batch", "position", "index", "group", "path", "category")} == \
               {k: expected[k] for k in ("batch", "position", "index", "group", "path", "category")}
        assert row["jitter.offset"] == expected["jitter.offset"]


def test_a_saved_plan_replays_to_the_same_arrays():
    gen = generator()
    saved = io.StringIO()
    gen.plan(2).to_csv(saved, index=False)
    replayed = pd.read_csv(io.StringIO(saved.getvalue()))
    loaded = [gen.load_sample(row) for row in replayed.to_dict("records")]
    batches = list(gen.get_dataset_numpy(structure="x", start_batch=12))
    assert np.array_equal(np.stack([sample["x"] for sample in loaded]), np.concatenate(batches))


def test_the_plan_is_the_same_in_two_fresh_processes():
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        digests = pool.map(plan_digest, [11, 11])
    assert digests[0] == digests[1] == plan_digest(11)
    assert plan_digest(12) != digests[0]


def test_resuming_at_a_batch_gives_the_rest_of_the_uninterrupted_run():
    gen = generator()
    full = [b["x"] for b in gen.get_dataset_numpy(structure=None)]
    resumed = [b["x"] for b in gen.get_dataset_numpy(structure=None, start_batch=4)]
    assert len(full) == 18
    assert len(resumed) == 14
    assert all(np.array_equal(a, b) for a, b in zip(full[4:], resumed))


def test_resuming_does_not_load_earlier_samples():
    jitter = Jitter()
    gen = DataGenerator(samples(), batch_size=4, repeat=2, seed=1).map(jitter)
    next(gen.get_dataset_numpy(start_batch=7))
    assert jitter.calls == 4


def test_resuming_past_the_end_is_refused():
    gen = generator()
    assert list(gen.get_dataset_numpy(start_batch=18)) == []
    with pytest.raises(ValueError, match="start_batch must be in \\[0, 18\\]"):
        gen.get_dataset_numpy(start_batch=19)


@pytest.mark.parametrize("world_size", [1, 2, 3, 5])
def test_shards_together_make_the_global_batch(world_size):
    gen = generator(batch_size=7)
    full = [[row["index"] for row in plan.rows] for plan in gen.batch_plans()]
    shards = [list(gen.batch_plans(rank=r, world_size=world_size)) for r in range(world_size)]
    for number, indices in enumerate(full):
        parts = [[row["index"] for row in shard[number].rows] for shard in shards]
        assert [index for part in parts for index in part] == indices
        assert [len(p) for p in parts] == [len(s) for s in np.array_split(indices, world_size)]
        assert {shard[number].batch for shard in shards} == {number}


def test_shard_datasets_together_make_the_global_arrays():
    gen = generator(batch_size=7)
    full = list(gen.get_dataset_numpy(structure="x"))
    shards = [list(gen.get_dataset_numpy(structure="x", rank=r, world_size=2)) for r in range(2)]
    assert all(np.array_equal(np.concatenate([a, b]), x) for a, b, x in zip(*shards, full))


def test_shard_slices_smaller_than_the_world_leave_some_ranks_empty():
    gen = DataGenerator(samples(5), batch_size=2, seed=0)
    plans = list(gen.batch_plans(rank=2, world_size=3))
    assert [len(p) for p in plans] == [0, 0, 0]
    assert list(gen.get_samples_numpy(rank=2, world_size=3)) == []


def test_a_rank_outside_the_world_is_refused():
    with pytest.raises(ValueError, match="rank must be in \\[0, world_size=2\\)"):
        generator().batch_plans(rank=2, world_size=2)


def test_a_pickled_generator_plans_and_loads_the_same():
    import pickle

    gen = generator()
    copy = pickle.loads(pickle.dumps(gen))
    assert copy.plan(1).equals(gen.plan(1))
    row = next(iter(gen.batch_plans())).rows[0]
    assert np.array_equal(pickle.loads(pickle.dumps(gen.sample_loader)).load(row)["x"], gen.load_sample(row)["x"])


def test_batch_plans_without_parameters_hold_only_place_and_sample_columns():
    rows = next(iter(generator().batch_plans(with_params=False))).rows
    assert set(rows[0]) == {"epoch", "batch", "position", "index", "group", "id", "path", "category", "kind"}
