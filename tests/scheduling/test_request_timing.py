"""/login/code takes as long for an address without an account as for one with, and a slow mail
server slows no request: requests only queue mail, the scheduler process delivers it."""
from __future__ import annotations

import asyncio
import statistics
import time

from aiosmtpd.controller import Controller

from rph_pwa import create_app
from rph_pwa.config import TestConfig
from rph_pwa.db import utcnow
from rph_pwa.services.mail import MailSettings, deliver_outbox
from tests.conftest import Mailbox, deliver_queued_mail, form_token, free_port
from tests.factories import email, make_resident, make_team

ROUNDS = 30


def _post_timer(client):
    token = form_token(client, "/login/code")

    def post(address: str) -> float:
        started = time.perf_counter()
        response = client.post("/login/code", data={"email": address, "csrf_token": token})
        elapsed = time.perf_counter() - started
        assert response.status_code == 302
        return elapsed

    return post


def test_code_request_takes_as_long_for_unknown_addresses(app, db):
    team = make_team(db)
    known = [email() for _ in range(ROUNDS + 3)]
    for address in known:
        make_resident(db, team=team, email=address)
    db.commit()
    unknown = [email() for _ in range(ROUNDS + 3)]
    post = _post_timer(app.test_client())
    for i in range(3):  # warm up both paths
        post(known[i])
        post(unknown[i])
    known_times, unknown_times = [], []
    for i in range(3, ROUNDS + 3):
        # Alternate which path goes first, so drift in the machine's speed hits both alike.
        pair = [(known_times, known[i]), (unknown_times, unknown[i])]
        for times, address in pair if i % 2 else reversed(pair):
            times.append(post(address))
    deliver_queued_mail(app)  # leave no queued mail behind for other tests' servers
    known_median, unknown_median = statistics.median(known_times), statistics.median(unknown_times)
    gap = abs(known_median - unknown_median)
    assert gap <= max(0.25 * max(known_median, unknown_median), 0.003), (
        f"known {known_median * 1000:.1f} ms, unknown {unknown_median * 1000:.1f} ms")


class SlowMailbox(Mailbox):
    """A mail server that takes its time over every message."""

    delay = 2.0

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


def test_a_slow_mail_server_does_not_slow_the_code_request(app, app_settings, db):
    deliver_queued_mail(app)  # mail queued by earlier tests goes to the usual server first
    slow = SlowMailbox()
    controller = Controller(slow, hostname="127.0.0.1", port=free_port())
    controller.start()
    slow_app = create_app(TestConfig, **{**app_settings, "MAIL_PORT": controller.port})
    try:
        address = email()
        make_resident(db, team=make_team(db), email=address)
        db.commit()
        post = _post_timer(slow_app.test_client())
        assert post(address) < SlowMailbox.delay / 2
        assert slow.received_to(address) == []  # queued, not sent by the request

        with slow_app.app_context():
            from rph_pwa.db import get_session

            result = deliver_outbox(get_session(), MailSettings.from_config(slow_app.config), now=utcnow())
        assert result.sent >= 1
        assert len(slow.received_to(address)) == 1
    finally:
        controller.stop()
        slow_app.extensions["rph_db"].engine.dispose()
