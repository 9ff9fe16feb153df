"""A sample table's rows in plan order: the copy that dominates ``plan(epoch)`` on large tables.

A string column that holds one value in every row (``bucket``, ``dataset``, ``dataset_id`` and
``reference`` of a one-dataset table) is repeated instead of gathered: the same values, without
reading millions of scattered strings. Arrow-backed string columns are gathered by Arrow, which
releases the GIL, so they run in the caller's thread pool beside each other and the parameter
draws; the other columns go through pandas' take in the calling thread. The values and dtypes are
exactly ``table[columns].take(index)``'s.
"""
from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor, Future
from typing import Any

import numpy as np
import pandas as pd


def is_arrow_string(column: pd.Series) -> bool:
    """Whether `column` holds strings in an Arrow array (pandas' default ``str`` dtype when pyarrow is installed)."""
    return isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow"


def constant_columns(table: pd.DataFrame, pool: Executor | None = None) -> frozenset[Any]:
    """The Arrow string columns of `table` holding one value in every row, none missing (checked in `pool` if given).

    About 15 ms per million rows for each constant column; a varying one is turned down at once.
    """
    names = list(table.columns)
    held = (pool.map if pool is not None else map)(lambda name: _holds_one_string(table[name]), names)
    return frozenset(name for name, one in zip(names, held) if one)


def _holds_one_string(column: pd.Series | pd.DataFrame) -> bool:
    if not isinstance(column, pd.Series) or not len(column) or not is_arrow_string(column) or column.hasnans:
        return False
    import pyarrow as pa  # installed, since the column is Arrow-backed
    import pyarrow.compute as pc

    strings = pa.array(column.array)  # the column's own buffers; Arrow compares without the GIL
    first = strings[0]
    # A few rows spread over the table turn down almost every column that varies without reading it all.
    probe = strings.take(np.linspace(0, len(strings) - 1, num=min(len(strings), 64), dtype=np.intp))
    return bool(pc.all(pc.equal(probe, first)).as_py()) and bool(pc.all(pc.equal(strings, first)).as_py())


def take_rows(table: pd.DataFrame, columns: Sequence[Any], index: np.ndarray, constant: frozenset[Any],
              pool: Executor) -> dict[Any, pd.Series]:
    """{column: its values at `index`, with a fresh RangeIndex}, Arrow string columns gathered in `pool`."""
    if len(table.columns) != len(set(table.columns)):  # a duplicated name selects several columns: pandas' way
        taken = table[list(columns)].take(index).reset_index(drop=True)
        return {name: taken[name] for name in columns}
    repeated = np.zeros(len(index), np.intp)
    pending: dict[Any, Future[pd.Series]] = {}
    result: dict[Any, pd.Series] = {}
    for name in columns:
        column = table[name]
        if name in constant:
            result[name] = _take(column, repeated)
        elif is_arrow_string(column):
            pending[name] = pool.submit(_take, column, index)
        else:
            result[name] = _take(column, index)
    result.update((name, future.result()) for name, future in pending.items())
    return {name: result[name] for name in columns}


def _take(column: pd.Series, index: np.ndarray) -> pd.Series:
    return column.take(index).reset_index(drop=True)
