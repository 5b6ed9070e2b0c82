"""The audit log: who read or changed whose data, and when."""
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
