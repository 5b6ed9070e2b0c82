"""E-mail through an outbox: requests only queue messages, the scheduler process delivers them.

A request never talks to a mail server, so a slow or broken one slows nobody's page, and a request
that sends mail takes as long as one that does not. `deliver_outbox` (run every few seconds by
`flask --app rph_pwa scheduler`) sends due messages over SMTP in production and tests, or writes
them to a local outbox folder in development.

Subjects and bodies must never name the service, a diagnosis or a score: someone else may see
the phone's lock screen.
"""
from __future__ import annotations

import hashlib
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from ..db import utcnow
from ..models import OutboxMessage

log = logging.getLogger(__name__)

#: How long one deliverer holds the messages it took before another may try them (a deliverer
#: that dies mid-batch delays its messages this long; a live one finishes well within it).
CLAIM_LEASE = timedelta(minutes=10)
#: Wait before the first retry after a failure; doubled after each further failure, up to RETRY_MAX.
RETRY_FIRST = timedelta(seconds=30)
RETRY_MAX = timedelta(minutes=15)
#: Sent messages (their bodies already emptied) and refused ones are deleted after this long.
KEEP_DONE = timedelta(days=7)


@dataclass(frozen=True)
class MailSettings:
    """Where and how to send mail (from app config)."""

    backend: str
    server: str
    port: int
    sender: str
    outbox: str
    use_starttls: bool = False
    username: str = ""
    password: str = ""

    @classmethod
    def from_config(cls, config) -> "MailSettings":
        return cls(
            backend=config["MAIL_BACKEND"],
            server=config["MAIL_SERVER"],
            port=int(config["MAIL_PORT"]),
            sender=config["MAIL_SENDER"],
            outbox=config["MAIL_OUTBOX"],
            use_starttls=bool(config["MAIL_USE_STARTTLS"]),
            username=config["MAIL_USERNAME"],
            password=config["MAIL_PASSWORD"],
        )


def message_id(settings: MailSettings, *, outbox_id: int, created_at: datetime) -> str:
    """The Message-ID of one outbox message: the same every time it is sent. A deliverer that dies
    between handing a message to the mail server and recording it sends it again on the next run;
    with the same Message-ID the copy is the same message (mail clients and servers that see it
    twice keep one), as a Web Push Topic or an SMS reference collapses a resent reminder. Derived
    from the row, so it tells the recipient nothing (not even how many messages were sent)."""
    digest = hashlib.sha256(f"{outbox_id}.{created_at.isoformat()}".encode()).hexdigest()[:32]
    return f"<{digest}@{settings.sender.partition('@')[2] or 'localhost'}>"


def send_mail(settings: MailSettings, *, to: str, subject: str, body: str, message_id: str) -> None:
    """Send one plain-text message to one recipient now (never a shared message to many).

    Only `deliver_outbox` calls this; requests use `queue_mail`.
    """
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message.set_content(body)
    if settings.backend == "outbox":
        folder = Path(settings.outbox)
        folder.mkdir(parents=True, exist_ok=True)
        name = utcnow().strftime("%Y%m%dT%H%M%S%f") + ".eml"
        (folder / name).write_bytes(bytes(message))
        return
    with smtplib.SMTP(settings.server, settings.port, timeout=15) as smtp:
        if settings.use_starttls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password)
        smtp.send_message(message)


def queue_mail(session: Session, *, to: str, subject: str, body: str) -> OutboxMessage:
    """Add one message for one recipient to the outbox; the scheduler process sends it.

    It goes out only if the caller's transaction commits, and then exactly once.
    """
    now = utcnow()
    message = OutboxMessage(recipient=to.strip(), subject=subject, body=body, created_at=now,
                            next_attempt_at=now, attempts=0)
    session.add(message)
    session.flush()
    return message


def queue_no_mail(session: Session, *, subject: str, body: str) -> None:
    """Queue a message to nobody: the database work of `queue_mail`, and nothing is sent.

    A sign-in code asked for an address without an account must look the same as one for an
    address with one: the answer takes as long, and the outbox (its waiting count and ages, as
    /healthz and the admin see them) changes the same way until the deliverer drops it.
    """
    queue_mail(session, to="", subject=subject, body=body)


@dataclass(frozen=True)
class DeliveryResult:
    """What one `deliver_outbox` run did."""

    sent: int = 0
    #: Failed for now; tried again later.
    retrying: int = 0
    #: Refused for good by the mail server; not tried again.
    refused: int = 0


def _waiting():
    return and_(OutboxMessage.sent_at.is_(None), OutboxMessage.gave_up_at.is_(None))


def _claim(session: Session, *, now: datetime, limit: int) -> list:
    """Take up to `limit` due messages for this deliverer by moving them a lease ahead.

    One UPDATE both picks and takes the rows: on PostgreSQL the picked rows are locked with
    SKIP LOCKED, so a second deliverer takes other rows instead of waiting; on SQLite the UPDATE
    holds the database's write lock. Either way each message is taken by one deliverer only.
    """
    due = and_(_waiting(), OutboxMessage.next_attempt_at <= now)
    picked = (
        select(OutboxMessage.id).where(due)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(picked), due)
        .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=now + CLAIM_LEASE)
        .returning(OutboxMessage.id, OutboxMessage.recipient, OutboxMessage.subject, OutboxMessage.body,
                   OutboxMessage.attempts, OutboxMessage.created_at)
        .execution_options(synchronize_session=False)
    ).all()


def _is_permanent(exc: Exception) -> bool:
    """Whether retrying cannot help: the server refused this recipient or message with a 5xx
    answer, or the address cannot be written into a message at all."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(code >= 500 for code, _text in exc.recipients.values())
    if isinstance(exc, (smtplib.SMTPDataError, smtplib.SMTPNotSupportedError)):
        return getattr(exc, "smtp_code", 500) >= 500
    return isinstance(exc, (ValueError, UnicodeError))


def retry_delay(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failed attempt: 30 s, 1 min, 2 min, ... at most 15 min."""
    return min(RETRY_FIRST * 2 ** min(max(attempts - 1, 0), 10), RETRY_MAX)


def deliver_outbox(session: Session, settings: MailSettings, *, now: datetime, limit: int = 50) -> DeliveryResult:
    """Send up to `limit` due messages, each exactly once even with several deliverers at once.

    Unlike other services this one commits, and it wants a session with nothing pending: taking
    the messages is committed before talking to the mail server, so no lock is held during a slow
    SMTP conversation, and each outcome is committed as soon as it is known, so a message sent is
    never sent again. Failures are retried with growing delays; a 5xx refusal is not retried.
    """
    claimed = _claim(session, now=now, limit=limit)
    session.commit()
    sent = retrying = refused = 0
    for outbox_id, recipient, subject, body, attempts, created_at in claimed:
        try:
            if recipient:  # no recipient: a message to nobody (see queue_no_mail)
                send_mail(settings, to=recipient, subject=subject, body=body,
                          message_id=message_id(settings, outbox_id=outbox_id, created_at=created_at))
        except (OSError, smtplib.SMTPException, ValueError, UnicodeError) as exc:
            kind = type(exc).__name__[:60]
            if _is_permanent(exc):
                values = {"gave_up_at": now, "last_error": kind}
                refused += 1
            else:
                values = {"next_attempt_at": now + retry_delay(attempts), "last_error": kind}
                retrying += 1
            log.warning("mail %s not delivered (attempt %s): %s", outbox_id, attempts, kind)
        else:
            values = {"sent_at": now, "body": "", "last_error": None}
            sent += 1
        session.execute(update(OutboxMessage).where(OutboxMessage.id == outbox_id).values(**values)
                        .execution_options(synchronize_session=False))
        session.commit()
    return DeliveryResult(sent=sent, retrying=retrying, refused=refused)


def purge_done_mail(session: Session, *, now: datetime, keep: timedelta = KEEP_DONE) -> int:
    """Delete messages sent or refused more than `keep` ago; returns how many."""
    before = now - keep
    return session.execute(
        delete(OutboxMessage).where(or_(OutboxMessage.sent_at < before, OutboxMessage.gave_up_at < before))
    ).rowcount


@dataclass(frozen=True)
class OutboxStatus:
    """How the outbox is doing, without any personal data: for /healthz and the admin."""

    waiting: int
    #: Age in whole seconds of the oldest message not yet delivered (None when none waits).
    oldest_age_seconds: int | None
    #: Messages the mail server refused for good in the last KEEP_DONE.
    refused: int

    @property
    def oldest_age(self) -> timedelta | None:
        return None if self.oldest_age_seconds is None else timedelta(seconds=self.oldest_age_seconds)


def outbox_status(session: Session, *, now: datetime) -> OutboxStatus:
    """Count the waiting messages and the age of the oldest one."""
    waiting, oldest = session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(_waiting())
    ).one()
    refused = session.scalar(select(func.count()).where(OutboxMessage.gave_up_at.is_not(None)))
    age = None if oldest is None else max(0, int((now - oldest).total_seconds()))
    return OutboxStatus(waiting=waiting, oldest_age_seconds=age, refused=refused or 0)


def read_outbox(settings: MailSettings, limit: int = 20) -> list[dict[str, str]]:
    """The newest messages in the development outbox, for the /dev/outbox page."""
    from email import policy
    from email.parser import BytesParser

    folder = Path(settings.outbox)
    if not folder.is_dir():
        return []
    messages = []
    for path in sorted(folder.glob("*.eml"), reverse=True)[:limit]:
        parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        messages.append({
            "to": str(parsed["To"]),
            "subject": str(parsed["Subject"]),
            "body": parsed.get_body(("plain",)).get_content(),
        })
    return messages
