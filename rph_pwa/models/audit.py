"""The audit log: who read or changed whose data, and when (a list page's one event names every
row it showed in `AuditShown`)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UTCDateTime, utcnow
from .people import User


class AuditEvent(Base):
    """One staff read or change of a resident's data, or a security event.

    Holds no health information: only who, whom, which kind of object and when.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        # Listings are newest first by id within a resident or a team: these serve them in order.
        Index("ix_audit_event_subject_id_order", "subject_id", "id"),
        Index("ix_audit_event_team_id_order", "team_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: The staff member (or user) who acted.
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    #: The resident whose data was touched.
    subject_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    #: The team through which access was granted (for team leads' browsing).
    team_id: Mapped[Optional[int]] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"))
    #: What happened, a stable key such as "view_resident".
    action: Mapped[str] = mapped_column(String(50))
    #: Kind of object, such as "resident_profile".
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[Optional[int]]

    actor: Mapped[Optional[User]] = relationship(foreign_keys=[actor_id])
    subject: Mapped[Optional[User]] = relationship(foreign_keys=[subject_id])
    #: What a list page showed, when this one event covers a page of residents (`subject_id` is then None).
    shown: Mapped[list[AuditShown]] = relationship(back_populates="event", order_by="AuditShown.id",
                                                   passive_deletes=True)


class AuditShown(Base):
    """One row a list page showed, under the page view's single `AuditEvent` (the triage queue):
    whose object, through which team. Ids only, like the event."""

    __tablename__ = "audit_shown"
    __table_args__ = (
        # A resident's own log finds the page views that showed them.
        Index("ix_audit_shown_subject_id_event", "subject_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("audit_event.id", ondelete="CASCADE"), index=True)
    #: The resident whose row was shown.
    subject_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    #: The object shown, such as a referral (its kind is the event's `object_type`).
    object_id: Mapped[Optional[int]]

    event: Mapped[AuditEvent] = relationship(back_populates="shown")
