"""brevettiai's sample-identification calls: load, merge and save a split id file by hand.

`SampleSplit.update_unassigned` does all three in one step that is also safe against other processes
updating the file; these functions serve code written against brevettiai's ``sample_integrity``
module. The file is the split's id file (see ``split_ids``): read strictly, refused when none of its
keys matches a sample (brevettiai's ``sha1(path)`` ids are recognised and mapped), written canonically.
"""
from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd

from .io_tools import IoTools, io_tools
from .split_ids import STANDARD_PURPOSES, format_id_file, matching_ids, read_id_file


def _key_list(on: str | Sequence[str]) -> list[str]:
    return [on] if isinstance(on, str) else list(on)


def _key_index(frame: pd.DataFrame, keys: list[str]) -> pd.Index:
    text = frame[keys].astype("str")
    return pd.Index(text[keys[0]]) if len(keys) == 1 else pd.MultiIndex.from_frame(text)


def merge_sample_identification(df: pd.DataFrame, dfid: pd.DataFrame,
                                on: str | Sequence[str] = "etag") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(`df` with every non-missing value of `dfid` filled in by key `on`, the rows of `dfid` matching no sample).

    `dfid` is keyed by `on` as its index or as columns. Values missing in `dfid` leave `df` as it was;
    its other columns are added. Row order and index of `df` are kept.
    """
    keys = _key_list(on)
    ids = dfid.reset_index() if set(keys) <= set(dfid.index.names) else dfid
    for frame, name in ((df, "samples"), (ids, "id table")):
        missing = [k for k in keys if k not in frame.columns]
        if missing:
            raise KeyError(f"merge_sample_identification: the {name} lack the key columns {missing}; "
                           f"columns: {list(frame.columns)}")
    lookup = ids.set_index(_key_index(ids, keys)).drop(columns=keys)
    lookup = lookup[~lookup.index.duplicated(keep="first")]
    wanted = _key_index(df, keys)
    aligned = lookup.reindex(wanted)
    out = df.copy()
    for column in lookup.columns:
        values = pd.Series(aligned[column].to_numpy(), index=df.index)
        out[column] = values.where(values.notna(), out[column]) if column in out.columns else values
    return out, lookup[~lookup.index.isin(wanted)]


def load_sample_identification(df: pd.DataFrame, path: str | os.PathLike, column: str = "purpose",
                               uniqueness: Sequence[str] = ("etag",),
                               io: IoTools = io_tools) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(`df` with the purposes of the id file at `path`, the file's rows matching no sample); see `merge_...`.

    A file none of whose keys matches a sample is a ValueError naming it and the likely cause.
    """
    keys = list(uniqueness)
    purposes = STANDARD_PURPOSES | (set(df[column].dropna()) if column in df.columns else set())
    ids = matching_ids(read_id_file(path, keys, column, io, purposes), df, df[keys].astype("str"), path, column)
    return merge_sample_identification(df, ids, on=keys)


def save_sample_identification(df: pd.DataFrame, path: str | os.PathLike, known_ids: pd.DataFrame | None = None,
                               uniqueness: Sequence[str] = ("etag",), column: str = "purpose",
                               io: IoTools = io_tools) -> None:
    """Write the id file of `df` to `path`: one line per key with its highest-priority purpose, plus `known_ids`.

    `known_ids` (e.g. the second value of `load_sample_identification`) keeps items no longer listed.
    """
    keys = list(uniqueness)
    table = df[[*keys, column]]
    if known_ids is not None:
        known = known_ids.reset_index() if set(keys) <= set(known_ids.index.names) else known_ids
        table = pd.concat([table, known[[*keys, column]]], ignore_index=True)
    io.write_file(path, format_id_file(table.astype(dict.fromkeys(keys, "str")), keys, column))
