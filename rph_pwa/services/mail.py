"""Sending e-mail: SMTP in production and tests, a local outbox folder in development.

Subjects and bodies must never name the service, a diagnosis or a score: someone else may see
the phone's lock screen.
"""
from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from ..db import utcnow


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


def send_mail(settings: MailSettings, *, to: str, subject: str, body: str) -> None:
    """Send one plain-text message to one recipient (never a shared message to many)."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=settings.sender.partition("@")[2] or None)
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
