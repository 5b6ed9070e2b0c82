"""The service worker's side of a push (issue 13), in Chromium through CDP
`ServiceWorker.deliverPushMessage`, which hands a push to the worker as a push service would:
the worker shows the engine's own text (title, body, the actions "Jeg kommer" / "Jeg må endre", read
back with `registration.getNotifications()`), names no service, opens only our own pages, and
acknowledges the push so the server marks the delivery shown.

The "coming" action cannot be clicked from CDP (notificationclick has no test hook in Chromium);
what it posts, /push/answer, is tested server-side in tests/client/test_reminder_pages.py."""
from __future__ import annotations

import json
import time
from zoneinfo import ZoneInfo

from rph_pwa.models import Reminder, ReminderDelivery
from rph_pwa.reminder_texts import compose
from rph_pwa.services.reminder_delivery import Outgoing
from tests.browser.conftest import sign_in_by_code
from tests.conftest import refresh
from tests.factories import make_booked_contact, make_push_delivery
from tests.reminders.test_neutral_identity import service_words

#: Wait until the worker is activated, not only active: a push handed to it while it still
#: activates was sometimes never shown.
ACTIVATED = """async () => {
    const registration = await navigator.serviceWorker.ready;
    const worker = registration.active;
    if (worker.state !== "activated") {
        await new Promise(resolve => worker.addEventListener("statechange", () => {
            if (worker.state === "activated") resolve();
        }));
    }
}"""

NOTIFICATIONS = """async () => {
    const registration = await navigator.serviceWorker.ready;
    const shown = await registration.getNotifications();
    return shown.map(n => ({title: n.title, body: n.body, tag: n.tag, icon: n.icon, data: n.data,
                            actions: n.actions.map(a => ({action: a.action, title: a.title}))}));
}"""



def _registration_id(page, cdp, origin: str, timeout: float = 10) -> str:
    """The id of our origin's service worker registration, from ServiceWorker.enable's events
    (Playwright's sync API hands events over while it waits, so wait through the page)."""
    found: list[str] = []

    def updated(event) -> None:
        found.extend(r["registrationId"] for r in event["registrations"]
                     if r["scopeURL"].startswith(origin) and not r.get("isDeleted"))

    cdp.on("ServiceWorker.workerRegistrationUpdated", updated)
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + timeout
    while not found and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert found, "no service worker registration for our origin"
    return found[-1]


def _push(page, cdp, origin: str, registration: str, payload: dict) -> list[dict]:
    """Hand `payload` to the worker as a push and return the notifications shown with its tag.
    Now and then (about one run in eight here) Chromium drops a push CDP hands over, with no
    error and no event; a push service delivers again until the device takes it, and so does
    this (same tag: a repeat replaces, never adds)."""
    for _attempt in range(3):
        cdp.send("ServiceWorker.deliverPushMessage",
                 {"origin": origin, "registrationId": registration, "data": json.dumps(payload)})
        shown = _wait(lambda: [n for n in page.evaluate(NOTIFICATIONS) if n["tag"] == payload["tag"]], timeout=6)
        if shown:
            return shown
    return []


def _wait(check, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_a_push_is_shown_neutrally_with_its_actions_and_acknowledged(db, live_server, context, page, mailbox):
    _team, _therapist, resident, address, _episode, contact = make_booked_contact(db)
    sign_in_by_code(page, mailbox, address)
    context.grant_permissions(["notifications"], origin=live_server)
    page.goto("/me")
    page.evaluate(ACTIVATED)
    delivery = make_push_delivery(db, resident_id=resident.id, appointment_id=contact.id)

    cdp = context.new_cdp_session(page)
    registration = _registration_id(page, cdp, live_server)
    # What the scheduler would send: the engine's own text for this delivery.
    reminder = db.get(Reminder, delivery.reminder_id)
    payload = compose(Outgoing(delivery.id, delivery.token, "push", 1, reminder.id, reminder.kind, reminder.link,
                               contact.id, contact.starts_at, resident.id, "nb")).push
    when = contact.starts_at.astimezone(ZoneInfo("Europe/Oslo"))
    shown = _push(page, cdp, live_server, registration, payload)
    assert len(shown) == 1 and len(page.evaluate(NOTIFICATIONS)) == 1, shown
    notification = shown[0]
    assert notification["title"] == "Du har en avtale" and notification["body"].endswith(f"kl. {when:%H:%M}")
    assert notification["tag"] == delivery.token
    assert notification["icon"] == f"{live_server}/static/icons/notification-192.png"
    assert notification["actions"] == payload["actions"] == [{"action": "coming", "title": "Jeg kommer"},
                                                             {"action": "change", "title": "Jeg må endre"}]
    assert notification["data"]["url"] == f"{live_server}/me/appointments/{contact.id}/reply"
    assert notification["data"]["change_url"] == f"{live_server}/me/appointments/{contact.id}/request"
    for text in [notification["title"], notification["body"], *(a["title"] for a in notification["actions"])]:
        assert service_words(text) == [], text

    # The worker acknowledged it: the delivery is shown, the reminder delivered.
    def acknowledged():
        refresh(db)
        return db.get(ReminderDelivery, delivery.id).state == "shown"

    assert _wait(acknowledged)
    assert db.get(Reminder, delivery.reminder_id).outcome == "delivered"


def test_a_push_naming_another_site_opens_only_our_own_pages(db, live_server, context, page, mailbox):
    _team, _therapist, _resident, address, _episode, _contact = make_booked_contact(db)
    sign_in_by_code(page, mailbox, address)
    context.grant_permissions(["notifications"], origin=live_server)
    page.goto("/me")
    page.evaluate(ACTIVATED)
    cdp = context.new_cdp_session(page)
    registration = _registration_id(page, cdp, live_server)
    other = {"title": "Du har en ny melding", "body": "Åpne appen for å lese den.", "url": "https://evil.example/x",
             "tag": "other", "token": "not-a-known-token", "icon": "https://evil.example/icon.png",
             "change_url": "//evil.example/y"}
    shown = _push(page, cdp, live_server, registration, other)
    assert shown, "the push was not shown"
    assert shown[0]["data"]["url"] == "/me" and shown[0]["data"]["change_url"] is None
    assert "evil.example" not in shown[0]["icon"]
