"""I dag on a phone: the therapist sees today's appointments with a one-tap call link, sees a
resident's change request, opens it and moves the appointment; axe clean."""
from __future__ import annotations

from datetime import time, timedelta

from playwright.sync_api import expect

from rph_pwa.db import utcnow
from rph_pwa.localtime import local_to_utc, local_today
from rph_pwa.services import appointment_requests, outcomes
from tests.browser.conftest import PHONE, answer_by_moving, staff_page
from tests.factories import make_referral, make_resident, make_staff, make_team


def test_the_therapist_calls_from_today_and_moves_a_requested_appointment(db, browser, live_server,
                                                                          assert_accessible):
    team = make_team(db)
    therapist, secret = make_staff(db, teams=[team])
    therapist.locale = "en"
    resident = make_resident(db, team=team, name="Per Persen")
    resident.phone = "412 34 567"
    episode = make_referral(db, team=team, resident=resident).episode
    episode.responsible_id = therapist.id
    today = outcomes.book_contact(db, actor=therapist, episode_id=episode.id, kind="treatment",
                                  starts_at=local_to_utc(local_today(), time(23, 45)), duration_minutes=45,
                                  mode="phone", place=None)
    tomorrow = outcomes.book_contact(db, actor=therapist, episode_id=episode.id, kind="check_in",
                                     starts_at=utcnow() + timedelta(days=1), duration_minutes=30, mode="video",
                                     place=None)
    asked = appointment_requests.ask(db, resident=resident, appointment_id=tomorrow.id, kind="change",
                                     reason="Jeg er på jobb da.")
    db.commit()
    request_id, today_id = asked.id, today.id

    context, page = staff_page(browser, live_server, therapist, secret)
    page.set_viewport_size(PHONE["viewport"])
    row = page.locator(f"#appointment-{today_id}")
    expect(row).to_contain_text("Per Persen")
    call = row.locator('a[href="tel:+4741234567"]')
    expect(call).to_be_visible()
    box = call.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    expect(page.locator("#requests")).to_contain_text("Per Persen")
    assert_accessible(page)

    page.locator(f'#requests a[href$="/therapist/requests/{request_id}"]').click()
    expect(page.locator("h1")).to_contain_text("Per Persen")
    expect(page.locator("#request-kind")).to_have_text("Change the time")
    assert_accessible(page)
    answer_by_moving(page, days_ahead=5)
    expect(page.locator("body")).to_contain_text("The request is answered.")
    expect(page.locator("#requests")).to_have_count(0)
    assert_accessible(page)

    page.goto(f"/therapist/requests/{request_id}")
    expect(page.locator("#request-answer")).to_contain_text("Moved to a new time")
    context.close()
