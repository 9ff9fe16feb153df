"""Groups for stratified sampling: which group each sample is in, and how often each group is drawn.

A table is grouped by one or more of its columns (``sampling_groupby``); a group's key is its
value, or a tuple of values for several columns. A weighing maps each group's sample count to a
relative weight. The presets are the reference's (``uniform``, ``count``, ``square root``,
``log``, ``logx+1``); a callable ``f(count)`` or ``f(count, group_key)`` is accepted too, numpy
ufuncs such as ``np.sqrt`` included.
Weights are normalised to sum to one; groups whose weight is zero (``log`` of a single-sample
group) are never drawn, except at the end of an unshuffled single epoch, which visits every sample.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import slots

Weighing = str | Callable[..., float]

PRESETS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "uniform": lambda count: np.ones(len(count)),
    "count": lambda count: count.astype(np.float64),
    "square root": np.sqrt,
    "log": np.log,
    "logx+1": lambda count: np.log(count) + 1.0,
}


def check_weighing(weighing: Weighing) -> Weighing:
    """`weighing` itself if it names a preset or is callable; ValueError listing the presets otherwise."""
    if callable(weighing) or (isinstance(weighing, str) and weighing in PRESETS):
        return weighing
    raise ValueError(f"unknown group weighing {weighing!r}; use one of {list(PRESETS)} or a callable f(count)")


def _takes_group_key(fn: Callable) -> bool:
    if isinstance(fn, np.ufunc):  # np.sqrt's signature lists `out` as a second positional parameter
        return fn.nin >= 2
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in parameters)


def group_weights(counts: np.ndarray, weighing: Weighing, keys: Sequence[Any] | None = None) -> np.ndarray:
    """Normalised float64 weights (summing to 1), one per group, from the groups' sample counts.

    A callable is called once per group (user functions are usually scalar code), with the
    group key as second argument when it accepts one.
    """
    counts = np.asarray(counts, dtype=np.int64)
    check_weighing(weighing)
    raw: np.ndarray | list[float]
    if isinstance(weighing, str):
        raw = PRESETS[weighing](counts)
    elif _takes_group_key(weighing):
        keys = list(keys) if keys is not None else list(range(len(counts)))
        raw = [weighing(int(c), k) for c, k in zip(counts, keys)]
    else:
        raw = [weighing(int(c)) for c in counts]
    weights = np.asarray(raw, dtype=np.float64).reshape(len(counts))
    name = weighing if isinstance(weighing, str) else getattr(weighing, "__qualname__", repr(weighing))
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError(f"group weighing {name!r} gave weights that are negative or not finite: {weights.tolist()}")
    total = weights.sum()
    if total <= 0:
        raise ValueError(f"group weighing {name!r} gave every group weight 0 (group sizes {counts.tolist()})")
    return weights / total


def groupby_columns(groupby: str | Sequence[str] | None, table: pd.DataFrame) -> list[str] | None:
    """The grouping columns as a list (None when not grouping); KeyError naming columns the table lacks."""
    columns = [groupby] if isinstance(groupby, str) else list(groupby or [])
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise KeyError(f"sampling_groupby columns {missing} are not in the samples; columns: {list(table.columns)}")
    return columns or None


def _factorize(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    try:
        return pd.factorize(values, sort=True, use_na_sentinel=False)
    except TypeError:  # keys of mixed types cannot be sorted; first-appearance order is deterministic too
        return pd.factorize(values, sort=False, use_na_sentinel=False)


def group_codes(table: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, list[Any]]:
    """Group code per row and the key of each group (a value, or a tuple of values for several columns)."""
    parts = [_factorize(table[column]) for column in columns]
    if len(parts) == 1:
        codes, uniques = parts[0]
        return codes, list(uniques)
    combined = np.zeros(len(table), np.int64)
    for codes, uniques in parts:
        combined = combined * len(uniques) + codes
    combined_codes, combined_uniques = pd.factorize(combined, sort=True)
    keys, remainder = [], np.asarray(combined_uniques)
    for _, values in reversed(parts):
        remainder, code = np.divmod(remainder, len(values))
        keys.append(np.asarray(values, dtype=object)[code])
    return combined_codes, list(zip(*reversed(keys)))


@dataclass(frozen=True)
class Groups:
    """The sampling groups of a table: keys, members (row indices sorted by group), sizes and normalised weights."""

    keys: list[Any]
    members: np.ndarray
    counts: np.ndarray
    weights: np.ndarray


def table_groups(table: pd.DataFrame, columns: list[str], weighing: Weighing) -> Groups:
    """The groups of `table` by `columns`, weighted by `weighing`."""
    codes, keys = group_codes(table, columns)
    members, counts = slots.group_members(codes, len(keys))
    return Groups(keys, members, counts, group_weights(counts, weighing, keys))
