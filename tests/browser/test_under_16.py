"""A 15-year-old in crisis on a phone: the red panel with one-tap calls comes first."""
from __future__ import annotations

from tests.browser.conftest import answer_first_step
from tests.factories import make_team


def test_young_person_in_crisis_sees_call_buttons_first(db, page, assert_accessible):
    team = make_team(db)
    db.commit()
    page.goto("/referral/step/1")
    answer_first_step(page, team.municipalities[0].name, age=15, crisis="yes")
    panel = page.locator("#crisis-panel")
    panel.wait_for()
    assert panel.is_visible()
    # Nothing above the panel but the page chrome: it is the first thing in the main content.
    first = page.locator("main > *").first
    assert first.get_attribute("id") == "crisis-panel"
    for number in ("113", "116111", "80033321"):
        assert panel.locator(f"a[href='tel:{number}']").is_visible()
    box = panel.locator("a[href='tel:113']").bounding_box()
    assert box["height"] >= 44 and box["y"] < 844  # a real tap target, on the first screen
    assert_accessible(page)
