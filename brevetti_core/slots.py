"""Which sample goes in which slot: small pure functions of (sizes, seed, epoch).

Without groups, epochs are windows of ``epoch_samples`` slots over an endless sequence of passes
through the table, each pass in input order or its own permutation keyed by the pass number;
with the default ``epoch_samples == n`` a pass is an epoch, and a smaller epoch continues where
the previous one stopped instead of seeing the same first rows again. With groups, each slot
first picks a group (a weighted draw, or the reference's fixed interleave when not shuffled) and
then the group's next member; groups are cycled, so small groups repeat within an epoch, except
for an unshuffled single epoch, which is one pass visiting every sample once.
Everything is vectorised numpy keyed by ``rng.generator(seed, stream, epoch, name)``, so any
epoch can be planned alone, in any process, without replaying earlier ones. Resume and sharding
are index arithmetic on the epoch's slots (``batch_bounds`` here, ``Shard.bounds`` in
``sharding.py``); they never touch the samples.
"""
from __future__ import annotations

import numpy as np

from . import rng
from .interleave import Selector


def smallest_int(values: np.ndarray) -> np.ndarray:
    """`values` in the smallest signed integer dtype that holds them (stable sorts on small ints are radix sorts)."""
    top = int(values.max()) if len(values) else 0
    for dtype in (np.int8, np.int16, np.int32):
        if top <= np.iinfo(dtype).max:
            return values.astype(dtype, copy=False)
    return values.astype(np.int64, copy=False)


def permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    """A permutation of range(n) keyed by (seed, epoch): the order of one shuffled pass."""
    return rng.generator(seed, rng.STREAM_ORDER, epoch, "permutation").permutation(n)


def sequential_slots(n: int, epoch_samples: int, seed: int, epoch: int, shuffle: bool) -> np.ndarray:
    """Sample indices of one epoch's slots: the window [epoch*E, (epoch+1)*E) of consecutive passes."""
    if epoch_samples == 0:
        return np.empty(0, np.int64)
    start = epoch * epoch_samples
    pieces, needed = [], epoch_samples
    pass_number, offset = divmod(start, n)
    while needed:
        order = permutation(n, seed, pass_number) if shuffle else np.arange(n, dtype=np.int64)
        piece = order[offset:offset + needed]
        pieces.append(piece)
        needed -= len(piece)
        pass_number, offset = pass_number + 1, 0
    return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


def draw_groups(weights: np.ndarray, n: int, seed: int, epoch: int) -> np.ndarray:
    """n independent group draws with probabilities `weights`, keyed by (seed, epoch)."""
    drawable = np.flatnonzero(weights > 0)
    edges = np.cumsum(weights[drawable])[:-1]
    draws = rng.generator(seed, rng.STREAM_GROUPS, epoch, "groups").random(n)
    if len(edges) > 32:
        picked = np.searchsorted(edges, draws, side="right")
    else:  # a few comparison passes beat a binary search per draw; both count the edges <= draw
        picked = np.zeros(n, np.int8)  # small counts: an eighth of the memory traffic of intp on 10M slots
        for edge in edges:
            picked += draws >= edge
    if len(drawable) == len(weights):  # every group drawable: the count is the group
        return smallest_int(picked)
    return smallest_int(drawable)[picked]


def group_members(codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """(row indices sorted by group, input order within each group; member count per group)."""
    codes = smallest_int(np.asarray(codes))
    return np.argsort(codes, kind="stable"), np.bincount(codes, minlength=n_groups)


def stratified_slots(members: np.ndarray, counts: np.ndarray, weights: np.ndarray, epoch_samples: int, seed: int,
                     epoch: int, shuffle: bool, cycle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(sample index, group) of one epoch's slots when sampling by group (`members`, `counts` from group_members).

    Shuffled: groups drawn by weight, each group consumed through its own per-epoch permutation
    and cycled when drawn more often than it has members.
    Not shuffled: the fixed interleave (``interleave.Selector``), each group in input order. With
    `cycle` (repeat) the interleave runs on across epochs and groups cycle, each continuing where
    the previous epochs left it; without, the epoch is one pass that takes every sample once,
    skipping exhausted groups (cut to `epoch_samples`).
    """
    starts = np.cumsum(counts) - counts
    if not shuffle and not cycle:
        groups, ranks = Selector.of(weights).pass_order(counts)
        groups, ranks = groups[:epoch_samples], ranks[:epoch_samples]
        return members[starts[groups] + ranks], smallest_int(groups)
    if shuffle:
        members = members.copy()
        order = rng.generator(seed, rng.STREAM_ORDER, epoch, "group members")
        for group in np.flatnonzero(counts > 1):
            order.shuffle(members[starts[group]:starts[group] + counts[group]])
        groups = draw_groups(weights, epoch_samples, seed, epoch)
        consumed = np.zeros(len(counts), np.int64)
    else:
        selector = Selector.of(weights)
        groups = selector.groups_at(epoch * epoch_samples + 1, epoch_samples)
        consumed = selector.picks_before(epoch * epoch_samples + 1, len(counts))
    groups = smallest_int(groups)
    quota = np.bincount(groups, minlength=len(counts))
    slots_by_group = np.argsort(groups, kind="stable")
    index, done = np.empty(epoch_samples, np.int64), 0
    for group in np.flatnonzero(quota):
        own = members[starts[group]:starts[group] + counts[group]]
        own = np.roll(own, -int(consumed[group]))
        index[slots_by_group[done:done + quota[group]]] = np.resize(own, quota[group])
        done += quota[group]
    return index, groups


def batch_bounds(batch: int, batch_size: int, epoch_samples: int) -> tuple[int, int]:
    """[lo, hi) of the slots of a batch within its epoch; the last batch of an epoch may be partial."""
    lo = batch * batch_size
    return lo, min(lo + batch_size, epoch_samples)
