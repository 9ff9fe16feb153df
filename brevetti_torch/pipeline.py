"""A plan as a ``torch.utils.data.DataLoader``: the sampler yields plan rows, workers run the core loader.

The batch sampler sends each global batch's plan rows (picklable dicts) to the workers as
dataset "indices"; a worker runs ``brevetti_core``'s ``Executor`` on them, which loads and collates
in numpy, and only then are the arrays wrapped as tensors. No randomness and no pixel arithmetic
happen here, so the batches equal ``get_dataset_numpy()``'s byte for byte, for any number of
workers, either start method, and any prefetch depth.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler, get_worker_info

from brevetti_core.batching import empty_batch, label_array, zero_sample
from brevetti_core.executor import Executor, FailureTally, pipeline_spec
from brevetti_core.plan import BatchPlan, BatchSource
from brevetti_core.sharding import Shard
from brevetti_core.structure import Structure, select_structure


class PlanDataset(Dataset):
    """Map-style dataset whose "indices" are whole batch plans: ``dataset[plan]`` is (epoch, numpy batch, failures)."""

    def __init__(self, executor: Executor, load: bool):
        self.executor, self.load = executor, load

    def __getitem__(self, plan: BatchPlan) -> tuple[int, dict | None, list]:
        batch, failures = self.executor.execute(plan, self.load)
        return plan.epoch, batch, failures


class PlanBatchSampler(Sampler):
    """Yields one BatchPlan per step: each global batch from `start_batch` on, cut to each shard in turn."""

    def __init__(self, plan: BatchSource, start_batch: int, shards: list[Shard], load: bool):
        self.plan, self.start_batch, self.shards, self.load = plan, start_batch, shards, load
        plan.batch_numbers(start_batch)  # checks start_batch now

    def __iter__(self) -> Iterator[list[BatchPlan]]:
        for number in self.plan.batch_numbers(self.start_batch):
            for shard in self.shards:
                yield [self.plan.batch_plan(number, shard, with_params=self.load)]  # one "index": a whole batch

    def __len__(self) -> int:
        total = self.plan.total_batches
        if total is None:
            raise TypeError("an endless generator (repeat=True) has no length")
        return (total - self.start_batch) * len(self.shards)


def to_torch(value: Any, channels_last: bool) -> Any:
    """A numpy batch value as torch: images (B,H,W,C) to NCHW unless `channels_last`, strings as lists."""
    if isinstance(value, dict):
        return {key: to_torch(item, channels_last) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(to_torch(item, channels_last) for item in value)
    if value.dtype.kind in "US":
        return [tuple(s for s in row if s) for row in value.tolist()] if value.ndim == 2 else value.tolist()
    if value.dtype.kind == "O":
        return value.tolist()
    if value.ndim == 4 and not channels_last:
        value = value.transpose(0, 3, 1, 2)
    if get_worker_info() is None:
        return torch.from_numpy(np.ascontiguousarray(value))
    return _shared_copy(value)


def _shared_copy(value: np.ndarray) -> torch.Tensor:
    """`value` copied once, laid out contiguously, into shared memory (as torch's default_collate does in workers).

    A worker's result tensors travel to the main process through shared memory; one made
    elsewhere is copied there again when it is sent, so for an image batch this saves a whole copy.
    """
    prototype = torch.from_numpy(np.empty(0, value.dtype))  # the dtype, as a tensor
    storage = prototype._typed_storage()._new_shared(value.size)
    tensor = prototype.new(storage).view(value.shape)
    np.copyto(tensor.numpy(), value)
    return tensor


def to_numpy(value: Any, channels_last: bool = False) -> Any:
    """The inverse of ``to_torch``: the numpy batch the core would give (NHWC, str arrays)."""
    if isinstance(value, dict):
        return {key: to_numpy(item, channels_last) for key, item in value.items()}
    if isinstance(value, torch.Tensor):
        array = value.numpy()
        return array.transpose(0, 2, 3, 1) if array.ndim == 4 and not channels_last else array
    if isinstance(value, list) and value and isinstance(value[0], tuple):
        return label_array(value)
    if isinstance(value, list):
        return np.array(value, dtype=str) if all(isinstance(v, str) for v in value) else np.asarray(value)
    if isinstance(value, tuple):
        return tuple(to_numpy(item, channels_last) for item in value)
    return value


class PlanCollator:
    """Runs in the worker: selects the structure and converts the numpy batch to tensors.

    `empty` (the output of zero samples) stands in for a slice with nothing to load when several
    ranks share each batch: every rank then takes the same number of steps, as DDP requires.
    Returns (epoch, failures, whether the batch came out empty, output).
    """

    def __init__(self, structure: Structure, channels_last: bool, empty: Any = None):
        self.structure, self.channels_last, self.empty = structure, channels_last, empty

    def __call__(self, items: list[tuple[int, dict | None, list]]) -> tuple[int, list, bool, Any]:
        (epoch, batch, failures), = items
        if batch is None:
            return epoch, failures, True, None if self.empty is None else to_torch(self.empty, self.channels_last)
        return epoch, failures, False, to_torch(select_structure(batch, self.structure), self.channels_last)


class PlanLoader(DataLoader):
    """A DataLoader over a plan that counts absorbed failures per epoch and can unbatch."""

    def __init__(self, *args: Any, on_error: str, unbatch: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.on_error, self.unbatch = on_error, unbatch

    def __iter__(self) -> Iterator[Any]:
        tally = FailureTally(self.on_error)
        try:
            for epoch, failures, empty, batch in super().__iter__():
                tally.record(epoch, failures, empty)
                if batch is None:
                    continue
                if self.unbatch:
                    yield from _unbatch(batch)
                else:
                    yield batch
        finally:
            tally.close()


def _unbatch(batch: Any) -> Iterator[Any]:
    size = _batch_size(batch)
    for i in range(size):
        yield _item(batch, i)


def _batch_size(batch: Any) -> int:
    if isinstance(batch, dict):
        return _batch_size(next(iter(batch.values())))
    if isinstance(batch, tuple):
        return _batch_size(batch[0])
    return len(batch)


def _item(batch: Any, i: int) -> Any:
    if isinstance(batch, dict):
        return {key: _item(value, i) for key, value in batch.items()}
    if isinstance(batch, tuple):
        return tuple(_item(value, i) for value in batch)
    return batch[i]


def make_pipeline(plan: BatchSource, executor: Executor, *, load: bool, batch: bool, structure: Structure,
                  start_batch: int, shards: list[Shard], channels_last: bool = False, num_workers: int = 0,
                  **loader_options: Any) -> PlanLoader:
    """The DataLoader executing `plan` with `executor`: per global batch from `start_batch`, one step per shard.

    `channels_last` keeps images NHWC; `loader_options` go to DataLoader (pin_memory, prefetch_factor, ...).
    """
    sampler = PlanBatchSampler(plan, start_batch, shards, load)
    sliced, zeros = any(shard.world_size > 1 for shard in shards), load and executor.on_error == "zeros"
    spec = pipeline_spec(plan, executor, start_batch, load) if sliced or zeros else {}
    empty = select_structure(empty_batch(spec), structure) if sliced else None
    if zeros:
        executor = executor.with_prototype(zero_sample(spec))
    return PlanLoader(PlanDataset(executor, load), batch_sampler=sampler, num_workers=num_workers,
                      collate_fn=PlanCollator(structure, channels_last, empty), on_error=executor.on_error,
                      unbatch=not batch, **loader_options)
