"""Which slices of each global batch this input pipeline yields: rank/world_size, else a tf.distribute InputContext."""
from __future__ import annotations

import tensorflow as tf

from brevetti_core import sharding
from brevetti_core.sharding import Shard


def resolve_shards(rank: int | None = None, world_size: int | None = None,
                   input_context: tf.distribute.InputContext | None = None) -> list[Shard]:
    """The shards this pipeline yields per global batch, in order.

    With an InputContext (``strategy.distribute_datasets_from_function``) each global batch is cut
    into one slice per replica in sync; the pipeline of worker p yields the slices of its local
    replicas one after another, which is how tf.distribute hands a worker's consecutive elements
    to its replicas. Otherwise: one slice, `rank` of `world_size` (default the whole batch).
    An input context and a rank together are an error.
    """
    context = None if input_context is None else replica_shards(input_context)
    return sharding.resolve_shards(rank, world_size, context, "input_context")


def replica_shards(input_context: tf.distribute.InputContext) -> list[Shard]:
    """The shards of the replicas fed by this input pipeline: its local replicas' ranks among all replicas."""
    replicas, pipelines = input_context.num_replicas_in_sync, input_context.num_input_pipelines
    local = replicas // pipelines
    first = input_context.input_pipeline_id * local
    return [Shard(replica, replicas) for replica in range(first, first + local)]
