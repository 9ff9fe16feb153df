"""A sample table's rows in plan order: the copy that dominates ``plan(epoch)`` on large tables.

A string column that holds one value in every row (``bucket``, ``dataset``, ``dataset_id`` and
``reference`` of a one-dataset table) is repeated instead of gathered: the same values, without
reading millions of scattered strings. A string column of few distinct values (``folder``: the
class names) is gathered as codes into its values, encoded once per table: reading scattered
rows of a large column misses the CPU's caches and address translation on every row, reading a
small code array and a few values does not. Arrow-backed string columns are gathered by Arrow,
which releases the GIL, so they run in the caller's thread pool beside each other and the
parameter draws; the other columns go through pandas' take in the calling thread. The values and
dtypes are exactly ``table[columns].take(index)``'s.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
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
    import pyarrow.compute as pc  # installed, since the column is Arrow-backed

    strings = arrow_strings(column)  # Arrow compares without the GIL
    first = strings[0]
    # A few rows spread over the table turn down almost every column that varies without reading it all.
    probe = _spread_rows(strings, 64)
    return bool(pc.all(pc.equal(probe, first)).as_py()) and bool(pc.all(pc.equal(strings, first)).as_py())


def arrow_strings(column: pd.Series) -> Any:
    """An Arrow-backed string column's own Arrow array (its buffers: no copy for one chunk)."""
    import pyarrow as pa  # installed, since the column is Arrow-backed

    return pa.array(column.array)


def _spread_rows(strings: Any, count: int) -> Any:
    """`count` rows of `strings` spread evenly from first to last (all of them when there are fewer)."""
    return strings.take(np.linspace(0, len(strings) - 1, num=min(len(strings), count), dtype=np.intp))


@dataclass(frozen=True)
class ValueCodes:
    """A string column as a code per row into its distinct values (Arrow), missing values included."""

    codes: np.ndarray
    values: Any

    def take(self, column: pd.Series, index: np.ndarray) -> pd.Series:
        """`column`'s values at `index` (its dtype, a fresh RangeIndex), read through the codes."""
        return pd.Series(pd.array(self.values.take(self.codes.take(index)), dtype=column.dtype))


PROBE_ROWS = 1024
FEW_VALUES = 64
"""A column showing at most this many distinct values in PROBE_ROWS rows spread over it is encoded."""


def value_codes(table: pd.DataFrame, names: Sequence[Any],
                pool: Executor | None = None) -> dict[Any, ValueCodes | None]:
    """{name: its codes, or None} for `names`: codes for the Arrow string columns with few distinct values.

    A column showing one value in the probe is left to ``constant_columns``.
    """
    coded = (pool.map if pool is not None else map)(lambda name: _value_codes(table[name]), names)
    return dict(zip(names, coded))


def _value_codes(column: pd.Series | pd.DataFrame) -> ValueCodes | None:
    if not isinstance(column, pd.Series) or len(column) <= PROBE_ROWS or not is_arrow_string(column):
        return None
    import pyarrow as pa  # installed, since the column is Arrow-backed
    import pyarrow.compute as pc

    strings = arrow_strings(column)
    if not 1 < pc.count_distinct(_spread_rows(strings, PROBE_ROWS), mode="all").as_py() <= FEW_VALUES:
        return None
    encoded = pc.dictionary_encode(strings, null_encoding="encode")  # a missing value is one more value
    chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
    # Pieces of a concatenated table have their own values: codes index the pieces' values one after another.
    starts = np.cumsum([0] + [len(chunk.dictionary) for chunk in chunks[:-1]])
    codes = np.concatenate([chunk.indices.to_numpy() + np.int32(start) for chunk, start in zip(chunks, starts)])
    return ValueCodes(codes, pa.concat_arrays([chunk.dictionary for chunk in chunks]))


def take_rows(table: pd.DataFrame, columns: Sequence[Any], index: np.ndarray, constant: frozenset[Any],
              pool: Executor, coded: Mapping[Any, ValueCodes] | None = None) -> dict[Any, pd.Series]:
    """{column: its values at `index`, with a fresh RangeIndex}, Arrow string columns gathered in `pool`.

    `constant` names the columns holding one value (``constant_columns``), `coded` the columns
    read through their codes (``value_codes``).
    """
    if len(table.columns) != len(set(table.columns)):  # a duplicated name selects several columns: pandas' way
        taken = table[list(columns)].take(index).reset_index(drop=True)
        return {name: taken[name] for name in columns}
    coded = coded or {}
    repeated = np.zeros(len(index), np.intp)
    pending: dict[Any, Future[pd.Series]] = {}
    result: dict[Any, pd.Series] = {}
    for name in columns:
        column = table[name]
        if name in constant:
            result[name] = _take(column, repeated)
        elif name in coded:
            pending[name] = pool.submit(coded[name].take, column, index)
        elif is_arrow_string(column):
            pending[name] = pool.submit(_take, column, index)
        else:
            result[name] = _take(column, index)
    result.update((name, future.result()) for name, future in pending.items())
    return {name: result[name] for name in columns}


def _take(column: pd.Series, index: np.ndarray) -> pd.Series:
    return column.take(index).reset_index(drop=True)
