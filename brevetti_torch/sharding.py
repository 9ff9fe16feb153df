"""Which slice of each global batch this process loads: explicit rank/world_size, else torch.distributed."""
from __future__ import annotations

import torch.distributed as dist


def resolve_shard(rank: int | None, world_size: int | None) -> tuple[int, int]:
    """(rank, world_size): the arguments when given, else the initialised process group's, else (0, 1)."""
    if rank is None and world_size is None and dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    world_size = 1 if world_size is None else world_size
    rank = 0 if rank is None else rank
    if not 0 <= rank < world_size:
        raise ValueError(f"rank must be in [0, world_size={world_size}), got rank={rank}")
    return rank, world_size
