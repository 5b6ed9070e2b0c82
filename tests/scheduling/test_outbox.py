"""The mail outbox: requests only queue mail; deliver_outbox sends each message exactly once, even
with two deliverers at once, retries a failing server later, and the scheduler process runs it."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import Text, cast, select

from rph_pwa import create_app
from rph_pwa.config import TestConfig
from rph_pwa.db import get_session, utcnow
from rph_pwa.models import OutboxMessage, Role
from rph_pwa.services.mail import (
    MailSettings,
    deliver_outbox,
    outbox_status,
    purge_done_mail,
    queue_mail,
    queue_no_mail,
)
from tests.conftest import Mailbox, deliver_queued_mail, free_port
from tests.factories import PASSWORD, email, make_resident, make_staff, make_team

BIN = Path(sys.executable).parent


def _settings(app, **changes) -> MailSettings:
    from dataclasses import replace

    return replace(MailSettings.from_config(app.config), **changes)


def _deliver(app, settings: MailSettings | None = None, *, now=None, limit: int = 50):
    with app.app_context():
        return deliver_outbox(get_session(), settings or _settings(app), now=now or utcnow(), limit=limit)


def _queue(db, address: str, body: str = "Hello") -> int:
    message = queue_mail(db, to=address, subject="A message", body=body)
    db.commit()
    return message.id


def _row(db, message_id: int) -> OutboxMessage:
    db.commit()  # a fresh snapshot
    return db.get(OutboxMessage, message_id, populate_existing=True)


def test_a_code_request_queues_mail_and_deliver_outbox_sends_it_once(app, db, actions, mailbox):
    deliver_queued_mail(app)
    address = email()
    make_resident(db, team=make_team(db), email=address)
    db.commit()
    assert actions.post_form("/login/code", {"email": address}).status_code == 302
    assert mailbox.received_to(address) == []  # the request only queued it

    assert _deliver(app).sent >= 1
    assert len(mailbox.received_to(address)) == 1
    _deliver(app, now=utcnow() + timedelta(hours=1))
    assert len(mailbox.received_to(address)) == 1  # sent once, never again


def test_the_outbox_keeps_no_address_or_body_in_clear_and_empties_the_body_when_sent(app, db, mailbox):
    address = email()
    message_id = _queue(db, address, body="Your code is 424242.")
    table = OutboxMessage.__table__
    raw = db.execute(select(cast(table.c.recipient, Text), cast(table.c.body, Text))
                     .where(table.c.id == message_id)).one()
    assert address not in raw[0] and "424242" not in raw[1]
    deliver_queued_mail(app)
    row = _row(db, message_id)
    assert row.sent_at is not None and row.body == "" and row.attempts == 1


def test_a_message_to_nobody_is_dropped_by_the_deliverer(app, db, mailbox):
    queue_no_mail(db, subject="A message", body="Your code is 123456.")
    db.commit()
    row = db.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1)).one()
    assert row.sent_at is None  # waits like any other message
    deliver_queued_mail(app)
    assert _row(db, row.id).sent_at is not None
    assert mailbox.received_to("") == []


def test_two_deliverers_at_once_send_each_message_exactly_once(app, db, mailbox):
    deliver_queued_mail(app)
    addresses = [email() for _ in range(24)]
    for address in addresses:
        queue_mail(db, to=address, subject="A message", body="Hello")
    db.commit()
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def deliverer() -> None:
        try:
            start.wait()
            while _deliver(app, limit=4).sent:
                pass
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliverer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert [len(mailbox.received_to(a)) for a in addresses] == [1] * len(addresses)


def test_a_failing_mail_server_is_retried_later(app, db, mailbox):
    deliver_queued_mail(app)
    address = email()
    message_id = _queue(db, address)
    now = utcnow()
    down = _settings(app, port=free_port())  # nothing listens there
    result = _deliver(app, down, now=now)
    assert result.retrying >= 1 and result.sent == 0
    row = _row(db, message_id)
    assert row.sent_at is None and row.attempts == 1 and row.last_error == "ConnectionRefusedError"
    assert row.next_attempt_at > now

    _deliver(app, now=now)  # not due yet
    assert mailbox.received_to(address) == []
    with app.app_context():
        assert outbox_status(get_session(), now=now).waiting >= 1

    _deliver(app, now=row.next_attempt_at)
    assert len(mailbox.received_to(address)) == 1
    assert _row(db, message_id).sent_at is not None


class RefusingMailbox(Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 No such user here"


def test_a_refused_recipient_is_not_retried(app, db):
    deliver_queued_mail(app)
    refusing = Controller(RefusingMailbox(), hostname="127.0.0.1", port=free_port())
    refusing.start()
    try:
        message_id = _queue(db, email())
        result = _deliver(app, _settings(app, port=refusing.port))
        assert result.refused >= 1
    finally:
        refusing.stop()
    row = _row(db, message_id)
    assert row.gave_up_at is not None and row.sent_at is None and row.last_error == "SMTPRecipientsRefused"
    _deliver(app, now=utcnow() + timedelta(days=1))  # a later run leaves it alone
    row = _row(db, message_id)
    assert row.attempts == 1 and row.sent_at is None
    with app.app_context():  # not counted as waiting: it does not make /healthz unhealthy
        assert outbox_status(get_session(), now=utcnow()).refused >= 1


def test_sent_mail_is_purged_after_a_week(app, db, mailbox):
    message_id = _queue(db, email())
    deliver_queued_mail(app)
    with app.app_context():
        session = get_session()
        purge_done_mail(session, now=utcnow() + timedelta(days=6))
        session.commit()
    assert _row(db, message_id) is not None
    with app.app_context():
        session = get_session()
        assert purge_done_mail(session, now=utcnow() + timedelta(days=8)) >= 1
        session.commit()
    assert _row(db, message_id) is None


def test_healthz_reports_the_oldest_waiting_message_and_turns_unhealthy(app, db, client):
    deliver_queued_mail(app)
    assert client.get("/healthz").status_code == 200
    address = email()
    message = queue_mail(db, to=address, subject="A message", body="Your code is 424242.")
    message.created_at = utcnow() - timedelta(days=2)  # waited far longer than any limit
    db.commit()
    try:
        response = client.get("/healthz")
        assert response.status_code == 503
        health = response.get_json()
        assert health["mail_outbox"]["oldest_age_seconds"] >= 2 * 86400
        assert address not in response.get_data(as_text=True) and "424242" not in response.get_data(as_text=True)
    finally:
        deliver_queued_mail(app)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["mail_outbox"]["oldest_age_seconds"] is None


def test_the_admin_sees_waiting_mail(app, db, actions, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_MAX_AGE_SECONDS", 300)
    deliver_queued_mail(app)
    admin, secret = make_staff(db, role=Role.ADMIN)
    message = queue_mail(db, to=email(), subject="A message", body="Hello")
    message.created_at = utcnow() - timedelta(hours=2)
    db.commit()
    try:
        actions.staff_login(admin.username, PASSWORD, secret)
        client.set_cookie("lang", "en")
        page = client.get("/therapist/").get_data(as_text=True)
        assert "Outgoing e-mail" in page
        assert "waiting to be sent" in page and "2 hours" in page
        assert "scheduler" in page  # delayed: says what to check
    finally:
        deliver_queued_mail(app)
    page = client.get("/therapist/").get_data(as_text=True)
    assert "No e-mail is waiting to be sent." in page


def test_the_scheduler_command_delivers_queued_mail(tmp_path, smtp_server):
    _controller, mailbox = smtp_server
    url = f"sqlite:///{tmp_path / 'scheduler.sqlite3'}"
    web = create_app(TestConfig, SQLALCHEMY_DATABASE_URL=url)
    try:
        assert web.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
        address = email()
        with web.app_context():
            session = get_session()
            queue_mail(session, to=address, subject="A message", body="Hello from the outbox")
            session.commit()
    finally:
        web.extensions["rph_db"].engine.dispose()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "RPH_", "TEST_DATABASE"))},
        "DATABASE_URL": url, "MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(_controller.port), "SCHEDULER_OUTBOX_SECONDS": "1",
    }
    process = subprocess.Popen([str(BIN / "flask"), "--app", "rph_pwa", "scheduler"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        while not mailbox.received_to(address) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    assert len(mailbox.received_to(address)) == 1, output
    assert "Hello from the outbox" in mailbox.received_to(address)[0].get_body(("plain",)).get_content()
    assert process.returncode == 0, output
    assert "scheduler stopped" in output


def test_a_message_sent_again_after_a_crash_has_the_same_message_id(app, db, mailbox):
    """A deliverer that dies after the mail server took a message, before recording it, sends it
    again when its claim runs out: the copy carries the same Message-ID, so it is the same
    message (the e-mail form of a push Topic or an SMS reference), and other messages differ."""
    deliver_queued_mail(app)
    address, other = email(), email()
    first, second = _queue(db, address), _queue(db, other)
    now = utcnow()
    _deliver(app, now=now)
    # As if the deliverer had died before recording: the row is still waiting, and due again.
    db.execute(OutboxMessage.__table__.update().where(OutboxMessage.id == first)
               .values(sent_at=None, body="Hello", next_attempt_at=now))
    db.commit()
    _deliver(app, now=now + timedelta(minutes=11))
    copies = mailbox.received_to(address)
    assert len(copies) == 2
    assert copies[0]["Message-ID"] == copies[1]["Message-ID"]
    assert copies[0]["Message-ID"] != mailbox.received_to(other)[0]["Message-ID"]
    assert _row(db, first).sent_at is not None and _row(db, second).sent_at is not None
