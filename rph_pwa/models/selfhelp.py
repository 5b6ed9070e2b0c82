"""Guided self-help: a programme assigned in an episode, the resident's progress through its
modules, worksheets, the sleep window, weekly check-ins and their review, teams' external
programmes and phrase banks.

Coded values (the programme's slug, a module's key, a worksheet's kind) are in clear like the
episode's offerings, so lists and statistics need no decryption; everything the resident or a
therapist writes is encrypted.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..crypto import EncryptedJSON, EncryptedText
from ..db import Base, UTCDateTime, utcnow
from .people import Team, User
from .referrals import Appointment, Episode

PACES = ("weekly", "all")


class ExternalProgramme(Base):
    """A programme a team uses from outside the app (a book, a video series, a web course): its
    title and its modules as chapter or episode titles, each with a link or page numbers."""

    __tablename__ = "external_programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    #: The modules in order: [{"title": ..., "where": "https://... or pages 10-24"}] (team content,
    #: no resident data).
    modules: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    weeks: Mapped[int] = mapped_column(default=6, server_default="6")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when the team stops offering it (assignments keep it).
    retired_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    team: Mapped[Team] = relationship()


class SelfHelpAssignment(Base):
    """A programme given to a resident in an episode by the responsible therapist: the weekday of
    the weekly check-in, and whether modules open week by week or all at once. At most one is
    open per episode (`open_episode_id`, unique while open, cleared when it ends)."""

    __tablename__ = "selfhelp_assignment"
    __table_args__ = (
        CheckConstraint(f"pace IN {PACES!r}", name="pace_known"),
        CheckConstraint("checkin_weekday >= 0 AND checkin_weekday <= 6", name="weekday_known"),
        CheckConstraint("(programme IS NULL) != (external_programme_id IS NULL)", name="one_programme"),
        CheckConstraint("(ended_at IS NULL) = (open_episode_id IS NOT NULL)", name="open_while_not_ended"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    #: A programme shipped with the app (its folder name), or ...
    programme: Mapped[Optional[str]] = mapped_column(String(60))
    #: ... one the team registered.
    external_programme_id: Mapped[Optional[int]] = mapped_column(ForeignKey("external_programme.id"))
    #: 0 = Monday ... 6 = Sunday.
    checkin_weekday: Mapped[int] = mapped_column(SmallInteger)
    pace: Mapped[str] = mapped_column(String(10), default="weekly")
    starts_on: Mapped[date] = mapped_column(Date)
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    open_episode_id: Mapped[Optional[int]] = mapped_column(unique=True)

    episode: Mapped[Episode] = relationship()
    external_programme: Mapped[Optional[ExternalProgramme]] = relationship()
    progress: Mapped[list["ModuleProgress"]] = relationship(back_populates="assignment",
                                                            order_by="ModuleProgress.module_key")


class ModuleProgress(Base):
    """A resident's progress in one module of an assignment: opened early by the therapist, first
    read, finished, and the resident's rating of how useful it was (1-5, optional)."""

    __tablename__ = "module_progress"
    __table_args__ = (
        UniqueConstraint("assignment_id", "module_key", name="uq_module_progress_module"),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("selfhelp_assignment.id", ondelete="CASCADE"))
    #: The module's key ("NN-slug"; an external programme's modules are "NN").
    module_key: Mapped[str] = mapped_column(String(80))
    #: Opened for the resident by the therapist ahead of the weekly pace.
    opened_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    opened_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    first_read_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    rating: Mapped[Optional[int]] = mapped_column(SmallInteger)

    assignment: Mapped[SelfHelpAssignment] = relationship(back_populates="progress")


class Worksheet(Base):
    """A filled-in worksheet (`rph_pwa.selfhelp.worksheets`): the answers as encrypted JSON. The
    browser names each worksheet with a random key (`client_key`) when it is started, so a save
    sent twice (a retry after going offline) updates the same row instead of making two."""

    __tablename__ = "worksheet"
    __table_args__ = (
        UniqueConstraint("resident_id", "client_key", name="uq_worksheet_client_key"),
        Index("ix_worksheet_resident_kind_date", "resident_id", "kind", "for_date"),
        Index("ix_worksheet_resident_updated", "resident_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    #: The episode it was written in (None: written with no episode open, say after discharge).
    episode_id: Mapped[Optional[int]] = mapped_column(ForeignKey("episode.id"))
    kind: Mapped[str] = mapped_column(String(30))
    client_key: Mapped[str] = mapped_column(String(64))
    #: The worksheet's date (its date field, e.g. the sleep diary's night), for order and the
    #: sleep window's last week.
    for_date: Mapped[Optional[date]] = mapped_column(Date)
    content: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    #: 1 when stored, +1 on each change.
    revision: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SleepWindow(Base):
    """A sleep window for sleep restriction: suggested by the app from the last week's sleep
    diary, decided by the therapist. Only an approved window is shown to the resident."""

    __tablename__ = "sleep_window"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("selfhelp_assignment.id", ondelete="CASCADE"), index=True)
    #: {"bedtime": "00:30", "rise": "06:30", "minutes": 360, "efficiency": 83, "nights": 7,
    #:  "suggested": {...the app's suggestion...}} (encrypted: health data).
    window: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CheckInReport(Base):
    """The resident's part of a weekly check-in: what they worked on, what helped, what was hard,
    a question, and whether they need to talk sooner. It belongs to one contact of kind
    `check_in` (unique: sent once). The therapist's review completes it: feedback, minutes given
    (recorded on the contact) and when."""

    __tablename__ = "check_in_report"
    __table_args__ = (
        Index("ix_check_in_report_waiting", "reviewed_at", "sent_at"),
        Index("ix_check_in_report_episode", "episode_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), unique=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    assignment_id: Mapped[Optional[int]] = mapped_column(ForeignKey("selfhelp_assignment.id"))
    #: {"worked_on": ..., "helped": ..., "hard": ..., "question": ...} (encrypted).
    answers: Mapped[dict[str, str]] = mapped_column(EncryptedJSON)
    #: "I need to talk to someone sooner" (an urgent flag is raised too).
    talk_sooner: Mapped[bool] = mapped_column(default=False, server_default="0")
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the reviewing therapist first opened it (the timer's start).
    review_started_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    #: The therapist's written feedback to the resident (encrypted).
    feedback: Mapped[Optional[str]] = mapped_column(EncryptedText)
    #: The guidance was given by phone (otherwise in writing: the feedback alone); for the record note.
    by_phone: Mapped[bool] = mapped_column(default=False, server_default="0")
    #: When the resident saw the feedback on their home.
    feedback_seen_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    appointment: Mapped[Appointment] = relationship()
    reviewed_by: Mapped[Optional[User]] = relationship(foreign_keys=[reviewed_by_id])


class FeedbackPhrase(Base):
    """A reusable sentence in a team's phrase bank for check-in feedback (team text, no resident data)."""

    __tablename__ = "feedback_phrase"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    text: Mapped[str] = mapped_column(String(500))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
