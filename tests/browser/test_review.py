"""The acceptance test of the review view on a phone: the therapist finds the check-in at the top
of the queue, sees modules, worksheets, scores and the resident's own words on one screen, writes
feedback with a phrase from the team's bank, opens the next module and marks it reviewed with the
minutes; axe clean on every page. The database then holds: attended, the minutes, the feedback,
the module opened, next week's check-in booked."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from playwright.sync_api import expect
from sqlalchemy import select

from rph_pwa.db import utcnow
from rph_pwa.models import Appointment, CheckInReport, FeedbackPhrase, ModuleProgress, User, Worksheet
from rph_pwa.services import selfhelp
from rph_pwa.services.accounts import set_email
from tests.browser.conftest import PHONE, sign_in_by_code, staff_page
from tests.factories import (
    add_episode_response,
    email,
    make_check_in_report,
    make_selfhelp,
    make_staff,
    make_team,
)

PHRASE = "Så bra at du holdt ut hele uka!"


def _resident_with_check_in(db, team, therapist, *, name: str, hours_ago: float, talk_sooner: bool = False):
    assignment, episode, _t = make_selfhelp(db, team=team, therapist=therapist)
    resident = db.get(User, episode.resident_id)
    resident.display_name, resident.phone = name, "412 34 567"
    appointment = db.scalars(select(Appointment).where(Appointment.episode_id == episode.id)).one()
    appointment.starts_at = utcnow() - timedelta(hours=1)
    make_check_in_report(db, appointment=appointment, talk_sooner=talk_sooner,
                         sent_at=utcnow() - timedelta(hours=hours_ago))
    return assignment, episode, appointment


def test_the_therapist_reviews_a_check_in_on_a_phone(db, browser, live_server, assert_accessible, mailbox):
    team = make_team(db)
    therapist, secret = make_staff(db, teams=[team])
    therapist.locale = "en"
    _resident_with_check_in(db, team, therapist, name="Ola Eldre", hours_ago=30)
    assignment, episode, appointment = _resident_with_check_in(db, team, therapist, name="Siri Sover",
                                                               hours_ago=2, talk_sooner=True)
    first_module = selfhelp.programme_modules(assignment)[0].key
    db.add(ModuleProgress(assignment_id=assignment.id, module_key=first_module, rating=4,
                          first_read_at=utcnow() - timedelta(days=5), finished_at=utcnow() - timedelta(days=4)))
    db.add(Worksheet(resident_id=episode.resident_id, episode_id=episode.id, kind="sleep_diary", client_key="n1",
                     content={"night": "2026-02-01", "bedtime": "23:30", "lights_out": "23:45",
                              "minutes_to_sleep": 40, "minutes_awake": 30, "woke": "06:10", "rose": "06:30",
                              "note": "Kaffe etter middag."}))
    for days, phq, gad in ((14, 14, 11), (2, 11, 9)):
        add_episode_response(db, episode=episode, code="PHQ-9", total=phq, at=utcnow() - timedelta(days=days))
        add_episode_response(db, episode=episode, code="GAD-7", total=gad, at=utcnow() - timedelta(days=days))
    db.add(FeedbackPhrase(team_id=team.id, text=PHRASE, created_by_id=therapist.id))
    db.commit()
    appointment_id, episode_id, assignment_id = appointment.id, episode.id, assignment.id
    second_module = selfhelp.programme_modules(assignment)[1]
    third_module = selfhelp.programme_modules(assignment)[2]

    context, page = staff_page(browser, live_server, therapist, secret)
    page.set_viewport_size(PHONE["viewport"])
    expect(page.locator("#check-ins-waiting")).to_contain_text("2 check-ins waiting for review")
    page.locator("#check-ins-waiting a").click()
    page.wait_for_url("**/therapist/check-ins")
    top = page.locator("#review-queue > li").first
    expect(top).to_contain_text("Siri Sover")
    expect(top).to_contain_text("Asked to talk to someone sooner")
    expect(page.locator("#review-queue > li").nth(1)).to_contain_text("Ola Eldre")
    assert_accessible(page)

    top.locator("a").click()
    page.wait_for_url(f"**/therapist/check-ins/{appointment_id}")
    expect(page.locator("h1")).to_contain_text("Siri Sover")
    expect(page.locator("#talk-sooner")).to_be_visible()
    expect(page.locator("#own-words")).to_contain_text("Søvndagboka hver morgen.")
    expect(page.locator("#own-words")).to_contain_text("Hvor lenge skal jeg holde på?")
    expect(page.locator("#modules")).to_contain_text("Finished")
    expect(page.locator("main")).to_contain_text("Kaffe etter middag.")
    expect(page.locator("main")).to_contain_text("Sleep diary")
    expect(page.locator("#scores-phq9")).to_contain_text("PHQ-9 went from 14 to 11")
    expect(page.locator("[data-review-timer]")).to_be_visible()
    expect(page.locator('a[href="tel:+4741234567"]')).to_be_visible()
    assert_accessible(page)

    page.locator("#open-module button").click()
    expect(page.locator(".flash--success")).to_contain_text("The next module is open")
    expect(page.locator("#open-module button")).to_contain_text(f"{third_module.number}.")

    page.locator("#done-feedback").fill("Godt jobbet med dagboka.")
    page.locator("#done-feedback").press("End")
    page.locator("#phrase-bank button").first.click()
    expect(page.locator("#done-feedback")).to_have_value(f"Godt jobbet med dagboka. {PHRASE}")
    page.locator("#done-minutes").fill("18")
    assert_accessible(page)
    page.locator("#mark-reviewed button[type=submit]").click()
    expect(page.locator(".flash--success")).to_contain_text("marked reviewed")
    expect(page.locator("#record-note")).to_contain_text("18 minutter")
    assert_accessible(page)
    context.close()

    db.expire_all()
    done = db.get(Appointment, appointment_id)
    assert done.status == "attended" and done.duration_minutes == 18
    report = db.scalars(select(CheckInReport).where(CheckInReport.appointment_id == appointment_id)).one()
    assert report.feedback == f"Godt jobbet med dagboka. {PHRASE}" and report.reviewed_by_id == therapist.id
    opened = db.scalars(select(ModuleProgress).where(ModuleProgress.assignment_id == assignment_id,
                                                     ModuleProgress.module_key == second_module.key)).one()
    assert opened.opened_at is not None and opened.opened_by_id == therapist.id
    following = db.scalars(select(Appointment).where(Appointment.episode_id == episode_id,
                                                     Appointment.status == "booked")).all()
    assert [a.kind for a in following] == ["check_in"] and following[0].starts_at > done.starts_at

    # The resident signs in on their phone and sees the feedback on home.
    resident = db.get(User, episode.resident_id)
    address = email()
    set_email(resident, address, current_app.extensions["rph_crypto"])
    db.commit()
    phone = browser.new_context(base_url=live_server, **PHONE)
    page = phone.new_page()
    sign_in_by_code(page, mailbox, address)
    page.goto("/me")
    expect(page.locator("#feedback-h")).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"Godt jobbet med dagboka. {PHRASE}")
    assert_accessible(page)
    phone.close()
