"""Train / devel / test splits that keep duplicates and physical items together, stratified and cached.

A *unit* is the set of samples sharing a uniqueness key (by default the content hash `etag`,
so byte-identical files are one unit); a unit always gets one purpose. Keys are columns or a
regex on `path` whose first group names the item (e.g. ``r"/(\\d*)_\\d*.bmp"`` for several
shots of one vial). The split can be cached in an *id file*, a CSV of the key columns then the
purpose column, so later runs keep devel as devel when data is added.
"""
from __future__ import annotations

import io as _io
import json
import logging
import os
import re
from itertools import repeat
from typing import Literal

import mmh3
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from .io_tools import IoTools, io_tools
from .rng import generator, resolve_seed

log = logging.getLogger(__name__)

UNIQUE_ID = "unique_id"
"""Key column (in the table and the id file) when uniqueness is a regex: the captured group."""
PURPOSE_PRIORITY = {"train": 0, "devel": 1, "development": 1, "test": 2}
"""Which purpose a unit keeps when its samples disagree: train over devel over test over anything else."""
MODE_SORTED_PERMUTATION = "sorted_permutation"
MODE_HASH = "hash"
_MODE_ALIASES = {"murmurhash3": MODE_HASH}
_SPLIT_STREAM = 3


class SampleSplit(BaseModel):
    """Assign a purpose (train/devel/test) to a fraction `split` of the unassigned samples of each stratum.

    `stratification` and `uniqueness` are lists of columns or a regex on `path` (first group);
    uniqueness defaults to ``["etag"]``. Samples that already have a purpose keep it; a unit
    whose samples disagree takes the highest priority (train, devel, test, other). A unit that
    spans several strata counts in the first of them (by stratum value). The result never
    depends on the row order.

    Modes:
    - ``"sorted_permutation"`` (default): per stratum, the units are ordered by a seeded hash of
      their key and the order is cut at ``split`` of the stratum's samples (minus those already
      holding the purpose), with randomised rounding at the boundary unit. Choose it for exact
      fractions on a fixed dataset. Adding items moves the cut, so items near it can change
      purpose: for a growing dataset use it through `update_unassigned` and its id file.
    - ``"hash"`` (alias ``"murmurhash3"``): a unit gets the purpose when the murmurhash3 of its key,
      salted from (seed, purpose), is below ``split * 2**32``. An item's assignment never depends
      on the other items, so a growing dataset never moves an item between train and devel;
      fractions are only approximate (binomial) and strata are balanced only on average.

    ``seed=-1`` or None draws a seed from the OS once (logged and recorded, see `seed_used`).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    stratification: list[str] | str | None = Field(None, description="Columns, or a regex on path, defining strata")
    uniqueness: list[str] | str | None = Field(None, description="Columns, or a regex on path, identifying one item")
    split: float = Field(0.8, ge=0.0, le=1.0, description="Fraction of each stratum given the purpose")
    seed: int | None = Field(-1, description="Random seed; -1 or None draws one from the OS")
    mode: Literal["sorted_permutation", "hash"] = Field(MODE_SORTED_PERMUTATION, description="Assignment method")
    _seed_used: int | None = PrivateAttr(None)

    def __init__(self, stratification: list[str] | str | None = None, uniqueness: list[str] | str | None = None,
                 split: float = 0.8, seed: int | None = -1, mode: str = MODE_SORTED_PERMUTATION, **data):
        super().__init__(stratification=stratification, uniqueness=uniqueness, split=split, seed=seed, mode=mode,
                         **data)

    @field_validator("mode", mode="before")
    @classmethod
    def _mode_alias(cls, value):
        return _MODE_ALIASES.get(value, value)

    @field_validator("stratification", "uniqueness", mode="before")
    @classmethod
    def _json_list(cls, value):
        if isinstance(value, str) and value.lstrip().startswith("["):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                pass  # not JSON after all: a regex starting with '['
        if isinstance(value, str):
            try:
                pattern = re.compile(value)
            except re.error as error:
                raise ValueError(f"not a valid regex: {value!r} ({error})") from None
            if pattern.groups < 1:
                raise ValueError(f"regex {value!r} needs a capture group: its first group is the key")
        return value

    @property
    def seed_used(self) -> int:
        """The seed actually used: `seed`, or the one drawn from the OS on first use."""
        if self._seed_used is None:
            seed = None if self.seed is None or self.seed < 0 else self.seed
            self._seed_used = resolve_seed(seed, "SampleSplit")
        return self._seed_used

    # -- keys ----------------------------------------------------------------------------------
    def unique_keys(self, df: pd.DataFrame) -> pd.DataFrame:
        """The uniqueness key of each row as string columns (`etag`, the listed columns, or `unique_id`)."""
        return self._raw_keys(df).astype("str")

    def _raw_keys(self, df: pd.DataFrame) -> pd.DataFrame:
        spec = ["etag"] if self.uniqueness is None else self.uniqueness
        if isinstance(spec, str):
            paths = _column(df, "path", "uniqueness")
            keys = _first_group(paths, spec)
            unmatched = keys.isna()
            if unmatched.any():
                log.warning("%d paths do not match the uniqueness regex %r; each is its own item, e.g. %s",
                            unmatched.sum(), spec, paths[unmatched].iloc[0])
                keys = keys.where(~unmatched, paths)
            return pd.DataFrame({UNIQUE_ID: keys}, index=df.index)
        return pd.DataFrame({c: _column(df, c, "uniqueness") for c in spec}, index=df.index)

    def strata(self, df: pd.DataFrame) -> np.ndarray:
        """The stratum number of each row (all 0 without stratification); unmatched regex rows form one stratum."""
        spec = self.stratification
        if not spec:
            return np.zeros(len(df), dtype=np.int64)
        if isinstance(spec, str):
            frame = _first_group(_column(df, "path", "stratification"), spec).to_frame()
        else:
            frame = pd.DataFrame({c: _column(df, c, "stratification") for c in spec}, index=df.index)
        return frame.groupby(list(frame.columns), sort=True, dropna=False).ngroup().to_numpy()

    # -- assignment ----------------------------------------------------------------------------
    def assign(self, df: pd.DataFrame, purpose: str = "train", remainder: str | None = None,
               column: str = "purpose") -> pd.DataFrame:
        """A copy of `df` where `split` of the unassigned samples per stratum have `column` = `purpose`.

        Every other still-unassigned sample gets `remainder` when it is given. Row order and index
        are kept, and the result does not depend on the row order.
        """
        keys, strata = self._raw_keys(df), self.strata(df)
        out = df.copy()
        if column not in out.columns:
            out[column] = pd.Series(np.nan, index=out.index, dtype="str")
        if out.empty:
            return out
        unit, first_row = _units(keys)
        unit_purpose = _unit_purposes(out[column], unit)
        free = pd.isna(unit_purpose)
        if self.split > 0 and free.any():
            size = np.bincount(unit)
            if self.split >= 1:
                chosen = free
            else:
                chosen = free.copy()
                key_text = _joined(keys.iloc[first_row[free]])
                if self.mode == MODE_HASH:
                    chosen[free] = self._hash(key_text, f"hash:{purpose}") < self.split * 2.0**32
                else:
                    unit_stratum = pd.Series(strata).groupby(unit).min().to_numpy()
                    chosen[free] = self._sorted_permutation(key_text, size[free], unit_stratum[free],
                                                            size, unit_stratum, unit_purpose == purpose, purpose)
            unit_purpose[chosen] = purpose
            log.info("SampleSplit (%s, seed=%d) gave %d of %d samples the purpose '%s'", self.mode, self.seed_used,
                     int(size[chosen].sum()), len(out), purpose)
        purposes = pd.Series(unit_purpose[unit], index=out.index, dtype="str")
        if remainder:
            purposes = purposes.fillna(remainder)
        out[column] = purposes
        return out

    def _sorted_permutation(self, key_text: list[str], sizes: np.ndarray, strata: np.ndarray, all_sizes: np.ndarray,
                            all_strata: np.ndarray, has_purpose: np.ndarray, purpose: str) -> np.ndarray:
        """Which free units to take: per stratum, a seeded order of the units cut at the target count."""
        n_strata = int(all_strata.max()) + 1
        total = np.bincount(all_strata, weights=all_sizes, minlength=n_strata)
        held = np.bincount(all_strata, weights=all_sizes * has_purpose, minlength=n_strata)
        target = np.maximum(total * self.split - held, 0.0)
        # The order is a seeded 64-bit hash of each unit's key, not a draw per unit: it depends only
        # on the seed and the key, so row order and unit numbering cannot change the split.
        high, low = self._hash(key_text, f"order-high:{purpose}"), self._hash(key_text, f"order-low:{purpose}")
        rank = (high << np.uint64(32)) | low
        order = np.lexsort((rank, strata))
        sizes, strata = sizes[order], strata[order]
        per_stratum = np.bincount(strata, weights=sizes, minlength=n_strata)
        # Cumulative sample counts restarted at each stratum (strata are contiguous after the sort).
        upto = np.cumsum(sizes) - (np.cumsum(per_stratum) - per_stratum)[strata]
        before = upto - sizes
        wanted = target[strata]
        # Randomised rounding: the unit straddling the target is taken with the fraction it fits,
        # so the expected count is exact and small strata are not biased down.
        boundary_draw = generator(self.seed_used, _SPLIT_STREAM, 0, f"SampleSplit:boundary:{purpose}").random(n_strata)
        straddles = (before < wanted) & (upto > wanted)
        take = (upto <= wanted) | (straddles & (boundary_draw[strata] * sizes < wanted - before))
        chosen = np.zeros(len(order), dtype=bool)
        chosen[order[take]] = True
        return chosen

    def _hash(self, key_text: list[str], name: str) -> np.ndarray:
        """The 32-bit murmurhash3 of each key, salted from (seed, name) only (uint64 array)."""
        salt = int(generator(self.seed_used, _SPLIT_STREAM, 0, f"SampleSplit:{name}").integers(2**32))
        return np.fromiter(map(mmh3.hash, key_text, repeat(salt), repeat(False)), dtype=np.uint64, count=len(key_text))

    # -- cached split --------------------------------------------------------------------------
    def update_unassigned(self, df: pd.DataFrame, id_path: str | os.PathLike, purpose: str = "train",
                          remainder: str = "devel", column: str = "purpose", io: IoTools = io_tools) -> pd.DataFrame:
        """Reuse the split stored at `id_path` for known items, assign the rest, and rewrite the file.

        Purposes already in `df` win over the file; the file is then rewritten (atomically) with the
        union of the current items and the items it held that are no longer present.
        """
        log.info("Looking for previous train / development split")
        keys = self.unique_keys(df)
        out = df.copy()
        if column not in out.columns:
            out[column] = pd.Series(np.nan, index=out.index, dtype="str")
        key_columns = list(keys.columns)
        previous = pd.DataFrame(columns=[*key_columns, column])
        if io.exists(id_path):
            previous = read_id_file(id_path, key_columns, column, io)
            log.info("Using train / development split from run cached in artifacts")
            known = keys.merge(previous, how="left", on=key_columns)[column]
            out[column] = out[column].astype("str").fillna(pd.Series(known.to_numpy(), index=out.index, dtype="str"))
        else:
            log.info("No previous split at %s: making a new one", id_path)
        out = self.assign(out, purpose=purpose, remainder=remainder, column=column)
        current = keys.assign(**{column: out[column]})
        gone = previous[~_rows_in(previous[key_columns], keys)]
        write_id_file(id_path, pd.concat([current, gone], ignore_index=True), key_columns, column, io)
        return out


def _column(df: pd.DataFrame, name: str, role: str) -> pd.Series:
    if name not in df.columns:
        raise ValueError(f"SampleSplit {role} column {name!r} is not in the samples; columns are {list(df.columns)}")
    return df[name]


def _first_group(paths: pd.Series, pattern: str) -> pd.Series:
    """The first capture group of `pattern` in each path (NaN where it does not match)."""
    # expand=False is several times faster than expand=True on string columns.
    found = paths.str.extract(pattern, expand=False)
    return found.iloc[:, 0] if isinstance(found, pd.DataFrame) else found


def _units(keys: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The unit number of each row and the first row of each unit (units numbered by first appearance)."""
    if keys.shape[1] == 1:
        unit, _ = pd.factorize(keys.iloc[:, 0], use_na_sentinel=False)
    else:
        unit = keys.groupby(list(keys.columns), sort=False, dropna=False).ngroup().to_numpy()
    # Numbered by first appearance, so the running maximum steps up exactly at each unit's first row.
    first_row = np.flatnonzero(np.diff(np.maximum.accumulate(unit), prepend=-1) > 0)
    return unit, first_row


def _joined(keys: pd.DataFrame) -> list[str]:
    """Each row's key as one string: the values joined with '_'."""
    text = keys.iloc[:, 0].astype("str")
    for name in keys.columns[1:]:
        text = text + "_" + keys[name].astype("str")
    return text.tolist()


def _priority_order(purposes: pd.Index) -> np.ndarray:
    """Rank of each distinct purpose: PURPOSE_PRIORITY first, then other names alphabetically."""
    ranked = sorted(range(len(purposes)), key=lambda i: (PURPOSE_PRIORITY.get(purposes[i], len(PURPOSE_PRIORITY)),
                                                         str(purposes[i])))
    rank = np.empty(len(purposes), dtype=np.int64)
    rank[ranked] = np.arange(len(purposes))
    return rank


def _unit_purposes(purposes: pd.Series, unit: np.ndarray) -> np.ndarray:
    """The purpose of each unit (object array, NaN if none): its samples' highest-priority purpose."""
    codes, names = pd.factorize(purposes)
    n_units = int(unit.max()) + 1
    result = np.full(n_units, np.nan, dtype=object)
    assigned = codes >= 0
    if assigned.any():
        rank = _priority_order(names)
        best = pd.Series(rank[codes[assigned]]).groupby(unit[assigned]).min()
        by_rank = np.empty(len(names), dtype=object)
        by_rank[rank] = names.to_numpy(dtype=object)
        result[best.index.to_numpy()] = by_rank[best.to_numpy()]
    return result


def _rows_in(rows: pd.DataFrame, table: pd.DataFrame) -> np.ndarray:
    """True for each row of `rows` whose key also occurs in `table` (same columns)."""
    if rows.empty:
        return np.zeros(0, dtype=bool)
    return pd.MultiIndex.from_frame(rows).isin(pd.MultiIndex.from_frame(table[list(rows.columns)]))


def read_id_file(path: str | os.PathLike, key_columns: list[str], column: str = "purpose",
                 io: IoTools = io_tools) -> pd.DataFrame:
    """The (key columns, purpose) table stored at `path`, one row per key; ValueError naming the line if malformed."""
    text = io.read_file(path)
    try:
        table = pd.read_csv(_io.BytesIO(text), dtype="str", keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        raise ValueError(f"split id file {path}, line 1: the file is empty; delete it to make a new split") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ValueError(f"split id file {path} is malformed ({str(error).strip()}); "
                         "fix or delete it to make a new split") from None
    missing = [c for c in [*key_columns, column] if c not in table.columns]
    if missing:
        raise ValueError(f"split id file {path}, line 1: header {list(table.columns)} lacks {missing} "
                         f"(expected {[*key_columns, column]}); the split's uniqueness setting may have changed")
    blank = table[key_columns].isna().any(axis=1).to_numpy()
    if blank.any():
        line = int(np.flatnonzero(blank)[0]) + 2
        raise ValueError(f"split id file {path}, line {line}: empty key {key_columns}")
    table = table[[*key_columns, column]]
    return _one_row_per_key(table, key_columns, column)


def _one_row_per_key(table: pd.DataFrame, key_columns: list[str], column: str) -> pd.DataFrame:
    """`table` sorted by key, keeping for each key its highest-priority purpose."""
    codes, names = pd.factorize(table[column])
    rank = np.where(codes >= 0, _priority_order(names)[np.maximum(codes, 0)], len(names))
    ordered = table.assign(_rank=rank).sort_values([*key_columns, "_rank"], kind="stable")
    return ordered[~ordered.duplicated(key_columns, keep="first")].drop(columns="_rank").reset_index(drop=True)


def write_id_file(path: str | os.PathLike, table: pd.DataFrame, key_columns: list[str], column: str = "purpose",
                  io: IoTools = io_tools) -> None:
    """Write the (key columns, purpose) table to `path` atomically, one row per key, sorted by key."""
    table = _one_row_per_key(table[[*key_columns, column]], key_columns, column)
    io.write_file(path, table.to_csv(index=False))
