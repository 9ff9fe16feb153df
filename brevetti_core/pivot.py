"""Pivot tables of a sample table, in the files the platform's pivot viewer reads (reference interfaces/pivot.py).

``export_pivot_table`` writes ``summary_fields.json`` (which fields are rows, columns and free
fields, with their labels) and ``classification_summary.json`` (one record per combination of
field values: the fields, ``id``, ``count`` and any aggregated columns).

Multi-label cells (tuples, such as ``category``) are exploded into one record per label. ``id``
numbers the distinct combinations of field values *before* the explode, so a viewer counts
labels with ``count.sum()`` and unique samples with ``drop_duplicates("id")["count"].sum()``.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .io_tools import IoTools, io_tools, join
from .output import json_value

FIELDS_FILE = "summary_fields.json"
DATA_FILE = "classification_summary.json"
MISSING = "N/A"
DEFAULT_LABELS = {"category": "Category", "folder": "Folder", "dataset_id": "Dataset Id", "purpose": "Purpose"}

FieldSpec = str | Mapping[str, Any]


def get_default_fields(samples: pd.DataFrame) -> dict[str, FieldSpec]:
    """Default fields found in `samples`: category (with its sorted labels), folder, dataset_id, purpose."""
    fields: dict[str, FieldSpec] = {}
    for key, label in DEFAULT_LABELS.items():
        if key in samples.columns:
            fields[key] = {"label": label, "sort": labels_of(samples[key])} if key == "category" else label
    return fields


def labels_of(values: pd.Series) -> list[str]:
    """The sorted distinct labels of a column whose cells are labels or tuples of labels (NA as 'N/A')."""
    labels: set[Any] = set()
    for value in pd.unique(values.to_numpy(dtype=object)):
        labels.update(_tuple_or_value(value) if _is_multi(value) else (value,))
    return sorted({MISSING if _is_na(label) else str(label) for label in labels})


def pivot_fields(fields: Mapping[str, FieldSpec], rows: Sequence[str] | None = None,
                 cols: Sequence[str] | None = None) -> dict[str, list[dict]]:
    """`fields` as {"key", "label", ...} entries split into {"rowFields", "colFields", "fields"} (the rest).

    A field in both `rows` and `cols` is a row. Rows and columns keep the order given; a key that is
    not a field raises ValueError.
    """
    rows, cols = list(rows or ()), list(cols or ())
    unknown = [key for key in rows + cols if key not in fields]
    if unknown:
        raise ValueError(f"pivot rows/cols {unknown} are not among the fields {list(fields)}")
    entries = {key: {"key": key, **({"label": spec} if isinstance(spec, str) else {"label": key, **spec})}
               for key, spec in fields.items()}
    return {
        "rowFields": [entries[key] for key in dict.fromkeys(rows)],
        "colFields": [entries[key] for key in dict.fromkeys(cols) if key not in rows],
        "fields": [entry for key, entry in entries.items() if key not in rows and key not in cols],
    }


def join_tags(samples: pd.DataFrame, datasets: Iterable[Any] | None = None,
              tags: Mapping[str, Mapping[str, Any]] | None = None) -> tuple[pd.DataFrame, dict[str, str]]:
    """`samples` with one column per dataset tag, and {column: tag name} of the added columns.

    `tags` is {dataset: {tag name: value or list of values}}, a dataset named by its id or, when
    `datasets` are given, by its name (the local form of the platform's dataset tags). Columns are
    ``tag_<name>``; samples of untagged datasets get 'N/A'. Without tags `samples` is returned as is.
    """
    if not tags:
        return samples, {}
    if "dataset_id" not in samples.columns:
        raise KeyError(f"dataset tags need a 'dataset_id' column in the samples; columns: {list(samples.columns)}")
    ids = set(samples["dataset_id"].dropna().astype(str))
    by_name = {_attribute(d, "name"): _attribute(d, "id") for d in datasets or ()}
    records: dict[str, dict[str, Any]] = {}
    labels: dict[str, str] = {}
    for dataset, values in tags.items():
        dataset_id = dataset if dataset in ids else by_name.get(dataset)
        if dataset_id is None:
            raise ValueError(f"tags: {dataset!r} is neither a dataset_id in the samples {sorted(ids)} "
                             f"nor the name of one of the datasets {sorted(by_name)}")
        for name, value in values.items():
            column = "tag_" + re.sub(r"\W+", "_", str(name)).strip("_").lower()
            labels[column] = str(name)
            records.setdefault(dataset_id, {})[column] = _tuple_or_value(value) if _is_multi(value) else value
    table = pd.DataFrame.from_dict(records, orient="index").rename_axis("dataset_id").reset_index()
    joined = samples.drop(columns=[c for c in labels if c in samples.columns])
    joined = joined.merge(table, on="dataset_id", how="left", validate="many_to_one")
    return joined, labels


def pivot_data(samples: pd.DataFrame, fields: Iterable[str], datasets: Iterable[Any] | None = None,
               tags: Mapping[str, Mapping[str, Any]] | None = None,
               agg: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Counts per combination of `fields` values, multi-labels exploded: columns fields, id, count, aggregated columns.

    `agg` maps more columns to pandas aggregations (e.g. {"url": "first"}); `count` (1 per sample
    unless the table has a count column) is always summed. Tag columns (see `join_tags`) are added
    to the fields. NA values become 'N/A'.
    """
    table, tag_labels = join_tags(samples, datasets, tags)
    fields = list(dict.fromkeys([*fields, *tag_labels]))
    agg = {key: how for key, how in (agg or {}).items() if key != "count"}
    missing = [column for column in [*fields, *agg] if column not in table.columns]
    if missing:
        raise KeyError(f"pivot columns {missing} are not in the samples; columns: {list(table.columns)}")
    clashes = [column for column in agg if column in fields or column == "id"]
    if clashes:
        raise ValueError(f"pivot agg columns {clashes} are also fields (or 'id'); "
                         "a column is either grouped or aggregated")
    data = table[[*fields, *agg]].reset_index(drop=True)
    data = data.assign(count=table["count"].to_numpy() if "count" in table.columns else np.ones(len(table), np.int64))
    for column in fields:
        if isinstance(data[column].dtype, pd.CategoricalDtype):  # labels, not categories: NA -> 'N/A', unused gone
            data[column] = data[column].astype(object)
        if data[column].dtype == object:
            data[column] = _as_tuples(data[column])
        data[column] = data[column].fillna(MISSING) if data[column].hasnans else data[column]
    data["id"] = data.groupby(fields, sort=False, dropna=False).ngroup() if fields else 0
    for column in fields:
        if data[column].dtype == object:
            data = data.explode(column, ignore_index=True)
            data[column] = data[column].fillna(MISSING)  # an empty tuple explodes to NA
    grouped = data.groupby([*fields, "id"], sort=False, dropna=False).agg({"count": "sum", **agg}).reset_index()
    return grouped[[*fields, "id", "count", *agg]]


def export_pivot_table(pivot_dir: str, samples: pd.DataFrame, fields: Mapping[str, FieldSpec] | None = None,
                       datasets: Iterable[Any] | None = None, tags: Mapping[str, Mapping[str, Any]] | None = None,
                       rows: Sequence[str] | None = None, cols: Sequence[str] | None = None,
                       agg: Mapping[str, Any] | None = None, io: IoTools = io_tools) -> tuple[str, str]:
    """Write summary_fields.json and classification_summary.json to `pivot_dir`; returns their paths.

    `fields` defaults to `get_default_fields(samples)`; dataset tag columns are added as fields.
    """
    joined, tag_labels = join_tags(samples, datasets, tags)
    fields = {**(fields if fields is not None else get_default_fields(samples)), **tag_labels}
    layout = pivot_fields(fields, rows, cols)
    data = pivot_data(joined, list(fields), agg=agg)
    fields_path, data_path = join(pivot_dir, FIELDS_FILE), join(pivot_dir, DATA_FILE)
    io.write_file(fields_path, json.dumps(json_value(layout), indent=2))
    io.write_file(data_path, json.dumps(json_value(data.to_dict("records"))))
    return fields_path, data_path


def _as_tuples(column: pd.Series) -> pd.Series:
    """`column` with list, array and set cells as tuples, each distinct cell converted once."""
    try:
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
    except TypeError:  # unhashable cells (lists, arrays, sets) are converted one by one
        return column.map(_tuple_or_value)
    if not any(isinstance(value, frozenset) for value in uniques):
        return column
    converted = np.empty(len(uniques), dtype=object)
    for index, value in enumerate(uniques):  # item by item: numpy would make equal-length tuples a 2-D array
        converted[index] = _tuple_or_value(value)
    return pd.Series(converted[codes], index=column.index, name=column.name)


def _is_multi(value: Any) -> bool:
    return isinstance(value, (list, tuple, set, frozenset, np.ndarray))


def _tuple_or_value(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return tuple(sorted(value, key=str))
    return tuple(value) if isinstance(value, (list, tuple, np.ndarray)) else value


def _is_na(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


def _attribute(item: Any, name: str) -> str:
    return str(item[name] if isinstance(item, Mapping) else getattr(item, name))
