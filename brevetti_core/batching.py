"""Executing plan rows: loading one slot, collating slots into a batch, and failed samples.

A plan row is a flat dict (a row of ``DataGenerator.plan(epoch)``): the slot's place (``epoch``,
``batch``, ``position``, ``index``, ``group``), the sample's table columns and every action
parameter as ``<prefix>.<name>``. ``SampleLoader`` runs the action chain on one row; it is small
and picklable, so framework adapters ship it to worker processes and call it there.

Float parameters live in the plan as float32 and reach the kernels as Python floats holding that
float32 value (integers as int, booleans as bool). Rounding through float32 on every load makes
a row read back from CSV (where ``0.1`` parses to a different double) give the same pixels.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .actions import Action, Sample

log = logging.getLogger(__name__)

PLACE_COLUMNS = ("epoch", "batch", "position", "index", "group")
ON_ERROR = ("raise", "zeros", "skip")


@dataclass(frozen=True)
class BatchPlan:
    """One global batch (or one rank's slice of it): its epoch, global index and plan rows."""

    epoch: int
    batch: int
    rows: tuple[dict, ...]

    def __len__(self) -> int:
        return len(self.rows)


class SampleError(RuntimeError):
    """A mapped action failed on one sample; names the action, the sample and its plan position."""

    def __init__(self, message: str, action: str = "", index: int = -1, path: str | None = None,
                 epoch: int = -1, batch: int = -1, position: int = -1, sample: dict | None = None):
        super().__init__(message)
        self.action, self.index, self.path = action, index, path
        self.epoch, self.batch, self.position = epoch, batch, position
        self.sample = sample or {}

    def __reduce__(self):
        return (type(self), (str(self), self.action, self.index, self.path, self.epoch, self.batch,
                             self.position, self.sample))


def _scalar(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return float(np.float32(value))
    if isinstance(value, np.generic):
        return value.item()
    return value


class SampleLoader:
    """Runs an action chain on plan rows; the only code that turns a row into a loaded sample."""

    def __init__(self, actions: Sequence[Action], prefixes: Sequence[str], sample_columns: Sequence[Any],
                 on_error: str = "raise"):
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {list(ON_ERROR)}, got {on_error!r}")
        self.actions, self.prefixes = tuple(actions), tuple(prefixes)
        self.sample_columns, self.on_error = tuple(sample_columns), on_error

    def sample(self, row: Mapping[Any, Any]) -> Sample:
        """The slot's sample as the table holds it (no actions applied)."""
        try:
            return {column: row[column] for column in self.sample_columns}
        except KeyError as missing:
            raise KeyError(f"plan row lacks sample column {missing}; it has {sorted(map(str, row))}") from None

    def params(self, row: Mapping[Any, Any], position: int) -> dict[str, Any]:
        """The parameters of the action at chain `position`, keys without prefix, as Python scalars."""
        start = self.prefixes[position] + "."
        return {key[len(start):]: _scalar(value) for key, value in row.items()
                if isinstance(key, str) and key.startswith(start)}

    def load(self, row: Mapping[Any, Any]) -> Sample:
        """The sample with every action applied; SampleError (chaining the cause) when one fails."""
        sample = self.sample(row)
        for position, action in enumerate(self.actions):
            try:
                result = action(sample, self.params(row, position))
                if not isinstance(result, Mapping):
                    raise TypeError(f"an action must return a dict, got {type(result).__name__}")
            except Exception as error:
                raise self._error(action, row, error) from error
            sample = dict(result)
        return sample

    def try_load(self, row: Mapping[Any, Any]) -> Sample | SampleError:
        """`load(row)`, or its SampleError returned instead of raised when on_error is "zeros" or "skip"."""
        try:
            return self.load(row)
        except SampleError as error:
            if self.on_error == "raise":
                raise
            return error

    def _error(self, action: Action, row: Mapping[Any, Any], cause: Exception) -> SampleError:
        place = {name: int(row.get(name, -1)) for name in ("index", "epoch", "batch", "position")}
        path = row.get("path")
        return SampleError(
            f"{action.describe()} failed on sample {place['index']} (path {path!r}) at epoch {place['epoch']}, "
            f"batch {place['batch']}, position {place['position']}: {type(cause).__name__}: {cause}",
            action=action.describe(), path=path, sample=self.sample(row), **place)


class FailureTally:
    """Counts samples that failed under on_error "zeros"/"skip"; logs one warning per epoch, never silent."""

    def __init__(self, on_error: str):
        self.on_error = on_error
        self.failed: dict[int, list[SampleError]] = {}
        self.dropped: dict[int, int] = {}

    def record(self, error: SampleError) -> None:
        self.failed.setdefault(error.epoch, []).append(error)

    def record_dropped_batch(self, epoch: int) -> None:
        self.dropped[epoch] = self.dropped.get(epoch, 0) + 1

    def report(self) -> None:
        """Log the counted warning of every epoch seen since the last report, then forget them."""
        action = "replaced by zeros" if self.on_error == "zeros" else "skipped"
        for epoch, errors in sorted(self.failed.items()):
            dropped = self.dropped.get(epoch, 0)
            note = f"; {dropped} batches had no loadable sample and were dropped" if dropped else ""
            log.warning("on_error=%r: %d samples failed in epoch %d and were %s%s. First: %s",
                        self.on_error, len(errors), epoch, action, note, errors[0])
        self.failed.clear()
        self.dropped.clear()


def _zeros_like(value: Any) -> Any:
    if isinstance(value, np.ndarray | np.generic):
        return np.zeros_like(value)
    if isinstance(value, Mapping):
        return {key: _zeros_like(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_zeros_like(item) for item in value)
    if isinstance(value, str):
        return ""
    if isinstance(value, (bool, int, float)):
        return type(value)()
    return None


def resolve_failures(results: Sequence[Sample | SampleError], on_error: str,
                     tally: FailureTally) -> list[Sample]:
    """The batch's samples with failures dropped ("skip") or replaced by zeros shaped like a loaded sample ("zeros").

    A zeros replacement keeps the failed sample's own table values (path, category, ...) and
    zeroes what the actions added. A batch in which no sample loaded has no shape to copy: it is
    dropped and counted.
    """
    errors = [result for result in results if isinstance(result, SampleError)]
    if not errors:
        return list(results)
    if on_error == "raise":
        raise errors[0]
    for error in errors:
        tally.record(error)
    loaded = [result for result in results if not isinstance(result, SampleError)]
    if on_error == "skip" or not loaded:
        if not loaded:
            tally.record_dropped_batch(errors[0].epoch)
        return loaded
    prototype = loaded[0]
    return [result if not isinstance(result, SampleError) else
            {key: (result.sample[key] if key in result.sample and not isinstance(value, np.ndarray)
                   else _zeros_like(value)) for key, value in prototype.items()}
            for result in results]


def _is_label_tuple(value: Any) -> bool:
    return isinstance(value, (tuple, list)) and all(isinstance(item, str) for item in value)


def label_array(values: Sequence[Sequence[str]]) -> np.ndarray:
    """Tuples of labels (e.g. categories) as a 2-D str array (batch, longest tuple), padded with ""."""
    width = max((len(value) for value in values), default=0)
    longest = max((len(item) for value in values for item in value), default=1)
    out = np.full((len(values), width), "", dtype=f"<U{max(longest, 1)}")
    for row, value in enumerate(values):
        out[row, :len(value)] = value
    return out


def stack(key: Any, values: Sequence[Any]) -> Any:
    """The values of one key across a batch as one array (or a tuple/dict of arrays, mirroring the values)."""
    first = values[0]
    if isinstance(first, Mapping):
        return collate(values)
    if isinstance(first, np.ndarray):
        shapes = {value.shape for value in values}
        if len(shapes) > 1:
            raise ValueError(f"cannot batch {key!r}: samples have shapes {sorted(shapes)}; "
                             f"give a target_size or iterate with batch=False")
        return np.stack(values)
    if all(_is_label_tuple(value) for value in values):
        return label_array(values)
    if isinstance(first, (tuple, list)) and first and all(isinstance(item, np.ndarray) for item in first):
        return tuple(stack(f"{key}[{i}]", [value[i] for value in values]) for i in range(len(first)))
    if all(isinstance(value, str) for value in values):
        return np.array(values, dtype=str)
    if all(isinstance(value, (bool, int, float, np.generic)) for value in values):
        return np.asarray(values)
    if isinstance(first, (tuple, list)):
        try:
            return np.asarray(values)
        except ValueError as error:
            raise ValueError(f"cannot batch {key!r}: {error}") from None
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def collate(samples: Sequence[Mapping[Any, Any]]) -> dict[Any, Any]:
    """Loaded samples as one batch dict: arrays stacked, strings as str arrays, label tuples padded.

    Representation per value type: numpy arrays → stacked (B, ...); str → ``<U`` array (B,);
    numbers/bools → (B,) numeric array; tuples of str (categories) → ``label_array`` (B, L);
    tuples of arrays (``roi_mode=None``) → tuple of stacked arrays; dicts → dicts of the same;
    anything else → object array (B,).
    """
    if not samples:
        raise ValueError("cannot collate an empty batch")
    keys = list(samples[0])
    for sample in samples[1:]:
        if sample.keys() != samples[0].keys():
            raise ValueError(f"samples of one batch have different keys: {sorted(map(str, keys))} "
                             f"vs {sorted(map(str, sample))}")
    return {key: stack(key, [sample[key] for sample in samples]) for key in keys}


def as_numpy_sample(sample: Mapping[Any, Any]) -> dict[Any, Any]:
    """One unbatched sample in the batch representation: label tuples become 1-D str arrays."""
    return {key: np.array(value, dtype=str) if isinstance(value, (tuple, list)) and _is_label_tuple(value)
            else value for key, value in sample.items()}
