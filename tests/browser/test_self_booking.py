"""Booking the first conversation yourself, on a phone: a therapist publishes free times, a
resident whose referral was received chooses one and sees the confirmation, and the staff page
shows the time as booked; every page axe clean, every choice at least 44 px tall."""
from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from rph_pwa.db import utcnow
from rph_pwa.localtime import to_local
from tests.browser.conftest import PHONE, sign_in_by_code, staff_page
from tests.factories import email, make_referral, make_resident, make_staff, make_team


def test_a_resident_books_a_published_time_and_the_team_sees_it(db, browser, live_server, mailbox,
                                                                 assert_accessible):
    team = make_team(db)
    therapist, secret = make_staff(db, teams=[team])
    therapist.locale = "en"
    address = email()
    resident = make_resident(db, team=team, email=address, name="Siri Selvbooker")
    resident.locale = "en"
    make_referral(db, team=team, resident=resident)
    db.commit()

    # The therapist publishes three times in a row, the day after tomorrow.
    staff_context, staff = staff_page(browser, live_server, therapist, secret)
    staff.goto("/therapist/slots")
    assert_accessible(staff)
    day = to_local(utcnow()).date() + timedelta(days=2)
    staff.locator("#publish-day").fill(day.isoformat())
    staff.locator("#publish-time").fill("10:00")
    staff.locator("#publish-count").fill("3")
    staff.locator("#publish-minutes").fill("45")
    staff.locator("#publish-mode").select_option("video")
    staff.locator("main form[action$='/publish'] button[type=submit]").click()
    expect(staff.locator(".flash--success")).to_contain_text("3 free times are published.")
    expect(staff.locator("#slots tbody tr")).to_have_count(3)
    assert_accessible(staff)

    # The resident chooses the second time on a phone.
    context = browser.new_context(base_url=live_server, locale="nb-NO", **PHONE)
    page = context.new_page()
    sign_in_by_code(page, mailbox, address)
    page.goto("/me/book")
    choices = page.locator("#free-times .choice")
    expect(choices).to_have_count(3)
    for i in range(3):
        assert choices.nth(i).bounding_box()["height"] >= 44
    assert_accessible(page)
    page.locator("#free-times label").nth(1).click()
    page.get_by_role("button", name="Book this time").click()
    expect(page.locator(".flash--success")).to_contain_text("Your first conversation is booked for")
    expect(page.locator("#booking")).to_contain_text("10:45")
    expect(page.locator("#can-move")).to_be_visible()
    assert_accessible(page)
    context.close()

    # The team sees it at once, with a link to the episode.
    staff.goto("/therapist/slots")
    booked = staff.locator("#slots tbody tr").nth(1)
    expect(booked).to_contain_text("Booked: Siri Selvbooker")
    expect(booked).to_contain_text("Chosen by the resident")
    expect(booked.get_by_role("link")).to_have_attribute("href", re.compile(r"/therapist/episodes/\d+"))
    assert_accessible(staff)
    staff_context.close()
