"""Shards: contiguous slices of every global batch, checked when made; the shards a pipeline yields."""
import numpy as np
import pytest

from brevetti_core.sharding import Shard, resolve_shards


def test_shard_bounds_follow_numpy_array_split():
    for size in range(13):
        for world_size in range(1, 6):
            expected = np.array_split(np.arange(size), world_size)
            for rank in range(world_size):
                lo, hi = Shard(rank, world_size).bounds(size)
                assert list(range(lo, hi)) == expected[rank].tolist()


def test_a_rank_outside_the_world_is_refused_when_the_shard_is_made():
    with pytest.raises(ValueError, match=r"rank must be in \[0, world_size=2\), got rank=2"):
        Shard(2, 2)


@pytest.mark.parametrize("world_size", [0, -1, 1.5, True])
def test_world_size_must_be_a_positive_integer(world_size):
    with pytest.raises(ValueError, match="world_size must be a positive integer"):
        Shard(0, world_size)


def test_shards_are_values():
    assert Shard(np.int64(1), np.int64(3)) == Shard(1, 3) and type(Shard(np.int64(1), 3).rank) is int
    assert len({Shard(1, 3), Shard(1, 3), Shard()}) == 2


def test_without_rank_or_context_a_pipeline_yields_the_whole_batch():
    assert resolve_shards(None, None) == [Shard(0, 1)]


def test_a_rank_without_world_size_is_checked_against_a_world_of_one():
    with pytest.raises(ValueError, match=r"rank must be in \[0, world_size=1\), got rank=1"):
        resolve_shards(1, None)


def test_a_framework_context_gives_the_shards():
    assert resolve_shards(None, None, [Shard(2, 4), Shard(3, 4)]) == [Shard(2, 4), Shard(3, 4)]


def test_a_context_and_a_rank_together_are_an_error_naming_the_context():
    with pytest.raises(ValueError, match="give either input_context or rank/world_size, not both"):
        resolve_shards(0, None, [Shard()], "input_context")
