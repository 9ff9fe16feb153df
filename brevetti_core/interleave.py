"""The unshuffled group selector: the reference's fixed interleave of groups in proportion to their weights.

The reference picks a group per step with ``state += min(w)/2`` and ``group = #(cumsum(w) < state mod 1)``.
Here step k (k = 1, 2, ...) has the state ``k * min(w)/2 mod 1`` computed exactly on a grid of
2**-62 that holds the float weights' own binary values (so a state that lands on an interval edge
goes to the lower group, as the reference's float state does whenever it is exact, e.g. for four
equal groups: 7/4/2/1 samples give A A B B C C D A A A B B A A), which fixes its quirks:
no drift of a running float sum, any step computed without replaying earlier ones, and groups of
weight zero (``log`` of a one-sample group) are never picked instead of stalling the selector at
group 0. Weights below 2**-40 of the total count as zero.

Two ways to consume the picks (``slots.py``): groups that *cycle* (``groups_at``, with
``picks_before`` saying how far each group has got), or one *pass* that visits every sample once,
skipping groups that are exhausted (``pass_order``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_BITS = 62
_UNIT = 1 << _BITS
_FLOOR = 2.0 ** -40


def _floor_sum(n: int, m: int, a: int, b: int) -> int:
    """sum(floor((a*i + b) / m) for i in range(n)) for a, b >= 0, in O(log m) steps (exact integers)."""
    total = 0
    while n:
        total += (n - 1) * n // 2 * (a // m) + n * (b // m)
        a, b = a % m, b % m
        top = a * n + b
        if top < m:
            break
        n, b, m, a = top // m, top % m, a, m
    return total


def _lap_quotients(offset: int, divisor: int, laps: np.ndarray) -> np.ndarray:
    """floor((offset + lap * U) / divisor) per lap (int64), exactly, without integers wider than 64 bits.

    With U = q*divisor + r and offset = q0*divisor + r0 the quotient is q0 + lap*q + floor((r0 + lap*r) / divisor);
    the last floor is estimated in float64 (off by at most one for any realistic lap) and corrected
    by its remainder, computed modulo 2**64 (uint64 arithmetic wraps), where a true remainder
    below 0 or from `divisor` up shows as a value out of [0, divisor).
    """
    q, r = divmod(_UNIT, divisor)
    q0, r0 = divmod(offset, divisor)
    estimate = np.floor(r0 / divisor + laps * (r / divisor)).astype(np.int64)
    wide = laps.astype(np.uint64)
    remainder = np.uint64(r0) + wide * np.uint64(r) - estimate.astype(np.uint64) * np.uint64(divisor)
    negative = remainder >= np.uint64(1 << 63)
    estimate -= negative
    estimate += (remainder >= np.uint64(divisor)) & ~negative
    return q0 + laps * q + estimate


@dataclass(frozen=True)
class Selector:
    """The interleave of groups with `weights`: drawn groups, the state step and their interval edges on the grid.

    Group ``drawn[i]`` owns the states in ``(edge[i-1], edge[i]]``, the first from 0 and the last to
    the end of the grid.
    """

    drawn: np.ndarray
    step: int
    edges: tuple[int, ...]

    @classmethod
    def of(cls, weights: np.ndarray) -> Selector:
        """The selector of normalised float64 `weights`."""
        weights = np.asarray(weights, dtype=np.float64)
        drawn = np.flatnonzero(weights >= _FLOOR)
        if not len(drawn):
            raise ValueError(f"no group weight is above {_FLOOR}: {weights.tolist()}")
        step = round(float(weights[drawn].min()) / 2 * _UNIT)
        edges = tuple(round(float(edge) * _UNIT) for edge in np.cumsum(weights[drawn])[:-1])
        return cls(drawn, step, edges)

    def bounds(self, position: int) -> tuple[int, int]:
        """(lo, hi]: the grid states of the drawn group at `position` (lo -1 for the first: state 0 is its)."""
        lo = self.edges[position - 1] if position else -1
        hi = self.edges[position] if position < len(self.edges) else _UNIT - 1
        return lo, hi

    def groups_at(self, first_step: int, n: int) -> np.ndarray:
        """The groups picked at steps first_step .. first_step + n - 1 (steps count from 1)."""
        steps = np.arange(first_step, first_step + n, dtype=np.uint64)
        # uint64 products wrap modulo 2**64, a multiple of the grid, so the state is exact.
        states = (steps * np.uint64(self.step)) & np.uint64(_UNIT - 1)
        return self.drawn[np.searchsorted(np.asarray(self.edges, dtype=np.uint64), states, side="left")]

    def picks_before(self, first_step: int, n_groups: int) -> np.ndarray:
        """How often each of `n_groups` groups is picked at steps 1 .. first_step - 1, in closed form."""
        steps = first_step - 1
        at_most = [0] + [self._states_at_most(edge, steps) for edge in self.edges] + [steps]
        counts = np.zeros(n_groups, np.int64)
        counts[self.drawn] = np.diff(at_most)
        return counts

    def _states_at_most(self, x: int, steps: int) -> int:
        """#{k in 1..steps: k*step mod U <= x}, with [y mod U <= x] = floor(y/U) - floor((y + U - x - 1)/U) + 1."""
        a = self.step
        return _floor_sum(steps, _UNIT, a, a) - _floor_sum(steps, _UNIT, a, a + _UNIT - x - 1) + steps

    def pick_steps(self, position: int, count: int) -> np.ndarray:
        """The steps of the first `count` picks of the drawn group at `position`, in order.

        The state passes the grid once per lap m; within it the group's picks are the steps k with
        lo < k*step - m*U <= hi, at least ``(hi - lo) // step`` >= 1 of them, so the laps needed
        are known up front, and each lap's first and last step are one exact division each.
        """
        lo, hi = self.bounds(position)
        laps = np.arange(count // ((hi - lo) // self.step) + 2, dtype=np.int64)
        if len(laps) * (_UNIT // self.step + 1) >= 1 << 62:
            raise ValueError(f"group {self.drawn[position]}: {count} samples need more than 2**62 interleave steps "
                             f"at these weights; weigh the groups more evenly, or shuffle")
        first = _lap_quotients(lo, self.step, laps) + 1
        last = _lap_quotients(hi, self.step, laps)
        first[0] = max(first[0], 1)
        taken = np.minimum(np.cumsum(last - first + 1), count)  # the last lap may hold more picks than needed
        sizes = np.diff(taken, prepend=0)
        return np.repeat(first - (taken - sizes), sizes) + np.arange(int(taken[-1]))

    def pass_order(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(group, rank within the group) of one pass taking each group's `counts` members, exhausted groups skipped.

        Groups that are never picked (weight zero) follow the pass, in group order, so the pass
        still visits every member once.
        """
        counts = np.asarray(counts, dtype=np.int64)
        never = np.setdiff1d(np.arange(len(counts)), self.drawn)
        in_order = np.concatenate([self.drawn, never])
        groups = np.repeat(in_order, counts[in_order])
        ranks = np.arange(len(groups)) - np.repeat(np.cumsum(counts[in_order]) - counts[in_order], counts[in_order])
        steps = np.concatenate([self.pick_steps(position, int(counts[group]))
                                for position, group in enumerate(self.drawn)])
        order = np.concatenate([np.argsort(steps), np.arange(len(steps), len(groups))])  # steps are distinct
        return groups[order], ranks[order]
