"""The unshuffled group selector: the reference's interleave, computed exactly, as cycling picks or one pass."""
import numpy as np
import pytest

from brevetti_core.interleave import Selector


def reference_picks(weights, steps: int) -> list[int]:
    """The reference's weighted_dataset_selector: state += min(w)/2, group = #(cumsum(w) < state mod 1)."""
    cumulative, step, state, picks = np.cumsum(weights), np.min(weights) / 2, 0.0, []
    for _ in range(steps):
        state += step
        picks.append(int(np.sum(cumulative < state % 1.0)))
    return picks


def letters(groups) -> str:
    return "".join("ABCDEFGH"[g] for g in groups)


def normalised(weights) -> np.ndarray:
    weights = np.asarray(weights, dtype=np.float64)
    return weights / weights.sum()


def test_a_pass_of_seven_four_two_and_one_uniform_samples_is_the_references():
    groups, ranks = Selector.of(normalised([1, 1, 1, 1])).pass_order(np.array([7, 4, 2, 1]))
    assert letters(groups) == "AABBCCDAAABBAA"
    assert ranks.tolist() == [0, 1, 0, 1, 0, 1, 0, 2, 3, 4, 2, 3, 5, 6]


@pytest.mark.parametrize("weights", [[1, 1], [1, 1, 1, 1], [1, 1, 2], [1, 3], [2, 1, 1, 4]])
def test_picks_are_the_references_where_its_float_state_is_exact(weights):
    weights = normalised(weights)
    assert Selector.of(weights).groups_at(1, 2000).tolist() == reference_picks(weights, 2000)


def test_equal_weights_that_are_not_binary_fractions_are_picked_equally():
    picks = Selector.of(normalised([1, 1, 1])).groups_at(1, 6000)
    assert letters(picks[:6]) == "AABBCC"
    assert np.bincount(picks).tolist() == [2000, 2000, 2000]


def test_picks_follow_the_weights():
    weights = normalised([0.5, 0.3, 0.2])
    assert np.allclose(np.bincount(Selector.of(weights).groups_at(1, 10_000)) / 10_000, weights, atol=0.01)


def test_a_group_of_weight_zero_is_never_picked_and_does_not_stall_the_others():
    picks = Selector.of(np.array([0.0, 0.6, 0.0, 0.4])).groups_at(1, 1000)
    assert np.bincount(picks, minlength=4).tolist() == [0, 600, 0, 400]


def test_a_pass_puts_groups_of_weight_zero_last_so_every_member_is_visited():
    groups, ranks = Selector.of(np.array([0.0, 0.5, 0.5])).pass_order(np.array([2, 3, 1]))
    assert letters(groups) == "BBCBAA" and ranks.tolist() == [0, 1, 0, 2, 0, 1]


def test_picks_continue_from_any_step():
    selector = Selector.of(normalised([0.55, 0.3, 0.15]))
    assert np.array_equal(selector.groups_at(1, 1000)[700:], selector.groups_at(701, 300))


@pytest.mark.parametrize("weights", [[1, 1, 1], [10, 3, 1], [0.2, 0, 0.7, 0.1], [np.sqrt(10), np.sqrt(3), 1]])
def test_picks_before_a_step_are_counted_in_closed_form(weights):
    selector = Selector.of(normalised(weights))
    picks = selector.groups_at(1, 5000)
    for stop in (0, 1, 7, 999, 5000):
        assert selector.picks_before(stop + 1, len(weights)).tolist() == \
               np.bincount(picks[:stop], minlength=len(weights)).tolist()


@pytest.mark.parametrize("weights", [[1, 1, 1, 1], [10, 3, 1], [np.sqrt(200), np.sqrt(5), 1, 1]])
def test_a_pass_is_the_cycling_picks_with_exhausted_groups_skipped(weights):
    counts = np.array([200, 5, 1, 1][:len(weights)])
    selector = Selector.of(normalised(weights))
    left, expected = counts.copy(), []
    for group in selector.groups_at(1, 100_000):
        if left[group]:
            expected.append(group)
            left[group] -= 1
    groups, ranks = selector.pass_order(counts)
    assert not left.any() and groups.tolist() == expected
    assert all(ranks[groups == g].tolist() == list(range(c)) for g, c in enumerate(counts))


def test_a_pass_of_a_large_group_among_many_small_ones_is_quick_and_complete():
    counts = np.array([300_000] + [1] * 999)
    groups, ranks = Selector.of(normalised(np.ones(1000))).pass_order(counts)
    assert np.bincount(groups).tolist() == counts.tolist()
    assert ranks[groups == 0].tolist() == list(range(300_000))
