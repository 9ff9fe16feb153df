"""Rows read by index (RowReader, and the plan rows built from it) are exactly pandas' to_dict("records") rows."""
import pickle

import numpy as np
import pandas as pd
import pytest

from brevetti_core.actions import Action
from brevetti_core.plan import Plan
from brevetti_core.table_rows import RowReader


def mixed_table(n: int = 40) -> pd.DataFrame:
    """Every kind of column a sample table holds: numbers, flags, strings, tuples, missing values, datetimes."""
    numbers = np.arange(n)
    return pd.DataFrame({
        "id": numbers,
        "small": (numbers % 7).astype(np.int8),
        "score": np.where(numbers % 5 == 0, np.nan, numbers / 3),
        "weight": (numbers / 4).astype(np.float32),
        "flag": numbers % 3 == 0,
        "path": pd.Series([None if i % 6 == 1 else f"folder/{i}.png" for i in numbers], dtype="str"),
        "etag": pd.Series([None if i % 9 == 2 else f"{i:032x}" for i in numbers], dtype="string[pyarrow]"),
        "bucket": pd.Series(["s3://bucket/data"] * n, dtype="str"),
        "category": [("good",) if i % 2 else ("bad", "scratch") for i in numbers],
        "note": [None if i % 4 == 0 else np.nan if i % 4 == 1 else np.int64(i) if i % 4 == 2 else "text"
                 for i in numbers],
        "taken": pd.Series(pd.date_range("2024-01-01", periods=n, freq="h")).where(numbers % 8 != 3),
        "count": pd.Series([None if i % 5 == 4 else i for i in numbers], dtype="Int64"),
        "kind": pd.Categorical(["a" if i % 3 else "b" for i in numbers]),
    })


def typed(rows) -> list[list[tuple]]:
    """Each row's (key, type, repr) in order: equal only when keys, order, types and values all match."""
    return [[(key, type(value), repr(value)) for key, value in row.items()] for row in rows]


def test_records_by_index_equal_pandas_records_for_every_column_kind():
    table = mixed_table()
    index = np.array([5, 0, 39, 12, 12, 1, 2, 3, 4, 11, 27])
    assert typed(RowReader(table).records(index)) == typed(table.iloc[index].to_dict("records"))


def test_records_of_a_concatenated_table_with_string_columns_in_several_pieces_equal_pandas_records():
    table = pd.concat([mixed_table(12), mixed_table(9)], ignore_index=True)
    index = np.array([20, 3, 12, 0, 11, 15])
    assert typed(RowReader(table).records(index)) == typed(table.iloc[index].to_dict("records"))


def test_a_duplicated_column_name_keeps_its_first_place_and_its_last_value_as_in_pandas_records():
    table = pd.DataFrame([[1, "x", 2.5], [3, "y", 4.5]], columns=["a", "b", "a"])
    with pytest.warns(UserWarning, match="not unique"):
        expected = table.iloc[[1, 0]].to_dict("records")
    assert typed(RowReader(table).records(np.array([1, 0]))) == typed(expected)


def records_based_rows(plan: Plan, batch: int) -> list[dict]:
    """A batch's rows built the plain pandas way: place columns, to_dict records, parameters cell by cell."""
    epoch, in_epoch = divmod(batch, len(plan))
    lo = in_epoch * plan.batch_size
    hi = min(lo + plan.batch_size, plan.epoch_samples)
    index, group = plan.order(epoch)
    params = plan.params(epoch)
    records = plan.samples.iloc[index[lo:hi]].to_dict("records")
    return [{"epoch": epoch, "batch": batch, "position": slot - lo, "index": int(index[slot]),
             "group": int(group[slot]), **record, **{name: values[slot] for name, values in params.items()}}
            for slot, record in zip(range(lo, hi), records)]


class Jitter(Action):
    """Draws a float, a flag and a seed per slot: parameter columns of three dtypes."""

    plan_prefix = "jitter"

    def sample_params(self, streams, n):
        return {"angle": streams.uniform("angle", n, -5, 5), "flip": streams.chance("flip", n, 0.5),
                "seed": streams.seeds("seed", n)}

    def __call__(self, sample, params):
        return sample


def mixed_plan(**kw) -> Plan:
    settings = {"batch_size": 6, "shuffle": True, "repeat": 2, "seed": 3, "groupby": "flag",
                "actions": [Jitter()]} | kw
    return Plan(mixed_table(), **settings)


def test_batch_plan_rows_equal_rows_built_from_pandas_records_in_every_batch():
    plan = mixed_plan()
    for batch in range(plan.total_batches or 0):
        assert typed(plan.batch_plan(batch).rows) == typed(records_based_rows(plan, batch))


def test_a_plan_pickles_to_the_same_bytes_before_and_after_reading_batches():
    plan = mixed_plan()
    before = pickle.dumps(plan)
    plan.batch_plan(3)  # builds the row reader (views of the table's columns): workers build their own
    assert pickle.dumps(plan) == before


def test_a_pickled_plan_reads_the_same_rows():
    plan = mixed_plan()
    plan.batch_plan(3)
    assert typed(pickle.loads(pickle.dumps(plan)).batch_plan(3).rows) == typed(plan.batch_plan(3).rows)
