"""DataGenerator: a seeded plan of batches over a sample table, and its framework-free executor.

The plan (which sample fills which slot, and every random parameter of every mapped action) is
a pure function of the samples, the settings and the seed, computed one epoch at a time with
vectorised numpy (``plan.py``). Executing it needs no framework; adapters reuse the same pieces:

- ``generator.batch_plans(start_batch=0, rank=0, world_size=1, with_params=True)``: an iterator
  of ``BatchPlan``, the global batches from ``start_batch`` on (resume), each cut to the rank's contiguous slice
  (``numpy.array_split`` sizes; a rank's slice may be empty when the batch is smaller than the
  world). ``BatchPlan(epoch, batch, rows)``: ``rows`` are picklable flat dicts, exactly the
  rows of ``plan(epoch)``, so a DataLoader can send them to workers as dataset indices
  (``with_params=False`` leaves out the parameters, for raw samples).
- ``generator.sample_loader`` (``SampleLoader``, small and picklable): ``load(row)`` runs the
  action chain on one row (pure; failures raise ``SampleError`` naming the action, the sample
  and its plan position); ``try_load(row)`` returns the error instead under ``on_error``
  "zeros"/"skip". ``generator.load_sample(row)`` is ``sample_loader.load(row)``.
- ``resolve_failures(results, on_error, tally)`` and ``collate(samples)`` (``batching.py``) make
  the batch; a ``FailureTally`` logs a counted warning per epoch (call ``report()`` when an epoch
  ends). ``generator.select_structure(batch, structure)`` picks the output.

``get_samples_numpy`` (table values, no actions) and ``get_dataset_numpy`` are built from exactly
these calls and return iterators; each call starts the same sequence again.
"""
from __future__ import annotations

import copy
import math
import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, field_validator

from . import plan as planning
from . import rng
from .actions import Action, as_action
from .batching import (ON_ERROR, PLACE_COLUMNS, BatchPlan, FailureTally, SampleError, SampleLoader,
                       as_numpy_sample, collate, resolve_failures)
from . import sampling
from .sampling import Weighing, check_weighing
from .structure import DEFAULT, Structure, check_structure, resolve_structure, select_structure

__all__ = ["DataGenerator", "StratifiedSampler", "build_image_data_generator", "BatchPlan", "SampleError"]


class _EpochCache:
    """The last few epochs' tables: plans are iterated epoch by epoch, sometimes by two iterators at once."""

    def __init__(self, compute: Callable[[int], Any], size: int = 2):
        self.compute, self.size = compute, size
        self.entries: OrderedDict[int, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, epoch: int) -> Any:
        with self.lock:
            if epoch not in self.entries:
                self.entries[epoch] = self.compute(epoch)
                while len(self.entries) > self.size:
                    self.entries.popitem(last=False)
            self.entries.move_to_end(epoch)
            return self.entries[epoch]


def _sample_table(samples: Any) -> pd.DataFrame:
    if isinstance(samples, np.ndarray):
        samples = list(samples)
    table = samples if isinstance(samples, pd.DataFrame) else pd.DataFrame(samples)
    table = table.reset_index(drop=True)
    clash = [column for column in PLACE_COLUMNS if column in table.columns]
    if clash:
        raise ValueError(f"sample columns {clash} clash with the plan's own columns {list(PLACE_COLUMNS)}; "
                         f"rename them (e.g. samples.rename(columns={{'index': 'sample_index'}}))")
    for column in table.columns:
        if table[column].dtype == object and len(table) and isinstance(table[column].iloc[0], os.PathLike):
            table[column] = table[column].map(os.fspath)
    return table


def _epoch_count(repeat: bool | int) -> int | None:
    if isinstance(repeat, (bool, np.bool_)):
        return None if repeat else 1
    if isinstance(repeat, (int, np.integer)) and repeat >= 1:
        return int(repeat)
    raise ValueError(f"repeat must be False (one epoch), True (endless) or a number of epochs >= 1, got {repeat!r}")


def _groupby_columns(groupby: str | Sequence[str] | None, table: pd.DataFrame) -> list[str] | None:
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


def _group_codes(table: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, list[Any]]:
    """Group code per row and the key of each group (a value, or a tuple of values for several columns)."""
    parts = [_factorize(table[column]) for column in columns]
    if len(parts) == 1:
        codes, uniques = parts[0]
        return codes, list(uniques)
    combined = np.zeros(len(table), np.int64)
    for codes, uniques in parts:
        combined = combined * len(uniques) + codes
    codes, uniques = pd.factorize(combined, sort=True)
    keys, remainder = [], np.asarray(uniques)
    for _, values in reversed(parts):
        remainder, code = np.divmod(remainder, len(values))
        keys.append(np.asarray(values, dtype=object)[code])
    return codes, list(zip(*reversed(keys)))


def _plan_prefixes(actions: Sequence[Action]) -> tuple[str, ...]:
    """Each action's column prefix; a repeated prefix gets _2, _3, ... by chain position."""
    prefixes: list[str] = []
    for action in actions:
        base = action.plan_prefix or type(action).__name__.lower()
        prefix, count = base, 1
        while prefix in prefixes:
            count += 1
            prefix = f"{base}_{count}"
        prefixes.append(prefix)
    return tuple(prefixes)


class DataGenerator:
    """Batches of samples in a seeded, replayable order, with mapped actions (reference DataGenerator).

    `repeat`: False = one epoch, True = endless, n = n epochs; each epoch has its own order.
    ``len()`` is batches per epoch, ``ceil(min(max_epoch_samples, len(samples)) / batch_size)``.
    `on_error`: "raise" (default), or "zeros"/"skip" to replace/drop samples whose actions fail,
    with a counted warning per epoch.
    """

    def __init__(self, samples: Any, batch_size: int = 32, shuffle: bool = False, repeat: bool | int = False,
                 sampling_groupby: str | Sequence[str] | None = None, sampling_group_weighing: Weighing = "uniform",
                 seed: int | None = None, output_structure: Structure = None, max_epoch_samples: float = np.inf,
                 on_error: str = "raise"):
        self.samples = _sample_table(samples)
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if not max_epoch_samples > 0:
            raise ValueError(f"max_epoch_samples must be positive, got {max_epoch_samples!r}")
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {list(ON_ERROR)}, got {on_error!r}")
        self.batch_size, self.shuffle, self.repeat = int(batch_size), bool(shuffle), repeat
        self.epochs = _epoch_count(repeat)
        self.sampling_groupby = _groupby_columns(sampling_groupby, self.samples)
        self.sampling_group_weighing = check_weighing(sampling_group_weighing)
        self.output_structure = check_structure(output_structure)
        self.max_epoch_samples = max_epoch_samples
        self.epoch_samples = int(min(max_epoch_samples, len(self.samples)))
        self.on_error = on_error
        self.seed = rng.resolve_seed(seed, "DataGenerator")
        self.actions: tuple[Action, ...] = ()
        self._members = self._counts = self._weights = None
        self._group_keys: list[Any] = [None]
        if self.sampling_groupby and len(self.samples):
            codes, self._group_keys = _group_codes(self.samples, self.sampling_groupby)
            self._members, self._counts = planning.group_members(codes, len(self._group_keys))
            self._weights = sampling.group_weights(self._counts, self.sampling_group_weighing, self._group_keys)
        self._reset_caches()

    # -- settings and size -------------------------------------------------------------------

    def __len__(self) -> int:
        return math.ceil(self.epoch_samples / self.batch_size)

    @property
    def total_batches(self) -> int | None:
        """Global batches over all epochs; None when endless."""
        return None if self.epochs is None else self.epochs * len(self)

    @property
    def group_weights(self) -> pd.Series:
        """Sampling probability of each group, indexed by group key (one group when not grouping)."""
        weights = self._weights if self._weights is not None else np.ones(1)
        return pd.Series(weights, index=pd.Index(self._group_keys, tupleize_cols=False), name="weight")

    @property
    def plan_prefixes(self) -> tuple[str, ...]:
        return _plan_prefixes(self.actions)

    @property
    def sample_loader(self) -> SampleLoader:
        """The picklable executor of this generator's plan rows."""
        return SampleLoader(self.actions, self.plan_prefixes, tuple(self.samples.columns), self.on_error)

    def map(self, fn: Action | Callable | Iterable[Action | Callable | None]) -> DataGenerator:
        """A new generator with `fn` (or each of a list, skipping None) appended to the action chain.

        The action at chain position i draws from stream ``STREAM_ACTIONS + i`` of this generator's
        seed, so its parameters depend on its place in the chain, never on when map() was called.
        """
        fns = list(fn) if isinstance(fn, (list, tuple)) else [fn]
        mapped = copy.copy(self)
        mapped.actions = self.actions + tuple(as_action(f) for f in fns if f is not None)
        mapped._orders = self._orders  # the order does not depend on the actions
        return mapped

    def _reset_caches(self) -> None:
        self._orders = _EpochCache(self._compute_order)
        self._params = _EpochCache(self._compute_params)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        del state["_orders"], state["_params"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._reset_caches()

    # -- the plan ------------------------------------------------------------------------------

    def _compute_order(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        if self._weights is None:
            index = planning.sequential_slots(len(self.samples), self.epoch_samples, self.seed, epoch, self.shuffle)
            return index, np.zeros(len(index), np.int8)
        return planning.stratified_slots(self._members, self._counts, self._weights, self.epoch_samples, self.seed,
                                         epoch, self.shuffle)

    def _compute_params(self, epoch: int) -> dict[str, np.ndarray]:
        columns = {}
        for position, (action, prefix) in enumerate(zip(self.actions, self.plan_prefixes)):
            streams = rng.ParamStreams(self.seed, rng.STREAM_ACTIONS + position, epoch)
            for name, values in action.sample_params(streams, self.epoch_samples).items():
                values = np.asarray(values)
                if values.shape != (self.epoch_samples,):
                    raise ValueError(f"{action.describe()}.sample_params gave {name!r} the shape {values.shape}; "
                                     f"expected one value per slot, ({self.epoch_samples},)")
                columns[f"{prefix}.{name}"] = values.astype(np.float32) if values.dtype.kind == "f" else values
        return columns

    def _check_epoch(self, epoch: int) -> int:
        if not isinstance(epoch, (int, np.integer)) or epoch < 0 or (self.epochs is not None and epoch >= self.epochs):
            count = "endless" if self.epochs is None else f"{self.epochs} epoch(s), 0..{self.epochs - 1}"
            raise ValueError(f"epoch must be an integer in the generator's range ({count}, repeat={self.repeat!r}), "
                             f"got {epoch!r}")
        return int(epoch)

    def plan(self, epoch: int = 0, sample_columns: Sequence[Any] | None = None) -> pd.DataFrame:
        """One row per slot of `epoch`: epoch, batch (global), position, index, group, sample columns, parameters.

        `sample_columns` limits the copied table columns (default all): copying them dominates
        the cost on large tables, and a plan replays from its index plus the table as well.
        """
        epoch = self._check_epoch(epoch)
        chosen = list(self.samples.columns) if sample_columns is None else list(sample_columns)
        missing = [column for column in chosen if column not in self.samples.columns]
        if missing:
            raise KeyError(f"sample_columns {missing} are not in the samples; columns: {list(self.samples.columns)}")
        # Drawing the parameters releases the GIL, so it overlaps the (GIL-bound) take of the sample columns.
        with ThreadPoolExecutor(max_workers=1) as pool:
            params = pool.submit(self._params.get, epoch)
            index, group = self._orders.get(epoch)
            slot = np.arange(len(index))
            place = {
                "epoch": np.full(len(index), epoch, np.int32),
                "batch": epoch * len(self) + slot // self.batch_size,
                "position": (slot % self.batch_size).astype(np.int32),
                "index": index.astype(np.int64, copy=False),
                "group": group.astype(np.int32),
            }
            taken = self.samples[chosen].take(index).reset_index(drop=True)
            columns = {**place, **{column: taken[column] for column in chosen}, **params.result()}
        return pd.DataFrame(columns, copy=False)

    def batch_plans(self, start_batch: int = 0, rank: int = 0, world_size: int = 1,
                    with_params: bool = True) -> Iterator[BatchPlan]:
        """The plans of global batches start_batch, start_batch+1, ..., each cut to `rank`'s slice.

        Arguments are checked now, not at the first ``next()``. ``with_params=False`` leaves the
        action parameters out of the rows (enough for the raw samples; no parameters drawn).
        """
        return self._batch_plans(start_batch, rank, world_size, with_params)

    def _batch_plans(self, start_batch: int, rank: int, world_size: int, with_params: bool) -> Iterator[BatchPlan]:
        if isinstance(world_size, bool) or not isinstance(world_size, (int, np.integer)) or world_size < 1:
            raise ValueError(f"world_size must be a positive integer, got {world_size!r}")
        if not isinstance(rank, (int, np.integer)) or not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, world_size={world_size}), got rank={rank!r}")
        total = self.total_batches
        if (not isinstance(start_batch, (int, np.integer)) or start_batch < 0
                or (total is not None and start_batch > total)):
            raise ValueError(f"start_batch must be in [0, {total}] (the generator has {total} batches: "
                             f"{self.epochs} epoch(s) of {len(self)}), got {start_batch!r}")
        return self._iterate_batch_plans(int(start_batch), int(rank), int(world_size), with_params)

    def _iterate_batch_plans(self, start_batch: int, rank: int, world_size: int,
                             with_params: bool) -> Iterator[BatchPlan]:
        per_epoch, total, batch = len(self), self.total_batches, start_batch
        while per_epoch and (total is None or batch < total):
            epoch, in_epoch = divmod(batch, per_epoch)
            lo, hi = planning.batch_bounds(in_epoch, self.batch_size, self.epoch_samples)
            shard_lo, shard_hi = planning.shard_bounds(hi - lo, rank, world_size)
            yield BatchPlan(epoch, batch, self._rows(epoch, batch, lo + shard_lo, lo + shard_hi, lo, with_params))
            batch += 1

    def _rows(self, epoch: int, batch: int, lo: int, hi: int, batch_lo: int, with_params: bool) -> tuple[dict, ...]:
        index, group = self._orders.get(epoch)
        records = self.samples.iloc[index[lo:hi]].to_dict("records")
        params = {name: values[lo:hi] for name, values in self._params.get(epoch).items()} if with_params else {}
        rows = []
        for offset, record in enumerate(records):
            slot = lo + offset
            row = {"epoch": epoch, "batch": batch, "position": slot - batch_lo, "index": int(index[slot]),
                   "group": int(group[slot]), **record}
            row.update((name, values[offset]) for name, values in params.items())
            rows.append(row)
        return tuple(rows)

    # -- execution -----------------------------------------------------------------------------

    def load_sample(self, row: Mapping[Any, Any]) -> dict:
        """The sample of one plan row with every action applied (pure); SampleError when an action fails."""
        return self.sample_loader.load(row)

    def select_structure(self, values: Mapping[str, Any], structure: Structure = DEFAULT) -> Any:
        """`values` picked by `structure` ("__default__" = output_structure, None = all)."""
        return select_structure(values, resolve_structure(structure, self.output_structure))

    def get_samples_numpy(self, batch: bool = True, structure: Structure = None, start_batch: int = 0,
                          rank: int = 0, world_size: int = 1) -> Iterator[Any]:
        """Iterator over the planned samples as the table holds them (no actions), batched or one by one.

        `start_batch` resumes at a global batch; `rank`/`world_size` yield that rank's slices
        (a rank whose slice of a batch is empty skips it; ``batch_plans`` keeps ranks in step).
        """
        structure = resolve_structure(structure, self.output_structure)
        plans = self._batch_plans(start_batch, rank, world_size, with_params=False)
        return self._iterate(plans, self.sample_loader, load=False, batch=batch, structure=structure)

    def get_dataset_numpy(self, batch: bool = True, structure: Structure = DEFAULT, start_batch: int = 0,
                          rank: int = 0, world_size: int = 1) -> Iterator[Any]:
        """Iterator over the planned samples with every action applied, batched or one by one (as get_samples_numpy)."""
        structure = resolve_structure(structure, self.output_structure)
        plans = self._batch_plans(start_batch, rank, world_size, with_params=True)
        return self._iterate(plans, self.sample_loader, load=True, batch=batch, structure=structure)

    def _iterate(self, plans: Iterator[BatchPlan], loader: SampleLoader, load: bool, batch: bool,
                 structure: Structure) -> Iterator[Any]:
        tally, epoch = FailureTally(self.on_error), None
        try:
            for batch_plan in plans:
                if batch_plan.epoch != epoch:
                    tally.report()
                    epoch = batch_plan.epoch
                if load:
                    samples = resolve_failures([loader.try_load(row) for row in batch_plan.rows], self.on_error, tally)
                else:
                    samples = [loader.sample(row) for row in batch_plan.rows]
                if not samples:
                    continue
                if batch:
                    yield select_structure(collate(samples), structure)
                else:
                    for sample in samples:
                        yield select_structure(as_numpy_sample(sample), structure)
        finally:
            tally.report()

    def __iter__(self) -> Iterator[Any]:
        return self.get_dataset_numpy()

    def __repr__(self) -> str:
        return (f"DataGenerator({len(self.samples)} samples, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"repeat={self.repeat!r}, groupby={self.sampling_groupby}, seed={self.seed}, "
                f"actions={[action.describe() for action in self.actions]})")


class StratifiedSampler(BaseModel):
    """Sampling settings (reference StratifiedSampler); ``get(samples, ...)`` builds the DataGenerator."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    batch_size: int = 32
    groupby: list[str] | None = None
    group_weighing: str | Callable[..., float] = "uniform"
    max_epoch_samples: int = 10**9
    seed: int = -1

    #: The DataGenerator class get() builds; the framework adapters set their flavour.
    generator_type: ClassVar[type[DataGenerator]] = DataGenerator

    @field_validator("groupby", mode="before")
    @classmethod
    def _groupby_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        return value or None

    @field_validator("group_weighing")
    @classmethod
    def _known_weighing(cls, value: Any) -> Any:
        return check_weighing(value)

    @field_validator("batch_size", "max_epoch_samples")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"must be a positive integer, got {value}")
        return value

    def get(self, samples: Any, shuffle: bool = False, repeat: bool | int = False, **kwargs: Any) -> DataGenerator:
        """A DataGenerator over `samples` with these settings; keyword arguments override them. seed < 0 means None."""
        settings = {"batch_size": self.batch_size, "max_epoch_samples": self.max_epoch_samples, "seed": self.seed,
                    "sampling_groupby": self.groupby, "sampling_group_weighing": self.group_weighing, **kwargs}
        if settings["seed"] is not None and settings["seed"] < 0:
            settings["seed"] = None
        return self.generator_type(samples, shuffle=shuffle, repeat=repeat, **settings)


def category_classes(categories: pd.Series) -> list[str]:
    """The sorted labels of a category column (tuples; a plain string is a 1-tuple), without "__UNLABELED__"."""
    labels = set()
    for category in pd.unique(categories.to_numpy(dtype=object)):
        labels.update((category,) if isinstance(category, str) else category)
    labels.discard("__UNLABELED__")
    return sorted(labels)


def build_image_data_generator(samples: Any, classes: Sequence[str] | None = None,
                               image: Mapping[str, Any] | Action | None = None,
                               augmentation: Mapping[str, Any] | Action | None = None,
                               generator_type: type[DataGenerator] = DataGenerator, **kwargs: Any) -> DataGenerator:
    """DataGenerator → ImagePipeline(**image) → ImageAugmenter(**augmentation) if given → OneHotEncoder(classes).

    The default output structure is ("img", "onehot"); `classes` defaults to every label in the
    samples' category tuples except "__UNLABELED__". `image`/`augmentation` may also be instances.
    `generator_type` is the DataGenerator class to build (the framework adapters pass their flavour).
    """
    from .augment.augmenter import ImageAugmenter
    from .encoding import OneHotEncoder
    from .image.pipeline import ImagePipeline

    kwargs.setdefault("output_structure", ("img", "onehot"))
    generator = generator_type(samples, **kwargs)
    if classes is None:
        if "category" not in generator.samples.columns:
            raise KeyError(f"build_image_data_generator needs classes or a 'category' column; "
                           f"columns: {list(generator.samples.columns)}")
        classes = category_classes(generator.samples["category"])
    generator = generator.map(image if isinstance(image, Action) else ImagePipeline(**(image or {})))
    if augmentation is not None:
        generator = generator.map(augmentation if isinstance(augmentation, Action)
                                  else ImageAugmenter(**augmentation))
    return generator.map(OneHotEncoder(classes))
