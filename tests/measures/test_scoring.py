"""score(): totals and bands at every band boundary, flags, and invalid answers."""
from __future__ import annotations

import dataclasses

import pytest

from rph_pwa.measures import Band, Instrument, cutoff_bands, get, score


def answers_for(defn: Instrument, total: int) -> list[int]:
    """Answers summing to `total`, filling items from the first so late items stay low."""
    answers = []
    for item in defn.items:
        top = defn.options_for(item)[-1].value
        value = min(top, total)
        answers.append(value)
        total -= value
    assert total == 0, "total out of range"
    return answers


# (instrument, total, band): both ends of every band, from the published cut-offs.
BOUNDARIES = [
    ("PHQ-9", 0, "minimal"), ("PHQ-9", 4, "minimal"),
    ("PHQ-9", 5, "mild"), ("PHQ-9", 9, "mild"),
    ("PHQ-9", 10, "moderate"), ("PHQ-9", 14, "moderate"),
    ("PHQ-9", 15, "moderately_severe"), ("PHQ-9", 19, "moderately_severe"),
    ("PHQ-9", 20, "severe"), ("PHQ-9", 27, "severe"),
    ("GAD-7", 0, "minimal"), ("GAD-7", 4, "minimal"),
    ("GAD-7", 5, "mild"), ("GAD-7", 9, "mild"),
    ("GAD-7", 10, "moderate"), ("GAD-7", 14, "moderate"),
    ("GAD-7", 15, "severe"), ("GAD-7", 21, "severe"),
    ("WSAS", 0, "subclinical"), ("WSAS", 9, "subclinical"),
    ("WSAS", 10, "significant"), ("WSAS", 20, "significant"),
    ("WSAS", 21, "severe"), ("WSAS", 40, "severe"),
    ("AUDIT-C", 0, "low"), ("AUDIT-C", 4, "low"),
    ("AUDIT-C", 5, "elevated"), ("AUDIT-C", 12, "elevated"),
    ("DUDIT-C", 0, "none"),
    ("DUDIT-C", 1, "some_use"), ("DUDIT-C", 16, "some_use"),
]


@pytest.mark.parametrize(("code", "total", "band"), BOUNDARIES)
def test_band_at_boundary(code, total, band):
    answers = answers_for(get(code), total)
    result = score(code, answers)
    assert (result.code, result.version, result.total, result.band) == (code, 1, total, band)
    assert result.answers == tuple(answers)


def test_boundaries_cover_every_band():
    covered = {(code, band) for code, _, band in BOUNDARIES}
    for code in ("PHQ-9", "GAD-7", "WSAS", "AUDIT-C", "DUDIT-C"):
        assert {(code, b.key) for b in get(code).bands} <= covered


# Hand-worked responses: (instrument, answers, total, band, flags).
REFERENCE = [
    ("PHQ-9", [0, 1, 2, 3, 0, 1, 2, 3, 0], 12, "moderate", set()),
    ("PHQ-9", [1, 2, 0, 1, 1, 0, 2, 0, 1], 8, "mild", {"item9"}),
    ("PHQ-9", [3] * 9, 27, "severe", {"item9"}),
    ("GAD-7", [1] * 7, 7, "mild", set()),
    ("GAD-7", [3, 3, 2, 2, 1, 1, 0], 12, "moderate", set()),
    ("WSAS", [8, 0, 4, 2, 6], 20, "significant", set()),
    ("WSAS", [5, 5, 5, 5, 1], 21, "severe", set()),
    ("AUDIT-C", [4, 0, 1], 5, "elevated", set()),
    ("AUDIT-C", [2, 1, 1], 4, "low", set()),
    ("DUDIT-C", [1, 0, 0, 0], 1, "some_use", set()),
]


@pytest.mark.parametrize(("code", "answers", "total", "band", "flags"), REFERENCE)
def test_reference_responses(code, answers, total, band, flags):
    result = score(code, answers)
    assert (result.total, result.band, result.flags) == (total, band, frozenset(flags))


@pytest.mark.parametrize(("item9", "flagged"), [(0, False), (1, True), (2, True), (3, True)])
def test_phq9_item9_above_zero_raises_the_risk_flag(item9, flagged):
    result = score("PHQ-9", [0] * 8 + [item9])
    assert result.flags == (frozenset({"item9"}) if flagged else frozenset())
    assert get("PHQ-9").flag_items == {"item9": "risk"}


def test_only_item9_is_a_risk_item():
    assert score("PHQ-9", [3] * 8 + [0]).flags == frozenset()
    for code in ("GAD-7", "WSAS", "AUDIT-C", "DUDIT-C"):
        defn = get(code)
        top = [defn.options_for(item)[-1].value for item in defn.items]
        assert score(code, top).flags == frozenset()


def test_score_accepts_an_instrument_and_a_version():
    assert score(get("GAD-7"), [0] * 7).band == "minimal"
    assert score("GAD-7", (0,) * 7, version=1).version == 1


def test_result_is_immutable():
    result = score("GAD-7", [0] * 7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.total = 3  # type: ignore[misc]


def test_deployment_bands_override_the_default_cut_off():
    lower = cutoff_bands(4, max_total=12, below="low", at_or_above="elevated")
    assert score("AUDIT-C", [2, 1, 1]).band == "low"
    assert score("AUDIT-C", [2, 1, 1], bands=lower).band == "elevated"


@pytest.mark.parametrize("bands", [
    (Band(0, 3, "low"), Band(5, 12, "elevated")),        # gap at 4
    (Band(0, 5, "low"), Band(5, 12, "elevated")),        # overlap at 5
    (Band(0, 4, "low"), Band(5, 11, "elevated")),        # misses 12
    (),
])
def test_bands_that_do_not_cover_every_total_are_refused(bands):
    with pytest.raises(ValueError, match="bands for AUDIT-C"):
        score("AUDIT-C", [0, 0, 0], bands=bands)


# (instrument, answers, message pattern)
INVALID = [
    ("PHQ-9", [0] * 8, r"PHQ-9 expects 9 answers .*got 8"),
    ("PHQ-9", [0] * 10, r"PHQ-9 expects 9 answers .*got 10"),
    ("PHQ-9", [], r"expects 9 answers"),
    ("PHQ-9", [0, 0, 0, None, 0, 0, 0, 0, 0], r"PHQ-9 item4 \(question 4 of 9\): answer is missing"),
    ("PHQ-9", [0, 4, 0, 0, 0, 0, 0, 0, 0], r"PHQ-9 item2 .*answer 4 is not one of the allowed values \[0, 1, 2, 3\]"),
    ("PHQ-9", [0, 0, 0, 0, 0, 0, 0, 0, -1], r"PHQ-9 item9 .*answer -1 is not one of"),
    ("PHQ-9", [True, 0, 0, 0, 0, 0, 0, 0, 0], r"PHQ-9 item1 .*must be an int, got bool"),
    ("PHQ-9", [0, 0, 1.0, 0, 0, 0, 0, 0, 0], r"PHQ-9 item3 .*must be an int, got float"),
    ("PHQ-9", [0, 0, 0, 0, "1", 0, 0, 0, 0], r"PHQ-9 item5 .*must be an int, got str"),
    ("PHQ-9", "000000000", r"must be a sequence of 9 ints"),
    ("PHQ-9", {f"item{i}": 0 for i in range(1, 10)}, r"must be a sequence"),
    ("PHQ-9", {0, 1}, r"must be a sequence"),
    ("PHQ-9", None, r"must be a sequence"),
    ("GAD-7", [0] * 6 + [None], r"GAD-7 item7 .*missing"),
    ("WSAS", [0, 0, 9, 0, 0], r"WSAS item3 .*answer 9 is not one of"),
    ("WSAS", [0, 0, 0, 0, False], r"WSAS item5 .*got bool"),
    ("AUDIT-C", [5, 0, 0], r"AUDIT-C item1 .*answer 5"),
    ("DUDIT-C", [0, 0, 0], r"DUDIT-C expects 4 answers"),
]


@pytest.mark.parametrize(("code", "answers", "pattern"), INVALID)
def test_invalid_answers_raise_value_error_naming_the_item(code, answers, pattern):
    with pytest.raises(ValueError, match=pattern):
        score(code, answers)


def test_functioning_answer_is_not_part_of_the_answers():
    with pytest.raises(ValueError, match="functioning question excluded"):
        score("PHQ-9", [0] * 9 + [2])


def test_unknown_instrument_or_version():
    with pytest.raises(KeyError, match="unknown instrument 'PHQ-8'"):
        score("PHQ-8", [0] * 8)
    with pytest.raises(KeyError, match="PHQ-9 has no version 2"):
        score("PHQ-9", [0] * 9, version=2)
    with pytest.raises(ValueError, match="given with version=2"):
        score(get("PHQ-9"), [0] * 9, version=2)


def test_item9_is_found_by_key_so_a_reordered_instrument_still_raises_the_flag():
    """A new PHQ-9 version could order its items differently: the risk rule and the item-9 value
    come from the definition's keys, never from list position."""
    phq9 = get("PHQ-9")
    reordered = dataclasses.replace(phq9, version=99, items=tuple(reversed(phq9.items)))
    answers = [2] + [0] * 8  # item 9 is now first
    result = score(reordered, answers)
    assert "item9" in result.flags and result.value_of("item9") == 2
    assert score(phq9, [0] * 8 + [3]).value_of("item9") == 3
    assert result.value_of("no-such-item") is None
