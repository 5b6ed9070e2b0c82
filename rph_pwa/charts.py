"""Server-rendered SVG line charts: no JavaScript, no inline style (strict CSP), and always shown
next to a table with the same numbers (WCAG 1.1.1)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import TypeVar

from markupsafe import Markup, escape

T = TypeVar("T")
WIDTH, HEIGHT = 320, 160
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 36, 12, 12, 28
#: The most points a line chart draws: a longer history is thinned (`downsample`), so the SVG
#: stays small however many scores there are. The numbers sit beside it in a table.
MAX_POINTS = 40


@dataclass(frozen=True)
class ChartPoint:
    """One value at one time, with the label shown under it."""

    at: datetime
    value: int
    label: str


def downsample(points: Sequence[T], limit: int = MAX_POINTS, *,
               value: Callable[[T], float] = attrgetter("value")) -> list[T]:
    """At most `limit` of `points` (in order) that keep the chart's shape: the first and the last,
    and the lowest and the highest `value` of each of (limit - 2) // 2 equal runs of the points
    between. Callers thin their own points with it before labelling them."""
    if len(points) <= limit:
        return list(points)
    middle, buckets = points[1:-1], (limit - 2) // 2
    kept = [points[0]]
    for b in range(buckets):
        run = middle[len(middle) * b // buckets:len(middle) * (b + 1) // buckets]
        if not run:
            continue
        low = min(range(len(run)), key=lambda i: value(run[i]))
        high = max(range(len(run)), key=lambda i: value(run[i]))
        kept += [run[i] for i in sorted({low, high})]
    return kept + [points[-1]]


def line_chart(points: Sequence[ChartPoint], *, max_value: int, title: str, description: str,
               chart_id: str) -> Markup:
    """An accessible SVG line chart of `points` on a 0..max_value scale, drawn with at most
    MAX_POINTS of them (`downsample`): the description should say what all of them show.

    `title` and `description` become the SVG's <title> and <desc> (its accessible name and
    description); colours come from the stylesheet through classes.
    """
    points = downsample(points)
    inner_w, inner_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    n = len(points)

    def x(i: int) -> float:
        return PAD_LEFT + (inner_w * i / (n - 1) if n > 1 else inner_w / 2)

    def y(value: int) -> float:
        return PAD_TOP + inner_h * (1 - (value / max_value if max_value else 0))

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d"'
        f' xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(description)}</desc>',
    ]
    for tick in (0, max_value // 2, max_value):
        ty = y(tick)
        parts.append(f'<line class="chart-grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"/>')
        parts.append(f'<text class="chart-axis" x="{PAD_LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">{tick}</text>')
    if n > 1:
        path = " ".join(f"{'M' if i == 0 else 'L'}{x(i):.1f},{y(p.value):.1f}" for i, p in enumerate(points))
        parts.append(f'<path class="chart-line" d="{path}" fill="none"/>')
    step = max(1, n // 6)
    for i, point in enumerate(points):
        parts.append(f'<circle class="chart-dot" cx="{x(i):.1f}" cy="{y(point.value):.1f}" r="4"/>')
        if i % step == 0 or i == n - 1:
            # The first and last labels are anchored inwards so they are not cut at the edges.
            anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
            parts.append(f'<text class="chart-axis" x="{x(i):.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">'
                         f'{escape(point.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(counts: Sequence[int], labels: Sequence[str], *, title: str, description: str,
              chart_id: str) -> Markup:
    """An accessible SVG bar chart: one bar per count, its label under it and the count above it
    (so the numbers are readable without the bars); `title` and `description` as in `line_chart`."""
    inner_w, inner_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM - 12
    top = max(counts, default=0) or 1
    slot = inner_w / max(len(counts), 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d"'
        f' xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(description)}</desc>',
        f'<line class="chart-grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{HEIGHT - PAD_BOTTOM}"'
        f' y2="{HEIGHT - PAD_BOTTOM}"/>',
    ]
    for i, (count, label) in enumerate(zip(counts, labels)):
        height = inner_h * count / top
        x = PAD_LEFT + slot * i + slot * 0.2
        y = HEIGHT - PAD_BOTTOM - height
        parts.append(f'<rect class="chart-dot" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.6:.1f}"'
                     f' height="{height:.1f}"/>')
        parts.append(f'<text class="chart-axis" x="{x + slot * 0.3:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
                     f'{count}</text>')
        parts.append(f'<text class="chart-axis" x="{x + slot * 0.3:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
                     f'{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
