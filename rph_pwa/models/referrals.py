"""Self-referral, the episode of care it becomes, and the team's work on it."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..codes import (
    AppointmentKind,
    AppointmentStatus,
    Channel,
    ContactMethod,
    EndReason,
    MeetingMode,
    Offering,
    ReferralStatus,
    values,
)
from ..crypto import EncryptedInt, EncryptedJSON, EncryptedText
from ..db import Base, UTCDateTime, utcnow
from .people import Municipality, Team, User

#: The coded values' stored strings (rph_pwa/codes.py), listed by the CheckConstraints below.
REFERRAL_STATUSES = values(ReferralStatus)
OFFERINGS = values(Offering)
CHANNELS = values(Channel)
#: Why an episode ended, recorded at discharge (H L4989-4993); a coded value kept in clear for statistics.
END_REASONS = values(EndReason)


class ReferralDraft(Base):
    """A self-referral in progress, saved after every step so nothing typed is lost.

    Found by a random key kept in the browser's (persistent) session; only its hash is stored.
    Everything the person wrote is in `data` (encrypted JSON).
    """

    __tablename__ = "referral_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The draft's answers so far (encrypted JSON).
    data: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    #: Set once the person has been shown crisis help in the flow.
    urgent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Referral(Base):
    """A submitted self-referral. Fields used for anonymised reach statistics are in clear;
    everything the person wrote or answered about their health is encrypted."""

    __tablename__ = "referral"
    __table_args__ = (
        CheckConstraint(f"status IN {REFERRAL_STATUSES!r}", name="status_known"),
        CheckConstraint(f"channel IN {CHANNELS!r}", name="channel_known"),
        Index("ix_referral_queue", "team_id", "status", "urgent", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Hash of the draft key: a second submit of the same draft finds this row instead.
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    #: Where the person lives (owner municipality for reporting).
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"))
    #: Where they prefer to meet (may be another municipality the team serves, for anonymity).
    meeting_municipality_id: Mapped[Optional[int]] = mapped_column(ForeignKey("municipality.id"))
    status: Mapped[str] = mapped_column(String(20), default="new")
    urgent: Mapped[bool] = mapped_column(default=False)
    #: Why urgent: "item9", "crisis" or both, comma separated (encrypted; `urgent` orders the queue).
    urgent_reason: Mapped[Optional[str]] = mapped_column(EncryptedText)
    channel: Mapped[str] = mapped_column(String(10), default="app")
    #: Age band and gender for anonymised reach statistics ("16-17", "18-24", ...).
    age_band: Mapped[str] = mapped_column(String(10))
    gender: Mapped[str] = mapped_column(String(20))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The full answers of the referral form (encrypted JSON): troubles, own words, goals,
    #: earlier help, work, contact preferences, GP consent, language needs.
    answers: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    #: Kind message sent when guided onward (encrypted).
    onward_message: Mapped[Optional[str]] = mapped_column(EncryptedText)
    onward_service_id: Mapped[Optional[int]] = mapped_column(ForeignKey("onward_service.id"))

    resident: Mapped[User] = relationship(foreign_keys=[resident_id])
    team: Mapped[Team] = relationship()
    municipality: Mapped[Municipality] = relationship(foreign_keys=[municipality_id])
    meeting_municipality: Mapped[Optional[Municipality]] = relationship(foreign_keys=[meeting_municipality_id])
    episode: Mapped[Optional["Episode"]] = relationship(back_populates="referral", uselist=False)
    responses: Mapped[list["MeasureResponse"]] = relationship(back_populates="referral", order_by="MeasureResponse.id")


class MeasureResponse(Base):
    """One completed questionnaire (PHQ-9, GAD-7, WSAS, AUDIT-C, DUDIT-C)."""

    __tablename__ = "measure_response"
    __table_args__ = (Index("ix_measure_response_episode_code_at", "episode_id", "instrument_code", "submitted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    referral_id: Mapped[Optional[int]] = mapped_column(ForeignKey("referral.id"), index=True)
    episode_id: Mapped[Optional[int]] = mapped_column(ForeignKey("episode.id"), index=True)
    instrument_code: Mapped[str] = mapped_column(String(20))
    instrument_version: Mapped[str] = mapped_column(String(20))
    #: Item answers as JSON, in the instrument's order (encrypted: statistics use total and band).
    answers: Mapped[list[int]] = mapped_column(EncryptedJSON)
    #: The answer to the separate functioning question (PHQ-9, GAD-7), not scored (encrypted).
    functioning: Mapped[Optional[int]] = mapped_column(EncryptedInt)
    total: Mapped[int]
    band: Mapped[str] = mapped_column(String(30))
    #: Risk flags, comma separated ("item9"; encrypted).
    flags: Mapped[str] = mapped_column(EncryptedText, default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The form request this answers (None for a referral's responses). Unique: however many posts
    #: of one form arrive at once, the database stores one response. (`use_alter`: form_request
    #: also points here, through its response_id.)
    form_request_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("form_request.id", use_alter=True), unique=True, index=True)

    referral: Mapped[Optional[Referral]] = relationship(back_populates="responses")


class Episode(Base):
    """An episode of care: what a referral becomes, with the dates the service reports on."""

    __tablename__ = "episode"
    __table_args__ = (
        CheckConstraint(f"end_reason IS NULL OR end_reason IN {END_REASONS!r}", name="end_reason_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), unique=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    referred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_contact_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    assessed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    first_treatment_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    discharged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: Agreed offerings (mixed care), comma separated from OFFERINGS.
    offerings: Mapped[str] = mapped_column(String(100), default="")
    #: The forms this person receives, chosen by the therapist (comma separated): PHQ-9 and GAD-7
    #: before every contact, WSAS before the first, every fourth and the last.
    instruments: Mapped[str] = mapped_column(String(100), default="PHQ-9,GAD-7,WSAS",
                                             server_default="PHQ-9,GAD-7,WSAS")
    #: Set when PHQ-9 item 9 above 0 is answered during the episode (cleared by the team).
    urgent_since: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: Work and sick leave at start (from the referral) and at the end (at discharge), as coded
    #: values in clear so statistics need no decryption.
    work_status_start: Mapped[Optional[str]] = mapped_column(String(20))
    sick_leave_start: Mapped[Optional[str]] = mapped_column(String(10))
    work_status_end: Mapped[Optional[str]] = mapped_column(String(20))
    sick_leave_end: Mapped[Optional[str]] = mapped_column(String(10))
    #: Why the episode ended (END_REASONS), set at discharge; coded, in clear for statistics.
    end_reason: Mapped[Optional[str]] = mapped_column(String(20))
    #: Guided onward: when the team follows up whether help started elsewhere (the episode stays
    #: open until then, handbook L1954-1960).
    follow_up_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, index=True)
    #: Guided onward, at closing: whether help started elsewhere, and what happened (encrypted).
    onward_help_started: Mapped[Optional[bool]]
    onward_outcome_note: Mapped[Optional[str]] = mapped_column(EncryptedText)
    #: The therapist responsible for the episode (the same therapist for weekly guidance), set at
    #: triage or assessment; every change is kept in `ResponsibleChange`.
    responsible_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"), index=True)
    #: Drop-out routine (H L2676-2686): when the written notice was sent, and the deadline it
    #: gave for getting in touch before the episode is closed as dropped out.
    dropout_notice_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    dropout_deadline: Mapped[Optional[date]] = mapped_column(Date)

    referral: Mapped[Referral] = relationship(back_populates="episode")
    responsible: Mapped[Optional[User]] = relationship(foreign_keys=[responsible_id])


class ContactAttempt(Base):
    """A try to reach the person (phone, SMS, letter), for the drop-out routine."""

    __tablename__ = "contact_attempt"
    __table_args__ = (
        CheckConstraint(f"method IN {values(ContactMethod)!r}", name="method_known"),
        CheckConstraint("outcome IN ('reached', 'no_answer', 'left_message')", name="outcome_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    method: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[Optional[str]] = mapped_column(EncryptedText)

    staff: Mapped[User] = relationship()


APPOINTMENT_KINDS = values(AppointmentKind)
APPOINTMENT_STATUSES = values(AppointmentStatus)
MEETING_MODES = values(MeetingMode)


class Appointment(Base):
    """A contact in an episode: the assessment conversation, a treatment session, a guided
    self-help check-in or a course meeting. Forms are asked for before each one (FormRequest);
    the reminders feature builds on this table."""

    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint(f"mode IN {MEETING_MODES!r}", name="mode_known"),
        CheckConstraint(f"kind IN {APPOINTMENT_KINDS!r}", name="kind_known"),
        CheckConstraint(f"status IN {APPOINTMENT_STATUSES!r}", name="status_known"),
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 600", name="duration_sane"),
        # I dag: a therapist's appointments of a day; missed appointments (few) of the caseload.
        Index("ix_appointment_staff_starts", "staff_id", "starts_at"),
        Index("ix_appointment_status_episode", "status", "episode_id"),
        # The caseload's and I dag's contact summary per episode, read from the index alone.
        Index("ix_appointment_episode_summary", "episode_id", "kind", "status", "duration_minutes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(20), default="assessment")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    mode: Mapped[str] = mapped_column(String(10))
    #: Where (office address, a room): staff free text (encrypted).
    place: Mapped[Optional[str]] = mapped_column(EncryptedText)
    #: The video meeting's address, entered by the therapist when booking (encrypted). Shown only
    #: to the signed-in resident, and only from shortly before the time (`services.resident_home.VIDEO_LINK_FROM`);
    #: never in a notification or calendar file.
    video_link: Mapped[Optional[str]] = mapped_column(EncryptedText)
    #: Booked by the resident in a slot the team published (`AssessmentSlot`).
    booked_by_resident: Mapped[bool] = mapped_column(default=False, server_default="0")
    #: How many times the resident moved it to another published slot (allowed once).
    resident_moves: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Planned length; attended contacts count towards the 15-hour budget.
    duration_minutes: Mapped[int] = mapped_column(default=45, server_default="45")
    status: Mapped[str] = mapped_column(String(20), default="booked", server_default="booked")
    #: The planned last contact of the episode (WSAS is asked before it).
    is_last: Mapped[bool] = mapped_column(default=False, server_default="0")
    #: The resident's answer to a reminder: "coming" ("Jeg kommer"); a change goes through
    #: `AppointmentRequest`. Cleared when the appointment moves.
    resident_answer: Mapped[Optional[str]] = mapped_column(String(10))
    resident_answered_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    #: A course meeting's contact in a participant's episode (kind `course_meeting`): it follows
    #: the meeting's time and the attendance the leaders mark (`services.courses`).
    course_meeting_id: Mapped[Optional[int]] = mapped_column(ForeignKey("course_meeting.id", ondelete="CASCADE"),
                                                             index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff: Mapped[User] = relationship()
    form_requests: Mapped[list["FormRequest"]] = relationship(back_populates="appointment",
                                                              order_by="FormRequest.id")


class FormRequest(Base):
    """A questionnaire the resident is asked to fill in before a contact (open from 48 hours
    before). At most one per contact and instrument; its response is linked once given."""

    __tablename__ = "form_request"
    __table_args__ = (UniqueConstraint("appointment_id", "instrument_code", name="uq_form_request_contact_code"),
                      Index("ix_form_request_resident_open", "resident_id", "opens_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id", ondelete="CASCADE"))
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    instrument_code: Mapped[str] = mapped_column(String(20))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The answer, once given (unique: a form submitted twice counts once).
    response_id: Mapped[Optional[int]] = mapped_column(ForeignKey("measure_response.id"), unique=True)
    #: A partly filled form (encrypted JSON of the raw answers), kept until it is sent.
    draft: Mapped[Optional[dict[str, list[str]]]] = mapped_column(EncryptedJSON)

    appointment: Mapped[Appointment] = relationship(back_populates="form_requests")
    response: Mapped[Optional["MeasureResponse"]] = relationship(foreign_keys=[response_id])


class IntakeChecklist(Base):
    """The team's standard intake checklist (handbook ch. 3.1) for one episode."""

    __tablename__ = "intake_checklist"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    goals: Mapped[bool] = mapped_column(default=False)
    work: Mapped[bool] = mapped_column(default=False)
    trauma: Mapped[bool] = mapped_column(default=False)
    substance_use: Mapped[bool] = mapped_column(default=False)
    suicide_questions: Mapped[bool] = mapped_column(default=False)
    # Handbook L1388–1428, L4794–4798 and L3108: what the assessment conversation covers
    # (covered or not: booleans in clear; what was said goes in the record, or `notes`).
    why_now: Mapped[bool] = mapped_column(default=False, server_default="0")
    expectations: Mapped[bool] = mapped_column(default=False, server_default="0")
    development: Mapped[bool] = mapped_column(default=False, server_default="0")
    functioning: Mapped[bool] = mapped_column(default=False, server_default="0")
    family: Mapped[bool] = mapped_column(default=False, server_default="0")
    earlier_help: Mapped[bool] = mapped_column(default=False, server_default="0")
    resources: Mapped[bool] = mapped_column(default=False, server_default="0")
    change_information: Mapped[bool] = mapped_column(default=False, server_default="0")
    #: Children as relatives: asked whether the person has children under 18 (a legal duty).
    children: Mapped[bool] = mapped_column(default=False, server_default="0")
    #: Ages 16–17: the confidentiality rules that apply were explained.
    minor_confidentiality: Mapped[bool] = mapped_column(default=False, server_default="0")
    notes: Mapped[Optional[str]] = mapped_column(EncryptedText)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OfferingChange(Base):
    """A change of offering in an episode with its short "fot i bakken" note (handbook L1722,
    L1796): how it went, what was learnt, what comes next."""

    __tablename__ = "offering_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    #: The offerings before and after, comma separated keys from OFFERINGS (coded, in clear).
    from_offerings: Mapped[str] = mapped_column(String(100), default="")
    to_offerings: Mapped[str] = mapped_column(String(100), default="")
    #: The note (encrypted free text).
    note: Mapped[str] = mapped_column(EncryptedText)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff: Mapped[User] = relationship()


class ResponsibleChange(Base):
    """A change of an episode's responsible therapist: who set it, from whom to whom, when, and
    why (a note, required when one therapist hands over to another)."""

    __tablename__ = "responsible_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episode.id"), index=True)
    #: The therapist responsible before (None: the first choice).
    from_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user.id"))
    to_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    #: Who made the change.
    staff_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    #: Why (encrypted free text; optional for the first choice).
    note: Mapped[Optional[str]] = mapped_column(EncryptedText)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    from_staff: Mapped[Optional[User]] = relationship(foreign_keys=[from_id])
    to_staff: Mapped[User] = relationship(foreign_keys=[to_id])
    staff: Mapped[User] = relationship(foreign_keys=[staff_id])


class OnwardService(Base):
    """An entry in the team's directory of onward services (GP, DPS, frisklivssentral, ...)."""

    __tablename__ = "onward_service"
    __table_args__ = (UniqueConstraint("team_id", "name", name="uq_onward_service_team_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(500), default="")
    phone: Mapped[Optional[str]] = mapped_column(String(30))
    url: Mapped[Optional[str]] = mapped_column(String(300))
