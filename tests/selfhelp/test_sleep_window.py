"""The sleep window suggested from hand-made sleep diaries: start, widen, keep, narrow, never
under five hours, nights across midnight, too few nights."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from rph_pwa.selfhelp import sleep_window
from rph_pwa.selfhelp.sleep_window import NoSuggestion, Suggestion, read_night, suggest, window_minutes

FIRST = date(2026, 3, 1)


def diary(nights: int = 7, *, bedtime="23:00", lights_out="23:00", to_sleep=0, awake=0, woke="06:00",
          rose="06:00", start: date = FIRST) -> list[dict]:
    """`nights` identical nights as `worksheets.clean_answers` stores them."""
    return [{"night": (start + timedelta(days=i)).isoformat(), "bedtime": bedtime, "lights_out": lights_out,
             "minutes_to_sleep": to_sleep, "minutes_awake": awake, "woke": woke, "rose": rose, "quality": 3}
            for i in range(nights)]


CURRENT = {"bedtime": "00:00", "rise": "06:00", "minutes": 360}


def test_a_night_across_midnight():
    night = read_night(diary(1, bedtime="23:30", lights_out="23:45", to_sleep=30, awake=45, woke="06:15",
                             rose="06:45")[0])
    assert night.in_bed == 7 * 60 + 15  # 23:30 -> 06:45
    assert night.asleep == (6 * 60 + 30) - 30 - 45  # 23:45 -> 06:15, less falling asleep and awake
    assert night.efficiency == round(100 * 315 / 435)


def test_a_night_after_midnight_and_one_never_below_zero():
    late = read_night(diary(1, bedtime="01:10", lights_out="01:20", woke="07:20", rose="07:40")[0])
    assert (late.in_bed, late.asleep) == (390, 360)
    sleepless = read_night(diary(1, to_sleep=300, awake=300)[0])
    assert sleepless.asleep == 0


@pytest.mark.parametrize("changes", [{"woke": "07:00"}, {"rose": "23:00"}, {"lights_out": "22:00"},
                                     {"bedtime": "nine"}, {"minutes_awake": None}, {"night": "yesterday"}])
def test_nights_whose_times_cannot_follow_each_other_are_left_out(changes):
    entry = {**diary(1)[0], **changes}
    assert read_night(entry) is None


def test_the_first_window_is_the_mean_time_asleep_before_the_median_rise():
    entries = diary(4, bedtime="22:30", lights_out="22:45", to_sleep=45, awake=60, woke="06:00", rose="06:30")
    entries += diary(3, bedtime="23:00", lights_out="23:00", to_sleep=30, awake=30, woke="06:30", rose="07:00",
                     start=FIRST + timedelta(days=4))
    got = suggest(entries)
    # Asleep: 4 nights of 435 - 105 = 330, 3 nights of 450 - 60 = 390: mean 355.7, rounded to 360.
    assert isinstance(got, Suggestion)
    assert (got.change, got.minutes, got.rise, got.bedtime, got.nights) == ("start", 360, "06:30", "00:30", 7)
    assert got.efficiency == round(100 * (4 * 330 + 3 * 390) / (4 * 480 + 3 * 480))


def test_widen_by_15_from_90_percent_and_by_30_from_95():
    ninety_two = diary(bedtime="00:00", lights_out="00:00", to_sleep=20, awake=10, woke="06:00", rose="06:00")
    got = suggest(ninety_two, CURRENT)
    assert (got.change, got.minutes, got.bedtime, got.rise, got.efficiency) == ("widen", 375, "23:45", "06:00", 92)
    ninety_seven = diary(bedtime="00:00", lights_out="00:00", to_sleep=10, awake=0, woke="06:00", rose="06:00")
    got = suggest(ninety_seven, CURRENT)
    assert (got.change, got.minutes, got.bedtime) == ("widen", 390, "23:30")


def test_keep_between_85_and_90_percent():
    eighty_seven = diary(bedtime="00:00", lights_out="00:00", to_sleep=30, awake=15, woke="06:00", rose="06:00")
    got = suggest(eighty_seven, CURRENT)
    assert (got.change, got.minutes, got.bedtime, got.efficiency) == ("keep", 360, "00:00", 88)


def test_narrow_under_85_percent_and_the_rise_time_stays_fixed():
    eighty = diary(bedtime="00:00", lights_out="00:00", to_sleep=40, awake=30, woke="06:00", rose="06:30")
    got = suggest(eighty, CURRENT)
    assert (got.change, got.minutes, got.rise, got.bedtime) == ("narrow", 345, "06:00", "00:15")
    assert got.efficiency < 85


def test_never_under_five_hours():
    poor = diary(bedtime="23:00", lights_out="23:00", to_sleep=120, awake=120, woke="06:00", rose="07:00")
    first = suggest(poor)  # asleep 180 minutes a night
    assert (first.minutes, first.at_minimum, first.bedtime, first.rise) == (300, True, "02:00", "07:00")
    at_floor = suggest(poor, {"rise": "07:00", "minutes": 300})
    assert (at_floor.minutes, at_floor.change, at_floor.at_minimum) == (300, "keep", True)
    near_floor = suggest(poor, {"rise": "07:00", "minutes": 310})
    assert (near_floor.minutes, near_floor.change) == (300, "narrow")


def test_too_few_nights_gives_no_suggestion_with_the_reason():
    got = suggest(diary(4))
    assert isinstance(got, NoSuggestion) and not got
    assert (got.reason, got.nights, got.needed) == ("too_few_nights", 4, 5)
    broken = diary(5)
    broken[0]["woke"] = "nonsense"
    assert not suggest(broken)


def test_only_the_last_seven_nights_count_and_a_night_written_twice_counts_once():
    old_bad = diary(7, to_sleep=200, awake=100)
    recent_good = diary(7, start=FIRST + timedelta(days=7))
    again = diary(1, start=FIRST + timedelta(days=13), to_sleep=60)
    got = suggest(old_bad + recent_good + again, CURRENT)
    assert got.nights == 7
    assert got.efficiency == round(100 * (6 * 420 + 360) / (7 * 420))


def test_window_minutes_across_midnight():
    assert window_minutes("23:30", "06:00") == 390
    assert window_minutes("01:00", "06:30") == 330
    assert sleep_window.clock(-30) == "23:30"
