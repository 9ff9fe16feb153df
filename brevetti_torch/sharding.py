"""Which slices of each global batch this process loads: rank/world_size, else its torch.distributed group."""
from __future__ import annotations

import torch.distributed as dist

from brevetti_core import sharding
from brevetti_core.sharding import Shard


def resolve_shards(rank: int | None = None, world_size: int | None = None,
                   process_group: dist.ProcessGroup | None = None) -> list[Shard]:
    """The shards this pipeline yields per global batch: one, this process's slice.

    `rank`/`world_size` when given; else this process's place in `process_group`, or in the
    default group once ``torch.distributed`` is initialised; else the whole batch. A process
    group and a rank together are an error.
    """
    initialised = dist.is_available() and dist.is_initialized()
    if process_group is None and (rank is not None or world_size is not None or not initialised):
        return sharding.resolve_shards(rank, world_size)
    return sharding.resolve_shards(rank, world_size, group_shards(process_group), "process_group")


def group_shards(process_group: dist.ProcessGroup | None = None) -> list[Shard]:
    """The shard of this process: its rank among the ranks of `process_group` (None: the default group)."""
    return [Shard(dist.get_rank(process_group), dist.get_world_size(process_group))]
