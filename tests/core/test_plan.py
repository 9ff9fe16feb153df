"""The Plan object: epoch tables, batch plans by index and from a start batch, shared orders, errors."""
import itertools
import pickle

import numpy as np
import pandas as pd
import pytest

from brevetti_core.actions import as_action
from brevetti_core.plan import Plan
from brevetti_core.sharding import Shard


def samples(n: int = 23) -> pd.DataFrame:
    return pd.DataFrame({"id": np.arange(n), "kind": ["a" if i % 4 else "b" for i in range(n)]})


def plan(**kw) -> Plan:
    return Plan(samples(), **{"batch_size": 4, "shuffle": True, "repeat": 3, "seed": 11, "groupby": "kind"} | kw)


def indices(batch_plan) -> list[int]:
    return [row["index"] for row in batch_plan.rows]


def test_len_is_batches_per_epoch_and_total_batches_covers_every_epoch():
    assert (len(plan()), plan().total_batches) == (6, 18)
    assert plan(repeat=True).total_batches is None


def test_a_batch_plan_by_index_is_the_batch_walked_to_from_the_start():
    walked = list(plan().batch_plans())
    for number in (0, 5, 6, 17):
        assert plan().batch_plan(number) == walked[number]


def test_a_shards_batch_plan_is_its_slice_of_the_whole_batch():
    whole = indices(plan(batch_size=7).batch_plan(4))
    slices = [indices(plan(batch_size=7).batch_plan(4, Shard(rank, 3))) for rank in range(3)]
    assert [index for part in slices for index in part] == whole and [len(s) for s in slices] == [3, 2, 2]


def test_batch_plans_start_at_the_start_batch():
    assert [p.batch for p in plan().batch_plans(start_batch=15)] == [15, 16, 17]


def test_an_endless_plan_walks_on_past_its_first_epochs():
    numbers = [p.batch for p in itertools.islice(plan(repeat=True).batch_plans(start_batch=100), 3)]
    assert numbers == [100, 101, 102]


def test_a_batch_outside_the_plan_is_refused():
    with pytest.raises(ValueError, match=r"batch must be in \[0, 18\) .*got 18"):
        plan().batch_plan(18)


def test_a_start_batch_past_the_end_is_refused_before_iterating():
    with pytest.raises(ValueError, match=r"start_batch must be in \[0, 18\] .*got 19"):
        plan().batch_plans(start_batch=19)


def test_an_empty_table_plans_no_batch():
    empty = Plan(samples(0), repeat=True, seed=0)
    assert len(empty) == 0 and list(empty.batch_plans()) == []


def test_epoch_table_rows_are_the_batch_plan_rows():
    table = plan().epoch_table(1)
    rows = [row for number in range(6, 12) for row in plan().batch_plan(number).rows]
    assert table["index"].tolist() == [row["index"] for row in rows]
    assert table["batch"].tolist() == [row["batch"] for row in rows]


def test_epoch_table_place_columns_are_the_batch_plan_rows_with_a_short_last_batch_and_their_dtypes():
    short = plan(max_epoch_samples=10)  # 3 batches of 4, 4 and 2 slots per epoch
    table = short.epoch_table(2)
    rows = [row for number in range(6, 9) for row in short.batch_plan(number).rows]
    for column in ("epoch", "batch", "position", "index", "group"):
        assert table[column].tolist() == [row[column] for row in rows], column
    assert [str(table[column].dtype) for column in ("epoch", "batch", "position", "index", "group")] == [
        "int32", "int64", "int32", "int64", "int32"]


def test_epoch_table_sample_columns_equal_pandas_take_on_a_table_with_few_valued_and_constant_strings():
    n = 3000
    rows = np.arange(n)
    table = pd.DataFrame({"folder": pd.Series(np.array(["good", "bad", "odd"])[rows % 3], dtype="str"),
                          "path": pd.Series([f"{i}.png" for i in rows], dtype="str"),
                          "bucket": pd.Series(["s3://bucket"] * n, dtype="str"), "id": rows})
    big = Plan(table, batch_size=8, shuffle=True, seed=4, groupby="folder")
    epoch = big.epoch_table(0)
    index, _ = big.order(0)
    pd.testing.assert_frame_equal(epoch[list(table.columns)], table.take(index).reset_index(drop=True))


def test_another_action_chain_shares_the_epoch_order_and_draws_its_own_parameters():
    base = plan()
    jittered = base.with_actions([as_action(lambda sample, seed: sample)])
    assert jittered.order(2) is base.order(2)
    assert list(jittered.params(0)) == ["lambda.seed"] and base.params(0) == {}


def test_a_pickled_plan_gives_the_same_batches():
    original = plan()
    copy = pickle.loads(pickle.dumps(original))
    assert copy.batch_plan(7) == original.batch_plan(7)
