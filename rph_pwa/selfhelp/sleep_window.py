"""The sleep window for sleep restriction (CBT-I), suggested from the sleep diary. Pure: no Flask,
no database. The therapist decides; the app only suggests (`services.sleep_windows`).

Each night of the diary (`worksheets.clean_answers` for kind `sleep_diary`: "night", "bedtime",
"lights_out", "minutes_to_sleep", "minutes_awake", "woke", "rose", times "HH:MM") gives:

- time in bed: from going to bed to getting up ("bedtime" -> "rose");
- time asleep: from trying to sleep to waking for the last time ("lights_out" -> "woke"), less the
  minutes it took to fall asleep and the minutes awake in the night, never below 0;
- sleep efficiency: time asleep / time in bed.

Times are read forward from the bedtime, so a night crosses midnight as it should (23:30 -> 06:30
is 7 hours). A night whose times cannot follow each other that way (the last waking after getting
up, a whole day in bed) is left out.

`suggest` looks at the last `NIGHTS` nights with a usable entry and needs `MIN_NIGHTS` of them.
Efficiency over the week is total time asleep / total time in bed.

- With no approved window yet ("start"): the window is the mean time asleep, rounded to
  `ROUND_TO` minutes.
- With an approved window: efficiency of 90 % or more widens it ("widen"), by 15 minutes, or by
  30 minutes at 95 % or more (the person sleeps nearly all the time they are in bed: a faster
  step back towards normal hours); 85 % up to 90 % keeps it ("keep"); under 85 % narrows it by
  15 minutes ("narrow").
- Never under `MINIMUM_MINUTES` (5 hours): a narrowing that would go below is held at 5 hours
  ("keep", `at_minimum`).
- The rise time is fixed: the approved window's, or with none yet the median time of getting up
  in the diary. The bedtime is the rise time less the window.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from statistics import median
from typing import Any

DAY = 24 * 60
#: Never a window shorter than this (5 hours), whatever the diary says.
MINIMUM_MINUTES = 300
#: The nights the suggestion looks at, and how many of them it needs.
NIGHTS = 7
MIN_NIGHTS = 5
#: Efficiency limits (fractions) and the steps in minutes.
WIDEN_FROM = 0.90
WIDEN_MORE_FROM = 0.95
KEEP_FROM = 0.85
WIDEN_STEP = 15
WIDEN_MORE_STEP = 30
NARROW_STEP = 15
#: A first window is rounded to this many minutes.
ROUND_TO = 15
CHANGES = ("start", "widen", "keep", "narrow")


@dataclass(frozen=True)
class Night:
    """One diary night as the suggestion reads it."""

    night: date
    bedtime: str
    rose: str
    in_bed: int
    asleep: int

    @property
    def efficiency(self) -> int:
        """Sleep efficiency in whole percent."""
        return round(100 * self.asleep / self.in_bed)


@dataclass(frozen=True)
class Suggestion:
    """The suggested window: go to bed at `bedtime`, get up at `rise` ("HH:MM"), `minutes` long;
    from `nights` nights with `efficiency` percent; `change` from the approved window (one of
    CHANGES). `at_minimum`: the diary asked for less, but 5 hours is the floor."""

    bedtime: str
    rise: str
    minutes: int
    efficiency: int
    nights: int
    change: str
    at_minimum: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __bool__(self) -> bool:
        return True


@dataclass(frozen=True)
class NoSuggestion:
    """Why there is no suggestion: `reason` "too_few_nights" (fewer than MIN_NIGHTS usable nights
    in the diary). Falsy, like None."""

    reason: str
    nights: int
    needed: int = MIN_NIGHTS

    def __bool__(self) -> bool:
        return False


def minutes_of(text: str) -> int:
    """"HH:MM" as minutes after midnight (ValueError if it is not a time)."""
    hours, _, minutes = str(text).partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(f"not a time: {text!r}")
    value = int(hours) * 60 + int(minutes)
    if not (0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59):
        raise ValueError(f"not a time: {text!r}")
    return value


def clock(minutes: int) -> str:
    """Minutes after midnight (any whole number, wrapped to one day) as "HH:MM"."""
    minutes %= DAY
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def read_night(entry: Mapping[str, Any]) -> Night | None:
    """One diary entry as a Night, or None when it lacks a field or its times cannot follow each other."""
    try:
        night = date.fromisoformat(str(entry["night"]))
        bedtime, lights_out = minutes_of(entry["bedtime"]), minutes_of(entry["lights_out"])
        woke, rose = minutes_of(entry["woke"]), minutes_of(entry["rose"])
        to_sleep, awake = int(entry["minutes_to_sleep"]), int(entry["minutes_awake"])
    except (KeyError, TypeError, ValueError):
        return None
    # Everything is read forward from the bedtime, so crossing midnight needs nothing special.
    tried, last_woke, up = (lights_out - bedtime) % DAY, (woke - bedtime) % DAY, (rose - bedtime) % DAY
    if up == 0 or not tried <= last_woke <= up or to_sleep < 0 or awake < 0:
        return None
    asleep = max(0, last_woke - tried - to_sleep - awake)
    return Night(night=night, bedtime=clock(bedtime), rose=clock(rose), in_bed=up, asleep=asleep)


def last_nights(entries: Iterable[Mapping[str, Any]], count: int = NIGHTS) -> list[Night]:
    """The usable nights, one per date (a later entry for the same night wins), the last `count`
    of them in date order."""
    by_date: dict[date, Night] = {}
    for entry in entries:
        night = read_night(entry)
        if night is not None:
            by_date[night.night] = night
    return [by_date[d] for d in sorted(by_date)][-count:]


def _noon_based(minutes: int) -> int:
    """Minutes counted from noon, so times around midnight sort in the order of the night."""
    return (minutes - DAY // 2) % DAY


def median_time(times: Iterable[str]) -> str:
    """The median of clock times, read from noon to noon."""
    middle = median(_noon_based(minutes_of(t)) for t in times)
    return clock(round(middle) + DAY // 2)


def suggest(entries: Iterable[Mapping[str, Any]], current_window: Mapping[str, Any] | None = None
            ) -> Suggestion | NoSuggestion:
    """The window for the coming week from the diary's last nights (see the module docstring).
    `current_window`: the approved window ({"rise": "HH:MM", "minutes": int, ...}) or None."""
    nights = last_nights(entries)
    if len(nights) < MIN_NIGHTS:
        return NoSuggestion(reason="too_few_nights", nights=len(nights))
    in_bed, asleep = sum(n.in_bed for n in nights), sum(n.asleep for n in nights)
    efficiency = asleep / in_bed
    if current_window is None:
        wanted = round(asleep / len(nights) / ROUND_TO) * ROUND_TO
        change, rise = "start", median_time(n.rose for n in nights)
    else:
        current, rise = int(current_window["minutes"]), str(current_window["rise"])
        if efficiency >= WIDEN_FROM:
            change = "widen"
            wanted = current + (WIDEN_MORE_STEP if efficiency >= WIDEN_MORE_FROM else WIDEN_STEP)
        elif efficiency >= KEEP_FROM:
            change, wanted = "keep", current
        else:
            change, wanted = "narrow", current - NARROW_STEP
    at_minimum = wanted < MINIMUM_MINUTES
    minutes = max(wanted, MINIMUM_MINUTES)
    if current_window is not None and minutes == int(current_window["minutes"]):
        change = "keep"
    return Suggestion(bedtime=clock(minutes_of(rise) - minutes), rise=rise, minutes=minutes,
                      efficiency=round(100 * efficiency), nights=len(nights), change=change, at_minimum=at_minimum)


def window_minutes(bedtime: str, rise: str) -> int:
    """The length of a window from `bedtime` to `rise` ("HH:MM"), across midnight."""
    return (minutes_of(rise) - minutes_of(bedtime)) % DAY
