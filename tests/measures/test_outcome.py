"""outcome(): caseness, recovery and reliable change (docs/domain.md §3)."""
from __future__ import annotations

import itertools

import pytest

from rph_pwa.measures import Outcome, Thresholds, outcome, score

F = False
T = True

# first (PHQ-9, GAD-7), last (PHQ-9, GAD-7) →
# caseness_start, caseness_end, recovered, reliable_improvement, reliable_deterioration, reliable_recovery
TRUTH_TABLE = [
    # Reliable recovery: a case, both reliably better, no longer a case.
    ((14, 9), (6, 5), (T, F, T, T, F, T)),
    # Recovered, but a 1-point change is not reliable.
    ((10, 0), (9, 0), (T, F, T, F, F, F)),
    # Not a case at the start: reliable improvement, but no recovery.
    ((9, 7), (3, 3), (F, F, F, T, F, F)),
    # No change at all.
    ((15, 10), (15, 10), (T, T, F, F, F, F)),
    ((0, 0), (0, 0), (F, F, F, F, F, F)),
    # PHQ-9 reliably worse.
    ((12, 5), (18, 5), (T, T, F, F, T, F)),
    # One reliably better, the other reliably worse: deterioration, not improvement.
    ((20, 5), (10, 10), (T, T, F, F, T, F)),
    # Reliably better but GAD-7 still at the caseness line: not recovered.
    ((20, 15), (9, 8), (T, T, F, T, F, F)),
    # Just below the caseness lines at the end: recovered.
    ((20, 15), (9, 7), (T, F, T, T, F, T)),
    # Reliable change boundaries: PHQ-9 5 is not reliable, 6 is; GAD-7 3 is not, 4 is.
    ((16, 0), (11, 0), (T, T, F, F, F, F)),
    ((16, 0), (10, 0), (T, T, F, T, F, F)),
    ((0, 12), (0, 9), (T, T, F, F, F, F)),
    ((0, 12), (0, 8), (T, T, F, T, F, F)),
    ((0, 12), (0, 7), (T, F, T, T, F, T)),
    ((4, 3), (9, 6), (F, F, F, F, F, F)),
    ((4, 3), (10, 6), (F, T, F, F, T, F)),
    ((4, 3), (4, 7), (F, F, F, F, T, F)),
    # Caseness boundaries: PHQ-9 10 and GAD-7 8 are cases, 9 and 7 are not.
    ((9, 7), (9, 7), (F, F, F, F, F, F)),
    ((10, 7), (10, 7), (T, T, F, F, F, F)),
    ((9, 8), (9, 8), (T, T, F, F, F, F)),
    # Worst to best.
    ((27, 21), (0, 0), (T, F, T, T, F, T)),
    ((0, 0), (27, 21), (F, T, F, F, T, F)),
]


@pytest.mark.parametrize(("first", "last", "expected"), TRUTH_TABLE)
def test_truth_table(first, last, expected):
    result = outcome({"PHQ-9": first[0], "GAD-7": first[1]}, {"PHQ-9": last[0], "GAD-7": last[1]})
    assert result == Outcome(*expected)


def test_invariants_hold_over_a_grid_of_totals():
    phq, gad = range(0, 28, 3), range(0, 22, 3)
    for p1, g1, p2, g2 in itertools.product(phq, gad, phq, gad):
        o = outcome({"PHQ-9": p1, "GAD-7": g1}, {"PHQ-9": p2, "GAD-7": g2})
        assert o.recovered == (o.caseness_start and not o.caseness_end)
        assert not (o.reliable_improvement and o.reliable_deterioration)
        assert o.reliable_recovery == (o.recovered and o.reliable_improvement)


def test_results_may_stand_in_for_totals():
    first = {"PHQ-9": score("PHQ-9", [2] * 7 + [0, 0]), "GAD-7": 9}
    last = {"PHQ-9": score("PHQ-9", [0] * 9), "GAD-7": score("GAD-7", [0] * 7)}
    assert outcome(first, last).reliable_recovery


def test_thresholds_are_configurable():
    first, last = {"PHQ-9": 11, "GAD-7": 0}, {"PHQ-9": 6, "GAD-7": 0}
    assert outcome(first, last) == Outcome(T, F, T, F, F, F)
    stricter = Thresholds(phq9_caseness=12, phq9_reliable_change=5)
    assert outcome(first, last, thresholds=stricter) == Outcome(F, F, F, T, F, F)


@pytest.mark.parametrize("value", [0, -1, 2.5, True, None])
def test_thresholds_must_be_positive_ints(value):
    with pytest.raises(ValueError, match="threshold gad7_caseness"):
        Thresholds(gad7_caseness=value)


GOOD = {"PHQ-9": 10, "GAD-7": 8}


@pytest.mark.parametrize(("first", "pattern"), [
    ({"PHQ-9": 10}, "first measurement lacks a GAD-7 total"),
    ({"GAD-7": 8}, "first measurement lacks a PHQ-9 total"),
    ({"PHQ-9": None, "GAD-7": 8}, "lacks a PHQ-9 total"),
    ({"PHQ-9": 28, "GAD-7": 8}, r"first PHQ-9 total must be an int from 0 to 27, got 28"),
    ({"PHQ-9": 10, "GAD-7": 22}, r"first GAD-7 total must be an int from 0 to 21"),
    ({"PHQ-9": -1, "GAD-7": 8}, "PHQ-9 total must be"),
    ({"PHQ-9": 10.0, "GAD-7": 8}, "PHQ-9 total must be"),
    ({"PHQ-9": True, "GAD-7": 8}, "PHQ-9 total must be"),
    ({"PHQ-9": "10", "GAD-7": 8}, "PHQ-9 total must be"),
    ({"PHQ-9": score("GAD-7", [0] * 7), "GAD-7": 8}, "gives a GAD-7 result as PHQ-9"),
    ([10, 8], "must be a mapping"),
])
def test_invalid_totals_raise_value_error(first, pattern):
    with pytest.raises(ValueError, match=pattern):
        outcome(first, GOOD)
