"""Booking the first conversation yourself: a team publishes free times for assessment
conversations (`AssessmentSlot`); a resident whose referral was received (and is not urgent: the
team calls those) takes one, may move it once, and the team sees it at once. A team lead can turn
self-booking off for the team.

Taking a slot is one conditional UPDATE (`appointment_id IS NULL AND withdrawn_at IS NULL`), so two
residents never get the same time; the resident's episode row is locked first, so one resident's
parallel posts make one booking. Staff access through `access`; the team's list audits the
residents' names it shows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, selectinload

from ..codes import MeetingMode, values
from ..db import utcnow
from ..localtime import local_date
from ..models import Appointment, AssessmentSlot, AuditEvent, Episode, Referral, Role, Team, User
from .access import require_role, require_team, team_object
from .appointment_requests import move_appointment
from .errors import Conflict
from .outcomes import plan_forms
from .responsibility import NotOnTeam, team_therapists
from .triage import phase_of

#: At most this many slots in one post (a long day of short conversations).
MAX_PER_POST = 40
#: A slot's length, in minutes.
MIN_MINUTES, MAX_MINUTES = 15, 240
#: Longest place text.
PLACE_MAX = 200
#: A resident books (or moves to) a time at least this far ahead, so the team has time to prepare;
#: a booking this close is no longer moved by the resident either.
BOOK_AHEAD = timedelta(hours=2)
#: How many free slots a resident is offered at most (the earliest first).
OFFERED_MAX = 60
#: How many upcoming slots the team's page lists at most.
LISTED_MAX = 300


class SlotsOverlap(Conflict):
    """The new slots overlap a slot the therapist already has."""


class SlotTaken(Conflict):
    """The slot is gone: someone else took it, the team withdrew it, or it is too soon (or it is
    not the resident's team's, which the resident is told the same way)."""


class SlotBooked(Conflict):
    """A booked slot cannot be withdrawn (the appointment is changed on the episode page)."""


class NotBookable(Conflict):
    """The resident may not book (or move) now: urgent referral, self-booking off, not waiting for
    an assessment, already booked, or already moved once."""


# --- The team's side --------------------------------------------------------------------------

def publish_slots(session: Session, *, actor: User, team_id: int, staff_id: int, first_start: datetime,
                  duration_minutes: int, mode: str, place: str | None = None, count: int = 1,
                  every_minutes: int | None = None, now: datetime | None = None) -> list[AssessmentSlot]:
    """Publish one free time, or `count` of them starting `every_minutes` apart (default: back to
    back), for `staff_id`, an active therapist or team lead of the team (NotOnTeam otherwise).

    ValueError for a time not in the future, a count outside 1..MAX_PER_POST, a length outside
    MIN_MINUTES..MAX_MINUTES, slots that would overlap each other, or an unknown mode;
    SlotsOverlap when a new slot overlaps one the therapist already has. NotFound unless the actor
    is clinical staff on the team.
    """
    now = now or utcnow()
    if staff_id not in {u.id for u in team_therapists(session, actor=actor, team_id=team_id)}:
        raise NotOnTeam("not a therapist or team lead of the team")
    every = every_minutes if every_minutes is not None else duration_minutes
    if not 1 <= count <= MAX_PER_POST:
        raise ValueError("count out of range")
    if not MIN_MINUTES <= duration_minutes <= MAX_MINUTES:
        raise ValueError("length out of range")
    if every < duration_minutes:
        raise ValueError("slots would overlap each other")
    if mode not in values(MeetingMode):
        raise ValueError("unknown mode")
    place = (place or "").strip() or None
    if place is not None and len(place) > PLACE_MAX:
        raise ValueError("place too long")
    if first_start <= now:
        raise ValueError("the first time must be in the future")
    starts = [first_start + timedelta(minutes=every * i) for i in range(count)]
    length = timedelta(minutes=duration_minutes)
    _refuse_overlap(session, staff_id=staff_id, starts=starts, length=length)
    slots = [AssessmentSlot(team_id=team_id, staff_id=staff_id, starts_at=start, duration_minutes=duration_minutes,
                            mode=mode, place=place, created_by_id=actor.id, created_at=now) for start in starts]
    session.add_all(slots)
    session.flush()
    return slots


def _refuse_overlap(session: Session, *, staff_id: int, starts: list[datetime], length: timedelta) -> None:
    """SlotsOverlap when one of the new times overlaps the therapist's existing (not withdrawn) slots."""
    existing = session.execute(
        select(AssessmentSlot.starts_at, AssessmentSlot.duration_minutes)
        .where(AssessmentSlot.staff_id == staff_id, AssessmentSlot.withdrawn_at.is_(None),
               AssessmentSlot.starts_at < starts[-1] + length,
               AssessmentSlot.starts_at > starts[0] - timedelta(minutes=MAX_MINUTES))).all()
    for start in starts:
        for other_start, other_minutes in existing:
            if start < other_start + timedelta(minutes=other_minutes) and other_start < start + length:
                raise SlotsOverlap("overlaps an existing slot")


def withdraw_slot(session: Session, *, actor: User, slot_id: int, now: datetime | None = None) -> AssessmentSlot:
    """Take a free slot back, so it is no longer offered (a repeated post is harmless). SlotBooked
    when a resident has booked it; NotFound unless the slot is of one of the actor's teams."""
    slot = team_object(session, actor, AssessmentSlot, slot_id, what="slot")
    taken = session.execute(
        update(AssessmentSlot)
        .where(AssessmentSlot.id == slot.id, AssessmentSlot.appointment_id.is_(None),
               AssessmentSlot.withdrawn_at.is_(None))
        .values(withdrawn_at=now or utcnow()))
    session.refresh(slot)
    if taken.rowcount == 0 and slot.appointment_id is not None:
        raise SlotBooked("the slot is booked")
    return slot


@dataclass(frozen=True)
class SlotRow:
    """One upcoming slot on the team's page."""

    id: int
    starts_at: datetime
    duration_minutes: int
    mode: str
    place: str | None
    staff_name: str
    #: The booked appointment's episode (None: free).
    episode_id: int | None
    resident_name: str | None
    booked_by_resident: bool

    @property
    def booked(self) -> bool:
        """Whether someone has this time."""
        return self.episode_id is not None


def team_slots(session: Session, *, actor: User, team_id: int, now: datetime | None = None) -> list[SlotRow]:
    """The team's upcoming, not withdrawn slots in time order, free or booked (with the booked
    appointment's episode and the resident's name). One audit event per booked row shown.
    NotFound unless the actor is clinical staff on the team."""
    require_team(session, actor, team_id, what="team")
    now = now or utcnow()
    rows = session.execute(
        select(AssessmentSlot, Appointment, Episode.id, Episode.resident_id, User.display_name)
        .options(selectinload(AssessmentSlot.staff))
        .outerjoin(Appointment, Appointment.id == AssessmentSlot.appointment_id)
        .outerjoin(Episode, Episode.id == Appointment.episode_id)
        .outerjoin(User, User.id == Episode.resident_id)
        .where(AssessmentSlot.team_id == team_id, AssessmentSlot.withdrawn_at.is_(None),
               AssessmentSlot.starts_at >= now)
        .order_by(AssessmentSlot.starts_at, AssessmentSlot.id).limit(LISTED_MAX)).all()
    booked = [(slot, resident_id) for slot, _a, _e, resident_id, _n in rows if resident_id is not None]
    if booked:
        session.execute(insert(AuditEvent), [
            {"actor_id": actor.id, "subject_id": resident_id, "team_id": team_id, "action": "view_referral",
             "object_type": "assessment_slot", "object_id": slot.id, "at": now}
            for slot, resident_id in booked
        ])
    return [SlotRow(id=slot.id, starts_at=slot.starts_at, duration_minutes=slot.duration_minutes, mode=slot.mode,
                    place=slot.place, staff_name=slot.staff.display_name or slot.staff.username or "",
                    episode_id=episode_id, resident_name=(name or f"#{resident_id}") if resident_id else None,
                    booked_by_resident=bool(appointment and appointment.booked_by_resident))
            for slot, appointment, episode_id, resident_id, name in rows]


def set_self_booking(session: Session, *, actor: User, team_id: int, enabled: bool) -> Team:
    """Let the team's residents book their first conversation themselves, or not (team leads of
    the team only; NotFound for anyone else)."""
    require_role(actor, Role.TEAM_LEAD, what="team")
    require_team(session, actor, team_id, what="team")
    team = session.get(Team, team_id)
    team.self_booking = enabled
    session.flush()
    return team


# --- The resident's side ----------------------------------------------------------------------

@dataclass(frozen=True)
class FreeSlot:
    """A time the resident can choose."""

    id: int
    starts_at: datetime
    duration_minutes: int
    mode: str
    place: str | None

    @property
    def ends_at(self) -> datetime:
        """When the conversation is planned to end."""
        return self.starts_at + timedelta(minutes=self.duration_minutes)


@dataclass(frozen=True)
class SlotDay:
    """The free times of one local day."""

    day: date
    slots: list[FreeSlot]


@dataclass(frozen=True)
class BookingOffer:
    """What the resident may do now: book a first time (`can_book`), move the time they booked
    (`can_move`), or neither (`reason` says why: "no_referral", "ended", "urgent", "off",
    "not_waiting", "booked", "moved", "too_late", "no_slots", or "" when something is possible)."""

    can_book: bool
    can_move: bool
    reason: str
    #: The booked assessment conversation, whoever booked it (None: none booked).
    booking: Appointment | None
    #: Free times by local day (empty unless the resident can book or move).
    days: list[SlotDay]
    #: The team of the resident's latest episode (its phone for "the team will call").
    team: Team | None

    @property
    def possible(self) -> bool:
        """Whether the resident can choose a time now."""
        return self.can_book or self.can_move


@dataclass(frozen=True)
class _State:
    episode: Episode | None
    referral: Referral | None
    team: Team | None
    booking: Appointment | None
    phase: str


@dataclass(frozen=True)
class LatestEpisode:
    """The resident's latest episode with its referral, team and every appointment, as a page
    that has loaded them already (the resident's home) hands them over."""

    episode: Episode | None
    referral: Referral | None
    team: Team | None
    appointments: list[Appointment]


def _state(session: Session, resident: User, latest: LatestEpisode | None = None) -> _State:
    """The resident's latest episode, its referral and team, and its booked assessment (loaded
    here unless `latest` brings them)."""
    if latest is not None:
        return _state_of(latest.episode, latest.referral, latest.team, latest.appointments)
    episode = session.scalars(select(Episode).where(Episode.resident_id == resident.id)
                              .order_by(Episode.referred_at.desc(), Episode.id.desc()).limit(1)).first()
    if episode is None:
        return _State(None, None, None, None, "")
    appointments = list(session.scalars(select(Appointment).where(Appointment.episode_id == episode.id)))
    return _state_of(episode, session.get(Referral, episode.referral_id), session.get(Team, episode.team_id),
                     appointments)


def _state_of(episode: Episode | None, referral: Referral | None, team: Team | None,
              appointments: list[Appointment]) -> _State:
    if episode is None:
        return _State(None, None, None, None, "")
    booking = next((a for a in sorted(appointments, key=lambda a: a.starts_at)
                    if a.kind == "assessment" and a.status == "booked"), None)
    return _State(episode, referral, team, booking, phase_of(episode, referral, appointments))


def _refusal(state: _State, now: datetime) -> tuple[str, str]:
    """Why the resident may not book a first time, and why they may not move their booking
    ("" means allowed; "none" for a move means there is nothing to move)."""
    if state.episode is None:
        return "no_referral", "no_referral"
    if state.episode.discharged_at is not None:
        return "ended", "ended"
    if state.referral.urgent:
        return "urgent", "urgent"
    if not state.team.self_booking:
        return "off", "off"
    booking = state.booking
    if state.phase == "waiting_assessment":
        return "", "none"
    book = "booked" if booking is not None else "not_waiting"
    if booking is None or state.phase != "assessment_booked":
        return book, "not_waiting"
    if not booking.booked_by_resident:
        return book, "booked"
    if booking.resident_moves > 0:
        return book, "moved"
    if booking.starts_at < now + BOOK_AHEAD:
        return book, "too_late"
    return book, ""


def _free_slots(session: Session, *, team_id: int, now: datetime) -> list[FreeSlot]:
    return [FreeSlot(id=s.id, starts_at=s.starts_at, duration_minutes=s.duration_minutes, mode=s.mode, place=s.place)
            for s in session.scalars(
                select(AssessmentSlot)
                .where(AssessmentSlot.team_id == team_id, AssessmentSlot.appointment_id.is_(None),
                       AssessmentSlot.withdrawn_at.is_(None), AssessmentSlot.starts_at >= now + BOOK_AHEAD)
                .order_by(AssessmentSlot.starts_at, AssessmentSlot.id).limit(OFFERED_MAX))]


def booking_offer(session: Session, *, resident: User, now: datetime | None = None,
                  latest: LatestEpisode | None = None) -> BookingOffer:
    """Whether the resident may book their first conversation now, or move the one they booked,
    and the free times to choose from (grouped by local day).

    Booking needs: the latest episode open, its referral not urgent, the team's self-booking on,
    the phase "waiting_assessment" (no assessment booked), and free times at least BOOK_AHEAD away.
    Moving needs a booking the resident made in a slot, not moved before, still BOOK_AHEAD away.
    `latest`: the resident's latest episode as the caller loaded it (saves loading it again).
    """
    now = now or utcnow()
    state = _state(session, resident, latest)
    book, move = _refusal(state, now)
    free = _free_slots(session, team_id=state.team.id, now=now) if "" in (book, move) else []
    days: dict[date, list[FreeSlot]] = {}
    for slot in free:
        days.setdefault(local_date(slot.starts_at), []).append(slot)
    can_book, can_move = book == "" and bool(free), move == "" and bool(free)
    if can_book or can_move:
        reason = ""
    elif "" in (book, move):
        reason = "no_slots"
    else:
        reason = move if move not in ("none", "not_waiting") else book
        if state.booking is not None and reason in ("urgent", "off"):
            reason = "booked"  # what matters now is the time they have
    return BookingOffer(can_book=can_book, can_move=can_move, reason=reason, booking=state.booking,
                        days=[SlotDay(day, slots) for day, slots in days.items()] if reason == "" else [],
                        team=state.team)


def _locked_state(session: Session, resident: User) -> _State:
    """`_state` after locking the latest episode's row, so one resident's parallel posts run one at
    a time (PostgreSQL; SQLite's BEGIN IMMEDIATE already does) and each sees the one before."""
    state = _state(session, resident)
    if state.episode is not None:
        session.refresh(state.episode, with_for_update=True)
        state = _state(session, resident)
    return state


def _take(session: Session, *, slot_id: int, appointment_id: int, team_id: int, now: datetime) -> AssessmentSlot:
    """The conditional UPDATE that takes a slot for an appointment; SlotTaken when no row matched."""
    taken = session.execute(
        update(AssessmentSlot)
        .where(AssessmentSlot.id == slot_id, AssessmentSlot.appointment_id.is_(None),
               AssessmentSlot.withdrawn_at.is_(None), AssessmentSlot.team_id == team_id,
               AssessmentSlot.starts_at >= now + BOOK_AHEAD)
        .values(appointment_id=appointment_id))
    if taken.rowcount != 1:
        raise SlotTaken("the slot is gone")
    slot = session.get(AssessmentSlot, slot_id)
    session.refresh(slot)
    return slot


def book_slot(session: Session, *, resident: User, slot_id: int, now: datetime | None = None) -> Appointment:
    """Book the resident's assessment conversation in a free slot of their team.

    NotBookable when `booking_offer` would not let them book (urgent, self-booking off, already
    booked, not waiting); SlotTaken when the slot is gone (taken, withdrawn, too soon, another
    team's or unknown). The appointment gets the slot's therapist, time, length, mode and place,
    and its forms are planned as for a booking by staff; a new referral is now in contact.
    """
    now = now or utcnow()
    state = _locked_state(session, resident)
    book, _move = _refusal(state, now)
    if book:
        raise NotBookable(book)
    slot = session.get(AssessmentSlot, slot_id)
    if slot is None:
        raise SlotTaken("no such slot")
    episode, referral = state.episode, state.referral
    with session.begin_nested():  # the appointment goes again if the slot cannot be taken
        appointment = Appointment(episode_id=episode.id, staff_id=slot.staff_id, kind="assessment",
                                  starts_at=slot.starts_at, duration_minutes=slot.duration_minutes, mode=slot.mode,
                                  place=slot.place, booked_by_resident=True, created_at=now)
        session.add(appointment)
        session.flush()
        _take(session, slot_id=slot_id, appointment_id=appointment.id, team_id=episode.team_id, now=now)
    if referral.status == "new":
        referral.status = "in_contact"
    session.flush()
    plan_forms(session, appointment=appointment, episode=episode)
    return appointment


def move_booking(session: Session, *, resident: User, slot_id: int, now: datetime | None = None) -> Appointment:
    """Move the resident's own booking to another free slot of their team, once.

    The new slot is taken with the same conditional UPDATE, the old one is free again, and the
    appointment (with its forms' opening time) moves. NotBookable when there is nothing to move or
    it was moved before; SlotTaken when the new slot is gone.
    """
    now = now or utcnow()
    state = _locked_state(session, resident)
    _book, move = _refusal(state, now)
    if move:
        raise NotBookable(move)
    appointment = state.booking
    with session.begin_nested():  # the old slot is held again if the new one cannot be taken
        session.execute(update(AssessmentSlot).where(AssessmentSlot.appointment_id == appointment.id)
                        .values(appointment_id=None))
        slot = _take(session, slot_id=slot_id, appointment_id=appointment.id, team_id=state.episode.team_id, now=now)
    appointment.staff_id = slot.staff_id
    appointment.duration_minutes = slot.duration_minutes
    appointment.mode = slot.mode
    appointment.place = slot.place
    appointment.resident_moves += 1
    move_appointment(session, appointment=appointment, starts_at=slot.starts_at)
    return appointment
