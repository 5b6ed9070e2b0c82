"""The item list on the episode page marks the items the stored result flagged, found by item key."""
from __future__ import annotations

from types import SimpleNamespace

from rph_pwa.therapist.presenters.common import answered_items


def _response(code: str, answers: list[int], flags: str):
    return SimpleNamespace(instrument_code=code, instrument_version=1, answers=answers, flags=flags)


def test_item_9_is_marked_when_the_result_flagged_it(app):
    with app.test_request_context():
        items = answered_items(_response("PHQ-9", [1, 0, 0, 0, 0, 0, 0, 0, 2], "item9"), "nb")
    assert [i["number"] for i in items if i["raised"]] == [9]


def test_nothing_is_marked_without_a_flag_even_for_a_high_answer(app):
    with app.test_request_context():
        phq = answered_items(_response("PHQ-9", [3] * 9, ""), "nb")
        gad = answered_items(_response("GAD-7", [3] * 7, "item9"), "nb")  # GAD-7 has no item9
    assert not any(i["raised"] for i in phq + gad)
