"""The evaluation results on hand-made data: n, the mean (one decimal), every mode when tied,
the distribution, the response rate, an empty round, and the CSV (injection-safe)."""
from __future__ import annotations

from rph_pwa.measures.evaluations import EVALUATIONS
from rph_pwa.services.course_evaluation import csv_cell, item_results, response_rate, summarise

FORM = EVALUATIONS["COURSE-EVAL"]


def test_mean_is_rounded_to_one_decimal_and_the_single_mode_found():
    result = summarise("relevance", [5, 4, 4, 3, 5, 4])
    assert (result.n, result.mean, result.modes, result.counts) == (6, 4.2, (4,), (0, 0, 1, 3, 2))


def test_every_mode_is_given_when_tied():
    assert summarise("delivery", [1, 1, 5, 5, 3]).modes == (1, 5)
    assert summarise("delivery", [2, 3, 4]).modes == (2, 3, 4)


def test_half_rounds_up():
    assert summarise("material", [4, 5]).mean == 4.5
    assert summarise("material", [4, 4, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5]).mean == 4.3


def test_an_empty_round_has_no_mean_and_no_mode():
    results = item_results(FORM, [])
    assert [(r.key, r.n, r.mean, r.modes, r.counts) for r in results] == [
        (item.key, 0, None, (), (0, 0, 0, 0, 0)) for item in FORM.items]


def test_per_item_figures_from_answers():
    answers = [{"relevance": 5, "delivery": 4, "material": 3}, {"relevance": 4, "delivery": 4, "material": 1},
               {"relevance": 5, "delivery": 2, "material": 1}]
    by_key = {r.key: r for r in item_results(FORM, answers)}
    assert by_key["relevance"].mean == 4.7 and by_key["relevance"].modes == (5,)
    assert by_key["delivery"].n == 3 and by_key["delivery"].modes == (4,)
    assert by_key["material"].counts == (2, 0, 1, 0, 0) and by_key["material"].mean == 1.7


def test_response_rate_is_answers_per_attendee_of_the_last_meeting():
    assert response_rate(3, 4) == 75.0
    assert response_rate(0, 0) is None


def test_csv_cells_that_a_spreadsheet_would_run_are_made_text():
    assert csv_cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert csv_cell("+1") == "'+1" and csv_cell("@a") == "'@a" and csv_cell("-2") == "'-2"
    assert csv_cell("Godt kurs") == "Godt kurs" and csv_cell(None) == ""
