"""The portable maths: accurate, exact where the recipe says so, and pinned to the same bits on every machine."""
import math
from statistics import NormalDist

import numpy as np
import pytest

from brevetti_core.portable import (
    GRID,
    cos_sin_degrees,
    cos_sin_turns,
    exp,
    log,
    normal_levels,
    normal_quantile,
    on_grid,
)
from brevetti_core.rng import pixel_rng, standard_normal

ULP = 2.0 ** -52


def test_cos_and_sin_are_exact_at_every_quarter_turn():
    for quarter, expected in enumerate([(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0)] * 3):
        assert cos_sin_degrees(90.0 * (quarter - 4)) == expected
        assert cos_sin_turns(0.25 * (quarter - 4)) == expected


def close_to_the_math_library(cos: float, sin: float, radians: float) -> bool:
    """Within a few ulps of math.cos/sin, allowing for the rounding of `radians` itself."""
    tolerance = 4 * ULP * max(1.0, abs(radians))
    return abs(cos - math.cos(radians)) <= tolerance and abs(sin - math.sin(radians)) <= tolerance


def test_cos_and_sin_of_degrees_agree_with_the_math_library():
    for degrees in np.linspace(-725.0, 725.0, 2901):
        assert close_to_the_math_library(*cos_sin_degrees(float(degrees)), math.radians(degrees))


def test_cos_and_sin_of_turns_agree_with_the_math_library():
    for turns in np.linspace(-2.0, 2.0, 4001):
        assert close_to_the_math_library(*cos_sin_turns(float(turns)), math.tau * turns)


def test_exp_agrees_with_the_math_library_to_two_ulps():
    for x in np.linspace(-700.0, 700.0, 20001):
        assert exp(float(x)) == pytest.approx(math.exp(x), rel=2 * ULP)
    assert exp(-800.0) == 0.0 and exp(0.0) == 1.0


def test_log_agrees_with_numpy_to_two_ulps():
    x = np.exp(np.linspace(-700.0, 700.0, 20001))
    np.testing.assert_allclose(log(x), np.log(x), rtol=2 * ULP, atol=2 * ULP)


def test_normal_quantile_agrees_with_the_exact_inverse_cdf_to_1e_9():
    p = np.concatenate([np.linspace(1e-12, 1 - 1e-12, 20001), [2.0 ** -53, 0.02425, 0.5, 0.97575]])
    exact = np.array([NormalDist().inv_cdf(v) for v in p])
    np.testing.assert_allclose(normal_quantile(p), exact, rtol=1.2e-9, atol=1e-12)


def test_normal_quantile_is_odd_about_one_half():
    p = (2 * np.arange(0, 2 ** 20, 997, dtype=np.float64) + 1) * 2.0 ** -53 * 2 ** 32
    np.testing.assert_array_equal(normal_quantile(p), -normal_quantile(1 - p))


def test_on_grid_rounds_to_the_nearest_multiple_of_2_to_the_minus_20():
    assert GRID == 2.0 ** -20
    assert on_grid(0.1) == 104858 * GRID and on_grid(-2.5 * GRID) == -2 * GRID  # ties to even
    assert on_grid(12.0) == 12.0 and math.copysign(1.0, on_grid(-0.0)) == 1.0


def test_standard_normal_has_mean_0_spread_1_and_normal_tails():
    values = standard_normal(pixel_rng(5), (1_000_000,))
    assert values.dtype == np.float32
    assert abs(values.mean()) < 0.005 and abs(values.std() - 1) < 0.005
    assert abs((np.abs(values) > 3).mean() - 0.0027) < 0.0004 and np.abs(values).max() < 8.3


def test_standard_normal_does_not_depend_on_how_the_stream_is_chunked():
    whole = standard_normal(pixel_rng(9), (300, 200))
    np.testing.assert_array_equal(whole.ravel()[:1000], standard_normal(pixel_rng(9), (1000,)))


def test_the_portable_functions_give_these_bits_on_every_machine():
    assert [v.hex() for v in cos_sin_degrees(33.0)] == ["0x1.ad663a8ae2fdcp-1", "0x1.16daed770771dp-1"]
    assert [v.hex() for v in cos_sin_turns(0.05)] == ["0x1.e6f0e134454ffp-1", "0x1.3c6ef372fe94fp-2"]
    assert exp(-0.5).hex() == "0x1.368b2fc6f960ap-1"
    assert [v.hex() for v in log(np.array([0.1, 3.0]))] == ["-0x1.26bb1bbb55515p+1", "0x1.193ea7aad030bp+0"]
    assert [v.hex() for v in normal_quantile(np.array([0.01, 0.3, 0.999]))] == [
        "-0x1.29c5c463cecf1p+1", "-0x1.0c7e395d14936p-1", "0x1.8b8cbb6ee2822p+1"]
    assert standard_normal(pixel_rng(1), (4,)).tolist() == [-0.5141658186912537, 1.0309110879898071,
                                                            -1.010471224784851, -1.864775538444519]


def test_normal_levels_take_16_bits_per_value_little_endian_first():
    words = np.array([0x0003_0002_0001_0000, 0xFFFF_8000_7FFF_0004], dtype=np.uint64)
    values = normal_levels(words, 7)
    ranks = [0, 1, 2, 3, 4, 0x7FFF, 0x8000]
    np.testing.assert_array_equal(values, normal_quantile((2 * np.array(ranks) + 1) / 2.0 ** 17).astype(np.float32))


def test_normal_levels_are_symmetric_spread_1_and_bounded():
    values = normal_levels(pixel_rng(5).bit_generator.random_raw(250_000), 1_000_000)
    assert values.dtype == np.float32
    assert abs(values.mean()) < 0.005 and abs(values.std() - 1) < 0.005
    assert abs((np.abs(values) > 3).mean() - 0.0027) < 0.0004 and np.abs(values).max() < 4.33
    every = normal_levels(np.arange(2 ** 14, dtype=np.uint64) * 0x0004_0004_0004_0004 + 0x0003_0002_0001_0000, 2 ** 16)
    np.testing.assert_array_equal(every, -every[::-1])


def test_normal_levels_need_a_word_per_four_values():
    with pytest.raises(ValueError, match="needs 3 words for 9 values, got 2"):
        normal_levels(np.zeros(2, np.uint64), 9)
