"""Acceptance (issue 13), the resident's side on a phone: download an appointment's calendar file,
then turn reminders on. Headless Chromium grants notification permission but refuses a push
subscription ("Registration failed"), so the page explains it and offers SMS or e-mail instead;
she puts SMS first and saves, and the order is stored."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import func, select

from rph_pwa.models import PushSubscription, User
from tests.browser.conftest import sign_in_by_code
from tests.conftest import refresh
from tests.factories import make_booked_contact


def test_calendar_file_and_turning_reminders_on_falls_back_to_sms(db, live_server, context, page, mailbox,
                                                                   assert_accessible):
    _team, _therapist, resident, address, _episode, contact = make_booked_contact(db)
    resident.phone = "412 34 567"
    db.commit()
    sign_in_by_code(page, mailbox, address)
    page.goto("/")
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")

    # The appointment's calendar file: "Avtale", the time, "Telefon"; nothing about what it is.
    page.goto("/me/appointments")
    assert_accessible(page)
    link = page.locator(f"main a[href='/me/appointments/{contact.id}/calendar.ics']")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "avtale.ics"
    body = open(download.path(), encoding="utf-8").read()
    assert "BEGIN:VEVENT" in body and "SUMMARY:Avtale" in body and "LOCATION:Telefon" in body
    assert f"DTSTART:{contact.starts_at.strftime('%Y%m%dT%H%M%SZ')}" in body
    assert "Samtale" not in body and "treatment" not in body

    # Reminders: notifications on this device. Permission granted, subscription refused.
    context.grant_permissions(["notifications"], origin=live_server)
    page.locator("main a[href='/me/reminders']").click()
    page.wait_for_url("**/me/reminders")
    box = page.locator("[data-push]")
    expect(box).to_have_attribute("data-push-now", "off")
    assert_accessible(page)
    page.locator("[data-push-on]").click()
    expect(box).to_have_attribute("data-push-now", "failed")
    expect(page.locator("[data-push-state=failed]")).to_be_visible()
    alternative = page.locator("[data-push-alternative] a[href='#channels']")
    expect(alternative).to_be_visible()
    assert_accessible(page)
    refresh(db)
    assert db.scalar(select(func.count()).where(PushSubscription.resident_id == resident.id)) == 0

    # She takes SMS first, then e-mail, and saves.
    alternative.click()
    page.locator("#first").select_option("sms")
    page.locator("#then").select_option("email")
    page.locator("#last").select_option("none")
    page.locator("#channels button[type=submit]").click()
    page.wait_for_url("**/me/reminders")
    expect(page.locator(".flash--success")).to_be_visible()
    assert_accessible(page)
    refresh(db)
    assert db.get(User, resident.id).reminder_channels == "sms,email"
