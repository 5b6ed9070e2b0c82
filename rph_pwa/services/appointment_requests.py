"""A resident asks to change or cancel an appointment; the team answers. Nothing about the
appointment changes until the team does: "moved" sets the new time (and moves the forms asked
before it), "cancelled" cancels it, "kept" leaves it as it is. One request per appointment is open
at a time (a unique column, so parallel posts store one).

Residents act on their own appointments only; staff on requests of their own teams (`access`).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ..codes import RequestAnswer, RequestKind, values
from ..db import utcnow
from ..models import Appointment, AppointmentRequest, Episode, FormRequest, User
from .access import clinical_team_ids, team_object
from .errors import Conflict, NotFound
from .outcomes import OPENS_BEFORE

#: Longest reason a resident may give, and longest answer note.
REASON_MAX = 500
NOTE_MAX = 500


class AlreadyAsked(Conflict):
    """The appointment already has an open request (the first one is kept)."""


def resident_appointment(session: Session, *, resident: User, appointment_id: int) -> Appointment:
    """One of the resident's own appointments (NotFound for anyone else's and unknown ids)."""
    appointment = session.scalars(
        select(Appointment).join(Episode, Episode.id == Appointment.episode_id)
        .where(Appointment.id == appointment_id, Episode.resident_id == resident.id)).first()
    if appointment is None:
        raise NotFound("appointment")
    return appointment


def ask(session: Session, *, resident: User, appointment_id: int, kind: str, reason: str | None = None,
        now: datetime | None = None) -> AppointmentRequest:
    """Ask the team to change or cancel one of the resident's upcoming booked appointments.

    NotFound for an appointment that is not the resident's; Conflict when it is not upcoming and
    booked; AlreadyAsked when a request for it is still open (parallel posts store one request).
    """
    now = now or utcnow()
    if kind not in values(RequestKind):
        raise ValueError("unknown kind of request")
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > REASON_MAX:
        raise ValueError("reason too long")
    appointment = resident_appointment(session, resident=resident, appointment_id=appointment_id)
    if appointment.status != "booked" or appointment.starts_at <= now:
        raise Conflict("not an upcoming appointment")
    episode = session.get(Episode, appointment.episode_id)
    request = AppointmentRequest(appointment_id=appointment.id, resident_id=resident.id, team_id=episode.team_id,
                                 kind=kind, reason=reason, created_at=now, open_appointment_id=appointment.id)
    try:
        with session.begin_nested():
            session.add(request)
            session.flush()
    except IntegrityError:
        raise AlreadyAsked("a request for this appointment is open") from None
    return request


def requests_for_resident(session: Session, *, resident: User,
                          appointment_ids: list[int]) -> dict[int, AppointmentRequest]:
    """The newest request per appointment among `appointment_ids`, for the resident's pages."""
    if not appointment_ids:
        return {}
    rows = session.scalars(
        select(AppointmentRequest)
        .where(AppointmentRequest.resident_id == resident.id, AppointmentRequest.appointment_id.in_(appointment_ids))
        .order_by(AppointmentRequest.created_at, AppointmentRequest.id))
    return {row.appointment_id: row for row in rows}


def open_requests(session: Session, *, actor: User) -> list[AppointmentRequest]:
    """Unanswered requests of the actor's teams, oldest first, with their appointment and resident
    loaded (callers that show them audit the read)."""
    team_ids = clinical_team_ids(session, actor, what="requests")
    return list(session.scalars(
        select(AppointmentRequest)
        .options(selectinload(AppointmentRequest.appointment), selectinload(AppointmentRequest.resident))
        .where(AppointmentRequest.team_id.in_(team_ids), AppointmentRequest.answered_at.is_(None))
        .order_by(AppointmentRequest.created_at, AppointmentRequest.id)))


def count_open(session: Session, *, actor: User) -> int:
    """How many requests of the actor's teams wait for an answer."""
    team_ids = clinical_team_ids(session, actor, what="requests")
    return session.scalar(select(func.count(AppointmentRequest.id))
                          .where(AppointmentRequest.team_id.in_(team_ids), AppointmentRequest.answered_at.is_(None)))


def request_for_staff(session: Session, *, actor: User, request_id: int) -> AppointmentRequest:
    """A request of one of the actor's teams (NotFound otherwise)."""
    return team_object(session, actor, AppointmentRequest, request_id, what="request")


def answer(session: Session, *, actor: User, request_id: int, answer: str, new_starts_at: datetime | None = None,
           note: str | None = None, now: datetime | None = None) -> AppointmentRequest:
    """Answer a request: move the appointment to `new_starts_at`, cancel it, or keep it.

    The request row is locked and read again, so two staff answering at once answer it once
    (Conflict for the second). Moving needs a time in the future (ValueError otherwise).
    """
    now = now or utcnow()
    if answer not in values(RequestAnswer):
        raise ValueError("unknown answer")
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise ValueError("note too long")
    request = request_for_staff(session, actor=actor, request_id=request_id)
    session.refresh(request, with_for_update=True)
    if request.answered_at is not None:
        raise Conflict("already answered")
    appointment = session.get(Appointment, request.appointment_id)
    if answer == RequestAnswer.MOVED:
        if new_starts_at is None or new_starts_at <= now:
            raise ValueError("a new time in the future is needed")
        if appointment.status != "booked":
            raise Conflict("appointment not booked")
        move_appointment(session, appointment=appointment, starts_at=new_starts_at)
    elif answer == RequestAnswer.CANCELLED and appointment.status == "booked":
        appointment.status = "cancelled"
    request.answer = answer
    request.answer_note = note
    request.answered_at = now
    request.answered_by_id = actor.id
    request.open_appointment_id = None
    session.flush()
    return request


def move_appointment(session: Session, *, appointment: Appointment, starts_at: datetime) -> None:
    """Give an appointment a new time; its unanswered forms open 48 hours before the new time."""
    appointment.starts_at = starts_at
    session.execute(update(FormRequest)
                    .where(FormRequest.appointment_id == appointment.id, FormRequest.response_id.is_(None))
                    .values(opens_at=starts_at - OPENS_BEFORE))
    session.flush()
