"""Which slices of each global batch this input pipeline yields: rank/world_size or a tf.distribute InputContext."""
from __future__ import annotations

import tensorflow as tf


def resolve_shard(rank: int | None, world_size: int | None,
                  input_context: tf.distribute.InputContext | None = None) -> list[tuple[int, int]]:
    """The (rank, world_size) slices this pipeline yields per global batch, in order.

    With an InputContext (``strategy.distribute_datasets_from_function``) each global batch is cut
    into one slice per replica in sync; the pipeline of worker p yields the slices of its local
    replicas one after another, which is how tf.distribute hands a worker's consecutive elements
    to its replicas. Otherwise: one slice, `rank` of `world_size` (default the whole batch).
    """
    if input_context is not None:
        if rank is not None or world_size is not None:
            raise ValueError("give either input_context or rank/world_size, not both")
        replicas, pipelines = input_context.num_replicas_in_sync, input_context.num_input_pipelines
        local = replicas // pipelines
        first = input_context.input_pipeline_id * local
        return [(replica, replicas) for replica in range(first, first + local)]
    world_size = 1 if world_size is None else world_size
    rank = 0 if rank is None else rank
    if not 0 <= rank < world_size:
        raise ValueError(f"rank must be in [0, world_size={world_size}), got rank={rank}")
    return [(rank, world_size)]
