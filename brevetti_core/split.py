"""Train / devel / test splits that keep duplicates and physical items together, stratified and cached.

A *unit* is the set of samples sharing a uniqueness key (by default the content hash `etag`,
so byte-identical files are one unit); a unit always gets one purpose. Keys are columns or a
regex whose first group names the item (e.g. ``r"/(\\d*)_\\d*.bmp"`` for several shots of one vial).

Regexes (uniqueness and stratification) are matched against each path *within its dataset*
(``/<folders>/<file>``, the path less its ``bucket`` column), so a dataset copied to another folder
or bucket keeps its split; without a ``bucket`` column the whole path is used, and a uniqueness
regex that captures an absolute path there is an error. A uniqueness regex must match every path:
one matching none is an error, one matching only some is an error naming how many and three of
them, unless ``unmatched_uniqueness="etag"`` keys each unmatched sample by its content etag
(``etag:<etag>``, so byte-identical unmatched files still share a purpose).

The split can be cached in an *id file* (`update_unassigned`): a CSV of the key columns, the
purpose column and any extra columns a user added (format and checks in `split_ids`), so later runs
keep devel as devel when data is added. Several processes may update one id file at once: each
read-assign-write runs under a file lock locally and as an ETag-conditional PUT retried on conflict
on S3 (`file_update`), so the file ends with the union of their items, each with one purpose, the
purpose every process was given. An existing id file none of whose keys matches the samples is an
error, except when its keys are brevettiai 0.10's sha1 path hashes of the samples, which are mapped
to the samples and rewritten as content etags (logged first).
"""
from __future__ import annotations

import json
import logging
import os
import re
from itertools import repeat
from typing import ClassVar, Final, Literal

import mmh3
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from .file_update import update_file
from .io_tools import IoTools, io_tools
from .rng import generator, resolve_seed
from .split_ids import STANDARD_PURPOSES, format_id_file, matching_ids, parse_id_file, priority_order, rows_in

log = logging.getLogger(__name__)

UNIQUE_ID = "unique_id"
"""Key column (in the table and the id file) when uniqueness is a regex: the captured group."""
MODE_SORTED_PERMUTATION: Final = "sorted_permutation"
MODE_HASH: Final = "hash"
MODE_MURMURHASH3: Final = "murmurhash3"
_MODE_ALIASES = {MODE_MURMURHASH3: MODE_HASH}
ETAG_KEY_PREFIX = "etag:"
"""Prefix of the key of a sample the uniqueness regex does not match, with ``unmatched_uniqueness="etag"``."""
_ABSOLUTE = r"^(?:/|\\|[A-Za-z]:[\\/]|[A-Za-z][A-Za-z0-9+.-]*://)"
_SPLIT_STREAM = 3


class SampleSplit(BaseModel):
    """Assign a purpose (train/devel/test) to a fraction `split` of the unassigned samples of each stratum.

    `stratification` and `uniqueness` are lists of columns or a regex on the path within the
    dataset (first group); uniqueness defaults to ``["etag"]``. `unmatched_uniqueness="etag"`
    keys samples a uniqueness regex does not match by their content etag instead of failing.
    Samples that already have a purpose keep it; a unit whose samples disagree takes the highest
    priority (train, devel, test, other). A unit that spans several strata counts in the first of
    them (by stratum value). The result never depends on the row order.

    Modes:
    - ``"sorted_permutation"`` (default): per stratum, the units are ordered by a seeded hash of
      their key and the order is cut at ``split`` of the stratum's samples (minus those already
      holding the purpose), with randomised rounding at the boundary unit. Choose it for exact
      fractions on a fixed dataset. Adding items moves the cut, so items near it can change
      purpose: for a growing dataset use it through `update_unassigned` and its id file.
    - ``"hash"`` (alias ``"murmurhash3"``, the reference's name): a unit gets the purpose when the
      murmurhash3 of its key, salted from (seed, purpose), is below ``split * 2**32``. An item's
      assignment never depends on the other items, so a growing dataset never moves an item between
      train and devel;
      fractions are only approximate (binomial) and strata are balanced only on average.

    ``seed=-1`` or None draws a seed from the OS once (logged and recorded, see `seed_used`).
    """

    MODE_SORTED_PERMUTATION: ClassVar[str] = MODE_SORTED_PERMUTATION
    MODE_MURMURHASH3: ClassVar[str] = MODE_MURMURHASH3
    MODE_HASH: ClassVar[str] = MODE_HASH
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    stratification: list[str] | str | None = Field(
        None, description="Columns, or a regex on the path within the dataset, defining strata")
    uniqueness: list[str] | str | None = Field(
        None, description="Columns, or a regex on the path within the dataset, naming one item")
    split: float = Field(0.8, ge=0.0, le=1.0, description="Fraction of each stratum given the purpose")
    seed: int | None = Field(-1, description="Random seed; -1 or None draws one from the OS")
    mode: Literal["sorted_permutation", "hash"] = Field("sorted_permutation", description="Assignment method")
    unmatched_uniqueness: Literal["error", "etag"] = Field(
        "error", description="Samples whose path the uniqueness regex does not match: 'error', or 'etag' to key "
                             "each by its content etag")
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
            return pd.DataFrame({UNIQUE_ID: self._regex_keys(df, spec)}, index=df.index)
        return pd.DataFrame({c: _column(df, c, "uniqueness") for c in spec}, index=df.index)

    def _regex_keys(self, df: pd.DataFrame, pattern: str) -> pd.Series:
        """The regex's first group in each path within its dataset (etag keys where unmatched, if allowed)."""
        paths, within = _dataset_paths(df, "uniqueness")
        keys = _first_group(paths, pattern)
        unmatched = keys.isna().to_numpy()
        if unmatched.all() and len(keys):
            raise ValueError(f"uniqueness regex {pattern!r} matches none of the {len(keys)} sample paths, e.g. "
                             f"{paths.iloc[0]!r} (paths are matched within their dataset, less the bucket)")
        if unmatched.any():
            examples = ", ".join(repr(p) for p in paths[unmatched].iloc[:3])
            if self.unmatched_uniqueness != "etag":
                raise ValueError(f"uniqueness regex {pattern!r} does not match {unmatched.sum()} of {len(keys)} "
                                 f"sample paths, e.g. {examples}; fix the regex, or set unmatched_uniqueness='etag' "
                                 "to key those samples by their content etag")
            log.info("%d of %d paths do not match the uniqueness regex %r (e.g. %s): keyed by their content etag",
                     unmatched.sum(), len(keys), pattern, examples)
            etags = ETAG_KEY_PREFIX + _column(df, "etag", "uniqueness").astype("str")
            keys = keys.where(~unmatched, etags)
        absolute = ~within & ~unmatched & keys.astype("str").str.match(_ABSOLUTE).to_numpy()
        if absolute.any():
            row = int(np.flatnonzero(absolute)[0])
            raise ValueError(f"uniqueness regex {pattern!r} captures an absolute path for {absolute.sum()} samples, "
                             f"e.g. {keys.iloc[row]!r} from {paths.iloc[row]!r}: the split would change when the "
                             "dataset moves; capture only the part naming the item, or give the samples a 'bucket' "
                             "column (their dataset's folder) so paths are matched within it")
        return keys

    def strata(self, df: pd.DataFrame) -> np.ndarray:
        """The stratum number of each row (all 0 without stratification); unmatched regex rows form one stratum."""
        spec = self.stratification
        if not spec:
            return np.zeros(len(df), dtype=np.int64)
        if isinstance(spec, str):
            frame = _first_group(_dataset_paths(df, "stratification")[0], spec).to_frame()
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

        Purposes already in `df` win over the file; the file is then rewritten (atomically, safe
        against other processes updating it at once) with the union of the current items and the
        items it held that are no longer present, keeping its extra columns.
        """
        log.info("Looking for previous train / development split")
        keys = self.unique_keys(df)
        key_columns = list(keys.columns)
        given = set(df[column].dropna()) if column in df.columns else set()
        purposes = STANDARD_PURPOSES | given | {p for p in (purpose, remainder) if p}
        answer: list[pd.DataFrame] = []

        def merge(content: bytes | None) -> bytes:
            # May run again on newer content (S3 conflicts): everything is derived from `content`.
            if content is None:
                log.info("No previous split at %s: making a new one", id_path)
                previous, columns = pd.DataFrame(columns=[*key_columns, column], dtype="str"), None
            else:
                previous = matching_ids(parse_id_file(content, id_path, key_columns, column, purposes),
                                        df, keys, id_path, column)
                columns = list(previous.columns)
                log.info("Using train / development split from run cached in artifacts")
            out = self._assign_with_ids(df, keys, previous, purpose, remainder, column)
            extra = [c for c in previous.columns if c not in (*key_columns, column)]
            current = keys.assign(**{column: out[column]})
            if extra:
                current = current.merge(previous[[*key_columns, *extra]], how="left", on=key_columns)
            gone = previous[~rows_in(previous[key_columns], keys)]
            answer[:] = [out]
            return format_id_file(pd.concat([current, gone], ignore_index=True), key_columns, column, columns)

        update_file(id_path, merge, io)
        return answer[0]

    def _assign_with_ids(self, df: pd.DataFrame, keys: pd.DataFrame, ids: pd.DataFrame, purpose: str,
                         remainder: str | None, column: str) -> pd.DataFrame:
        """`assign` after filling the purposes missing in `df` from the id table `ids`."""
        out = df.copy()
        if column not in out.columns:
            out[column] = pd.Series(np.nan, index=out.index, dtype="str")
        if len(ids):
            known = keys.merge(ids[[*keys.columns, column]], how="left", on=list(keys.columns))[column]
            out[column] = out[column].astype("str").fillna(pd.Series(known.to_numpy(), index=out.index, dtype="str"))
        return self.assign(out, purpose=purpose, remainder=remainder, column=column)


def _column(df: pd.DataFrame, name: str, role: str) -> pd.Series:
    if name not in df.columns:
        raise ValueError(f"SampleSplit {role} column {name!r} is not in the samples; columns are {list(df.columns)}")
    return df[name]


def _dataset_paths(df: pd.DataFrame, role: str) -> tuple[pd.Series, np.ndarray]:
    """Each path less its dataset's `bucket` ('/<folders>/<file>'), and which rows that applied to.

    Rows without a `bucket` column, or whose path lies outside their bucket, keep the whole path.
    """
    paths = _column(df, "path", role).astype("str")
    within = np.zeros(len(df), dtype=bool)
    if "bucket" not in df.columns:
        return paths, within
    relative = paths.copy()
    buckets = df["bucket"]
    for bucket in buckets.dropna().unique():
        root = str(bucket).rstrip("/\\")
        rows = ((buckets == bucket) & (paths.str.startswith(root + "/") | paths.str.startswith(root + "\\"))).to_numpy()
        relative[rows] = paths[rows].str.slice(len(root))
        within |= rows
    return relative, within


def _first_group(paths: pd.Series, pattern: str) -> pd.Series:
    """The first capture group of `pattern` in each path (NaN where it does not match)."""
    # expand=False is several times faster than expand=True on string columns.
    found = paths.str.extract(pattern, expand=False)
    return found.iloc[:, 0] if isinstance(found, pd.DataFrame) else found


def _units(keys: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The unit number of each row and the first row of each unit (units numbered by first appearance)."""
    unit: np.ndarray
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


def _unit_purposes(purposes: pd.Series, unit: np.ndarray) -> np.ndarray:
    """The purpose of each unit (object array, NaN if none): its samples' highest-priority purpose."""
    codes, names = pd.factorize(purposes)
    n_units = int(unit.max()) + 1
    result = np.full(n_units, np.nan, dtype=object)
    assigned = codes >= 0
    if assigned.any():
        rank = priority_order(names)
        best = pd.Series(rank[codes[assigned]]).groupby(unit[assigned]).min()
        by_rank = np.empty(len(names), dtype=object)
        by_rank[rank] = names.to_numpy(dtype=object)
        result[best.index.to_numpy()] = by_rank[best.to_numpy()]
    return result
