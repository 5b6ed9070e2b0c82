"""The resident's reminder settings, this device's push subscription (JSON, hostile input too), an
appointment's calendar file, the reply page ("Jeg kommer") and what the service worker posts back
(/push/ack, /push/answer)."""
from __future__ import annotations

import base64
import json
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from rph_pwa.assets import fingerprinted_name
from rph_pwa.db import utcnow
from rph_pwa.models import Appointment, PushSubscription, Reminder, ReminderDelivery, User
from tests.conftest import form_token, post_form, random_address, refresh
from tests.factories import make_booked_contact, make_push_delivery


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def subscription(endpoint: str | None = None, *, key_length: int = 65, auth_length: int = 16) -> dict:
    """A browser's PushSubscription.toJSON(): an endpoint at FCM and fresh keys."""
    return {"endpoint": endpoint or f"https://fcm.googleapis.com/fcm/send/{secrets.token_urlsafe(24)}",
            "keys": {"p256dh": _b64(b"\x04" + secrets.token_bytes(key_length - 1)),
                     "auth": _b64(secrets.token_bytes(auth_length))}}


def _signed_in(db, actions, *, phone: str | None = "412 34 567"):
    """A resident (reading English) with a phone contact tomorrow, signed in."""
    team, therapist, resident, address, episode, contact = make_booked_contact(db)
    resident.locale, resident.phone = "en", phone
    db.commit()
    actions.resident_login(address)
    return resident, contact


def _post_json(client, url: str, body, *, token: str | None, headers: dict | None = None, **kwargs):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    sent = {"Content-Type": "application/json", **({"X-CSRFToken": token} if token else {}), **(headers or {})}
    return client.post(url, data=data, headers=sent, **kwargs)


def _devices(db, resident_id: int) -> int:
    refresh(db)
    return db.scalar(select(func.count()).where(PushSubscription.resident_id == resident_id))


# --- The settings page -------------------------------------------------------------------------------

def test_the_page_shows_what_works_now_and_the_lead_time(db, client, actions):
    resident, _contact = _signed_in(db, actions, phone=None)
    html = client.get("/me/reminders").get_data(as_text=True)
    assert "We remind you of an appointment 24 hours before." in html
    assert "you have no phone number." in html and 'href="/me/profile"' in html
    assert "ready, to your e-mail address." in html
    assert "not turned on on any device." in html
    script = fingerprinted_name(client.application, "js/reminders.js")  # the URL names the file's content
    assert 'data-vapid-key="B' in html and f'src="/static/{script}"' in html
    assert "Reminders go by: E-mail." in html  # the default order: push, SMS, e-mail
    assert "Appointments can be changed." in html


def test_the_pages_link_to_the_settings(db, client, actions):
    _signed_in(db, actions)
    for page in ("/me", "/me/appointments", "/me/profile"):
        assert 'href="/me/reminders"' in client.get(page).get_data(as_text=True), page


def test_choosing_an_order_stores_it(db, client, actions):
    resident, _contact = _signed_in(db, actions)
    response = post_form(client, "/me/reminders", {"first": "sms", "then": "email", "last": "none", "second": "y"})
    assert response.status_code == 302
    refresh(db)
    stored = db.get(User, resident.id)
    assert stored.reminder_channels == "sms,email" and stored.reminder_second is True
    html = client.get("/me/reminders").get_data(as_text=True)
    assert "Reminders go by: Text message (SMS), E-mail." in html
    assert '<option selected value="sms">' in html


def test_a_channel_chosen_twice_is_refused_and_nothing_changes(db, client, actions):
    resident, _contact = _signed_in(db, actions)
    response = post_form(client, "/me/reminders", {"first": "sms", "then": "sms", "last": "none"})
    assert response.status_code == 400
    assert "You have already chosen this. Choose another, or Nothing." in response.get_data(as_text=True)
    refresh(db)
    assert db.get(User, resident.id).reminder_channels == "push,sms,email"


def test_an_unknown_channel_is_refused(db, client, actions):
    _signed_in(db, actions)
    assert post_form(client, "/me/reminders", {"first": "pigeon", "then": "none", "last": "none"}).status_code == 400


def test_nothing_at_all_means_no_reminders_said_plainly(db, client, actions):
    resident, _contact = _signed_in(db, actions)
    post_form(client, "/me/reminders", {"first": "none", "then": "none", "last": "none"})
    refresh(db)
    assert db.get(User, resident.id).reminder_channels == ""
    assert "You get no reminders." in client.get("/me/reminders").get_data(as_text=True)


def test_the_test_button_queues_a_test_and_the_page_shows_it(db, client, actions):
    resident, _contact = _signed_in(db, actions)
    response = post_form(client, "/me/reminders/test", page="/me/reminders")
    assert response.status_code == 302 and response.headers["Location"].endswith("/me/reminders#test")
    refresh(db)
    test = db.scalars(select(Reminder).where(Reminder.resident_id == resident.id, Reminder.kind == "test")).one()
    assert test.done_at is None and test.link == "client.reminders"
    db.add(ReminderDelivery(reminder_id=test.id, channel="sms", state="sent", token=secrets.token_urlsafe(24),
                            sent_at=utcnow()))
    db.commit()
    html = client.get("/me/reminders").get_data(as_text=True)
    assert "Last test" in html and "Text message (SMS): Sent" in html


def test_no_test_when_nothing_can_reach_the_resident(db, client, actions):
    resident, _contact = _signed_in(db, actions)
    post_form(client, "/me/reminders", {"first": "push", "then": "none", "last": "none"})  # no device
    response = post_form(client, "/me/reminders/test", page="/me/reminders", follow=True)
    assert "No way to reach you works yet." in response.get_data(as_text=True)
    refresh(db)
    assert not db.scalars(select(Reminder).where(Reminder.resident_id == resident.id)).all()


# --- This device's subscription ----------------------------------------------------------------------

def test_subscribe_and_unsubscribe_this_device(db, client, actions):
    resident, _contact = _signed_in(db, actions)
    token = form_token(client, "/me/reminders")
    device = subscription()
    response = _post_json(client, "/me/reminders/push", device, token=token)
    assert response.status_code == 200 and response.get_json() == {"status": "subscribed"}
    assert _post_json(client, "/me/reminders/push", device, token=token).status_code == 200  # again: one row
    assert _devices(db, resident.id) == 1
    assert "turned on on 1 device." in client.get("/me/reminders").get_data(as_text=True)
    stored = db.scalars(select(PushSubscription).where(PushSubscription.resident_id == resident.id)).one()
    assert stored.endpoint == device["endpoint"]
    response = _post_json(client, "/me/reminders/push/remove", {"endpoint": device["endpoint"]}, token=token)
    assert response.get_json() == {"status": "removed"}
    assert _devices(db, resident.id) == 0
    again = _post_json(client, "/me/reminders/push/remove", {"endpoint": device["endpoint"]}, token=token)
    assert again.status_code == 200 and again.get_json() == {"status": "unknown"}


HOSTILE = {
    "not json": "{endpoint:",
    "a list": [1, 2],
    "no keys": {"endpoint": "https://fcm.googleapis.com/fcm/send/x"},
    "keys not strings": {"endpoint": "https://fcm.googleapis.com/fcm/send/x", "keys": {"p256dh": 1, "auth": None}},
    "huge endpoint": subscription("https://fcm.googleapis.com/fcm/send/" + "a" * 5000),
    "http endpoint": subscription("http://fcm.googleapis.com/fcm/send/abc"),
    "host not a push service": subscription("https://evil.example/fcm/send/abc"),
    "host that only ends like one": subscription("https://notfcm.googleapis.com.evil.example/x"),
    "credentials in the endpoint": subscription("https://user:pw@fcm.googleapis.com/fcm/send/abc"),
    "short key": subscription(key_length=33),
    "short auth": subscription(auth_length=8),
    "key not base64": {"endpoint": "https://fcm.googleapis.com/fcm/send/x", "keys": {"p256dh": "!!!", "auth": "??"}},
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_subscriptions_are_refused_with_a_json_error(db, client, actions, body):
    resident, _contact = _signed_in(db, actions)
    response = _post_json(client, "/me/reminders/push", body, token=form_token(client, "/me/reminders"))
    assert response.status_code == 400 and response.get_json()["status"] == "error"
    assert _devices(db, resident.id) == 0


def test_a_huge_body_is_refused_not_500(db, client, actions):
    _signed_in(db, actions)
    body = json.dumps(subscription("https://fcm.googleapis.com/" + "a" * (2 * 1024 * 1024)))
    response = _post_json(client, "/me/reminders/push", body, token=form_token(client, "/me/reminders"))
    assert response.status_code == 413


def test_a_subscription_without_csrf_or_from_another_site_is_refused(db, client, actions):
    resident, _contact = _signed_in(db, actions)
    token = form_token(client, "/me/reminders")
    assert _post_json(client, "/me/reminders/push", subscription(), token=None).status_code == 400
    # Over HTTPS, from another origin: refused even with the token.
    foreign = _post_json(client, "/me/reminders/push", subscription(), token=token,
                         headers={"Origin": "https://evil.example"}, base_url="https://localhost")
    assert foreign.status_code == 400
    own = _post_json(client, "/me/reminders/push", subscription(), token=token,
                     headers={"Origin": "https://localhost"}, base_url="https://localhost")
    assert own.status_code == 200
    assert _devices(db, resident.id) == 1


def test_push_is_off_without_vapid_keys(app, db, client, actions):
    resident, _contact = _signed_in(db, actions)
    token = form_token(client, "/me/reminders")
    keys = app.config["VAPID_PRIVATE_KEY"], app.config["VAPID_PUBLIC_KEY"]
    app.config["VAPID_PRIVATE_KEY"] = app.config["VAPID_PUBLIC_KEY"] = ""
    try:
        html = client.get("/me/reminders").get_data(as_text=True)
        assert "Notifications are not available here. Reminders go by SMS or e-mail." in html
        assert 'data-vapid-key=""' in html and 'value="push"' not in html
        assert _post_json(client, "/me/reminders/push", subscription(), token=token).status_code == 409
    finally:
        app.config["VAPID_PRIVATE_KEY"], app.config["VAPID_PUBLIC_KEY"] = keys
    assert _devices(db, resident.id) == 0


# --- The calendar file ---------------------------------------------------------------------------------

def test_the_calendar_file_says_avtale_the_time_and_phone_and_nothing_else(db, client, actions):
    resident, contact = _signed_in(db, actions)
    resident.locale = "nb"
    db.commit()
    response = client.get(f"/me/appointments/{contact.id}/calendar.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"] == 'attachment; filename="avtale.ics"'
    body = response.get_data(as_text=True)
    lines = body.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert "BEGIN:VEVENT" in lines and f"UID:appointment-{contact.id}@localhost" in lines
    assert "SUMMARY:Avtale" in lines and "LOCATION:Telefon" in lines
    assert f"DTSTART:{contact.starts_at.strftime('%Y%m%dT%H%M%SZ')}" in lines
    assert f"DTEND:{(contact.starts_at + timedelta(minutes=45)).strftime('%Y%m%dT%H%M%SZ')}" in lines
    assert any(line.startswith("DTSTAMP:") and line.endswith("Z") for line in lines)
    for word in ("Samtale", "Talk", "treatment", "psykisk", "RPH", "PHQ"):
        assert word not in body


LOCATIONS = {
    # Video: never the link. Office: the place, escaped for iCalendar. Office without a place: in words.
    "video": ({"mode": "video", "video_link": "https://video.example/room/secret"}, "LOCATION:Video"),
    "office": ({"mode": "office", "place": "Storgata 1, 2. etasje; rom 3"},
               "LOCATION:Storgata 1\\, 2. etasje\\; rom 3"),
    "office, no place": ({"mode": "office", "place": None}, "LOCATION:The team's office"),
}


@pytest.mark.parametrize(("changes", "line"), LOCATIONS.values(), ids=LOCATIONS.keys())
def test_the_location_is_the_place_or_how_never_the_video_link(db, client, actions, changes, line):
    _resident, contact = _signed_in(db, actions)
    appointment = db.get(Appointment, contact.id)
    for name, value in changes.items():
        setattr(appointment, name, value)
    db.commit()
    body = client.get(f"/me/appointments/{contact.id}/calendar.ics").get_data(as_text=True)
    assert line in body.split("\r\n")
    assert "video.example" not in body and "secret" not in body


def test_another_residents_appointment_has_no_calendar_file_or_reply_page(db, client, actions):
    _resident, _contact = _signed_in(db, actions)
    *_rest, other = make_booked_contact(db)
    assert client.get(f"/me/appointments/{other.id}/calendar.ics").status_code == 404
    assert client.get(f"/me/appointments/{other.id}/reply").status_code == 404
    assert post_form(client, f"/me/appointments/{other.id}/reply", page="/me/reminders").status_code == 404
    refresh(db)
    assert db.get(Appointment, other.id).resident_answer is None


def test_upcoming_appointments_link_their_calendar_file_and_reply_page(db, client, actions):
    _resident, contact = _signed_in(db, actions)
    for page in ("/me", "/me/appointments"):
        assert f'href="/me/appointments/{contact.id}/calendar.ics"' in client.get(page).get_data(as_text=True)


# --- The reply page ----------------------------------------------------------------------------------

def test_i_am_coming_is_stored_and_changing_links_to_the_request(db, client, actions):
    _resident, contact = _signed_in(db, actions)
    url = f"/me/appointments/{contact.id}/reply"
    html = client.get(url).get_data(as_text=True)
    assert "I am coming" in html and f'href="/me/appointments/{contact.id}/request"' in html
    assert "Appointments can be changed" in html
    response = post_form(client, url)
    assert response.status_code == 302 and response.headers["Location"].endswith("/me/appointments")
    refresh(db)
    stored = db.get(Appointment, contact.id)
    assert stored.resident_answer == "coming" and stored.resident_answered_at is not None
    assert "You have said you are coming." in client.get(url).get_data(as_text=True)


def test_i_am_coming_to_a_past_appointment_is_refused_kindly(db, client, actions):
    _resident, contact = _signed_in(db, actions)
    appointment = db.get(Appointment, contact.id)
    appointment.starts_at = utcnow() - timedelta(days=2)
    db.commit()
    url = f"/me/appointments/{contact.id}/reply"
    response = post_form(client, url, follow=True)
    assert "This appointment is over or cancelled." in response.get_data(as_text=True)
    refresh(db)
    assert db.get(Appointment, contact.id).resident_answer is None


# --- What the service worker posts back --------------------------------------------------------------


def test_push_ack_marks_the_delivery_shown_and_reveals_nothing(app, db):
    *_rest, resident, _address, _episode, contact = make_booked_contact(db)
    delivery = make_push_delivery(db, appointment_id=contact.id, resident_id=resident.id)
    client = app.test_client()
    headers = {"Content-Type": "application/json"}
    env = {"REMOTE_ADDR": random_address()}
    unknown = client.post("/push/ack", data=json.dumps({"token": "no-such-token"}), headers=headers,
                          environ_base=env)
    assert unknown.status_code == 204 and unknown.get_data() == b""
    for body in ("{", "[]", json.dumps({"token": 5}), json.dumps({"token": "x" * 500})):
        assert client.post("/push/ack", data=body, headers=headers, environ_base=env).status_code == 204
    known = client.post("/push/ack", data=json.dumps({"token": delivery.token}), headers=headers, environ_base=env)
    assert known.status_code == 204 and known.get_data() == b""
    refresh(db)
    shown = db.get(ReminderDelivery, delivery.id)
    assert shown.state == "shown" and shown.shown_at is not None
    assert db.get(Reminder, delivery.reminder_id).outcome == "delivered"


def test_push_answer_coming_stores_the_answer(app, db):
    *_rest, resident, _address, _episode, contact = make_booked_contact(db)
    delivery = make_push_delivery(db, appointment_id=contact.id, resident_id=resident.id)
    client = app.test_client()
    headers = {"Content-Type": "application/json"}
    env = {"REMOTE_ADDR": random_address()}
    other = client.post("/push/answer", data=json.dumps({"token": delivery.token, "answer": "maybe"}),
                        headers=headers, environ_base=env)
    assert other.status_code == 204
    refresh(db)
    assert db.get(Appointment, contact.id).resident_answer is None
    assert client.post("/push/answer", data=json.dumps({"token": "unknown", "answer": "coming"}),
                       headers=headers, environ_base=env).status_code == 204
    answered = client.post("/push/answer", data=json.dumps({"token": delivery.token, "answer": "coming"}),
                           headers=headers, environ_base=env)
    assert answered.status_code == 204
    refresh(db)
    assert db.get(Appointment, contact.id).resident_answer == "coming"
    assert db.get(ReminderDelivery, delivery.id).state == "shown"


def test_push_posts_are_rate_limited(app, db):
    client = app.test_client()
    env = {"REMOTE_ADDR": random_address()}
    answers = [client.post("/push/ack", data=json.dumps({"token": "guess"}),
                           headers={"Content-Type": "application/json"}, environ_base=env).status_code
               for _ in range(61)]
    assert answers[:60] == [204] * 60 and answers[60] == 429


def test_after_a_missed_appointment_the_appointments_page_invites_a_new_time_until_one_is_booked(db, client, actions):
    """The drop-out routine's "book again" message opens the appointments page."""
    from datetime import timedelta

    from rph_pwa.db import utcnow
    from tests.factories import add_episode_contact, make_referral, make_staff

    resident = actions.login_resident_without_referral(db)
    team = resident.team
    team.phone = "22 33 44 55"
    staff, _ = make_staff(db, teams=[team])
    episode = make_referral(db, team=team, resident=resident).episode
    add_episode_contact(db, episode=episode, staff=staff, starts_at=utcnow() - timedelta(days=3), status="no_show")
    db.commit()
    page = client.get("/me/appointments").get_data(as_text=True)
    assert 'id="missed"' in page and "tel:22334455" in page
    add_episode_contact(db, episode=episode, staff=staff, starts_at=utcnow() + timedelta(days=3))
    db.commit()
    assert 'id="missed"' not in client.get("/me/appointments").get_data(as_text=True)
