"""The seeded plan of a sample table: which sample fills every slot of every epoch, and every action parameter.

A ``Plan`` is a pure function of the samples, the settings and the seed. It is computed one
epoch at a time with vectorised numpy (``slots.py`` for the order, the actions' ``sample_params``
for the parameters) and cached for the last two epochs, since iteration walks epoch by epoch
and sometimes two iterators walk at once. Nothing here loads a sample:

- ``plan.epoch_table(epoch)``: the epoch as a DataFrame, one row per slot (what
  ``DataGenerator.plan(epoch)`` returns), to save, diff and replay;
- ``plan.batch_plan(batch, shard)``: global batch ``batch`` cut to ``shard``'s slice, as a
  ``BatchPlan`` of picklable flat rows (exactly rows of ``epoch_table``), by index, so a worker in
  any process can be handed any batch; ``plan.batch_plans(start_batch, shard)`` walks them from
  ``start_batch`` on (resume).

The executor (``executor.py``) turns a ``BatchPlan`` into a numpy batch.
"""
from __future__ import annotations

import copy
import itertools
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from . import rng, slots
from .actions import Action
from .sampling import Groups, Weighing, check_weighing, groupby_columns, table_groups
from .sharding import WHOLE, Shard
from .table_rows import RowReader
from .table_take import ValueCodes, constant_columns, take_rows, value_codes

PLACE_COLUMNS = ("epoch", "batch", "position", "index", "group")
"""The plan's own columns: where a slot is (epoch, global batch, position in it) and what fills it."""


@dataclass(frozen=True)
class BatchPlan:
    """One global batch (or one rank's slice of it): its epoch, global index and plan rows."""

    epoch: int
    batch: int
    rows: tuple[dict, ...]

    def __len__(self) -> int:
        return len(self.rows)


class BatchSource(Protocol):
    """What a pipeline walks: global batches by number, each cut to a shard (a ``Plan``, or a replayed saved plan)."""

    @property
    def total_batches(self) -> int | None:
        """Batches in all; None when endless."""

    def batch_numbers(self, start_batch: int = 0) -> Iterable[int]:
        """The batch numbers from `start_batch` to the end; ValueError naming the length when past it."""

    def batch_plan(self, batch: int, shard: Shard = WHOLE, with_params: bool = True) -> BatchPlan:
        """Batch `batch` cut to `shard`'s slice."""

    def batch_plans(self, start_batch: int = 0, shard: Shard = WHOLE, with_params: bool = True) -> Iterator[BatchPlan]:
        """The plans of batches start_batch, start_batch+1, ..., each cut to `shard`'s slice."""


def sample_table(samples: Any) -> pd.DataFrame:
    """`samples` (DataFrame, records, array of dicts) as a table with a fresh index and str paths."""
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


def epoch_count(repeat: bool | int) -> int | None:
    """The number of epochs `repeat` asks for: False one, True or -1 (the reference's "endless") None, n n."""
    if isinstance(repeat, (bool, np.bool_)):
        return None if repeat else 1
    if isinstance(repeat, (int, np.integer)) and (repeat >= 1 or repeat == -1):
        return int(repeat) if repeat >= 1 else None
    raise ValueError(f"repeat must be False (one epoch), True or -1 (endless) or a number of epochs >= 1, "
                     f"got {repeat!r}")


def plan_prefixes(actions: Sequence[Action]) -> tuple[str, ...]:
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


class Plan:
    """The seeded plan of `samples` in batches of `batch_size` over `repeat` epochs, with `actions`' parameters.

    ``len(plan)`` is batches per epoch, ``ceil(min(max_epoch_samples, len(samples)) / batch_size)``.
    `groupby`/`weighing` sample by group (``sampling.py``); `seed` None draws one, recorded under
    `seed_owner`. The action at chain position i draws from stream ``STREAM_ACTIONS + i``.
    """

    def __init__(self, samples: Any, *, batch_size: int = 32, shuffle: bool = False, repeat: bool | int = False,
                 groupby: str | Sequence[str] | None = None, weighing: Weighing = "uniform", seed: int | None = None,
                 max_epoch_samples: float = np.inf, actions: Sequence[Action] = (), seed_owner: str = "Plan"):
        self.samples = sample_table(samples)
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if not max_epoch_samples > 0:
            raise ValueError(f"max_epoch_samples must be positive, got {max_epoch_samples!r}")
        self.batch_size, self.shuffle, self.repeat = int(batch_size), bool(shuffle), repeat
        self.epochs = epoch_count(repeat)
        self.groupby = groupby_columns(groupby, self.samples)
        self.weighing = check_weighing(weighing)
        self.max_epoch_samples = max_epoch_samples
        self.epoch_samples = int(min(max_epoch_samples, len(self.samples)))
        self.seed = rng.resolve_seed(seed, seed_owner)
        self.groups: Groups | None = None
        if self.groupby and len(self.samples):
            self.groups = table_groups(self.samples, self.groupby, self.weighing)
        self.actions = tuple(actions)
        self.prefixes = plan_prefixes(self.actions)
        self._constant_columns: frozenset[Any] | None = None
        self._coded_columns: dict[Any, ValueCodes | None] = {}
        self._row_reader: RowReader | None = None
        self._orders = _EpochCache(self._compute_order)
        self._params = _EpochCache(self._compute_params)

    def with_actions(self, actions: Sequence[Action]) -> Plan:
        """The same plan with another action chain, sharing this plan's epoch orders (they do not depend on actions)."""
        other = copy.copy(self)  # a fresh pair of caches (through __getstate__/__setstate__)
        other.actions = tuple(actions)
        other.prefixes = plan_prefixes(other.actions)
        other._orders = self._orders
        return other

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        del state["_orders"], state["_params"]
        state["_row_reader"], state["_coded_columns"] = None, {}  # a column's size: rebuilt where the plan is used
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._orders = _EpochCache(self._compute_order)
        self._params = _EpochCache(self._compute_params)

    # -- size ----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return math.ceil(self.epoch_samples / self.batch_size)

    @property
    def total_batches(self) -> int | None:
        """Global batches over all epochs; None when endless."""
        return None if self.epochs is None else self.epochs * len(self)

    @property
    def group_weights(self) -> pd.Series:
        """Sampling probability of each group, indexed by group key (one group when not grouping)."""
        keys, weights = ([None], np.ones(1)) if self.groups is None else (self.groups.keys, self.groups.weights)
        return pd.Series(weights, index=pd.Index(keys, tupleize_cols=False), name="weight")

    # -- epoch tables --------------------------------------------------------------------------

    def order(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """(sample index, group) of every slot of `epoch` (cached)."""
        return self._orders.get(epoch)

    def params(self, epoch: int) -> dict[str, np.ndarray]:
        """Every action parameter of every slot of `epoch`, as ``<prefix>.<name>`` columns (cached)."""
        return self._params.get(epoch)

    def _compute_order(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        if self.groups is None:
            index = slots.sequential_slots(len(self.samples), self.epoch_samples, self.seed, epoch, self.shuffle)
            return index, np.zeros(len(index), np.int8)
        groups = self.groups
        return slots.stratified_slots(groups.members, groups.counts, groups.weights, self.epoch_samples, self.seed,
                                      epoch, self.shuffle, cycle=self.epochs != 1)

    def _compute_params(self, epoch: int) -> dict[str, np.ndarray]:
        columns = {}
        for position, (action, prefix) in enumerate(zip(self.actions, self.prefixes)):
            streams = rng.ParamStreams(self.seed, rng.STREAM_ACTIONS + position, epoch)
            for name, drawn in action.sample_params(streams, self.epoch_samples).items():
                values = np.asarray(drawn)
                if values.shape != (self.epoch_samples,):
                    raise ValueError(f"{action.describe()}.sample_params gave {name!r} the shape {values.shape}; "
                                     f"expected one value per slot, ({self.epoch_samples},)")
                columns[f"{prefix}.{name}"] = values.astype(np.float32) if values.dtype.kind == "f" else values
        return columns

    def check_epoch(self, epoch: int) -> int:
        """`epoch` as an int; ValueError naming the plan's range when it is outside it."""
        if not isinstance(epoch, (int, np.integer)) or epoch < 0 or (self.epochs is not None and epoch >= self.epochs):
            count = "endless" if self.epochs is None else f"{self.epochs} epoch(s), 0..{self.epochs - 1}"
            raise ValueError(f"epoch must be an integer in the generator's range ({count}, repeat={self.repeat!r}), "
                             f"got {epoch!r}")
        return int(epoch)

    def epoch_table(self, epoch: int = 0, sample_columns: Sequence[Any] | None = None) -> pd.DataFrame:
        """One row per slot of `epoch`: epoch, batch (global), position, index, group, sample columns, parameters.

        `sample_columns` limits the copied table columns (default all): copying them dominates
        the cost on large tables, and a plan replays from its index plus the table as well.
        """
        epoch = self.check_epoch(epoch)
        chosen = list(self.samples.columns) if sample_columns is None else list(sample_columns)
        missing = [column for column in chosen if column not in self.samples.columns]
        if missing:
            raise KeyError(f"sample_columns {missing} are not in the samples; columns: {list(self.samples.columns)}")
        # Drawing the parameters and reading Arrow string columns release the GIL: they overlap the rest.
        with ThreadPoolExecutor(max_workers=3) as pool:
            params = pool.submit(self.params, epoch)
            constant = self._constants(pool)
            uncoded = [name for name in dict.fromkeys(chosen) if name not in self._coded_columns]
            self._coded_columns.update(value_codes(self.samples, uncoded, pool))  # once per column and plan
            index, group = self.order(epoch)
            # Batch numbers and positions by repeating one batch's worth: no slot-sized temporaries.
            first = epoch * len(self)
            place = {
                "epoch": np.full(len(index), epoch, np.int32),
                "batch": np.repeat(np.arange(first, first + len(self), dtype=np.int64), self.batch_size)[:len(index)],
                "position": np.tile(np.arange(self.batch_size, dtype=np.int32), len(self))[:len(index)],
                "index": index.astype(np.int64, copy=False),
                "group": group.astype(np.int32),
            }
            taken = take_rows(self.samples, chosen, index, constant, pool,
                              {name: codes for name, codes in self._coded_columns.items() if codes is not None})
            columns = {**place, **taken, **params.result()}
        return pd.DataFrame(columns, copy=False)

    # -- batches -------------------------------------------------------------------------------

    def batch_numbers(self, start_batch: int = 0) -> Iterable[int]:
        """The global batch numbers from `start_batch` to the end (endless when repeat=True); checked now."""
        total = self.total_batches
        if (not isinstance(start_batch, (int, np.integer)) or start_batch < 0
                or (total is not None and start_batch > total)):
            raise ValueError(f"start_batch must be in [0, {total}] (the generator has {total} batches: "
                             f"{self.epochs} epoch(s) of {len(self)}), got {start_batch!r}")
        if not len(self):
            return range(0)
        return itertools.count(int(start_batch)) if total is None else range(int(start_batch), total)

    def batch_plans(self, start_batch: int = 0, shard: Shard = WHOLE, with_params: bool = True) -> Iterator[BatchPlan]:
        """The plans of global batches start_batch, start_batch+1, ..., each cut to `shard`'s slice (checked now)."""
        return (self.batch_plan(batch, shard, with_params) for batch in self.batch_numbers(start_batch))

    def batch_plan(self, batch: int, shard: Shard = WHOLE, with_params: bool = True) -> BatchPlan:
        """Global batch `batch` cut to `shard`'s slice (maybe empty); ``with_params=False`` omits the parameters."""
        total, per_epoch = self.total_batches, len(self)
        if (not isinstance(batch, (int, np.integer)) or batch < 0 or not per_epoch
                or (total is not None and batch >= total)):
            raise ValueError(f"batch must be in [0, {total}) (the generator has {total} batches: "
                             f"{self.epochs} epoch(s) of {per_epoch}), got {batch!r}")
        batch = int(batch)
        epoch, in_epoch = divmod(batch, per_epoch)
        lo, hi = slots.batch_bounds(in_epoch, self.batch_size, self.epoch_samples)
        shard_lo, shard_hi = shard.bounds(hi - lo)
        return BatchPlan(epoch, batch, self._rows(epoch, batch, lo + shard_lo, lo + shard_hi, lo, with_params))

    def _constants(self, pool: Executor | None = None) -> frozenset[Any]:
        """The sample table's constant string columns, found once per table (with_actions copies them once known)."""
        if self._constant_columns is None:
            self._constant_columns = constant_columns(self.samples, pool)
        return self._constant_columns

    def _rows(self, epoch: int, batch: int, lo: int, hi: int, batch_lo: int, with_params: bool) -> tuple[dict, ...]:
        if hi <= lo:
            return ()
        index, group = self.order(epoch)
        if self._row_reader is None:  # once per process: plans travel to workers without it
            self._row_reader = RowReader(self.samples, self._constant_columns)  # reuses them if plan() found them
        count = hi - lo
        keys = [*PLACE_COLUMNS, *self._row_reader.columns]
        values = [[epoch] * count, [batch] * count, list(range(lo - batch_lo, hi - batch_lo)),
                  index[lo:hi].tolist(), group[lo:hi].tolist(), *self._row_reader.columns_at(index[lo:hi])]
        if with_params:
            for name, drawn in self.params(epoch).items():
                keys.append(name)
                values.append(list(drawn[lo:hi]))  # numpy scalars, as the table's cells
        return tuple(dict(zip(keys, row)) for row in zip(*values))

