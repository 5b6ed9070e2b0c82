"""Times a team publishes for first conversations, and residents' requests to change or cancel an
appointment (nothing changes until the team answers)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..codes import MeetingMode, RequestAnswer, RequestKind, values
from ..crypto import EncryptedText
from ..db import Base, UTCDateTime, utcnow
from .people import Team, User
from .referrals import Appointment

REQUEST_KINDS = values(RequestKind)
REQUEST_ANSWERS = values(RequestAnswer)


class AssessmentSlot(Base):
    """A free time for a first (assessment) conversation that a team publishes. A resident whose
    referral was received (and is not urgent) takes one; it then holds the appointment it became.
    Taking a slot is one conditional UPDATE (`appointment_id IS NULL`), so two residents never get
    the same time."""

    __tablename__ = "assessment_slot"
    __table_args__ = (
        CheckConstraint(f"mode IN {values(MeetingMode)!r}", name="mode_known"),
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 600", name="duration_sane"),
        Index("ix_assessment_slot_team_starts", "team_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    #: The therapist who holds the conversation.
    staff_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(default=45, server_default="45")
    mode: Mapped[str] = mapped_column(String(10), default="phone", server_default="phone")
    #: Where, for a meeting at the office (staff free text, encrypted).
    place: Mapped[Optional[str]] = mapped_column(EncryptedText)
    #: The appointment booked in this slot (None: free).
    appointment_id: Mapped[Optional[int]] = mapped_column(ForeignKey("appointment.id"), unique=True)
    #: Set when the team takes the slot back (a withdrawn slot is never offered).
    withdrawn_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team] = relationship()
    staff: Mapped[User] = relationship(foreign_keys=[staff_id])
    appointment: Mapped[Optional[Appointment]] = relationship()


class AppointmentRequest(Base):
    """A resident's request to change or cancel an appointment, with an optional reason. The team
    answers it (moved, cancelled or kept); until then the appointment stays as it is. At most one
    request per appointment is open: `open_appointment_id` holds the appointment's id while the
    request is open and is cleared when it is answered (unique)."""

    __tablename__ = "appointment_request"
    __table_args__ = (
        CheckConstraint(f"kind IN {REQUEST_KINDS!r}", name="kind_known"),
        CheckConstraint(f"answer IS NULL OR answer IN {REQUEST_ANSWERS!r}", name="answer_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: Copied from the episode, so the team's list needs no join through the episode.
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    #: The resident's reason, optional (encrypted free text).
    reason: Mapped[Optional[str]] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The appointment's id while the request is open (unique: one open request per appointment).
    open_appointment_id: Mapped[Optional[int]] = mapped_column(unique=True)
    answered_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    answer: Mapped[Optional[str]] = mapped_column(String(10))
    #: A short message to the resident with the answer (encrypted free text).
    answer_note: Mapped[Optional[str]] = mapped_column(EncryptedText)

    appointment: Mapped[Appointment] = relationship()
    resident: Mapped[User] = relationship(foreign_keys=[resident_id])
    answered_by: Mapped[Optional[User]] = relationship(foreign_keys=[answered_by_id])
