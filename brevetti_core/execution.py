"""What both framework adapters do with a plan, written once: load a batch, describe its shapes, fingerprint it.

The torch and tf adapters only move the numpy batches made here into their containers, so
their outputs are bit-identical by construction (DESIGN §3, pixel contract).
"""
from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from .batching import BatchPlan, FailureTally, SampleError, SampleLoader, collate, resolve_failures

Batch = dict[str, Any]


def load_batch(loader: SampleLoader, plan: BatchPlan, load: bool = True) -> tuple[Batch | None, list[SampleError]]:
    """The collated numpy batch of one plan (None when nothing loaded) and the failures it absorbed.

    With ``on_error="raise"`` a failing sample raises SampleError; with "zeros"/"skip" the failures
    are returned so the caller (possibly in another process) can count them per epoch.
    """
    if not load:
        return collate([loader.sample(row) for row in plan.rows]) if plan.rows else None, []
    tally = FailureTally(loader.on_error)
    samples = resolve_failures([loader.try_load(row) for row in plan.rows], loader.on_error, tally)
    failures = [error for errors in tally.failed.values() for error in errors]
    tally.failed.clear()
    return (collate(samples) if samples else None), failures


class EpochFailures:
    """Thread-safe per-epoch count of absorbed failures; logs an epoch's warning once it is over."""

    def __init__(self, on_error: str):
        self.tally = FailureTally(on_error)
        self.lock = threading.Lock()
        self.epoch: int | None = None

    def record(self, epoch: int, failures: list[SampleError]) -> None:
        with self.lock:
            if self.epoch is not None and epoch != self.epoch:
                self.tally.report()
            self.epoch = epoch
            for failure in failures:
                self.tally.record(failure)

    def close(self) -> None:
        with self.lock:
            self.tally.report()


def declared_shapes(actions) -> dict[str, tuple]:
    """Per output key, the static per-sample shape an action declares (None for sizes that depend on the file)."""
    shapes: dict[str, tuple] = {}
    for action in actions:
        shape = getattr(action, "output_shape", None)
        key = getattr(action, "output_key", None)
        if isinstance(shape, tuple) and isinstance(key, str):
            shapes[key] = shape
            segmentation = getattr(action, "segmentation", None)
            if segmentation is not None and shape and not isinstance(shape[0], tuple):
                shapes[segmentation.output_key] = (*shape[:2], segmentation.channels)
    return shapes


class ArraySpec(NamedTuple):
    """The spec of one batched array: shape with a None batch dimension (None where sizes vary), dtype."""

    shape: tuple
    dtype: np.dtype


def batch_spec(example: Batch, declared: Mapping[str, tuple]) -> dict[str, Any]:
    """Per key of an example batch its ArraySpec (a tuple/dict of them for tuple/dict values, e.g. per-ROI images).

    Declared static shapes win over the example's.
    """
    return {key: _value_spec(value, declared.get(key)) for key, value in example.items()}


def _value_spec(value: Any, declared: tuple | None) -> Any:
    if isinstance(value, Mapping):
        return {key: _value_spec(item, None) for key, item in value.items()}
    if isinstance(value, tuple):
        per_part = declared if declared and len(declared) == len(value) and all(
            isinstance(part, tuple) for part in declared) else (None,) * len(value)
        return tuple(_value_spec(item, part) for item, part in zip(value, per_part))
    value = np.asarray(value)
    if value.dtype.kind in "US":
        return ArraySpec((None,) * value.ndim, value.dtype)  # label tuples vary in length from batch to batch
    if declared is not None and len(declared) == value.ndim - 1 and not any(isinstance(d, tuple) for d in declared):
        return ArraySpec((None, *declared), value.dtype)
    return ArraySpec((None, *value.shape[1:]), value.dtype)


def example_batch(generator: Any, start_batch: int, load: bool) -> Batch:
    """The first loadable whole batch from `start_batch`: the model of a pipeline's shapes and dtypes."""
    for plan in itertools.islice(generator.batch_plans(start_batch, 0, 1, with_params=load), 8):
        values, _ = load_batch(generator.sample_loader, plan, load)
        if values is not None:
            return values
    raise ValueError("cannot build the pipeline: the first batches have no loadable sample")


def empty_batch(spec: Any) -> Any:
    """A batch of zero samples matching `spec` (ArraySpecs, possibly nested); unknown sizes become 0."""
    if isinstance(spec, ArraySpec):
        return np.zeros((0, *[size or 0 for size in spec.shape[1:]]), dtype=spec.dtype)
    if isinstance(spec, Mapping):
        return {key: empty_batch(item) for key, item in spec.items()}
    return tuple(empty_batch(item) for item in spec)


def fingerprint(batch: Any) -> str:
    """SHA-256 over every value of a batch (nested structures in order): dtype, shape and bytes; strings as UTF-8."""
    digest = hashlib.sha256()
    _feed(digest, batch)
    return digest.hexdigest()


def _feed(digest, value: Any) -> None:
    if isinstance(value, Mapping):
        for key in sorted(value, key=str):
            digest.update(f"<{key}>".encode())
            _feed(digest, value[key])
    elif isinstance(value, (tuple, list)) and not (value and isinstance(value[0], str)):
        for item in value:
            _feed(digest, item)
    else:
        array = np.asarray(value)
        if array.dtype.kind in "USO":  # strings hash by content, whatever their array itemsize
            digest.update(f"str{array.shape}".encode())
            for item in array.ravel().tolist():
                data = str(item).encode("utf-8")
                digest.update(len(data).to_bytes(8, "little") + data)
            return
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
