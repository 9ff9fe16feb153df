"""Replaying a saved plan: its table (``plan(epoch)``, a plan file, or a pandas read of either) as batch plans.

A replayed batch is the table's rows of one ``batch`` value, in table order, the batches in the
order they first appear, so a table of several epochs, or a filtered or edited one, replays as it
reads. Each row takes its sample from the generator's own table by ``index``, so sample values
keep their exact types however the plan was stored (a ``path`` column, when present, must name
the same file), and every other column, the action parameters, from the plan table. Replayed
batches are numbered 0, 1, ... in that order; ``start_batch`` and shards work as on the
generator's own plan (``ReplayPlan`` is a ``plan.BatchSource``).
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from .plan import PLACE_COLUMNS, BatchPlan
from .sharding import WHOLE, Shard

REQUIRED = ("epoch", "batch", "index")


def _check_samples(table: pd.DataFrame, samples: pd.DataFrame) -> np.ndarray:
    """The table's sample indices; errors naming the first row whose index or path does not fit `samples`."""
    index = table["index"].to_numpy()
    if not np.issubdtype(index.dtype, np.integer):
        raise TypeError(f"the plan's 'index' column must hold integers, got {index.dtype}")
    outside = np.flatnonzero((index < 0) | (index >= len(samples)))
    if len(outside):
        row = outside[0]
        raise IndexError(f"plan row {row}: sample index {index[row]} is outside the generator's {len(samples)} "
                         f"samples")
    if "path" in table.columns and "path" in samples.columns:
        expected = samples["path"].to_numpy()[index]
        differs = np.flatnonzero(table["path"].astype(str).to_numpy() != expected.astype(str))
        if len(differs):
            row = differs[0]
            raise ValueError(f"plan row {row}: path {table['path'].iloc[row]!r} but the generator's sample "
                             f"{index[row]} is {expected[row]!r}; replay a plan with the samples it was made from")
    return index


class ReplayPlan:
    """A saved plan table replayed on a generator's `samples`: batches by number, cut to shards."""

    def __init__(self, table: pd.DataFrame, samples: pd.DataFrame):
        missing = [column for column in REQUIRED if column not in table.columns]
        if missing:
            raise KeyError(f"a plan to replay needs the columns {list(REQUIRED)}; it lacks {missing} "
                           f"(columns: {list(table.columns)})")
        self.table, self.samples = table.reset_index(drop=True), samples
        self.index = _check_samples(self.table, samples)
        self.params = [column for column in self.table.columns
                       if column not in PLACE_COLUMNS and column not in samples.columns]
        codes, _ = pd.factorize(self.table["batch"], sort=False)
        order = np.argsort(codes, kind="stable")
        self.batches = np.split(order, np.cumsum(np.bincount(codes))[:-1]) if len(codes) else []

    @property
    def total_batches(self) -> int:
        """The number of batches in the table."""
        return len(self.batches)

    def batch_numbers(self, start_batch: int = 0) -> range:
        """The replayed batch numbers from `start_batch` on; ValueError naming the length past it."""
        total = self.total_batches
        if not isinstance(start_batch, (int, np.integer)) or not 0 <= start_batch <= total:
            raise ValueError(f"start_batch must be in [0, {total}] (the replayed plan has {total} batches), "
                             f"got {start_batch!r}")
        return range(int(start_batch), total)

    def batch_plans(self, start_batch: int = 0, shard: Shard = WHOLE, with_params: bool = True) -> Iterator[BatchPlan]:
        """The plans of replayed batches start_batch, start_batch+1, ..., each cut to `shard`'s slice (checked now)."""
        return (self.batch_plan(number, shard, with_params) for number in self.batch_numbers(start_batch))

    def batch_plan(self, batch: int, shard: Shard = WHOLE, with_params: bool = True) -> BatchPlan:
        """Replayed batch `batch` (0-based, in table order) cut to `shard`'s slice."""
        if not isinstance(batch, (int, np.integer)) or not 0 <= batch < self.total_batches:
            raise ValueError(f"batch must be in [0, {self.total_batches}) (the replayed plan's batches), "
                             f"got {batch!r}")
        rows = self.batches[batch]
        lo, hi = shard.bounds(len(rows))
        table = self.table.iloc[rows[lo:hi]]
        records = self.samples.iloc[self.index[rows[lo:hi]]].to_dict("records")
        params = table[self.params].to_dict("records") if with_params else [{}] * len(records)
        positions = table["position"].tolist() if "position" in table.columns else range(lo, hi)
        place = zip(table["epoch"].tolist(), table["batch"].tolist(), positions, table["index"].tolist())
        batch_rows = tuple({"epoch": epoch, "batch": number, "position": position, "index": index, **record, **extra}
                           for (epoch, number, position, index), record, extra in zip(place, records, params))
        first = self.table.iloc[rows[0]]
        return BatchPlan(int(first["epoch"]), int(first["batch"]), batch_rows)
