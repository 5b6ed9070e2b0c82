"""The scheduler's jobs: thin and idempotent (app context, session, service call, commit).

Each takes the app, so the same functions run in the scheduler process, from the CLI and in tests.
"""
from __future__ import annotations

import logging

from flask import Flask

from ..db import get_session, utcnow
from ..services.mail import MailSettings, deliver_outbox, purge_done_mail
from ..services.referral_drafts import purge_expired_drafts

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


def purge_drafts(app: Flask) -> None:
    """Delete self-referral drafts nobody came back to before they expired."""
    with app.app_context():
        session = get_session()
        purged = purge_expired_drafts(session)
        session.commit()
    if purged:
        log.info("referral drafts: %s expired drafts deleted", purged)
