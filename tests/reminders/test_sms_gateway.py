"""The SMS provider's HTTP adapter against a real HTTP server on loopback: what it posts, which
answers are retried and which refused for good, timeouts, and the engine falling back to e-mail
when the gateway keeps failing."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from rph_pwa.reminder_texts import compose
from rph_pwa.services import reminder_delivery
from rph_pwa.services.reminders import ChannelSetup
from rph_pwa.services.sms import FileOutbox, HttpGateway, SmsError, read_outbox
from tests.conftest import deliver_queued_mail
from tests.reminders.stubs import serve
from tests.reminders.test_delivery import booked, deliveries, moment, reminder_of


class Gateway:
    """An SMS gateway on 127.0.0.1 answering `status` (after `delay` seconds)."""

    def __init__(self) -> None:
        self.status, self.delay, self.received = 200, 0.0, []
        self.server = serve(self._receive)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"

    def _receive(self, _path: str, headers: dict[str, str], body: bytes) -> int:
        self.received.append((headers, json.loads(body)))
        time.sleep(self.delay)
        return self.status


@pytest.fixture(scope="module")
def gateway():
    server = Gateway()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture(autouse=True)
def fresh(gateway):
    gateway.status, gateway.delay = 200, 0.0
    gateway.received.clear()


def test_a_message_is_posted_once_with_the_number_in_international_form_and_the_reference(gateway):
    HttpGateway(gateway.url, "secret-token", "Avtaler").send(to="412 34 567", text="Du har en avtale",
                                                             reference="ref-123456789")
    [(headers, body)] = gateway.received
    assert headers["authorization"] == "Bearer secret-token"
    assert body == {"to": "+4741234567", "from": "Avtaler", "text": "Du har en avtale", "reference": "ref-123456789"}


@pytest.mark.parametrize(("status", "permanent"), [(500, False), (503, False), (429, False), (408, False),
                                                   (400, True), (401, True), (422, True)])
def test_which_answers_are_tried_again(gateway, status, permanent):
    gateway.status = status
    with pytest.raises(SmsError) as refused:
        HttpGateway(gateway.url, "t", "Avtaler").send(to="+4741234567", text="x", reference="ref-123456789")
    assert (refused.value.kind, refused.value.permanent) == (f"HTTP {status}", permanent)


def test_a_gateway_that_does_not_answer_in_time_is_a_timeout_to_try_again(gateway):
    gateway.delay = 1.0
    with pytest.raises(SmsError) as refused:
        HttpGateway(gateway.url, "t", "Avtaler", timeout=0.2).send(to="+4741234567", text="x",
                                                              reference="ref-123456789")
    assert (refused.value.kind, refused.value.permanent) == ("Timeout", False)


def test_a_number_that_cannot_be_a_phone_number_is_refused_for_good(tmp_path):
    with pytest.raises(SmsError) as refused:
        FileOutbox(str(tmp_path), "Avtaler").send(to="12", text="x", reference="ref-123456789")
    assert refused.value.permanent
    assert read_outbox(str(tmp_path)) == []


def test_the_same_reference_twice_leaves_one_message_in_the_file_outbox(tmp_path):
    outbox = FileOutbox(str(tmp_path), "Avtaler")
    for _ in range(2):
        outbox.send(to="+4741234567", text="Du har en avtale", reference="ref-123456789")
    assert len(read_outbox(str(tmp_path))) == 1


def test_when_the_gateway_keeps_failing_the_reminder_goes_by_email(db, data_app, gateway, mailbox):
    gateway.status = 503
    channels = reminder_delivery.Channels(setup=ChannelSetup(push=False, sms=True),
                                          sms=HttpGateway(gateway.url, "t", "Avtaler"))
    now = moment()
    resident, _appointment, _, address = booked(db, now=now, order="sms,email")
    later = now
    for _ in range(reminder_delivery.MAX_ATTEMPTS + 1):
        reminder_delivery.deliver_due(db, channels=channels, compose=compose, now=later,
                                      lease=timedelta(seconds=60), ack_after=timedelta(minutes=30))
        later += timedelta(minutes=16)
    deliver_queued_mail(data_app)
    assert [(d.channel, d.state) for d in deliveries(db, resident)] == [("sms", "failed"), ("email", "sent")]
    assert len(gateway.received) == reminder_delivery.MAX_ATTEMPTS
    # Every try carried the same reference, so a message that did go out is not sent twice.
    assert len({body["reference"] for _headers, body in gateway.received}) == 1
    assert [m["Subject"] for m in mailbox.received_to(address)] == ["Du har en avtale"]
    assert reminder_of(db, resident).outcome == "delivered"
