"""The resident's progress in plain words: friendly names for the scales, a sentence per scale,
and an accessible chart. No severity labels ("moderately severe") are shown to residents.

Only the latest course of care counts ("since you started this time"). When a score has gone up,
the page invites the person to tell their therapist and shows where to get help now."""
from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from ..charts import ChartPoint, downsample, line_chart
from ..localtime import to_local
from ..services.outcomes import Point, Series

#: Friendly names: what the scale is about, not a diagnosis.
NAMES = {
    "PHQ-9": _l("Low mood score"),
    "GAD-7": _l("Anxiety score"),
    "WSAS": _l("Daily life and work score"),
}


@dataclass(frozen=True)
class ProgressChart:
    """One scale on the progress page."""

    id: str
    name: str
    sentence: str
    svg: Markup
    rows: list[tuple[str, int]]
    max_total: int
    #: The answers before `rows`, month by month: (month, how many, lowest, highest).
    months: list[tuple[str, int, int, int]] = ()


#: Answers listed one by one in a scale's table (the latest); earlier ones are summed up per month,
#: so the page stays small however long the history. The chart draws at most charts.MAX_POINTS.
RECENT_ROWS = 10


#: One plain sentence per scale and direction (whole sentences, so each language can word them
#: naturally, e.g. "Angstskåren din har gått ned fra 14 til 8 siden start").
SENTENCES = {
    "PHQ-9": {
        "down": _l("Your low mood score has gone down from %(first)s to %(last)s since you started this time."),
        "up": _l("Your low mood score has gone up from %(first)s to %(last)s since you started this time."),
        "same": _l("Your low mood score is %(last)s, the same as when you started this time."),
        "one": _l("Your low mood score is %(last)s. Answer again before your next talk to see how it changes."),
    },
    "GAD-7": {
        "down": _l("Your anxiety score has gone down from %(first)s to %(last)s since you started this time."),
        "up": _l("Your anxiety score has gone up from %(first)s to %(last)s since you started this time."),
        "same": _l("Your anxiety score is %(last)s, the same as when you started this time."),
        "one": _l("Your anxiety score is %(last)s. Answer again before your next talk to see how it changes."),
    },
    "WSAS": {
        "down": _l("Your daily life and work score has gone down from %(first)s to %(last)s since you started "
                   "this time."),
        "up": _l("Your daily life and work score has gone up from %(first)s to %(last)s since you started this time."),
        "same": _l("Your daily life and work score is %(last)s, the same as when you started this time."),
        "one": _l("Your daily life and work score is %(last)s. Answer again to see how it changes."),
    },
}


def sentence(series: Series) -> str:
    """A plain-language summary of one scale. Lower is better on every scale shown here."""
    if len(series.points) < 2:
        key = "one"
    elif series.last < series.first:
        key = "down"
    elif series.last > series.first:
        key = "up"
    else:
        key = "same"
    return str(SENTENCES[series.code][key]) % {"first": series.first, "last": series.last}


def has_risen(series: Series) -> bool:
    """The latest score is higher than the one before it, or than at the start of this course of care."""
    if len(series.points) < 2:
        return False
    return series.last > series.points[-2].total or series.last > series.first


def any_risen(series_list: list[Series]) -> bool:
    """Whether the page should invite the person to tell their therapist (and show help now)."""
    return any(has_risen(series) for series in series_list)


def charts(series_list: list[Series]) -> list[ProgressChart]:
    """Charts for every scale the resident has answered."""
    result = []
    for series in series_list:
        chart_id = "chart-" + series.code.lower().replace("-", "")
        points = [ChartPoint(p.at, p.total, _day_month(p.at))
                  for p in downsample(series.points, value=attrgetter("total"))]
        text = sentence(series)
        svg = line_chart(points, max_value=series.max_total, title=str(NAMES[series.code]), description=text,
                         chart_id=chart_id)
        rows = [(format_date(p.at, "medium"), p.total) for p in series.points[-RECENT_ROWS:]]
        result.append(ProgressChart(chart_id, str(NAMES[series.code]), text, svg, rows, series.max_total,
                                    months(series.points[:-RECENT_ROWS])))
    return result


def _day_month(moment) -> str:
    """d.M in the local zone (as format_date's "d.M", without its cost per point)."""
    local = to_local(moment)
    return f"{local.day}.{local.month}"


def months(points: list[Point]) -> list[tuple[str, int, int, int]]:
    """Answers per local calendar month, oldest first: (the month in words, how many, lowest, highest)."""
    by_month: dict[tuple[int, int], list[Point]] = {}
    for point in points:
        local = to_local(point.at)
        by_month.setdefault((local.year, local.month), []).append(point)
    return [(format_date(group[0].at, "LLLL yyyy"), len(group), min(p.total for p in group),
             max(p.total for p in group)) for group in by_month.values()]
