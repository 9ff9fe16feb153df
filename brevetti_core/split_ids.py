"""The split's id file: a CSV of each item's uniqueness key and purpose, read strictly and written canonically.

Format: a header, then one line per item: the key columns (``etag`` by default, ``unique_id`` for a
uniqueness regex, or the uniqueness columns), the purpose column, then any extra columns a user
added (kept on every rewrite, in the file's own column order). Lines are sorted by key, one per
key; an empty purpose leaves the item unassigned. brevettiai's ``save_sample_identification`` writes
the same format.

Reading refuses a damaged file with an error naming the file and the line: a line with too few or
too many fields (e.g. one cut short), an empty key, or a purpose that is neither a standard one
(`STANDARD_PURPOSES`) nor one the caller uses, such as a mistyped ``trian``.
"""
from __future__ import annotations

import csv
import difflib
import hashlib
import io as _io
import logging
import os

import numpy as np
import pandas as pd

from .io_tools import IoTools, io_tools

log = logging.getLogger(__name__)

PURPOSE_PRIORITY = {"train": 0, "devel": 1, "development": 1, "test": 2}
"""Which purpose a unit keeps when its samples disagree: train over devel over test over anything else."""
STANDARD_PURPOSES = frozenset(PURPOSE_PRIORITY)
"""Purposes every id file may hold; others only when the caller assigns or already uses them."""


def priority_order(purposes: pd.Index) -> np.ndarray:
    """Rank of each distinct purpose: PURPOSE_PRIORITY first, then other names alphabetically."""
    names = [str(name) for name in purposes]
    ranked = sorted(range(len(names)), key=lambda i: (PURPOSE_PRIORITY.get(names[i], len(PURPOSE_PRIORITY)), names[i]))
    rank = np.empty(len(purposes), dtype=np.int64)
    rank[ranked] = np.arange(len(purposes))
    return rank


def read_id_file(path: str | os.PathLike, key_columns: list[str], column: str = "purpose",
                 io: IoTools = io_tools, purposes: frozenset[str] | set[str] = STANDARD_PURPOSES) -> pd.DataFrame:
    """The table stored at `path` (all columns, as strings), one row per key; ValueError naming the line if damaged."""
    return parse_id_file(io.read_file(path, cache=False), path, key_columns, column, purposes)


def parse_id_file(content: bytes, path: str | os.PathLike, key_columns: list[str], column: str = "purpose",
                  purposes: frozenset[str] | set[str] = STANDARD_PURPOSES) -> pd.DataFrame:
    """The id table in `content` (read from `path`), one row per key; ValueError naming the file and line if damaged."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        line = content[:error.start].count(b"\n") + 1
        raise ValueError(f"split id file {path}, line {line}: not UTF-8 text; fix or delete the file") from None
    try:
        rows = [row for row in csv.reader(_io.StringIO(text, newline="")) if row]
    except csv.Error as error:
        raise ValueError(f"split id file {path}: {error}; fix or delete the file") from None
    if not rows:
        raise ValueError(f"split id file {path}, line 1: the file is empty; delete it to make a new split")
    header, rows = rows[0], rows[1:]
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise ValueError(f"split id file {path}, line 1: header {header} names {repeated} more than once; "
                         "fix or delete the file")
    missing = [c for c in [*key_columns, column] if c not in header]
    if missing:
        raise ValueError(f"split id file {path}, line 1: header {header} lacks {missing} "
                         f"(expected {[*key_columns, column]}); the split's uniqueness setting may have changed")
    wrong = [i for i, row in enumerate(rows) if len(row) != len(header)]
    if wrong:
        row = rows[wrong[0]]
        cut = " (cut short?)" if len(row) < len(header) else ""
        fields = f"{len(row)} field" + ("" if len(row) == 1 else "s")
        raise ValueError(f"{_where(path, text, wrong[0])}: {fields}{cut} where the header "
                         f"{header} has {len(header)}: {','.join(row)!r}; fix or delete the line")
    table = pd.DataFrame(rows, columns=header, dtype="str").replace("", np.nan)
    _check_keys_and_purposes(table, path, text, key_columns, column, purposes)
    return one_row_per_key(table, key_columns, column)


def _check_keys_and_purposes(table: pd.DataFrame, path, text: str, key_columns: list[str], column: str,
                             purposes) -> None:
    blank = table[key_columns].isna().any(axis=1).to_numpy()
    if blank.any():
        raise ValueError(f"{_where(path, text, int(np.flatnonzero(blank)[0]))}: empty key {key_columns}")
    unknown = (table[column].notna() & ~table[column].isin(purposes)).to_numpy()
    if unknown.any():
        row = int(np.flatnonzero(unknown)[0])
        name = table[column].iloc[row]
        close = difflib.get_close_matches(name, sorted(purposes), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        cut = " (the last line has no line end: was the file cut short?)" \
            if row == len(table) - 1 and not text.endswith(("\n", "\r")) else ""
        raise ValueError(f"{_where(path, text, row)}: unknown purpose {name!r}{cut}; known purposes are "
                         f"{sorted(purposes)}{hint}")


def _where(path, text: str, row: int) -> str:
    """'split id file <path>, line <n>' for data row `row` (0-based, blank lines skipped)."""
    reader = csv.reader(_io.StringIO(text, newline=""))
    seen = -1  # the header is row -1
    for fields in reader:
        if fields:
            if seen == row:
                return f"split id file {path}, line {reader.line_num}"
            seen += 1
    return f"split id file {path}"


def one_row_per_key(table: pd.DataFrame, key_columns: list[str], column: str) -> pd.DataFrame:
    """`table` sorted by key, keeping for each key the row with its highest-priority purpose."""
    codes, names = pd.factorize(table[column])
    rank = np.where(codes >= 0, priority_order(names)[np.maximum(codes, 0)], len(names))
    ordered = table.assign(_rank=rank).sort_values([*key_columns, "_rank"], kind="stable")
    return ordered[~ordered.duplicated(key_columns, keep="first")].drop(columns="_rank").reset_index(drop=True)


def format_id_file(table: pd.DataFrame, key_columns: list[str], column: str = "purpose",
                   columns: list[str] | None = None) -> bytes:
    """The id file content of `table`: `columns` (default keys then purpose) in order, one line per key, by key."""
    columns = columns or [*key_columns, column]
    return one_row_per_key(table[columns], key_columns, column).to_csv(index=False, lineterminator="\n").encode()


def rows_in(rows: pd.DataFrame, table: pd.DataFrame) -> np.ndarray:
    """True for each row of `rows` whose key also occurs in `table` (same columns)."""
    if rows.empty:
        return np.zeros(0, dtype=bool)
    return pd.MultiIndex.from_frame(rows).isin(pd.MultiIndex.from_frame(table[list(rows.columns)]))


def matching_ids(ids: pd.DataFrame, samples: pd.DataFrame, keys: pd.DataFrame, path: str | os.PathLike,
                 column: str = "purpose") -> pd.DataFrame:
    """`ids` (read from `path`) if any key is a sample's, else as mapped from sha1 path ids; else an error."""
    key_columns = list(keys.columns)
    if ids.empty or keys.empty or rows_in(ids[key_columns], keys).any():
        return ids
    if key_columns == ["etag"] and "path" in samples.columns:
        mapped, count = map_path_hashes(ids, samples, column)
        if count:
            log.warning("Split id file %s: none of its %d keys is a content etag of the samples, but %d are sha1 "
                        "hashes of sample paths (brevettiai 0.10's ids for local files listed with "
                        "calculate_md5=False): using those, and rewriting the file with content etags",
                        path, len(ids), count)
            return mapped
    raise no_match_error(path, ids, keys)


def path_hash(path: str) -> str:
    """The id brevettiai 0.10 gave a local file listed with calculate_md5=False: hex sha1 of its path's UTF-8."""
    return hashlib.sha1(path.encode("utf-8")).hexdigest()


def map_path_hashes(ids: pd.DataFrame, samples: pd.DataFrame, column: str) -> tuple[pd.DataFrame, int]:
    """`ids` with each key that is the path hash of a sample replaced by that sample's etag, and how many were."""
    hashes = pd.DataFrame({"etag": samples["path"].astype("str").map(path_hash),
                           "_content": samples["etag"].astype("str")}).drop_duplicates("etag")
    merged = ids.merge(hashes, on="etag", how="left")
    found = merged["_content"].notna()
    merged.loc[found, "etag"] = merged.loc[found, "_content"]
    return one_row_per_key(merged.drop(columns="_content"), ["etag"], column), int(found.sum())


def no_match_error(path: str | os.PathLike, ids: pd.DataFrame, keys: pd.DataFrame) -> ValueError:
    """The error for an id file none of whose keys is a key of the samples, with the likely cause."""
    key_columns = list(keys.columns)
    theirs, ours = ids[key_columns].iloc[0].tolist(), keys.iloc[0].tolist()
    if key_columns == ["etag"] and ids["etag"].str.fullmatch(r"[0-9a-f]{40}").all():
        cause = ("its keys look like sha1 hashes of file paths, which brevettiai 0.10 wrote for local files listed "
                 "with calculate_md5=False, and no sample path hashes to one: the dataset was probably listed "
                 "from another folder than when the file was written")
    elif key_columns == ["etag"]:
        cause = ("it was probably written for another dataset, or the files' etags were computed another way "
                 "(e.g. S3 multipart ETags instead of content MD5)")
    else:
        cause = "it was probably written for another dataset or with another uniqueness setting"
    return ValueError(f"split id file {path}: none of its {len(ids)} keys {key_columns} matches any of the "
                      f"{len(keys)} samples (file: {theirs}, samples: {ours}); {cause}. Refusing to draw a new split "
                      "over it: delete the file or give another id path to start a new split")
