"""Courses and treatment groups: what a team offers (`CourseTemplate` with its meetings' content
and workbook files), each time it runs (`CourseRun`: dates, place, capacity, leaders, the teams
that share it), who takes part (`CourseParticipant`, enrolled or waiting, as participant or
relative), who came (`CourseAttendanceMark`), and the evaluation forms (`EvaluationLink`,
`EvaluationAnswer`).

Participants with an episode also get one `Appointment` of kind `course_meeting` per meeting
(`CourseParticipant.episode_id`): their forms before each meeting, their attendance and their
outcome measurement then work as for every other contact. Relatives have no episode.

An anonymous evaluation answer has no path back to a person: no participant id, no link id, a
random id (no insertion order) and the day only (`answered_on`).
"""
from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..codes import CheckInVia, CourseAttendance, CourseKind, CourseMode, CourseRole, EnrolmentStatus, values
from ..crypto import EncryptedText
from ..db import Base, UTCDateTime, utcnow
from .people import Team, User


def random_id() -> int:
    """A random positive 62-bit id: rows in a table of anonymous answers carry no order."""
    return secrets.randbelow(2 ** 62 - 1) + 1


class CourseTemplate(Base):
    """A course or treatment group the team offers, defined by the team (H L676-744): run again
    and again as `CourseRun`s."""

    __tablename__ = "course_template"
    __table_args__ = (
        CheckConstraint(f"kind IN {values(CourseKind)!r}", name="kind_known"),
        CheckConstraint("meeting_count >= 1 AND meeting_count <= 20", name="meeting_count_sane"),
        CheckConstraint("meeting_minutes >= 15 AND meeting_minutes <= 480", name="meeting_minutes_sane"),
        CheckConstraint("capacity >= 1 AND capacity <= 200", name="capacity_sane"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="course")
    #: E.g. "Kurs i mestring av depresjon" (course content, not about a person: in clear).
    title: Mapped[str] = mapped_column(String(200))
    #: For whom (shown on the public course page).
    audience: Mapped[str] = mapped_column(Text, default="")
    meeting_count: Mapped[int] = mapped_column(Integer, default=4)
    meeting_minutes: Mapped[int] = mapped_column(Integer, default=120)
    #: The usual number of places (a run may set its own).
    capacity: Mapped[int] = mapped_column(Integer, default=20)
    #: An optional follow-up meeting 1-2 months after the last (H L692-695).
    follow_up: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: The questionnaires asked before each meeting (instrument codes, comma separated).
    instrument_codes: Mapped[str] = mapped_column(String(100), default="PHQ-9,GAD-7")
    #: The evaluation form's instrument code (`measures.evaluations`), and whether it is asked
    #: after each meeting too (it is always asked at the end).
    evaluation_code: Mapped[str] = mapped_column(String(20), default="COURSE-EVAL")
    evaluation_each_meeting: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: Residents may enrol themselves from the public course page.
    is_open: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team] = relationship()
    meetings: Mapped[list["CourseTemplateMeeting"]] = relationship(
        back_populates="template", order_by="CourseTemplateMeeting.number", cascade="all, delete-orphan")
    materials: Mapped[list["CourseMaterial"]] = relationship(
        back_populates="template", order_by="CourseMaterial.id", cascade="all, delete-orphan")

    @property
    def instruments(self) -> list[str]:
        return [code for code in self.instrument_codes.split(",") if code]


class CourseTemplateMeeting(Base):
    """What one meeting of a template covers (its number from 1; the follow-up meeting is
    number `meeting_count + 1`)."""

    __tablename__ = "course_template_meeting"
    __table_args__ = (UniqueConstraint("template_id", "number", name="uq_course_template_meeting_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("course_template.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200), default="")
    content: Mapped[str] = mapped_column(Text, default="")

    template: Mapped[CourseTemplate] = relationship(back_populates="meetings")


class CourseMaterial(Base):
    """A workbook file of a template (PDF and the like), shown to the run's participants."""

    __tablename__ = "course_material"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("course_template.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    template: Mapped[CourseTemplate] = relationship(back_populates="materials")


class CourseLeader(Base):
    """A leader of a run (two or more: H L676-695)."""

    __tablename__ = "course_leader"

    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True, index=True)

    user: Mapped[User] = relationship()


class CourseShare(Base):
    """Another team sharing a run (joint courses across municipalities, H L5582-5608): its staff
    see the run and enrol their residents."""

    __tablename__ = "course_share"

    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), primary_key=True, index=True)

    team: Mapped[Team] = relationship()


class CourseRun(Base):
    """One run of a template: its meetings, place (all in person) or video link (all online),
    places, leaders and the teams sharing it."""

    __tablename__ = "course_run"
    __table_args__ = (
        CheckConstraint(f"mode IN {values(CourseMode)!r}", name="mode_known"),
        CheckConstraint("capacity >= 1 AND capacity <= 200", name="capacity_sane"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("course_template.id"), index=True)
    #: The team that runs it (and owns it).
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    mode: Mapped[str] = mapped_column(String(10), default="office")
    #: The venue's address (public: shown on the course page).
    place: Mapped[str] = mapped_column(String(300), default="")
    #: The video meeting's address (encrypted; shown to enrolled participants only).
    video_link: Mapped[Optional[str]] = mapped_column(EncryptedText)
    capacity: Mapped[int] = mapped_column(Integer, default=20)
    #: Residents may enrol themselves from the public course page (copied from the template).
    is_open: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: Evaluation answers are anonymous (single-use links; no path back) or named.
    evaluation_anonymous: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    evaluation_each_meeting: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    template: Mapped[CourseTemplate] = relationship()
    team: Mapped[Team] = relationship()
    meetings: Mapped[list["CourseMeeting"]] = relationship(
        back_populates="run", order_by="CourseMeeting.number", cascade="all, delete-orphan")
    leaders: Mapped[list[CourseLeader]] = relationship(cascade="all, delete-orphan")
    shares: Mapped[list[CourseShare]] = relationship(cascade="all, delete-orphan")


class CourseMeeting(Base):
    """One meeting of a run. The leaders' record of it (H L3989-3997): the content note, the
    attendance (`CourseAttendanceMark`) and the forms filled in before it."""

    __tablename__ = "course_meeting"
    __table_args__ = (
        UniqueConstraint("run_id", "number", name="uq_course_meeting_number"),
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 600", name="duration_sane"),
        Index("ix_course_meeting_starts", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=120)
    is_follow_up: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: What the meeting covered, as the leaders recorded it (encrypted).
    content_note: Mapped[Optional[str]] = mapped_column(EncryptedText)
    #: Random code in the meeting's check-in QR code (only valid around the meeting's time).
    check_in_code: Mapped[str] = mapped_column(String(43), unique=True,
                                               default=lambda: secrets.token_urlsafe(24))

    run: Mapped[CourseRun] = relationship(back_populates="meetings")


class CourseParticipant(Base):
    """A person in a run: enrolled, on the waiting list (in order of `created_at`) or withdrawn;
    as participant (with an episode: measured like everyone) or relative (no episode, no outcome
    forms unless `fills_forms`). Participants never see each other."""

    __tablename__ = "course_participant"
    __table_args__ = (
        UniqueConstraint("run_id", "user_id", name="uq_course_participant_run_user"),
        CheckConstraint(f"role IN {values(CourseRole)!r}", name="role_known"),
        CheckConstraint(f"status IN {values(EnrolmentStatus)!r}", name="status_known"),
        Index("ix_course_participant_run_status", "run_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    #: The participant's episode (channel `course` when they enrolled themselves); None for relatives.
    episode_id: Mapped[Optional[int]] = mapped_column(ForeignKey("episode.id"), index=True)
    role: Mapped[str] = mapped_column(String(12), default="participant")
    status: Mapped[str] = mapped_column(String(10), default="enrolled")
    #: Asked to fill in the template's questionnaires before each meeting (relatives: off by default).
    fills_forms: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    #: Who enrolled them (staff), or None when they enrolled themselves.
    enrolled_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enrolled_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    run: Mapped[CourseRun] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class CourseAttendanceMark(Base):
    """Whether a participant came to a meeting, marked by a leader or by the QR check-in."""

    __tablename__ = "course_attendance"
    __table_args__ = (
        CheckConstraint(f"status IN {values(CourseAttendance)!r}", name="status_known"),
        CheckConstraint(f"via IN {values(CheckInVia)!r}", name="via_known"),
    )

    meeting_id: Mapped[int] = mapped_column(ForeignKey("course_meeting.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("course_participant.id", ondelete="CASCADE"),
                                                primary_key=True, index=True)
    status: Mapped[str] = mapped_column(String(10), default="attended")
    via: Mapped[str] = mapped_column(String(10), default="leader")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EvaluationLink(Base):
    """A participant's single-use link to a run's evaluation form (anonymous runs). The token is
    kept (encrypted) so the participant can open it from their course page and a leader can print
    it as a QR code; the answer given through it is not linked to it."""

    __tablename__ = "evaluation_link"
    __table_args__ = (UniqueConstraint("run_id", "meeting_id", "participant_id", name="uq_evaluation_link_once"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False, default=random_id)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id", ondelete="CASCADE"), index=True)
    #: The meeting it evaluates (None: the whole run, at its end).
    meeting_id: Mapped[Optional[int]] = mapped_column(ForeignKey("course_meeting.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("course_participant.id", ondelete="CASCADE"))
    #: SHA-256 of the token (found by it; unique).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token: Mapped[str] = mapped_column(EncryptedText)
    #: Used once: no time is kept.
    used: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class EvaluationAnswer(Base):
    """One evaluation form filled in: the scale answers (item key → 1-5, in clear for the results)
    and the two free-text answers (encrypted). Anonymous: no participant, no link, a random id and
    the day only. Named: `participant_id` set (allows follow-up)."""

    __tablename__ = "evaluation_answer"
    __table_args__ = (Index("ix_evaluation_answer_run", "run_id", "meeting_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False, default=random_id)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id", ondelete="CASCADE"))
    meeting_id: Mapped[Optional[int]] = mapped_column(ForeignKey("course_meeting.id", ondelete="CASCADE"))
    #: Named evaluations only (unique per run and meeting: a named form is answered once).
    participant_id: Mapped[Optional[int]] = mapped_column(ForeignKey("course_participant.id", ondelete="SET NULL"))
    instrument_code: Mapped[str] = mapped_column(String(20))
    instrument_version: Mapped[int] = mapped_column(Integer)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    useful: Mapped[Optional[str]] = mapped_column(EncryptedText)
    less_useful: Mapped[Optional[str]] = mapped_column(EncryptedText)
    answered_on: Mapped[date] = mapped_column(Date)
