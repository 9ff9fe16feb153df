"""Which sample goes in which slot: small pure functions of (sizes, seed, epoch, rank, world_size).

Without groups, epochs are windows of ``epoch_samples`` slots over an endless sequence of passes
through the table, each pass in input order or its own permutation keyed by the pass number;
with the default ``epoch_samples == n`` a pass is an epoch, and a smaller epoch continues where
the previous one stopped instead of seeing the same first rows again. With groups, each slot
first picks a group (a weighted draw, or the reference's fixed interleave when not shuffled) and
then the group's next member; groups are cycled, so small groups repeat within an epoch.
Everything is vectorised numpy keyed by ``rng.generator(seed, stream, epoch, name)``, so any
epoch can be planned alone, in any process, without replaying earlier ones. Resume and sharding
are index arithmetic on the epoch's slots; they never touch the samples.
"""
from __future__ import annotations

import numpy as np

from . import rng


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


def interleave(weights: np.ndarray, n: int) -> np.ndarray:
    """The reference's deterministic group selector for n slots: a fixed pattern in proportion to the weights.

    Slot k picks the group whose cumulative-weight interval holds ``(k+1) * min(w)/2 mod 1``.
    Groups of weight zero are never picked (the reference could pick group 0 regardless).
    """
    drawable = np.flatnonzero(weights > 0)
    cumulative = np.cumsum(weights[drawable])
    state = (np.arange(1, n + 1, dtype=np.float64) * (weights[drawable].min() / 2)) % 1.0
    picked = np.minimum(np.searchsorted(cumulative, state, side="left"), len(drawable) - 1)
    return drawable[picked]


def draw_groups(weights: np.ndarray, n: int, seed: int, epoch: int) -> np.ndarray:
    """n independent group draws with probabilities `weights`, keyed by (seed, epoch)."""
    return rng.generator(seed, rng.STREAM_GROUPS, epoch, "groups").choice(len(weights), size=n, p=weights)


def occurrence(labels: np.ndarray, n_labels: int) -> np.ndarray:
    """For each element, how many earlier elements carry the same label (0 for the first)."""
    order = np.argsort(labels, kind="stable")
    counts = np.bincount(labels, minlength=n_labels)
    rank = np.empty(len(labels), np.int64)
    rank[order] = np.arange(len(labels)) - np.repeat(np.cumsum(counts) - counts, counts)
    return rank


def stratified_slots(codes: np.ndarray, weights: np.ndarray, epoch_samples: int, seed: int, epoch: int,
                     shuffle: bool) -> tuple[np.ndarray, np.ndarray]:
    """(sample index, group) of one epoch's slots when sampling by group.

    Shuffled: groups drawn by weight, each group consumed through its own per-epoch permutation.
    Not shuffled: the fixed interleave, each group consumed in input order and continuing across
    epochs (the interleave gives every group the same quota each epoch, so the offset is a product).
    """
    codes = smallest_int(np.asarray(codes))
    n_groups = len(weights)
    counts = np.bincount(codes, minlength=n_groups)
    if shuffle:
        shuffled = permutation(len(codes), seed, epoch)
        members = shuffled[np.argsort(codes[shuffled], kind="stable")]
        groups = smallest_int(draw_groups(weights, epoch_samples, seed, epoch))
        rank = occurrence(groups, n_groups)
    else:
        members = np.argsort(codes, kind="stable")
        groups = smallest_int(interleave(weights, epoch_samples))
        quota = np.bincount(groups, minlength=n_groups)
        rank = occurrence(groups, n_groups) + epoch * quota[groups]
    starts = np.cumsum(counts) - counts
    index = members[starts[groups] + rank % counts[groups]]
    return index, groups


def shard_bounds(size: int, rank: int, world_size: int) -> tuple[int, int]:
    """[lo, hi) of rank's contiguous slice of a batch of `size` (``numpy.array_split`` sizes)."""
    if not 0 <= rank < world_size:
        raise ValueError(f"rank must be in [0, world_size={world_size}), got rank={rank}")
    base, extra = divmod(size, world_size)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (rank < extra)


def batch_bounds(batch: int, batch_size: int, epoch_samples: int) -> tuple[int, int]:
    """[lo, hi) of the slots of a batch within its epoch; the last batch of an epoch may be partial."""
    lo = batch * batch_size
    return lo, min(lo + batch_size, epoch_samples)
