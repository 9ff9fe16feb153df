"""Executing a plan: a ``BatchPlan`` in, a numpy batch and the failures it absorbed out; the only such code.

``Executor`` runs the action chain on plan rows (a row of ``Plan.epoch_table``: the slot's place,
the sample's table columns and every action parameter as ``<prefix>.<name>``). It is small and
picklable, so every pipeline uses the same one: ``DataGenerator.get_dataset_numpy`` in the
calling thread, the torch adapter in its DataLoader workers, the tf adapter inside
``tf.numpy_function``. Before a batch's actions run, its remote files are fetched at once
(``batch_reads.py``: concurrently, one request each, or from the content cache with none). A
failing action raises ``SampleError`` naming the action, the sample and
its plan position; under ``on_error`` "zeros"/"skip" the failures are returned instead, so a
caller in another process can hand them back to one ``FailureTally``, which logs one counted
warning per epoch.

Float parameters live in the plan as float32 and reach the kernels as Python floats holding that
float32 value (integers as int, booleans as bool). Rounding through float32 on every load makes
a row read back from CSV (where ``0.1`` parses to a different double) give the same pixels.
"""
from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .actions import Action, Sample
from .allocator import keep_freed_memory
from .batch_reads import FileColumn, batch_reads, file_columns
from .batching import Batch, as_numpy_sample, batch_spec, collate, declared_shapes, zero_sample
from .content_cache import CacheFullError
from .plan import BatchPlan, BatchSource
from .sharding import WHOLE
from .structure import Structure, select_structure

log = logging.getLogger(__name__)

ON_ERROR = ("raise", "zeros", "skip")


def check_on_error(on_error: str) -> str:
    """`on_error` itself when it is one of ON_ERROR; ValueError listing them otherwise."""
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {list(ON_ERROR)}, got {on_error!r}")
    return on_error


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


class Executor:
    """Runs an action chain on plan rows and collates them: the only code that turns a plan into samples."""

    def __init__(self, actions: Sequence[Action], prefixes: Sequence[str], sample_columns: Sequence[Any],
                 on_error: str = "raise", prototype: Sample | None = None):
        self.actions, self.prefixes = tuple(actions), tuple(prefixes)
        self.sample_columns, self.on_error = tuple(sample_columns), check_on_error(on_error)
        self.prototype = prototype
        self.file_columns: tuple[FileColumn, ...] = file_columns(self.actions)

    def with_prototype(self, prototype: Sample) -> Executor:
        """This executor with `prototype` (a zero sample) for batches in which no sample loads under "zeros"."""
        return Executor(self.actions, self.prefixes, self.sample_columns, self.on_error, prototype)

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
            if self.on_error == "raise" or isinstance(error.__cause__, CacheFullError):  # a full disk stops the job
                raise
            return error

    def _error(self, action: Action, row: Mapping[Any, Any], cause: Exception) -> SampleError:
        place = {name: int(row.get(name, -1)) for name in ("index", "epoch", "batch", "position")}
        path = row.get("path")
        return SampleError(
            f"{action.describe()} failed on sample {place['index']} (path {path!r}) at epoch {place['epoch']}, "
            f"batch {place['batch']}, position {place['position']}: {type(cause).__name__}: {cause}",
            action=action.describe(), path=path, sample=self.sample(row), **place)

    def samples(self, plan: BatchPlan, load: bool = True) -> tuple[list[Sample], list[SampleError]]:
        """The plan's samples, loaded (`load`) or as the table holds them, and the failures absorbed per on_error."""
        if not load:
            return [self.sample(row) for row in plan.rows], []
        keep_freed_memory()  # in whichever process loads: a worker's image temporaries reuse warm heap pages
        with batch_reads(self.file_columns, plan.rows):
            results = [self.try_load(row) for row in plan.rows]
        loaded = [result for result in results if not isinstance(result, SampleError)]
        failures = [result for result in results if isinstance(result, SampleError)]
        return (self._absorb(results) if failures else loaded), failures

    def execute(self, plan: BatchPlan, load: bool = True) -> tuple[Batch | None, list[SampleError]]:
        """The collated numpy batch of `plan` (None when no sample is left) and the failures it absorbed."""
        samples, failures = self.samples(plan, load)
        return (collate(samples) if samples else None), failures

    def _absorb(self, results: Sequence[Sample | SampleError]) -> list[Sample]:
        """The samples with failures dropped ("skip") or replaced by zeros shaped like a loaded sample ("zeros").

        A zeros replacement keeps the failed sample's own table values (path, category, ...) and
        zeroes what the actions added, shaped like the batch's first loaded sample, or like the
        executor's `prototype` when none loaded. Without either the batch comes out empty, and the
        tally counts it as dropped.
        """
        loaded = [result for result in results if not isinstance(result, SampleError)]
        prototype = loaded[0] if loaded else self.prototype
        if self.on_error == "skip" or prototype is None:
            return loaded
        return [result if not isinstance(result, SampleError) else
                {key: (result.sample[key] if key in result.sample and not isinstance(value, np.ndarray)
                       else _zeros_like(value)) for key, value in prototype.items()}
                for result in results]


class FailureTally:
    """Counts the failures absorbed under on_error "zeros"/"skip"; logs one warning per epoch, never silent.

    Batches are recorded in plan order (from any thread); a batch of a new epoch reports the
    epochs before it, and ``close()`` reports the rest.
    """

    def __init__(self, on_error: str):
        self.on_error = on_error
        self.failed: dict[int, list[SampleError]] = {}
        self.dropped: dict[int, int] = {}
        self.epoch: int | None = None
        self.lock = threading.Lock()

    def record(self, epoch: int, failures: Sequence[SampleError], empty: bool = False) -> None:
        """Count one executed batch of `epoch`: its failures, and whether it came out `empty` (then it is dropped)."""
        with self.lock:
            if self.epoch is not None and epoch != self.epoch:
                self._report()
            self.epoch = epoch
            for failure in failures:
                self.failed.setdefault(failure.epoch, []).append(failure)
            if failures and empty:
                self.dropped[epoch] = self.dropped.get(epoch, 0) + 1

    def close(self) -> None:
        """Report every epoch not reported yet."""
        with self.lock:
            self._report()

    def _report(self) -> None:
        action = "replaced by zeros" if self.on_error == "zeros" else "skipped"
        for epoch, errors in sorted(self.failed.items()):
            dropped = self.dropped.get(epoch, 0)
            note = f"; {dropped} batches had no loadable sample and were dropped" if dropped else ""
            log.warning("on_error=%r: %d samples failed in epoch %d and were %s%s. First: %s",
                        self.on_error, len(errors), epoch, action, note, errors[0])
        self.failed.clear()
        self.dropped.clear()


def numpy_batches(plans: Iterable[BatchPlan], executor: Executor, *, load: bool, batch: bool,
                  structure: Structure, prototype: Callable[[], Sample] | None = None) -> Iterator[Any]:
    """The executed plans as numpy batches (or one sample at a time), picked by `structure`; empty ones skipped.

    `prototype` makes the zero sample for a batch in which nothing loads under "zeros", when one first does.
    """
    tally = FailureTally(executor.on_error)
    try:
        for plan in plans:
            samples, failures = executor.samples(plan, load)
            if failures and not samples and executor.on_error == "zeros" and prototype is not None:
                executor = executor.with_prototype(prototype())
                samples, failures = executor.samples(plan, load)
            tally.record(plan.epoch, failures, empty=not samples)
            if not samples:
                continue
            if batch:
                yield select_structure(collate(samples), structure)
            else:
                for sample in samples:
                    yield select_structure(as_numpy_sample(sample), structure)
    finally:
        tally.close()


def example_batch(plan: BatchSource, executor: Executor, start_batch: int, load: bool) -> Batch:
    """The first loadable whole batch from `start_batch`: the model of a pipeline's shapes and dtypes.

    A pipeline resumed at the end has no batch left; its (empty) spec is then the first batches'.
    """
    numbers = list(itertools.islice(plan.batch_numbers(start_batch), 8)) or \
        list(itertools.islice(plan.batch_numbers(0), 8))
    for number in numbers:
        values, _ = executor.execute(plan.batch_plan(number, WHOLE, with_params=load), load)
        if values is not None:
            return values
    raise ValueError("cannot build the pipeline: the first batches have no loadable sample")


def pipeline_spec(plan: BatchSource, executor: Executor, start_batch: int, load: bool) -> dict[str, Any]:
    """The ``batch_spec`` of a pipeline's batches: its example batch's, with the actions' declared static shapes."""
    declared = declared_shapes(executor.actions) if load else {}
    return batch_spec(example_batch(plan, executor, start_batch, load), declared)


def spec_prototype(plan: BatchSource, executor: Executor, start_batch: int) -> Sample:
    """The zero sample of a loading pipeline's spec: what stands in for the failed samples of a batch none loaded in."""
    return zero_sample(pipeline_spec(plan, executor, start_batch, load=True))
