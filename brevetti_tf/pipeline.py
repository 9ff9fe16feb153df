"""A plan as a ``tf.data.Dataset``: a range of global batch numbers mapped through the core executor.

Each element is one global batch (or this pipeline's slice of it), loaded and collated in numpy
by ``brevetti_core``'s ``Executor`` inside ``tf.numpy_function``; the map runs with
``num_parallel_calls`` and ``deterministic=True``, so parallel calls change speed, never order.
``tf.numpy_function`` holds the GIL, so with ``num_workers`` > 0 the executor runs in that many
worker processes instead (`PlanWorkers`, the counterpart of DataLoader's workers), a few batches
ahead, and each call only waits for its batch.
No randomness and no pixel arithmetic happen here: the batches equal ``get_dataset_numpy()``'s
byte for byte.
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np
import tensorflow as tf

from brevetti_core.batching import ArraySpec, zero_sample
from brevetti_core.executor import Executor, FailureTally, pipeline_spec
from brevetti_core.plan import BatchPlan, BatchSource
from brevetti_core.plan_workers import PlanWorkers
from brevetti_core.sharding import Shard
from brevetti_core.structure import Structure, select_structure

ENDLESS = 2**62
END = -1
"""The step of the element appended after the last one: it loads nothing and reports the last epoch's failures."""


def to_tensor_value(value: np.ndarray) -> np.ndarray:
    """A numpy batch value in a form tf.numpy_function returns: str arrays as UTF-8 bytes."""
    return np.char.encode(value, "utf-8") if value.dtype.kind == "U" else value


def tf_dtype(dtype: np.dtype) -> tf.DType:
    return tf.string if dtype.kind in "US" else tf.as_dtype(dtype)


class PlanBatches:
    """Loads this pipeline's slice `part` of one pipeline step; shared by the tf.data map calls (thread-safe)."""

    def __init__(self, plan: BatchSource, executor: Executor, load: bool, start: int, shards: list[Shard],
                 num_workers: int = 0, multiprocessing_context: str | None = None):
        self.plan, self.executor = plan, executor
        self.load, self.start, self.shards = load, start, shards
        self.sliced = any(shard.world_size > 1 for shard in shards)
        self.failures = FailureTally(executor.on_error)
        # What each loaded element absorbed, recorded by `keep` in element order: parallel loads finish in any order.
        self._absorbed: dict[int, tuple[int, list, bool]] = {}
        self._lock = threading.Lock()
        self.workers = PlanWorkers(executor, load, self.element_plan, num_workers, multiprocessing_context) \
            if num_workers else None

    def batch_plan(self, step: int, part: int) -> BatchPlan:
        """The plan of shard `part` of pipeline step `step` (global batch start + step)."""
        return self.plan.batch_plan(self.start + step, self.shards[part], with_params=self.load)

    def element_plan(self, index: int) -> BatchPlan | None:
        """The plan of the pipeline's element `index` (steps times shards, in order); None past the end."""
        step, part = divmod(index, len(self.shards))
        total = self.plan.total_batches
        return None if total is not None and self.start + step >= total else self.batch_plan(step, part)

    def element(self, step: int | np.integer, part: int | np.integer) -> int:
        """The pipeline's element index of shard `part` of step `step` (the inverse of `element_plan`'s divmod)."""
        return int(step) * len(self.shards) + int(part)

    def batch(self, step: int, part: int) -> dict | None:
        """The numpy batch of shard `part` of step `step` (None when nothing is left); keeps its failures for `keep`."""
        index = self.element(step, part)
        if self.workers is not None:
            epoch, batch, failures = self.workers.result(index)
        else:
            plan = self.batch_plan(step, part)
            epoch = plan.epoch
            batch, failures = self.executor.execute(plan, self.load)
        with self._lock:
            self._absorbed[index] = (epoch, failures, batch is None)
        return batch

    def keep(self, step: np.int64, part: np.int64, size: np.int64) -> np.bool_:
        """Whether an element goes on, its failures counted in element order; at END, report those of the last epoch."""
        if step == END:
            self.failures.close()
            return np.bool_(False)
        with self._lock:
            absorbed = self._absorbed.pop(self.element(step, part), None)
        if absorbed is not None:
            self.failures.record(*absorbed)
        # A pipeline of slices keeps an empty one: tf.distribute hands a pipeline's consecutive elements
        # to its replicas in turn, and every rank or worker must take the same number of steps.
        return np.bool_(size > 0 or self.sliced)


def make_pipeline(plan: BatchSource, executor: Executor, *, load: bool, batch: bool, structure: Structure,
                  start_batch: int, shards: list[Shard], num_parallel_calls: int | None = tf.data.AUTOTUNE,
                  prefetch: int | None = tf.data.AUTOTUNE, num_workers: int = 0,
                  multiprocessing_context: str | None = None) -> tf.data.Dataset:
    """The tf.data.Dataset executing `plan` with `executor`: per global batch from `start_batch`, one element per shard.

    One shard for a plain or rank-sharded pipeline; a ``tf.distribute`` input pipeline feeding
    several local replicas yields one element per replica, in order. `num_workers` > 0 executes
    batches in that many worker processes started with `multiprocessing_context` (as DataLoader's
    options of those names); the batches are the same bytes.
    """
    plan.batch_numbers(start_batch)  # checks start_batch now
    spec = pipeline_spec(plan, executor, start_batch, load)
    if load and executor.on_error == "zeros":
        executor = executor.with_prototype(zero_sample(spec))
    batches = PlanBatches(plan, executor, load, start_batch, shards, num_workers, multiprocessing_context)
    element_spec = select_structure({key: _tensor_spec(value, str(key)) for key, value in spec.items()}, structure)
    flat_spec = tf.nest.flatten(element_spec)
    empty = [np.zeros((0, *[d or 0 for d in s.shape[1:]]), s.dtype.as_numpy_dtype) for s in flat_spec]

    def load_step(step: np.int64, part: np.int64) -> list[np.ndarray]:
        values = None if step == END else batches.batch(int(step), int(part))
        if values is None:  # an empty slice, or every sample of it failed and was skipped: an empty batch
            return empty
        return [to_tensor_value(np.asarray(v)) for v in tf.nest.flatten(select_structure(values, structure))]

    def tf_load(step: tf.Tensor, part: tf.Tensor):
        flat = tf.numpy_function(load_step, [step, part], [s.dtype for s in flat_spec], stateful=False)
        for tensor, s in zip(flat, flat_spec):
            tensor.set_shape(s.shape)
        return step, part, tf.nest.pack_sequence_as(element_spec, flat)

    def keep(step: tf.Tensor, part: tf.Tensor, values) -> tf.Tensor:
        size = tf.shape(tf.nest.flatten(values)[0], out_type=tf.int64)[0]
        return tf.reshape(tf.numpy_function(batches.keep, [step, part, size], tf.bool), [])

    total = plan.total_batches
    steps = tf.data.Dataset.range(ENDLESS if total is None else total - start_batch)
    parts = steps.flat_map(lambda step: tf.data.Dataset.range(len(shards)).map(lambda part: (step, part)))
    parts = parts.concatenate(tf.data.Dataset.from_tensors((tf.constant(END, tf.int64), tf.constant(0, tf.int64))))
    dataset = parts.map(tf_load, num_parallel_calls=num_parallel_calls,
                        deterministic=None if num_parallel_calls is None else True)
    # The filter sees the elements one by one in order: it counts their failures in that order, and at END all are in.
    dataset = dataset.filter(keep).map(lambda step, part, values: values)
    if not batch:
        dataset = dataset.unbatch()
    if prefetch:
        dataset = dataset.prefetch(prefetch)
    return dataset


def _tensor_spec(spec: Any, name: str) -> Any:
    """An ArraySpec (or a tuple/dict of them) as tf.TensorSpecs."""
    if isinstance(spec, ArraySpec):
        return tf.TensorSpec(spec.shape, tf_dtype(spec.dtype), name=name)
    if isinstance(spec, dict):
        return {key: _tensor_spec(item, f"{name}.{key}") for key, item in spec.items()}
    return tuple(_tensor_spec(item, f"{name}.{i}") for i, item in enumerate(spec))


def to_numpy(value: Any) -> Any:
    """A tf batch (eager tensors, nested) as the numpy batch the core would give (tf.string as str arrays)."""
    if isinstance(value, dict):
        return {key: to_numpy(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(to_numpy(item) for item in value)
    array = value.numpy()
    if value.dtype == tf.string:
        return np.char.decode(array.astype(bytes), "utf-8")
    return array
