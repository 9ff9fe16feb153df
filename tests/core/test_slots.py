"""The pure slot functions: permutations, group draws, stratified epochs, epoch windows and batch bounds."""
import numpy as np

from brevetti_core import rng, slots


def test_permutation_is_a_permutation_keyed_by_seed_and_epoch():
    first = slots.permutation(1000, seed=3, epoch=0)
    assert sorted(first) == list(range(1000))
    assert np.array_equal(first, slots.permutation(1000, seed=3, epoch=0))
    assert not np.array_equal(first, slots.permutation(1000, seed=3, epoch=1))
    assert not np.array_equal(first, slots.permutation(1000, seed=4, epoch=0))


def test_seed_and_epoch_are_not_added_together():
    assert not np.array_equal(slots.permutation(100, seed=1, epoch=0), slots.permutation(100, seed=0, epoch=1))


def test_sequential_slots_without_shuffle_are_input_order():
    assert slots.sequential_slots(6, 6, seed=0, epoch=0, shuffle=False).tolist() == [0, 1, 2, 3, 4, 5]
    assert slots.sequential_slots(6, 6, seed=0, epoch=3, shuffle=False).tolist() == [0, 1, 2, 3, 4, 5]


def test_short_epochs_continue_where_the_previous_epoch_stopped():
    epochs = [slots.sequential_slots(5, 3, seed=0, epoch=e, shuffle=False).tolist() for e in range(3)]
    assert epochs == [[0, 1, 2], [3, 4, 0], [1, 2, 3]]


def test_short_shuffled_epochs_cover_each_pass_before_repeating():
    picked = np.concatenate([slots.sequential_slots(10, 4, seed=2, epoch=e, shuffle=True) for e in range(5)])
    assert sorted(picked[:10]) == list(range(10))
    assert sorted(picked[10:20]) == list(range(10))
    assert np.array_equal(picked[:10], slots.permutation(10, seed=2, epoch=0))


def test_group_draws_follow_the_weights_and_skip_weight_zero():
    weights = np.array([0.6, 0.0, 0.1, 0.3])
    draws = slots.draw_groups(weights, 100_000, seed=5, epoch=0)
    assert np.allclose(np.bincount(draws, minlength=4) / 100_000, weights, atol=0.01)
    assert not np.array_equal(draws, slots.draw_groups(weights, 100_000, seed=5, epoch=1))


def test_group_draws_are_the_same_with_many_groups_as_a_binary_search():
    weights = np.random.default_rng(0).random(50)
    weights /= weights.sum()
    draws = slots.draw_groups(weights, 10_000, seed=1, epoch=0)
    uniform = rng.generator(1, rng.STREAM_GROUPS, 0, "groups").random(10_000)
    assert np.array_equal(draws, np.searchsorted(np.cumsum(weights)[:-1], uniform, side="right"))


def test_group_members_are_sorted_by_group_in_input_order():
    members, counts = slots.group_members(np.array([1, 0, 1, 2, 0]), 3)
    assert members.tolist() == [1, 4, 0, 2, 3]
    assert counts.tolist() == [2, 2, 1]


def _group_sequences(index, groups, n_groups):
    return [index[groups == g].tolist() for g in range(n_groups)]


def test_shuffled_stratified_slots_cycle_each_group_through_a_permutation():
    codes = np.array([0] * 4 + [1] * 3 + [2] * 2)
    members, counts = slots.group_members(codes, 3)
    index, groups = slots.stratified_slots(members, counts, np.full(3, 1 / 3), 300, seed=1, epoch=0, shuffle=True)
    assert np.array_equal(codes[index], groups)
    for group, drawn in enumerate(_group_sequences(index, groups, 3)):
        size = counts[group]
        cycles = [drawn[i:i + size] for i in range(0, len(drawn) - size + 1, size)]
        assert all(cycle == cycles[0] for cycle in cycles)
        assert sorted(cycles[0]) == np.flatnonzero(codes == group).tolist()


def test_unshuffled_cycling_stratified_slots_consume_groups_in_input_order_across_epochs():
    codes = np.array([0, 1, 0, 1, 0, 2, 0])
    members, counts = slots.group_members(codes, 3)
    weights = np.full(3, 1 / 3)
    drawn = [[], [], []]
    for epoch in range(3):
        index, groups = slots.stratified_slots(members, counts, weights, 6, seed=0, epoch=epoch, shuffle=False)
        for group, sequence in enumerate(_group_sequences(index, groups, 3)):
            drawn[group] += sequence
    assert drawn[0] == [0, 2, 4, 6, 0, 2]
    assert drawn[1] == [1, 3] * 3
    assert drawn[2] == [5] * 6


def test_an_unshuffled_single_pass_takes_every_sample_once_in_group_input_order():
    codes = np.array([2, 0, 0, 1, 0, 1, 0, 0, 1, 0, 3, 0, 1, 2])
    members, counts = slots.group_members(codes, 4)
    index, groups = slots.stratified_slots(members, counts, np.full(4, 0.25), 14, seed=0, epoch=0, shuffle=False,
                                           cycle=False)
    assert "".join("ABCD"[g] for g in groups) == "AABBCCDAAABBAA"
    assert sorted(index.tolist()) == list(range(14)) and np.array_equal(codes[index], groups)
    assert index[groups == 0].tolist() == np.flatnonzero(codes == 0).tolist()


def test_a_short_single_pass_is_the_start_of_the_whole_pass():
    codes = np.array([0, 1, 0, 1, 0, 2, 0])
    members, counts = slots.group_members(codes, 3)
    whole, _ = slots.stratified_slots(members, counts, np.full(3, 1 / 3), 7, 0, 0, shuffle=False, cycle=False)
    short, _ = slots.stratified_slots(members, counts, np.full(3, 1 / 3), 4, 0, 0, shuffle=False, cycle=False)
    assert short.tolist() == whole[:4].tolist()


def test_the_last_batch_of_an_epoch_is_partial():
    assert slots.batch_bounds(0, 4, 10) == (0, 4)
    assert slots.batch_bounds(2, 4, 10) == (8, 10)
