"""Plan files: an epoch's plan table saved as CSV or Parquet and read back with its tuples, dtypes and settings.

Both formats hold the table of ``DataGenerator.plan(epoch)`` (one row per slot: place, sample
columns, every action parameter) and a JSON header: the format version, each column's kind and
the generator's settings. A column's kind is its dtype (``int64``, ``float32``, ``bool``, ``str``,
...), ``text`` for Python strings, or ``literal`` for any other values (tuples such as
``category``, None, mixed types), which the file holds as Python literals (``('good',)``). The
header lists the rows where a typed text column is missing (written as "").

- CSV (any other suffix; ``.gz`` and the other fsspec compressions apply): the first line is
  ``# brevetti-plan <json header>``, then the table as pandas writes it;
  ``pandas.read_csv(path, skiprows=1)`` reads the raw values.
- Parquet (``.parquet``/``.pq``, needs pyarrow): the same table, with the header in the
  schema metadata under ``brevetti-plan``.

``load_plan`` restores every column's values and dtype, and puts the header in
``table.attrs["brevetti-plan"]``. It also reads a plain ``plan.to_csv()``, parsing the columns
whose every value is a tuple literal.
"""
from __future__ import annotations

import ast
import json
import os
from collections.abc import Mapping
from typing import Any

import fsspec
import numpy as np
import pandas as pd

VERSION = 1
MARK = "# brevetti-plan "
METADATA_KEY = "brevetti-plan"
_SPECIAL = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}

PlanPath = str | os.PathLike


def is_parquet(path: PlanPath) -> bool:
    """Whether `path` names a Parquet plan file (by its suffix)."""
    return os.fspath(path).lower().endswith((".parquet", ".pq"))


def _literal(value: Any, column: str) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return repr(value)
    text = repr(value)
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ValueError(f"plan column {column!r} holds a {type(value).__name__} value ({text[:60]}) that a plan "
                         f"file cannot store; plan files hold numbers, strings, bools, None and tuples/lists of "
                         f"them") from None
    return text


def _from_literal(text: Any) -> Any:
    return _SPECIAL[text] if text in _SPECIAL else ast.literal_eval(text)


def column_kind(values: pd.Series) -> str:
    """How a plan file holds a column: its dtype name, "text" for Python strings, "literal" for other Python values."""
    if values.dtype != object:
        return str(values.dtype)
    return "text" if all(isinstance(value, str) for value in values) else "literal"


def encode(table: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str], dict[str, list[int]]]:
    """The table with its literal columns as text, each column's kind, and the missing rows of typed text columns.

    Missing floats are written as ``nan``; a missing value in any other typed column (pandas' str
    dtype) is written as "" and listed by row, so it cannot be mistaken for a string.
    """
    kinds = {str(column): column_kind(table[column]) for column in table.columns}
    encoded, missing = table.copy(), {}
    for column, kind in kinds.items():
        values = table[column]
        if kind == "literal":
            encoded[column] = [_literal(value, column) for value in values]
        elif kind != "text" and values.dtype.kind != "f" and values.isna().any():
            missing[column] = np.flatnonzero(values.isna()).tolist()
            encoded[column] = values.fillna("")
    return encoded, kinds, missing


def decode(table: pd.DataFrame, kinds: Mapping[str, str], missing: Mapping[str, list[int]]) -> pd.DataFrame:
    """The table with each column restored to its kind and its missing values (as read back from text or Parquet)."""
    decoded = table.copy()
    for column, kind in kinds.items():
        values = table[column]
        if kind == "literal":
            decoded[column] = pd.Series([_from_literal(value) for value in values], index=table.index, dtype=object)
        elif kind == "text":
            decoded[column] = values.astype(object)
        elif kind == "bool" and values.dtype != bool:
            decoded[column] = values.map({"True": True, "False": False}).astype(bool)
        else:
            decoded[column] = values.astype(pd.api.types.pandas_dtype(kind))
        if column in missing:
            decoded.loc[decoded.index[missing[column]], column] = np.nan
    return decoded


def save_plan(table: pd.DataFrame, path: PlanPath, settings: Mapping[str, Any]) -> None:
    """Write a plan table and the `settings` it was made with to `path` (CSV, or Parquet by suffix)."""
    encoded, kinds, missing = encode(table)
    header = {"version": VERSION, "columns": kinds, "missing": missing, "settings": dict(settings)}
    if is_parquet(path):
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrow = pa.Table.from_pandas(encoded, preserve_index=False)
        arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}),
                                               METADATA_KEY.encode(): json.dumps(header).encode()})
        with fsspec.open(os.fspath(path), "wb") as file:
            pq.write_table(arrow, file)
        return
    with fsspec.open(os.fspath(path), "w", compression="infer", newline="") as file:
        file.write(MARK + json.dumps(header) + "\n")
        encoded.to_csv(file, index=False, na_rep="nan")


def load_plan(path: PlanPath) -> pd.DataFrame:
    """The plan table in `path` with its values and dtypes restored; its header in ``attrs["brevetti-plan"]``.

    A CSV without a header (a plain ``plan.to_csv()``) is read with pandas, and its columns of
    tuple literals are parsed back into tuples.
    """
    if is_parquet(path):
        import pyarrow.parquet as pq

        with fsspec.open(os.fspath(path), "rb") as file:
            arrow = pq.read_table(file)
        metadata = (arrow.schema.metadata or {}).get(METADATA_KEY.encode())
        if metadata is None:
            raise ValueError(f"{os.fspath(path)!r} is a Parquet file without a brevetti plan header")
        header = json.loads(metadata)
        table = arrow.to_pandas()
    else:
        with fsspec.open(os.fspath(path), "r", compression="infer", newline="") as file:
            first = file.readline()
            if not first.startswith(MARK):
                file.seek(0)
                return parse_tuple_columns(pd.read_csv(file))
            header = json.loads(first[len(MARK):])
            table = pd.read_csv(file, dtype=str, keep_default_na=False)
    if header.get("version") != VERSION:
        raise ValueError(f"{os.fspath(path)!r} is a plan file of version {header.get('version')!r}; "
                         f"this brevetti reads version {VERSION}")
    table = decode(table, header["columns"], header["missing"])
    table.attrs[METADATA_KEY] = header
    return table


def _tuple_literal(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("(") and value.endswith(")")


def parse_tuple_columns(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with each text column whose every value is a tuple literal (``"('good',)"``) parsed into tuples."""
    parsed = table.copy()
    for column in table.columns:
        values = table[column]
        textual = values.dtype == object or pd.api.types.is_string_dtype(values.dtype)
        if not textual or not len(values) or not all(_tuple_literal(value) for value in values):
            continue
        try:
            tuples = [ast.literal_eval(value) for value in values]
        except (ValueError, SyntaxError):
            continue
        if all(isinstance(value, tuple) for value in tuples):
            parsed[column] = pd.Series(tuples, index=table.index, dtype=object)
    return parsed
