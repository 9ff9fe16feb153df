"""take_rows gives exactly pandas' take (values, dtypes, a fresh RangeIndex) however a column is gathered."""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from brevetti_core.table_take import constant_columns, take_rows, value_codes


@pytest.fixture
def table():
    n = 50
    return pd.DataFrame({
        "category": pd.Series([("good",), ("bad",)] * (n // 2), dtype=object),
        "path": pd.Series([f"s3://bucket/{i}.png" for i in range(n)], dtype="str"),
        "bucket": pd.Series(["s3://bucket"] * n, dtype="str"),
        "reference": pd.Series(["N/A"] * (n - 1) + [None], dtype="str"),
        "dataset": pd.Series(["vials"] * n, dtype=object),
        "weight": np.linspace(0, 1, n),
    })


@pytest.fixture
def index():
    return np.random.default_rng(3).integers(0, 50, 80)


def expected(table, columns, index):
    taken = table[columns].take(index).reset_index(drop=True)
    return {name: taken[name] for name in columns}


def test_only_arrow_string_columns_with_one_value_and_none_missing_are_constant(table):
    assert constant_columns(table) == {"bucket"}


def test_taken_columns_equal_pandas_take_with_their_dtypes(table, index):
    columns = list(table.columns)
    with ThreadPoolExecutor(2) as pool:
        taken = take_rows(table, columns, index, constant_columns(table), pool)
    want = expected(table, columns, index)
    assert list(taken) == columns
    for name in columns:
        assert taken[name].dtype == want[name].dtype and taken[name].equals(want[name]), name
        assert isinstance(taken[name].index, pd.RangeIndex)


def test_a_table_with_a_duplicated_column_name_is_taken_as_pandas_does(table, index):
    doubled = pd.concat([table[["path"]], table[["path", "bucket"]]], axis=1)
    with ThreadPoolExecutor(2) as pool:
        taken = take_rows(doubled, ["bucket"], index, constant_columns(doubled), pool)
    assert taken["bucket"].equals(expected(doubled, ["bucket"], index)["bucket"])


def test_a_string_column_differing_in_one_row_between_probed_rows_is_not_constant():
    values = ["s3://bucket"] * 1000
    values[1] = "s3://other"
    table = pd.DataFrame({"bucket": pd.Series(values, dtype="str"),
                          "dataset": pd.Series(["vials"] * 1000, dtype="str")})
    assert constant_columns(table) == {"dataset"}


def test_constant_columns_checked_in_a_pool_are_those_checked_in_the_caller(table):
    with ThreadPoolExecutor(2) as pool:
        assert constant_columns(table, pool) == constant_columns(table)


def classes_table(n: int = 3000) -> pd.DataFrame:
    """Over a probe's worth of rows: few-valued string columns with missing values, a varying one, a number."""
    rows = np.arange(n)
    names = np.array(["good", "missing_cap", "failed_cap", "scratch"])
    return pd.DataFrame({
        "folder": pd.Series(names[rows % 4], dtype="str").where(rows % 97 != 5),
        "label": pd.Series(names[rows % 3], dtype="string[pyarrow]").where(rows % 89 != 7),
        "path": pd.Series([f"s3://bucket/{i}.png" for i in rows], dtype="str"),
        "weight": rows / n,
    })


def test_few_valued_string_columns_get_codes_and_varying_ones_none():
    coded = value_codes(classes_table(), ["folder", "label", "path", "weight"])
    assert {name for name, codes in coded.items() if codes is not None} == {"folder", "label"}


def test_columns_read_through_codes_equal_pandas_take_with_missing_values_and_dtypes():
    table, index = classes_table(), np.random.default_rng(5).integers(0, 3000, 5000)
    coded = {name: codes for name, codes in value_codes(table, list(table.columns)).items() if codes is not None}
    with ThreadPoolExecutor(2) as pool:
        taken = take_rows(table, list(table.columns), index, frozenset(), pool, coded)
    want = expected(table, list(table.columns), index)
    for name in table.columns:
        assert taken[name].dtype == want[name].dtype and taken[name].equals(want[name]), name
        assert isinstance(taken[name].index, pd.RangeIndex)


def test_a_few_valued_column_in_several_arrow_pieces_reads_through_codes_as_pandas_takes_it():
    table = pd.concat([classes_table(2000), classes_table(1500)], ignore_index=True)
    index = np.random.default_rng(6).permutation(len(table))
    coded = value_codes(table, ["folder"])
    with ThreadPoolExecutor(2) as pool:
        taken = take_rows(table, ["folder"], index, frozenset(), pool, {"folder": coded["folder"]})
    assert taken["folder"].equals(expected(table, ["folder"], index)["folder"])
