"""Line plots as inline SVG text, drawn here so the report needs no plotting library and no script."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from html import escape

WIDTH, HEIGHT = 560, 300
MARGIN = {"left": 64, "right": 16, "top": 40, "bottom": 44}
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")

# {name: (xs, ys)}; each a list, tuple or numpy array.
Series = Mapping[str, tuple[Iterable[float], Iterable[float]]]


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round tick values (steps of 1, 2 or 5 times a power of ten) covering low..high."""
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"nice_ticks needs finite bounds, got {low}..{high}")
    if high <= low:
        pad = abs(low) * 0.1 or 0.5
        low, high = low - pad, high + pad
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first, last = math.floor(low / step), math.ceil(high / step)
    return [round(i * step, 12) for i in range(first, last + 1)]


def line_plot(title: str, series: Series, x_label: str = "epoch", y_label: str = "") -> str:
    """An SVG chart of each named (x, y) series as a line with points; NaN values leave a gap. Returns SVG text."""
    segments = {name: _segments(xs, ys) for name, (xs, ys) in series.items()}
    every = [p for parts in segments.values() for segment in parts for p in segment]
    if not every:
        raise ValueError(f"line_plot {title!r}: no finite values to draw")
    x_ticks = nice_ticks(min(x for x, _ in every), max(x for x, _ in every))
    y_ticks = nice_ticks(min(y for _, y in every), max(y for _, y in every))
    left, top = MARGIN["left"], MARGIN["top"]
    plot_w, plot_h = WIDTH - left - MARGIN["right"], HEIGHT - top - MARGIN["bottom"]

    def sx(x: float) -> float:
        return left + (x - x_ticks[0]) / (x_ticks[-1] - x_ticks[0]) * plot_w

    def sy(y: float) -> float:
        return top + plot_h - (y - y_ticks[0]) / (y_ticks[-1] - y_ticks[0]) * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}">',
             f'<text x="{left}" y="22" class="plot-title">{escape(title)}</text>']
    for tick in y_ticks:
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{sy(tick):.1f}" y2="{sy(tick):.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{sy(tick) + 4:.1f}" text-anchor="end">{_label(tick)}</text>')
    for tick in x_ticks:
        parts.append(f'<line x1="{sx(tick):.1f}" x2="{sx(tick):.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" '
                     f'class="axis"/><text x="{sx(tick):.1f}" y="{top + plot_h + 18}" text-anchor="middle">'
                     f'{_label(tick)}</text>')
    parts.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="frame"/>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle">{escape(x_label)}</text>')
    if y_label:
        parts.append(f'<text transform="translate(14 {top + plot_h / 2:.1f}) rotate(-90)" '
                     f'text-anchor="middle">{escape(y_label)}</text>')
    for index, (name, lines) in enumerate(segments.items()):
        colour = COLOURS[index % len(COLOURS)]
        for line in lines:
            coordinates = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in line)
            parts.append(f'<polyline points="{coordinates}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in (point for line in lines for point in line):
            parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{colour}">'
                         f'<title>{escape(name)}: {y:.6g} at {escape(x_label)} {_label(x)}</title></circle>')
        legend_x = left + plot_w - 110 * (len(segments) - index)
        parts.append(f'<rect x="{legend_x}" y="14" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{legend_x + 16}" y="24" class="legend">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _segments(xs: Iterable[float], ys: Iterable[float]) -> list[list[tuple[float, float]]]:
    """The runs of consecutive finite points: a missing value breaks the line."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in zip(xs, ys):
        if math.isfinite(float(y)):
            runs[-1].append((float(x), float(y)))
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def _label(value: float) -> str:
    return f"{value:.6g}"
