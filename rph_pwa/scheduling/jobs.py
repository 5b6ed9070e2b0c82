"""The scheduler's jobs: thin and idempotent (app context, session, service call, commit).

Each takes the app, so the same functions run in the scheduler process, from the CLI and in tests.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask

from ..db import get_session, utcnow
from ..reminder_texts import compose
from ..services import reminder_delivery
from ..services.mail import MailSettings, deliver_outbox, purge_done_mail
from ..services.push import PushSender
from ..services.referral_drafts import purge_expired_drafts
from ..services.reminders import ChannelSetup
from ..services.sms import sender_from_config

log = logging.getLogger(__name__)

#: Messages one delivery run sends at most; the rest wait for the next run a few seconds later.
DELIVERY_BATCH = 50


def deliver_mail(app: Flask) -> None:
    """Send the outbox's due messages, then delete those sent (or refused) a week ago."""
    with app.app_context():
        session = get_session()
        result = deliver_outbox(session, MailSettings.from_config(app.config), now=utcnow(), limit=DELIVERY_BATCH)
        purged = purge_done_mail(session, now=utcnow())
        session.commit()
    if result.sent or result.retrying or result.refused or purged:
        log.info("mail: %s sent, %s to retry, %s refused, %s old messages deleted",
                 result.sent, result.retrying, result.refused, purged)


#: One reminder run keeps going (claiming the next batch) for at most this long.
REMINDER_RUN_SECONDS = 50


def reminder_channels(app: Flask) -> reminder_delivery.Channels:
    """The app's reminder senders, made once per process (the push sender reuses its signatures)."""
    channels = app.extensions.get("rph_reminder_channels")
    if channels is None:
        setup = ChannelSetup.from_config(app.config)
        push = (PushSender(private_key=app.config["VAPID_PRIVATE_KEY"], subject=app.config["VAPID_SUBJECT"])
                if setup.push else None)
        channels = app.extensions["rph_reminder_channels"] = reminder_delivery.Channels(
            setup=setup, push=push, sms=sender_from_config(app.config))
    return channels


def send_reminders(app: Flask, clock: Callable[[], datetime] = utcnow) -> None:
    """Plan the reminders now due and deliver them, batch after batch while there is work.
    `clock` tells the time (the benchmark runs the job at a time of day outside the quiet hours)."""
    channels = reminder_channels(app)
    config = app.config
    started = time.monotonic()
    totals: dict[str, int] = {}
    with app.app_context():
        session = get_session()
        while True:
            result = reminder_delivery.deliver_due(
                session, channels=channels, compose=compose, now=clock(),
                lease=timedelta(seconds=config["REMINDER_LEASE_SECONDS"]),
                ack_after=timedelta(minutes=config["PUSH_ACK_MINUTES"]), senders=config["REMINDER_SENDERS"])
            for name in ("planned", "sent", "retrying", "failed", "emailed"):
                totals[name] = totals.get(name, 0) + getattr(result, name)
            if not result.busy or time.monotonic() - started > REMINDER_RUN_SECONDS:
                break
    if any(totals.values()):
        log.info("reminders: %(planned)s planned, %(sent)s sent, %(emailed)s e-mailed, %(retrying)s to retry, "
                 "%(failed)s failed", totals)


def purge_old(app: Flask) -> None:
    """Retention: delete reminders that ended long ago (see reminder_delivery.KEEP_DONE)."""
    with app.app_context():
        session = get_session()
        removed = reminder_delivery.purge_done(session, now=utcnow())
        session.commit()
    if removed:
        log.info("reminders: %s old reminders deleted", removed)


def purge_drafts(app: Flask) -> None:
    """Delete self-referral drafts nobody came back to before they expired."""
    with app.app_context():
        session = get_session()
        purged = purge_expired_drafts(session)
        session.commit()
    if purged:
        log.info("referral drafts: %s expired drafts deleted", purged)
