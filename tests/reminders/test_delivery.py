"""The reminder engine with real parts: a Web Push service on loopback whose payload the test
decrypts with the subscription's private key (RFC 8291), the SMS file outbox, and the tests' SMTP
server. Each test runs the engine at its own moment far ahead (`moment`), so only its own
appointments fall in the 48-hour planning window."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from rph_pwa.crypto import field_crypto
from rph_pwa.db import get_session
from rph_pwa.models import PushSubscription, Reminder, ReminderDelivery
from rph_pwa.reminder_texts import compose
from rph_pwa.scheduling.jobs import reminder_channels
from rph_pwa.services import outcomes, reminder_delivery, reminders
from tests.conftest import deliver_queued_mail
from tests.factories import email, make_referral, make_resident, make_staff, make_team
from tests.reminders.stubs import BrowserKeys

OSLO = ZoneInfo("Europe/Oslo")
#: Words no notification, SMS or e-mail subject may hold (the service, diagnoses, scores).
SERVICE_WORDS = ("psykisk", "helsehjelp", "rph", "terapi", "angst", "depresjon", "søvn", "rus", "phq", "gad",
                 "score", "poeng", "diagnose", "selvhjelp", "sjølvhjelp", "oppfølging")
_days = iter(range(0, 100000, 4))


def moment(hour: int = 12) -> datetime:
    """A weekday noon (or `hour`) far ahead, four days after the previous test's."""
    day = datetime(2100, 1, 4, tzinfo=OSLO) + timedelta(days=next(_days))
    return day.replace(hour=hour).astimezone(timezone.utc)


@pytest.fixture
def channels(data_app):
    return reminder_channels(data_app)


def run(db, channels, now, *, ack_minutes: int = 30) -> None:
    """Run the engine at `now` until it has nothing more to do (as the scheduler's job does)."""
    for _ in range(10):
        result = reminder_delivery.deliver_due(db, channels=channels, compose=compose, now=now,
                                               lease=timedelta(seconds=60), ack_after=timedelta(minutes=ack_minutes))
        if not result.busy:
            return


def booked(db, *, now, hours_ahead: float = 3, order: str = "push,sms,email", phone: str | None = "412 34 567",
           locale: str | None = "nb", push=None):
    """A resident with an appointment `hours_ahead` after `now`, their channels, and optionally a
    push subscription at the stub (returns (resident, appointment, BrowserKeys or None, address))."""
    team = make_team(db)
    therapist = make_staff(db, teams=[team])[0]
    address = email()
    resident = make_resident(db, team=team, email=address)
    resident.phone, resident.reminder_channels, resident.locale = phone, order, locale
    referral = make_referral(db, team=team, resident=resident)
    appointment = outcomes.book_contact(db, actor=therapist, episode_id=referral.episode.id, kind="treatment",
                                        starts_at=now + timedelta(hours=hours_ahead), duration_minutes=45,
                                        mode="office", place="Rådhuset, rom 3")
    keys = None
    if push is not None:
        keys = BrowserKeys()
        reminders.subscribe(db, resident=resident, endpoint=push.endpoint(f"r{resident.id}"), p256dh=keys.p256dh,
                            auth=keys.auth, lookup=field_crypto().lookup_hash, allowed_hosts=("127.0.0.1",))
    db.commit()
    return resident, appointment, keys, address


def deliveries(db, resident) -> list[ReminderDelivery]:
    db.expire_all()
    return list(db.scalars(select(ReminderDelivery).join(Reminder).where(Reminder.resident_id == resident.id)
                           .order_by(ReminderDelivery.id)))


def reminder_of(db, resident) -> Reminder:
    db.expire_all()
    return db.scalars(select(Reminder).where(Reminder.resident_id == resident.id)).one()


def sms_for(data_app, token: str) -> dict | None:
    path = Path(data_app.config["SMS_OUTBOX"]) / f"{token}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def names_nothing(*texts: str) -> bool:
    joined = " ".join(texts).lower()
    return not any(word in joined for word in SERVICE_WORDS)


def test_a_push_arrives_encrypted_and_says_only_that_there_is_an_appointment_and_when(db, channels, push_service):
    now = moment()
    resident, appointment, keys, _ = booked(db, now=now, push=push_service)
    run(db, channels, now)

    [received] = push_service.delivered_to(f"r{resident.id}")
    [delivery] = deliveries(db, resident)
    assert (delivery.channel, delivery.state) == ("push", "sent")
    assert received.headers["topic"] == delivery.token
    assert received.headers["authorization"].startswith("vapid t=")
    assert received.headers["content-encoding"] == "aes128gcm"
    assert 60 <= int(received.headers["ttl"]) <= 3 * 3600
    payload = keys.decrypt(received.body)
    local = appointment.starts_at.astimezone(OSLO)
    assert payload["title"] == "Du har en avtale"
    assert f"kl. {local:%H:%M}" in payload["body"]
    assert [a["title"] for a in payload["actions"]] == ["Jeg kommer", "Jeg må endre"]
    assert payload["token"] == delivery.token and payload["url"].startswith("/")
    assert names_nothing(payload["title"], payload["body"], json.dumps(payload, ensure_ascii=False))
    assert "Rådhuset" not in json.dumps(payload, ensure_ascii=False)
    # Not done until the service worker says it showed it; then delivered, once.
    assert reminder_of(db, resident).done_at is None
    assert reminders.acknowledge(db, token=delivery.token, now=now + timedelta(minutes=1))
    db.commit()
    assert reminder_of(db, resident).outcome == "delivered"
    assert deliveries(db, resident)[0].state == "shown"


def test_an_sms_goes_to_the_file_outbox_once_with_a_neutral_sender(db, channels, data_app):
    now = moment()
    resident, appointment, _, _ = booked(db, now=now, order="sms,email")
    run(db, channels, now)
    run(db, channels, now + timedelta(minutes=5))

    [delivery] = deliveries(db, resident)
    message = sms_for(data_app, delivery.token)
    assert message["to"] == "+4741234567" and message["from"] == data_app.config["SMS_SENDER"]
    assert message["text"].startswith("Du har en avtale ") and "http" in message["text"]
    assert names_nothing(message["text"], message["from"])
    assert reminder_of(db, resident).outcome == "delivered"


def test_an_email_reaches_the_smtp_server_with_a_neutral_subject(db, channels, data_app, mailbox):
    now = moment()
    resident, _appointment, _, address = booked(db, now=now, order="email", phone=None)
    run(db, channels, now)
    run(db, channels, now + timedelta(minutes=5))
    deliver_queued_mail(data_app)

    [message] = mailbox.received_to(address)
    assert message["Subject"] == "Du har en avtale"
    assert names_nothing(message["Subject"], message["From"], message.get_body(("plain",)).get_content())
    assert [d.channel for d in deliveries(db, resident)] == ["email"]
    assert reminder_of(db, resident).outcome == "delivered"


def test_a_gone_subscription_is_forgotten_and_the_reminder_falls_back_to_sms(db, channels, data_app, push_service):
    now = moment()
    resident, _appointment, _keys, _ = booked(db, now=now, push=push_service)
    push_service.answer[f"/push/r{resident.id}"] = 410
    run(db, channels, now)

    push, sms = deliveries(db, resident)
    assert (push.channel, push.state, push.last_error) == ("push", "failed", "Gone")
    assert sms.channel == "sms" and sms_for(data_app, sms.token) is not None
    assert db.scalar(select(func.count()).where(PushSubscription.resident_id == resident.id)) == 0
    assert reminder_of(db, resident).outcome == "delivered"


def test_a_push_service_error_is_retried_with_back_off_then_falls_back(db, channels, data_app, push_service):
    now = moment()
    resident, _appointment, _keys, _ = booked(db, now=now, push=push_service)
    push_service.answer[f"/push/r{resident.id}"] = 503
    run(db, channels, now)
    [push] = deliveries(db, resident)
    assert (push.state, push.attempts, push.last_error) == ("retrying", 1, "HTTP 503")
    assert push.next_attempt_at > now

    run(db, channels, now + timedelta(seconds=10))  # not yet: the back-off holds
    assert deliveries(db, resident)[0].attempts == 1
    later = now
    for _ in range(reminder_delivery.MAX_ATTEMPTS):
        later += timedelta(minutes=16)
        run(db, channels, later)
    push, sms = deliveries(db, resident)
    assert (push.state, push.attempts) == ("failed", reminder_delivery.MAX_ATTEMPTS)
    assert sms_for(data_app, sms.token) is not None
    tries = [r for r in push_service.requests if r.path == f"/push/r{resident.id}"]
    assert len(tries) == reminder_delivery.MAX_ATTEMPTS


def test_a_push_not_shown_within_the_acknowledgement_time_falls_back_but_a_shown_one_does_not(
        db, channels, data_app, push_service):
    now = moment()
    silent, _a, _k, _ = booked(db, now=now, push=push_service)
    shown, _b, _k2, _ = booked(db, now=now, push=push_service)
    run(db, channels, now)
    reminders.acknowledge(db, token=deliveries(db, shown)[0].token, now=now + timedelta(minutes=2))
    db.commit()

    run(db, channels, now + timedelta(minutes=29))
    assert [d.channel for d in deliveries(db, silent)] == ["push"]
    run(db, channels, now + timedelta(minutes=31))
    assert [d.channel for d in deliveries(db, silent)] == ["push", "sms"]
    assert [d.channel for d in deliveries(db, shown)] == ["push"]
    assert reminder_of(db, silent).outcome == "delivered"


def test_a_cancelled_appointment_gets_no_reminder_and_a_moved_one_a_new_one(db, channels, data_app, push_service):
    now = moment()
    cancelled, appointment, _, _ = booked(db, now=now, order="sms")
    appointment.status = "cancelled"
    moved, other, _, _ = booked(db, now=now, push=push_service)
    push_service.answer[f"/push/r{moved.id}"] = 503  # the first reminder is still retrying when it moves
    db.commit()
    run(db, channels, now)
    assert deliveries(db, cancelled) == []

    other.starts_at = now + timedelta(hours=5)
    db.commit()
    push_service.answer.pop(f"/push/r{moved.id}")
    run(db, channels, now + timedelta(minutes=1))
    db.expire_all()
    rows = db.scalars(select(Reminder).where(Reminder.resident_id == moved.id).order_by(Reminder.id)).all()
    assert [(r.starts_at == other.starts_at, r.outcome) for r in rows] == [(False, "dropped"), (True, None)]
    assert len(push_service.delivered_to(f"r{moved.id}")) == 1


def test_planning_twice_or_running_twice_sends_once(db, channels, data_app):
    now = moment()
    resident, _appointment, _, _ = booked(db, now=now, order="sms")
    assert reminder_delivery.plan(db, now=now) >= 1
    assert reminder_delivery.plan(db, now=now) == 0
    db.commit()
    run(db, channels, now)
    run(db, channels, now)
    assert len(deliveries(db, resident)) == 1


def test_a_second_reminder_two_hours_before_for_those_who_want_it(db, channels, data_app):
    now = moment(hour=9)
    resident, appointment, _, _ = booked(db, now=now, hours_ahead=30, order="sms")
    resident.reminder_second = True
    db.commit()
    run(db, channels, now + timedelta(hours=6))  # 24 hours before
    run(db, channels, appointment.starts_at - timedelta(hours=2))
    db.expire_all()
    kinds = db.scalars(select(Reminder.kind).where(Reminder.resident_id == resident.id).order_by(Reminder.id)).all()
    assert kinds == ["appointment", "appointment_soon"]
    assert len(deliveries(db, resident)) == 2


def test_nothing_goes_out_in_the_quiet_hours_and_it_waits_until_eight(db, channels, data_app):
    evening = moment(hour=22)
    resident, _appointment, _, _ = booked(db, now=evening, hours_ahead=13, order="sms")  # 11:00 next day
    run(db, channels, evening)
    assert deliveries(db, resident) == []
    run(db, channels, evening + timedelta(hours=10))  # 08:00
    assert len(deliveries(db, resident)) == 1


def test_due_times_keep_out_of_the_quiet_hours():
    day = datetime(2100, 6, 7, tzinfo=OSLO)
    at = lambda h, m=0, d=0: (day + timedelta(days=d)).replace(hour=h, minute=m).astimezone(timezone.utc)  # noqa: E731
    assert reminders.due_time(at(9, 0, 1), timedelta(hours=24)) == at(9)
    assert reminders.due_time(at(7, 30, 1), timedelta(hours=24)) == at(8)  # 07:30 → 08:00 the same day
    assert reminders.due_time(at(8, 30), timedelta(hours=2)) == at(8)  # 06:30 → 08:00, still ahead
    assert reminders.due_time(at(7, 0), timedelta(hours=2)) is None  # 08:00 would be after the start
    assert reminders.due_time(at(23, 0, 1), timedelta(hours=24)) == at(8, 0, 1)  # 23:00 → 08:00 next day
    assert reminders.next_allowed(at(20, 59)) == at(20, 59)


def test_a_resident_with_no_working_channel_is_marked_and_the_reminder_says_why(db, channels, data_app):
    now = moment()
    nobody, _a, _k, _ = booked(db, now=now, order="push", phone=None)  # push chosen, no device subscribed
    run(db, channels, now)
    assert reminder_of(db, nobody).outcome == "no_channel"
    assert reminders.unreachable(db, resident_ids=[nobody.id], setup=channels.setup) == {nobody.id}


def test_a_message_queued_in_the_quiet_hours_waits_until_eight_and_is_queued_once(db, channels, data_app):
    night = moment(hour=23)
    resident, _a, _k, _ = booked(db, now=night, hours_ahead=100, order="sms")
    first = reminders.queue_message(db, resident_id=resident.id, key=f"feedback:test-{resident.id}", now=night)
    again = reminders.queue_message(db, resident_id=resident.id, key=f"feedback:test-{resident.id}", now=night)
    db.commit()
    assert first is not None and again is None
    assert first.due_at.astimezone(OSLO).hour == 8
    run(db, channels, night + timedelta(hours=9, minutes=1))
    [delivery] = deliveries(db, resident)
    assert sms_for(data_app, delivery.token)["text"].startswith("Du har en ny melding.")


@pytest.mark.parametrize("locale", ["nb", "nn", "en"])
@pytest.mark.parametrize("kind", ["appointment", "appointment_soon", "message", "test"])
def test_no_text_on_any_channel_names_the_service_a_diagnosis_or_a_score(data_app, kind, locale):
    starts = datetime(2100, 3, 2, 10, tzinfo=timezone.utc)
    outgoing = reminder_delivery.Outgoing(1, "t" * 32, "push", 1, 1, kind, "client.appointment_reply", 7, starts, 1,
                                          locale)
    with data_app.app_context():
        message = compose(outgoing)
    assert message.push["title"] and message.sms and message.email_subject
    assert names_nothing(message.push["title"], message.push["body"], message.sms, message.email_subject,
                         message.email_body, *(a["title"] for a in message.push.get("actions", [])))
    for name in ("APP_NAME", "APP_SHORT_NAME", "SMS_SENDER", "MAIL_SENDER"):
        assert names_nothing(data_app.config[name]), name



def test_an_acknowledgement_that_arrives_before_the_send_is_recorded_is_kept(db, data_app, channels, push_service):
    """The phone shows the push and acknowledges it while the scheduler is still sending."""
    now = moment()
    resident, _appointment, _keys, _ = booked(db, now=now, push=push_service)

    def phone_acknowledges(received) -> None:
        with data_app.app_context():
            session = get_session()
            reminders.acknowledge(session, token=received.headers["topic"], now=now)
            session.commit()

    push_service.on_receive = phone_acknowledges
    try:
        run(db, channels, now)
    finally:
        push_service.on_receive = None
    [delivery] = deliveries(db, resident)
    assert (delivery.state, delivery.sent_at is not None, delivery.shown_at is not None) == ("shown", True, True)
    assert reminder_of(db, resident).outcome == "delivered"


def test_reminders_missed_while_the_scheduler_was_down_go_out_on_start_only_if_still_ahead(db, channels, data_app):
    now = moment()
    ahead, _a, _k, _ = booked(db, now=now, hours_ahead=2, order="sms")  # its reminder was due 22 hours ago
    over, _b, _k2, _ = booked(db, now=now, hours_ahead=-1, order="sms")  # it started an hour ago
    run(db, channels, now)
    assert [d.channel for d in deliveries(db, ahead)] == ["sms"]
    assert deliveries(db, over) == []


@pytest.mark.parametrize("change", ["cancelled", "moved"])
def test_a_course_meeting_changed_while_its_reminder_waits_to_retry_is_not_reminded_of(
        db, channels, data_app, push_service, change):
    """A course meeting's reminder (planned for the meeting, not an appointment) whose push failed
    and waits to be tried again is checked again before the retry, as an appointment's is."""
    from rph_pwa.services import courses
    from tests.factories import enrol_participant, make_course_run

    now = moment()
    course, _leaders = make_course_run(db, meetings=1)
    meeting = course.meetings[0]
    courses.move_meeting(db, meeting=meeting, starts_at=now + timedelta(hours=3))
    resident = enrol_participant(db, run=course).user
    resident.reminder_channels = "push"
    keys = BrowserKeys()
    reminders.subscribe(db, resident=resident, endpoint=push_service.endpoint(f"r{resident.id}"), p256dh=keys.p256dh,
                        auth=keys.auth, lookup=field_crypto().lookup_hash, allowed_hosts=("127.0.0.1",))
    push_service.answer[f"/push/r{resident.id}"] = 503
    db.commit()
    run(db, channels, now)
    first = reminder_of(db, resident)
    assert first.course_meeting_id == meeting.id and first.appointment_id is None
    assert [(d.channel, d.state) for d in deliveries(db, resident)] == [("push", "retrying")]

    if change == "cancelled":
        courses.cancel_meeting(db, meeting=meeting)
    else:
        courses.move_meeting(db, meeting=meeting, starts_at=now + timedelta(days=2))
    db.commit()
    push_service.answer.pop(f"/push/r{resident.id}")
    run(db, channels, now + timedelta(minutes=16))
    db.expire_all()
    assert push_service.delivered_to(f"r{resident.id}") == []
    assert (db.get(Reminder, first.id).outcome, deliveries(db, resident)[0].last_error) == ("dropped", "Cancelled")
