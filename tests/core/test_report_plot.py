"""The report's SVG line plots: round axis ticks covering the data, one line and point per value, gaps at NaN."""
import math
import re

import numpy as np
import pytest

from brevetti_core.report.plot import line_plot, nice_ticks


@pytest.mark.parametrize("low, high", [(0.0, 1.0), (0.13, 0.87), (-3.2, 41.0), (1e-5, 3e-5), (995.0, 1010.0), (0, 49)])
def test_ticks_are_round_steps_covering_the_range(low, high):
    ticks = nice_ticks(low, high)
    steps = np.diff(ticks)
    assert ticks[0] <= low and ticks[-1] >= high and 3 <= len(ticks) <= 9
    assert np.allclose(steps, steps[0])
    mantissa = steps[0] / 10 ** math.floor(math.log10(steps[0]))
    assert any(math.isclose(mantissa, m) for m in (1, 2, 2.5, 5))


def test_a_constant_series_gets_a_range_around_its_value():
    ticks = nice_ticks(0.7, 0.7)
    assert ticks[0] < 0.7 < ticks[-1]


def test_each_series_is_a_line_with_a_point_per_value_and_a_legend():
    svg = line_plot("loss", {"train": ([0, 1, 2], [1.0, 0.5, 0.25]), "devel": ([0, 1, 2], [1.2, 0.7, 0.4])})
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 6
    assert ">train</text>" in svg and ">devel</text>" in svg and "<title>devel: 0.7 at epoch 1</title>" in svg


def test_points_are_placed_by_value():
    svg = line_plot("accuracy", {"train": ([0, 10], [0.0, 1.0])})
    (x0, y0), (x1, y1) = [tuple(map(float, p)) for p in re.findall(r'cx="([\d.]+)" cy="([\d.]+)"', svg)]
    assert x1 > x0 and y1 < y0  # later epochs to the right, higher values up


def test_a_nan_value_breaks_the_line():
    svg = line_plot("loss", {"train": ([0, 1, 2, 3], [1.0, float("nan"), 0.5, 0.4])})
    assert svg.count("<circle") == 3 and svg.count("<polyline") == 2


def test_a_plot_without_values_is_an_error():
    with pytest.raises(ValueError, match="line_plot 'loss': no finite values"):
        line_plot("loss", {"train": ([0], [float("nan")])})


def test_titles_and_names_are_escaped():
    svg = line_plot("<b>", {"a&b": ([0], [1.0])})
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "a&amp;b" in svg
