"""Which slice of every global batch a process loads: a ``Shard``, and the shards a pipeline yields.

With ``world_size`` ranks each global batch is cut into ``world_size`` contiguous slices with
``numpy.array_split`` sizes, so the union over ranks is the single-process batch whatever the
world size (DESIGN §3.6). The adapters' ``sharding.py`` modules read their framework's
distribution context (``torch.distributed``, a ``tf.distribute.InputContext``) and hand it to
``resolve_shards`` here, which applies the defaults and the checks once for both.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Shard:
    """Rank `rank` of `world_size`: the rank's contiguous slice of every global batch (checked when made)."""

    rank: int = 0
    world_size: int = 1

    def __post_init__(self) -> None:
        world_size, rank = self.world_size, self.rank
        if isinstance(world_size, bool) or not isinstance(world_size, (int, np.integer)) or world_size < 1:
            raise ValueError(f"world_size must be a positive integer, got {world_size!r}")
        if not isinstance(rank, (int, np.integer)) or not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, world_size={world_size}), got rank={rank!r}")
        object.__setattr__(self, "rank", int(rank))
        object.__setattr__(self, "world_size", int(world_size))

    def bounds(self, size: int) -> tuple[int, int]:
        """[lo, hi) of this rank's slice of a batch of `size` slots (``numpy.array_split`` sizes; may be empty)."""
        base, extra = divmod(size, self.world_size)
        lo = self.rank * base + min(self.rank, extra)
        return lo, lo + base + (self.rank < extra)


WHOLE = Shard()
"""The whole batch: rank 0 of 1."""


def resolve_shards(rank: int | None, world_size: int | None, context: Sequence[Shard] | None = None,
                   context_name: str = "a distribution context") -> list[Shard]:
    """The shards a pipeline yields per global batch, in order: the framework `context`'s, else rank of world_size.

    `context` is what the framework's distribution context says (None when there is none);
    `rank`/`world_size` default to 0 and 1. Giving both a context and a rank or world size is
    an error naming the context (`context_name`, the framework's argument).
    """
    if context is not None:
        if rank is not None or world_size is not None:
            raise ValueError(f"give either {context_name} or rank/world_size, not both")
        return list(context)
    return [Shard(0 if rank is None else rank, 1 if world_size is None else world_size)]
