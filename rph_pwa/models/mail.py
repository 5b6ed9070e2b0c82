"""The mail outbox: requests add messages here, the scheduler process delivers them."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..crypto import EncryptedText
from ..db import Base, UTCDateTime, utcnow


class OutboxMessage(Base):
    """One plain-text message to one recipient, waiting for delivery or delivered.

    Address, subject and body are encrypted (a body may hold a sign-in code). The rest says only
    when and how delivery went, never what the message is about.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_due", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The one recipient's address (encrypted).
    recipient: Mapped[str] = mapped_column(EncryptedText)
    #: Subject line (encrypted; content-free by rule, but simpler to treat like the body).
    subject: Mapped[str] = mapped_column(EncryptedText)
    #: Plain-text body (encrypted); emptied once the message is sent.
    body: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When a deliverer may next try it: now when queued, later after a failure, and a lease
    #: ahead while one deliverer is sending it (so no other deliverer takes it).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Delivery attempts started so far.
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: Set when the mail server refused the message for good (a 5xx answer): not retried.
    gave_up_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: The kind of the last failure (an exception class name such as "ConnectionRefusedError").
    last_error: Mapped[Optional[str]] = mapped_column(String(60))
