"""Reminders: what to tell a resident and when (`Reminder`), each try by one channel
(`ReminderDelivery`), and the resident's Web Push subscriptions (`PushSubscription`).

Nothing here says what an appointment is about: a reminder knows its kind ("appointment",
"message"), the resident, the appointment it was planned for and when. The texts are made when
sent, from the kind and the time only (`services.reminder_texts`).
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..codes import DeliveryState, ReminderChannel, ReminderKind, ReminderOutcome, values
from ..crypto import EncryptedText
from ..db import Base, UTCDateTime, utcnow
from .people import User
from .referrals import Appointment


class PushSubscription(Base):
    """One browser's Web Push subscription (one per device the resident turned notifications on).

    The endpoint is the push service's address for this device; it and the keys are encrypted,
    and found through a keyed hash (`endpoint_lookup`) so subscribing twice keeps one row.
    """

    __tablename__ = "push_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(EncryptedText)
    #: Keyed hash of the endpoint (unique: one row per device).
    endpoint_lookup: Mapped[str] = mapped_column(String(64), unique=True)
    #: The browser's public key (P-256, base64url) and auth secret, for the payload's encryption.
    p256dh: Mapped[str] = mapped_column(EncryptedText)
    auth: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The last time the push service accepted a message for it.
    last_success_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class Reminder(Base):
    """One thing to tell one resident, due at a time: an appointment coming up, or a new message.

    Appointment reminders are planned by the scheduler from the appointments ahead (one per
    appointment, kind and start time: `key` is unique, so planning twice plans once); a moved
    appointment gets a new one, and one planned for a start time the appointment no longer has,
    or for a cancelled one, is dropped when due. Messages (new feedback, the drop-out routine's
    invitations, a test) are queued by the service that has news, due at once.
    """

    __tablename__ = "reminder"
    __table_args__ = (
        CheckConstraint(f"kind IN {values(ReminderKind)!r}", name="kind_known"),
        CheckConstraint(f"outcome IS NULL OR outcome IN {values(ReminderOutcome)!r}", name="outcome_known"),
        # The scheduler's work list: open reminders by due time.
        Index("ix_reminder_open_due", "done_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    #: Unique: "appointment:<id>:<kind>:<start as epoch seconds>", or the message's own key.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    appointment_id: Mapped[Optional[int]] = mapped_column(ForeignKey("appointment.id", ondelete="CASCADE"),
                                                          index=True)
    #: A course meeting's reminder (one per participant): the meeting it was planned for.
    course_meeting_id: Mapped[Optional[int]] = mapped_column(ForeignKey("course_meeting.id", ondelete="CASCADE"),
                                                             index=True)
    #: The appointment's (or course meeting's) start when this reminder was planned.
    starts_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: The page the reminder opens (an endpoint name, e.g. "client.home"; its only argument is
    #: the appointment's id when there is one). Never anything that says what it is about.
    link: Mapped[str] = mapped_column(String(60), default="client.home")
    #: When to send: the team's lead time before the start, never in the quiet hours.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when it ended (`outcome`): delivered, or given up.
    done_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    outcome: Mapped[Optional[str]] = mapped_column(String(20))

    resident: Mapped[User] = relationship()
    appointment: Mapped[Optional[Appointment]] = relationship()
    deliveries: Mapped[list["ReminderDelivery"]] = relationship(back_populates="reminder",
                                                                 order_by="ReminderDelivery.id",
                                                                 cascade="all, delete-orphan")


class ReminderDelivery(Base):
    """One reminder sent (or being sent) by one channel: at most one per reminder and channel.

    claimed → sent (→ shown, for push when the service worker acknowledges it) or failed, or
    retrying → claimed again. A claim holds a lease (`lease_until`): a sender that dies mid-way
    leaves a claim whose lease runs out, and the next run sends it again with the same
    `token` — the Web Push Topic and the SMS client reference — so a message that did go out
    collapses at the push service or SMS provider instead of arriving twice.
    """

    __tablename__ = "reminder_delivery"
    __table_args__ = (
        UniqueConstraint("reminder_id", "channel", name="one_per_channel"),
        CheckConstraint(f"channel IN {values(ReminderChannel)!r}", name="channel_known"),
        CheckConstraint(f"state IN {values(DeliveryState)!r}", name="state_known"),
        Index("ix_reminder_delivery_state", "state", "lease_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminder.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(10), default="claimed")
    #: Random (URL-safe, 32 characters): the Web Push Topic, the SMS client reference, and the
    #: token the service worker acknowledges a shown notification and answers "Jeg kommer" with.
    token: Mapped[str] = mapped_column(String(43), unique=True)
    attempts: Mapped[int] = mapped_column(default=1)
    #: While claimed: no other sender takes it before then.
    lease_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: While retrying: the next try.
    next_attempt_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    shown_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    failed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: The kind of the last failure ("HTTP 503", "Timeout", "Gone"); never a message text.
    last_error: Mapped[Optional[str]] = mapped_column(String(60))

    reminder: Mapped[Reminder] = relationship(back_populates="deliveries")
