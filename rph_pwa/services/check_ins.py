"""The resident's weekly check-in: what I worked on, what helped, what was hard, a question, and
"I need to talk to someone sooner".

A check-in belongs to one contact of kind `check_in` (booked by `services.selfhelp`); its forms
are that contact's forms. The current check-in is the resident's earliest booked check-in contact
not yet written; it can be written from `OPENS_BEFORE` before its time (when its forms open) and
stays open until sent, also when late. It is sent once: `check_in_report.appointment_id` is
unique, so a second or parallel send is a Conflict, never a second report. Sending puts it in the
therapist's review queue, who reads it within `READ_WITHIN_WORKING_DAYS` working days.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..codes import AppointmentKind
from ..db import utcnow
from ..localtime import add_working_days, local_date
from ..models import Appointment, CheckInReport, Episode, FormRequest, User
from . import selfhelp, urgent_flags
from .errors import Conflict, NotFound
from .outcomes import OPENS_BEFORE, form_not_answered

#: The resident's answers, in the form's order.
ANSWERS = ("worked_on", "helped", "hard", "question")
#: Longest answer.
ANSWER_MAX = 2000
#: The therapist reads a check-in within this many working days of its day (or of sending, if later).
READ_WITHIN_WORKING_DAYS = 2


class CheckInInvalid(ValueError):
    """Answers that cannot be sent: all empty, or one too long."""


@dataclass(frozen=True)
class CheckIn:
    """The current check-in: its contact, when it opens, whether it can be written now, and the
    contact's forms not yet answered (to link to)."""

    appointment: Appointment
    opens_at: datetime
    is_open: bool
    forms: list[FormRequest]


def read_by(*, due: datetime, sent: datetime) -> date:
    """The day by which the therapist reads a check-in due at `due` and sent at `sent`."""
    return add_working_days(max(local_date(due), local_date(sent)), READ_WITHIN_WORKING_DAYS)


def _unwritten_check_ins():
    return (select(Appointment).join(Episode, Episode.id == Appointment.episode_id)
            .outerjoin(CheckInReport, CheckInReport.appointment_id == Appointment.id)
            .where(Appointment.kind == AppointmentKind.CHECK_IN.value, Appointment.status == "booked",
                   CheckInReport.id.is_(None)))


def current_check_in(session: Session, *, resident: User, now: datetime | None = None) -> CheckIn | None:
    """The resident's next booked check-in contact not yet written, with its open forms, or None.
    Two queries."""
    now = now or utcnow()
    appointment = session.scalars(_unwritten_check_ins().where(Episode.resident_id == resident.id)
                                  .order_by(Appointment.starts_at, Appointment.id).limit(1)).first()
    if appointment is None:
        return None
    opens_at = appointment.starts_at - OPENS_BEFORE
    is_open = opens_at <= now
    forms = list(session.scalars(
        select(FormRequest).where(FormRequest.appointment_id == appointment.id, FormRequest.resident_id == resident.id,
                                  form_not_answered())
        .order_by(FormRequest.id))) if is_open else []
    return CheckIn(appointment=appointment, opens_at=opens_at, is_open=is_open, forms=forms)


def waiting_report(session: Session, *, resident: User) -> CheckInReport | None:
    """The resident's newest check-in sent and not yet reviewed (for "it will be read by ...")."""
    return session.scalars(select(CheckInReport).where(CheckInReport.resident_id == resident.id,
                                                       CheckInReport.reviewed_at.is_(None))
                           .order_by(CheckInReport.sent_at.desc(), CheckInReport.id.desc()).limit(1)).first()


def new_feedback(session: Session, *, resident: User) -> CheckInReport | None:
    """The therapist's newest written feedback the resident has not opened yet, or None."""
    return session.scalars(select(CheckInReport).where(CheckInReport.resident_id == resident.id,
                                                       CheckInReport.reviewed_at.is_not(None),
                                                       CheckInReport.feedback.is_not(None),
                                                       CheckInReport.feedback_seen_at.is_(None))
                           .order_by(CheckInReport.reviewed_at.desc(), CheckInReport.id.desc()).limit(1)).first()


def feedback_list(session: Session, *, resident: User) -> list[CheckInReport]:
    """Every check-in of the resident with the therapist's feedback, newest first."""
    return list(session.scalars(select(CheckInReport).where(CheckInReport.resident_id == resident.id,
                                                            CheckInReport.reviewed_at.is_not(None),
                                                            CheckInReport.feedback.is_not(None))
                                .order_by(CheckInReport.reviewed_at.desc(), CheckInReport.id.desc())))


def mark_feedback_seen(reports: list[CheckInReport], *, now: datetime | None = None) -> None:
    """The resident has opened the feedback (shown on its own page): it is no longer "new"."""
    now = now or utcnow()
    for report in reports:
        if report.feedback_seen_at is None:
            report.feedback_seen_at = now


def clean(answers: Mapping[str, str | None]) -> dict[str, str]:
    """The answers as stored (trimmed, empty ones left out); CheckInInvalid when none is filled in
    or one is longer than ANSWER_MAX."""
    cleaned = {name: (answers.get(name) or "").replace("\r\n", "\n").strip() for name in ANSWERS}
    cleaned = {name: text for name, text in cleaned.items() if text}
    if not cleaned:
        raise CheckInInvalid("empty")
    if any(len(text) > ANSWER_MAX for text in cleaned.values()):
        raise CheckInInvalid("too long")
    return cleaned


def submit_check_in(session: Session, *, resident: User, appointment_id: int, answers: Mapping[str, str | None],
                    talk_sooner: bool = False, now: datetime | None = None) -> CheckInReport:
    """Send the resident's check-in for one of their open check-in contacts, once.

    NotFound: not the resident's, not a check-in, not booked or not open yet. Conflict: already
    sent (also when a parallel send won). "I need to talk to someone sooner" raises an urgent
    flag (reason `talk_sooner`) in the same transaction."""
    now = now or utcnow()
    cleaned = clean(answers)
    row = session.execute(select(Appointment, Episode).join(Episode, Episode.id == Appointment.episode_id)
                          .where(Appointment.id == appointment_id)).first()
    if row is None:
        raise NotFound("check-in")
    appointment, episode = row
    if (episode.resident_id != resident.id or appointment.kind != AppointmentKind.CHECK_IN.value
            or appointment.status != "booked" or appointment.starts_at - OPENS_BEFORE > now):
        raise NotFound("check-in")
    if session.scalars(select(CheckInReport.id).where(CheckInReport.appointment_id == appointment.id)).first():
        raise Conflict("check-in already sent")
    assignment = selfhelp.episode_assignment(session, episode_id=episode.id)
    report = CheckInReport(appointment_id=appointment.id, episode_id=episode.id, resident_id=resident.id,
                           assignment_id=assignment.id if assignment else None, answers=cleaned,
                           talk_sooner=bool(talk_sooner), sent_at=now)
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:
        raise Conflict("check-in already sent") from None
    if talk_sooner:
        urgent_flags.raise_flag(session, resident_id=resident.id, team_id=episode.team_id, reason="talk_sooner",
                                episode_id=episode.id, now=now)
    return report
