"""The resident's home on a phone: tomorrow's appointment and the forms by name, asking to move the
appointment, and the bottom tab bar with touch targets of at least 44 × 44 CSS px."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import PHONE, answer_by_moving, sign_in_by_code, staff_page
from tests.factories import make_booked_contact

MIN_TARGET = 44


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None, "not rendered"
    return box


def test_resident_sees_tomorrow_and_forms_then_asks_to_move_it(db, page, mailbox, assert_accessible):
    _team, _therapist, resident, address, _episode, contact = make_booked_contact(db, hours_ahead=24)
    resident.locale, resident.phone = "en", "412 34 567"
    db.commit()

    sign_in_by_code(page, mailbox, address)
    page.goto("/me")
    main = page.locator("main")
    expect(main.locator("#where-h")).to_have_text("We have received your referral")
    expect(main.locator(f"#appointment-{contact.id}")).to_have_text("Talk")
    card = main.locator(f"article:has(#appointment-{contact.id})")
    expect(main).to_contain_text("The team calls you on 412 34 567.")
    expect(main).to_contain_text("Questions about mood and interest")
    expect(main).to_contain_text("Questions about worry and anxiety")
    expect(main).to_contain_text("(PHQ-9)")
    assert_accessible(page)

    # The tab bar: at the bottom of the 390 px screen, every item at least 44 × 44 px, home marked.
    bar = page.locator("nav.tab-bar")
    expect(bar).to_be_visible()
    bar_box = _box(bar)
    assert PHONE["viewport"]["width"] == 390
    assert abs(bar_box["y"] + bar_box["height"] - PHONE["viewport"]["height"]) < 2
    links = bar.locator("a")
    assert links.count() == 5
    for i in range(5):
        box = _box(links.nth(i))
        assert box["height"] >= MIN_TARGET and box["width"] >= MIN_TARGET, (i, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    expect(bar.locator("a[aria-current=page]")).to_have_attribute("href", "/me")
    # Call links and the main actions on the home are large enough too.
    for link in main.locator("a.tel-link, a.button, .todo-list a").all():
        box = _box(link)
        assert box["height"] >= MIN_TARGET, (link.inner_text(), box)
    # Nothing hides behind the bar: at the end of the page the footer ends above it.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    footer_end = page.evaluate("document.querySelector('.site-footer').getBoundingClientRect().bottom")
    assert footer_end <= _box(bar)["y"] + 1

    # Ask to move the appointment, with a reason.
    card.locator("a", has_text="Change or cancel").click()
    page.wait_for_url(re.compile(rf".*/me/appointments/{contact.id}/request$"))
    assert_accessible(page)
    page.get_by_label("Find another time").check()
    page.locator("#reason").fill("Jeg er på jobb da. Passer det på ettermiddagen?")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/me/appointments$"))
    expect(page.locator("main")).to_contain_text("The team will answer")
    expect(page.locator("nav.tab-bar a[aria-current=page]")).to_have_attribute("href", "/me/appointments")
    assert_accessible(page)

    # On a wide screen the bar is an ordinary row under the header.
    page.set_viewport_size({"width": 1200, "height": 800})
    assert page.evaluate("getComputedStyle(document.querySelector('nav.tab-bar')).position") == "static"


def test_the_request_reaches_the_therapists_day_and_the_answer_reaches_home(db, browser, live_server, page, mailbox,
                                                                           assert_accessible):
    """The whole round: the resident asks on the phone, the therapist sees it on I dag (phone
    size too), moves the appointment, and the resident sees the new time and the team's note."""
    _team, therapist, resident, address, episode, contact = make_booked_contact(db, hours_ahead=24)
    resident.locale, resident.phone, resident.display_name = "en", "412 34 567", "Per Persen"
    therapist.locale = "en"
    episode.responsible_id = therapist.id
    secret = therapist.totp_secret
    db.commit()

    sign_in_by_code(page, mailbox, address)
    page.goto(f"/me/appointments/{contact.id}/request")
    page.get_by_label("Find another time").check()
    page.locator("#reason").fill("Jeg er på jobb da.")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/me/appointments$"))

    staff_context, staff = staff_page(browser, live_server, therapist, secret)
    staff.set_viewport_size(PHONE["viewport"])
    requests = staff.locator("#requests")
    expect(requests).to_contain_text("Per Persen")
    requests.locator("a").first.click()
    expect(staff.locator("main")).to_contain_text("Jeg er på jobb da.")
    answer_by_moving(staff, days_ahead=4)
    expect(staff.locator("#requests")).to_have_count(0)
    staff_context.close()

    page.goto("/me/appointments")
    main = page.locator("main")
    expect(main).to_contain_text("The team moved the appointment.")
    expect(main).to_contain_text("Ny tid passer bedre.")
    expect(main).to_contain_text("2:30 PM")  # the new time, in English
    assert_accessible(page)
