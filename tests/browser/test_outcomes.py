"""Forms before a contact on a phone, the progress chart updating, and the therapist's view."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from rph_pwa.measures import get
from tests.browser.conftest import sign_in_by_code, staff_page
from tests.factories import make_booked_contact, make_staff, make_team


def _fill(page, code: str, value: int) -> None:
    instrument = get(code)
    for item in instrument.items:
        chosen = 0 if item.key in instrument.flag_items else min(value, instrument.options_for(item)[-1].value)
        page.locator(f"input[name={item.key}][value='{chosen}']").check()
    if instrument.functioning_question is not None:
        page.locator("input[name=functioning]").first.check()
    page.locator("main form button[type=submit]").click()


def test_resident_fills_forms_before_a_contact_and_the_therapist_sees_them(db, browser, live_server, page, mailbox,
                                                                        assert_accessible):
    team = make_team(db)
    therapist, secret = make_staff(db, teams=[team])
    # The referral starts the chart (PHQ-9 16, GAD-7 14); the contact in 20 hours opens the forms.
    _team, _therapist, _resident, address, episode, _contact = make_booked_contact(
        db, hours_ahead=20, team=team, therapist=therapist)
    episode_id = episode.id

    sign_in_by_code(page, mailbox, address)
    page.goto("/me/progress")
    assert_accessible(page)
    assert page.locator("svg.chart circle").count() == 3  # one start point each for PHQ-9, GAD-7, WSAS

    page.goto("/me")
    assert_accessible(page)
    page.locator("main a[href^='/me/forms/']").first.click()
    page.wait_for_url(re.compile(r".*/me/forms/\d+"))
    assert_accessible(page)
    for code, value in (("PHQ-9", 1), ("GAD-7", 1), ("WSAS", 2)):  # totals 8 (item 9 = 0), 7 and 10
        expect(page.locator("h1")).to_contain_text(code)
        _fill(page, code, value)
    expect(page).to_have_url(re.compile(r".*/me/progress$"))
    assert_accessible(page)
    assert page.locator("svg.chart circle").count() == 6  # each chart gained a point
    text = page.locator("main").inner_text()
    assert re.search(r"16 til 8|16 to 8", text) and re.search(r"14 til 7|14 to 7", text)

    context, staff = staff_page(browser, live_server, therapist, secret)
    staff.goto(f"/therapist/episodes/{episode_id}")
    assert_accessible(staff)
    html = staff.content()
    assert "svg" in html and ">8<" in html and ">7<" in html  # the new totals in the trend tables
    assert re.search(r"\b0 (av|of) 15\b", staff.locator("main").inner_text())  # budget: 0 of 15 hours used
    context.close()
