"""The resident's safety plan (Stanley & Brown), kept in versions, and urgent flags with their
follow-up: a flag is closed only with a note, so it never disappears silently."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..crypto import EncryptedJSON, EncryptedText, field_crypto
from ..db import Base, UTCDateTime, utcnow
from .people import User

#: PHQ-9 item 9 above 0; "in crisis now"; "I need to talk to someone sooner" (a weekly check-in).
FLAG_REASONS = ("item9", "crisis", "talk_sooner")
FLAG_ACTIONS = ("called", "safety_plan", "referred_legevakt", "referred_dps", "risk_assessment", "other")


class SafetyPlan(Base):
    """A resident's safety plan. Its content lives in versions; the newest is the plan."""

    __tablename__ = "safety_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list["SafetyPlanVersion"]] = relationship(
        back_populates="plan", order_by="SafetyPlanVersion.number", cascade="all, delete-orphan")


class SafetyPlanVersion(Base):
    """One saved version of a safety plan, with its author (the resident or a therapist)."""

    __tablename__ = "safety_plan_version"
    __table_args__ = (UniqueConstraint("plan_id", "number", name="uq_safety_plan_version_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("safety_plan.id", ondelete="CASCADE"))
    #: 1, 2, 3 ... per plan (unique: two saves at once cannot both become the same version).
    number: Mapped[int]
    author_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The plan's parts as JSON (encrypted): warning signs, coping, people and places, contacts,
    #: professionals, safer surroundings, reasons for living.
    content: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)

    plan: Mapped[SafetyPlan] = relationship(back_populates="versions")
    author: Mapped[Optional[User]] = relationship()


class UrgentFlag(Base):
    """A resident needs quick follow-up (PHQ-9 item 9 above 0, or "in crisis now").

    Raised automatically; closed only by staff with a note. Actions taken are kept as rows."""

    __tablename__ = "urgent_flag"
    __table_args__ = (
        CheckConstraint("(closed_at IS NULL) = (closing_note IS NULL)", name="closed_with_note"),
        CheckConstraint("(closed_at IS NULL) = (open_key IS NOT NULL)", name="open_key_while_open"),
        Index("ix_urgent_flag_team_open", "team_id", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    referral_id: Mapped[Optional[int]] = mapped_column(ForeignKey("referral.id"))
    episode_id: Mapped[Optional[int]] = mapped_column(ForeignKey("episode.id"))
    #: "item9" or "crisis" (encrypted: that a person answered item 9 above 0 is health data).
    reason: Mapped[str] = mapped_column(EncryptedText)
    #: While the flag is open, a keyed hash of resident and reason (NULL once closed). Unique, so
    #: a resident has one open flag per reason and parallel raises reuse it (see raise_flag),
    #: without the reason in clear. Set by the model itself (`_set_open_key`).
    open_key: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    #: Why the flag could be closed (encrypted; required to close).
    closing_note: Mapped[Optional[str]] = mapped_column(EncryptedText)

    resident: Mapped[User] = relationship(foreign_keys=[resident_id])
    actions: Mapped[list["UrgentFlagAction"]] = relationship(back_populates="flag", order_by="UrgentFlagAction.id",
                                                             cascade="all, delete-orphan")
    answers: Mapped[list["UrgentFlagAnswer"]] = relationship(order_by="UrgentFlagAnswer.id",
                                                             cascade="all, delete-orphan")


class UrgentFlagAction(Base):
    """What was done about a flag: called, safety plan made, referred to legevakt/DPS, formal
    risk assessment by a doctor or psychologist, or other."""

    __tablename__ = "urgent_flag_action"
    __table_args__ = (CheckConstraint(f"kind IN {FLAG_ACTIONS!r}", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("urgent_flag.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(30))
    note: Mapped[Optional[str]] = mapped_column(EncryptedText)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    flag: Mapped[UrgentFlag] = relationship(back_populates="actions")
    staff: Mapped[User] = relationship()


class UrgentFlagAnswer(Base):
    """One item-9 answer above 0 that raised or was added to a flag, so a repeat while the flag is
    open (1, then 3) is kept and shown, never silently absorbed."""

    __tablename__ = "urgent_flag_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("urgent_flag.id", ondelete="CASCADE"), index=True)
    #: The item-9 answer (0–3; encrypted: health data).
    value: Mapped[str] = mapped_column(EncryptedText)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def open_flag_key(resident_id: int, reason: str) -> str:
    """The `open_key` of a resident's open flag for a reason (a keyed hash: LOOKUP_KEY)."""
    if reason not in FLAG_REASONS:
        raise ValueError("unknown reason")
    return field_crypto().lookup_hash(f"urgent_flag:{resident_id}:{reason}")


@event.listens_for(UrgentFlag, "before_insert")
@event.listens_for(UrgentFlag, "before_update")
def _set_open_key(_mapper, _connection, flag: UrgentFlag) -> None:
    """Keep `open_key` in step with the flag: set while open, cleared when closed."""
    flag.open_key = open_flag_key(flag.resident_id, flag.reason) if flag.closed_at is None else None
