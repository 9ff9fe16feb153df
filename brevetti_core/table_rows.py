"""A sample table's rows by index as plain dicts: what every batch plan carries, without pandas per batch.

``table.iloc[index].to_dict("records")`` costs about a millisecond per batch of 32 (a DataFrame
built, then walked cell by cell), paid in the loader's main process for every batch. A
``RowReader`` reads each column's values once as an array (no copy for numpy and Arrow columns)
and gathers a batch by indexing them, giving exactly the records pandas gives: the same keys in
the same order, Python int/float/bool for numpy columns, Timestamps for datetimes, the stored
objects for object columns, the column's missing value for an absent string.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from pandas.core.dtypes.cast import maybe_box_native  # type: ignore[attr-defined]  # to_dict's own: exact types

from .table_take import arrow_strings, constant_columns, is_arrow_string

Gather = Callable[[np.ndarray], list]
"""The values of one column at some row numbers, as to_dict("records") gives them."""


class RowReader:
    """Rows of `table` by row number, each ``{column: value}`` exactly as ``to_dict("records")`` gives it."""

    def __init__(self, table: pd.DataFrame, constant: frozenset[Any] | None = None):
        """`constant`: the table's ``constant_columns`` when the caller knows them already."""
        self.columns = list(table.columns)
        constant = constant_columns(table) if constant is None else constant
        # By position: a duplicated name is several columns, the last one's value wins (as in pandas' records).
        self.gathers = [column_gather(table.iloc[:, position], name in constant)
                        for position, name in enumerate(self.columns)]

    def columns_at(self, index: np.ndarray) -> list[list]:
        """Each column's values at the row numbers `index`, column by column."""
        return [gather(index) for gather in self.gathers]

    def records(self, index: np.ndarray) -> list[dict]:
        """The rows at the row numbers `index`, as ``table.iloc[index].to_dict("records")`` gives them."""
        return [dict(zip(self.columns, values)) for values in zip(*self.columns_at(index))]


def column_gather(column: pd.Series, constant: bool = False) -> Gather:
    """A function giving `column`'s values at row numbers as Series iteration plus to_dict's boxing gives them.

    `constant`: the column holds one string in every row (``table_take.constant_columns``), so
    any row's value is the first row's.
    """
    dtype = column.dtype
    if constant:
        value = maybe_box_native(column.iloc[0])
        return lambda index: [value] * len(index)
    if isinstance(dtype, np.dtype) and dtype.kind not in "mMO":
        values = column.to_numpy()
        return lambda index: values[index].tolist()  # Python scalars, as Series iteration's item()
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        objects = column.to_numpy()
        return lambda index: [maybe_box_native(value) for value in objects[index]]
    if isinstance(dtype, pd.StringDtype) and is_arrow_string(column):
        strings = arrow_strings(column)
        missing = maybe_box_native(dtype.na_value)
        return lambda index: [missing if value is None else value for value in strings.take(index).to_pylist()]
    return _extension_gather(column.array, isinstance(dtype, pd.api.extensions.ExtensionDtype))


def _extension_gather(array: Any, box: bool) -> Gather:
    """Any other column (datetimes, categoricals, nullable numbers): its array's own take and iteration."""
    if box:
        return lambda index: [maybe_box_native(value) for value in array.take(index)]
    return lambda index: list(array.take(index))

