"""Acceptance (issue 12), the resident's side, on a phone: read a module, fill in a sleep diary, go
offline and keep typing, close the page and open it again (still offline: the service worker's
copy, with what was typed restored), come back online: the worksheet is stored once with
everything typed. Then send the weekly check-in."""
from __future__ import annotations

import re
import time

from flask import current_app
from playwright.sync_api import expect
from sqlalchemy import select

from rph_pwa.models import CheckInReport, User, Worksheet
from rph_pwa.services.accounts import set_email
from tests.browser.conftest import sign_in_by_code
from tests.factories import email, make_selfhelp

DRAFT_KEYS = "() => Object.keys(localStorage).filter(k => k.startsWith('rph-draft:'))"
NO_DRAFTS = "() => !Object.keys(localStorage).some(k => k.startsWith('rph-draft:'))"


def _resident_with_programme(db, page, mailbox) -> User:
    """A resident with the sleep programme (its check-in today), signed in on `page`."""
    assignment, _episode, _therapist = make_selfhelp(db, programme="sovn")
    resident = db.get(User, assignment.resident_id)
    address = email()
    set_email(resident, address, current_app.extensions["rph_crypto"])
    db.commit()
    sign_in_by_code(page, mailbox, address)
    return resident


def _rows(db, resident_id: int) -> list[Worksheet]:
    db.commit()
    db.expire_all()
    return list(db.scalars(select(Worksheet).where(Worksheet.resident_id == resident_id)))


def _wait_for(db, resident_id: int, wanted: dict, timeout: float = 15) -> list[Worksheet]:
    """The resident's worksheets once one holds every wanted answer (or when the time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = _rows(db, resident_id)
        if any(all(r.content.get(k) == v for k, v in wanted.items()) for r in rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def test_a_sleep_diary_typed_offline_survives_closing_the_page_and_is_stored_once(db, live_server, context, page,
                                                                                  mailbox, assert_accessible):
    resident = _resident_with_programme(db, page, mailbox)
    page.goto("/")
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")

    # My programme, and this week's module.
    page.goto("/me/selfhelp")
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    assert_accessible(page)
    page.locator("main a[href='/me/selfhelp/modules/1']").first.click()
    page.wait_for_url("**/me/selfhelp/modules/1")
    expect(page.locator("article.module-text h2").first).to_be_visible()
    assert_accessible(page)

    # The module's worksheet: the sleep diary (named by number in the URL).
    page.locator("main a[href='/me/selfhelp/worksheets/new/3']").click()
    page.wait_for_url("**/me/selfhelp/worksheets/new/3")
    assert_accessible(page)
    page.locator("#ws-night").fill("2026-03-02")
    page.locator("#ws-bedtime").fill("23:00")
    page.locator("#ws-lights_out").fill("23:20")
    page.locator("#ws-minutes_to_sleep").fill("45")
    # Saved as it is typed: the page moves to the worksheet's own address, which the worker keeps.
    page.wait_for_url(re.compile(r".*/me/selfhelp/worksheets/\d+$"))
    own_url = page.url
    page.wait_for_function("""async () => {
        const cache = await caches.open('rph-user-selfhelp');
        return (await cache.match(location.pathname)) !== undefined; }""")
    assert len(_wait_for(db, resident.id, {"minutes_to_sleep": 45})) == 1

    # Offline: keep typing; it stays on the device under a key that names nothing.
    context.set_offline(True)
    page.locator("#ws-minutes_awake").fill("30")
    page.locator("#ws-woke").fill("05:40")
    page.locator("#ws-rose").fill("06:30")
    page.locator("#ws-quality").fill("2")
    page.locator("#ws-note").press_sequentially("Våknet av måkene.")
    expect(page.locator("[data-worksheet-status]")).to_be_visible()
    time.sleep(1)
    assert "Våknet" not in str(_rows(db, resident.id)[0].content)  # not sent while offline
    stored = page.evaluate(DRAFT_KEYS)
    assert len(stored) == 1 and re.fullmatch(r"rph-draft:[0-9a-f]{32}", stored[0])
    page.close()

    # Reopened, still offline: the worker's copy of the page, with what was typed restored.
    page = context.new_page()
    page.goto(own_url)
    expect(page.locator("#ws-note")).to_have_value("Våknet av måkene.")
    expect(page.locator("#ws-rose")).to_have_value("06:30")
    expect(page.locator("#ws-minutes_to_sleep")).to_have_value("45")
    page.locator("#ws-note").press_sequentially(" Sov igjen.")

    # Back online: sent, stored once with everything typed, and removed from the device.
    context.set_offline(False)
    rows = _wait_for(db, resident.id, {"note": "Våknet av måkene. Sov igjen."})
    assert len(rows) == 1
    assert rows[0].kind == "sleep_diary" and rows[0].for_date.isoformat() == "2026-03-02"
    assert rows[0].content == {"night": "2026-03-02", "bedtime": "23:00", "lights_out": "23:20",
                               "minutes_to_sleep": 45, "minutes_awake": 30, "woke": "05:40", "rose": "06:30",
                               "quality": 2, "note": "Våknet av måkene. Sov igjen."}
    page.wait_for_function(NO_DRAFTS)
    page.reload()
    expect(page.locator("#ws-note")).to_have_value("Våknet av måkene. Sov igjen.")
    assert len(_rows(db, resident.id)) == 1

    # The weekly check-in: sent once, with when it will be read.
    page.goto("/me/selfhelp/check-in")
    assert_accessible(page)
    page.locator("#worked_on").fill("Jeg fylte ut søvndagboka.")
    page.locator("#question").fill("Er det normalt å våkne tidlig?")
    page.reload()  # what was written is kept on the device until it is sent
    expect(page.locator("#worked_on")).to_have_value("Jeg fylte ut søvndagboka.")
    page.locator("main form[data-check-in] button[type=submit]").click()
    expect(page.locator("main h1")).to_have_count(1)
    expect(page.locator("[data-draft-done]")).to_be_visible()
    assert_accessible(page)
    page.wait_for_function(NO_DRAFTS)
    db.commit()
    db.expire_all()
    [report] = db.scalars(select(CheckInReport).where(CheckInReport.resident_id == resident.id)).all()
    assert report.answers == {"worked_on": "Jeg fylte ut søvndagboka.", "question": "Er det normalt å våkne tidlig?"}
    assert not report.talk_sooner


def test_ticking_talk_sooner_shows_crisis_help_at_once(db, live_server, page, mailbox, assert_accessible):
    _resident_with_programme(db, page, mailbox)
    page.goto("/me/selfhelp/check-in")
    panel = page.locator("#crisis-panel")
    expect(panel).to_be_hidden()
    page.locator("#talk_sooner").check()
    expect(panel).to_be_visible()
    expect(panel.locator("a[href='tel:113']")).to_be_visible()
    assert_accessible(page)
