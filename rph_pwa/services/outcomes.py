"""Routine outcome monitoring: forms before every contact, the resident's progress, and the
therapist's view of an episode with its flags.

Default plan: the episode's instruments (PHQ-9 + GAD-7) before every contact, WSAS too before the
first contact, every fourth contact and the last. Forms open 48 hours before the contact.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from .. import measures
from ..db import utcnow
from ..models import Appointment, Episode, FormRequest, MeasureResponse, Referral, UrgentFlag, User
from ..models.referrals import APPOINTMENT_KINDS
from . import audit, record_text, urgent_flags
from .access import CLINICAL_ROLES, staff_team_ids
from .errors import Conflict, NotFound

OPENS_BEFORE = timedelta(hours=48)
#: How long after the contact a form can still be sent (the contact may have moved a little).
CLOSES_AFTER = timedelta(hours=24)
WSAS_EVERY = 4
#: The treatment budget of one episode (handbook: at most 15 hours).
BUDGET_HOURS = 15
#: "Not on track": no reliable improvement after this many scored contacts.
NOT_ON_TRACK_AFTER = 4
PROGRESS_INSTRUMENTS = ("PHQ-9", "GAD-7", "WSAS")
#: Our own short session-feedback form, asked before every contact that follows an attended one.
FEEDBACK = "SESSION-FEEDBACK"
MEETING_MODES = ("phone", "office", "video")
#: Dates in the closure note are Norwegian calendar dates (the database keeps UTC).
NOTE_ZONE = ZoneInfo("Europe/Oslo")


# --- Planning forms for a contact ---------------------------------------------------------------

def plan_forms(session: Session, *, appointment: Appointment, episode: Episode) -> list[FormRequest]:
    """Create the form requests for one contact (idempotent: existing ones are kept)."""
    contacts = session.scalar(
        select(func.count()).select_from(Appointment)
        .where(Appointment.episode_id == episode.id, Appointment.status != "cancelled",
               Appointment.starts_at <= appointment.starts_at)
    ) or 1
    codes = [c for c in episode.instruments.split(",") if c]
    if contacts == 1 or contacts % WSAS_EVERY == 0 or appointment.is_last:
        codes.append("WSAS")
    attended_before = session.scalar(
        select(func.count()).select_from(Appointment)
        .where(Appointment.episode_id == episode.id, Appointment.status == "attended",
               Appointment.starts_at < appointment.starts_at)
    )
    if attended_before:
        codes.append(FEEDBACK)  # about the last talk (alliance and usefulness)
    existing = {r.instrument_code for r in appointment.form_requests}
    created = []
    for code in dict.fromkeys(codes):
        if code in existing:
            continue
        request = FormRequest(appointment_id=appointment.id, episode_id=episode.id, resident_id=episode.resident_id,
                              instrument_code=code, opens_at=appointment.starts_at - OPENS_BEFORE)
        session.add(request)
        created.append(request)
    session.flush()
    return created


def _episode_for_staff(session: Session, *, actor: User, episode_id: int) -> Episode:
    episode = session.get(Episode, episode_id)
    if actor.role not in CLINICAL_ROLES or episode is None or episode.team_id not in staff_team_ids(session, actor):
        raise NotFound("episode")
    return episode


def book_contact(session: Session, *, actor: User, episode_id: int, kind: str, starts_at: datetime,
                 duration_minutes: int, mode: str, place: str | None, is_last: bool = False) -> Appointment:
    """Book a contact in an episode and plan the forms asked before it."""
    if kind not in APPOINTMENT_KINDS:
        raise ValueError("unknown kind of contact")
    if mode not in MEETING_MODES:
        raise ValueError("unknown mode")
    episode = _episode_for_staff(session, actor=actor, episode_id=episode_id)
    if episode.discharged_at is not None:
        raise Conflict("episode ended")
    appointment = Appointment(episode_id=episode.id, staff_id=actor.id, kind=kind, starts_at=starts_at, mode=mode,
                              place=place or None, duration_minutes=duration_minutes, is_last=is_last)
    session.add(appointment)
    session.flush()
    plan_forms(session, appointment=appointment, episode=episode)
    return appointment


def record_attendance(session: Session, *, actor: User, appointment_id: int, status: str) -> Appointment:
    """Mark a contact attended, not attended or cancelled. The first attended treatment contact
    dates the episode's first treatment."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound("contact")
    episode = _episode_for_staff(session, actor=actor, episode_id=appointment.episode_id)
    if status not in ("booked", "attended", "cancelled", "no_show"):
        raise ValueError("unknown status")
    appointment.status = status
    if status == "attended":
        # The earliest attended contact dates the episode, whatever order they are marked in.
        when = appointment.starts_at
        if episode.first_contact_at is None or when < episode.first_contact_at:
            episode.first_contact_at = when
        if appointment.kind != "assessment" and (episode.first_treatment_at is None
                                                 or when < episode.first_treatment_at):
            episode.first_treatment_at = when
    session.flush()
    return appointment


# --- The resident's forms -----------------------------------------------------------------------

@dataclass(frozen=True)
class OpenForm:
    """A form the resident can fill in now."""

    id: int
    instrument_code: str
    contact_at: datetime
    has_draft: bool


def open_forms(session: Session, *, resident: User, now: datetime | None = None) -> list[OpenForm]:
    """Forms open now: from 48 hours before a (not cancelled) contact until a day after it."""
    now = now or utcnow()
    rows = session.execute(
        select(FormRequest.id, FormRequest.instrument_code, Appointment.starts_at, FormRequest.draft.is_not(None))
        .join(Appointment, Appointment.id == FormRequest.appointment_id)
        .where(FormRequest.resident_id == resident.id, FormRequest.response_id.is_(None),
               FormRequest.opens_at <= now, Appointment.starts_at >= now - CLOSES_AFTER,
               Appointment.status != "cancelled")
        .order_by(Appointment.starts_at, FormRequest.id)
    ).all()
    return [OpenForm(r[0], r[1], r[2], bool(r[3])) for r in rows]


def form_for_resident(session: Session, *, resident: User, request_id: int, now: datetime | None = None) -> FormRequest:
    """One of the resident's own form requests that is open now (NotFound otherwise)."""
    now = now or utcnow()
    request = session.get(FormRequest, request_id)
    if request is None or request.resident_id != resident.id:
        raise NotFound("form")
    appointment = request.appointment
    if request.opens_at > now or appointment.status == "cancelled" or appointment.starts_at < now - CLOSES_AFTER:
        raise NotFound("form")
    return request


def save_form_draft(session: Session, *, request: FormRequest, raw: dict[str, list[str]]) -> None:
    """Keep a partly filled form so nothing is lost."""
    if request.response_id is None:
        request.draft = json.dumps(raw)
        session.flush()


def form_draft(request: FormRequest) -> dict[str, list[str]]:
    """The raw answers of a partly filled form."""
    return json.loads(request.draft) if request.draft else {}


@dataclass(frozen=True)
class FormSubmission:
    """The stored response, whether this call stored it, and whether item 9 was above 0."""

    response: MeasureResponse
    created: bool
    urgent: bool


def submit_form(session: Session, *, resident: User, request_id: int, answers: list[int],
                functioning: int | None, now: datetime | None = None) -> FormSubmission:
    """Score and store a completed form once; a second submit returns the first response.

    Posts of one form at the same moment (a double tap, two tabs) are decided by the database:
    `measure_response.form_request_id` is unique, so every post but one fails its insert and
    gets the stored response instead (on PostgreSQL the insert waits until the first one commits).
    """
    request = form_for_resident(session, resident=resident, request_id=request_id, now=now)
    if request.response_id is not None:
        return FormSubmission(request.response, False, "item9" in request.response.flags)
    result = measures.score(request.instrument_code, answers)  # ValueError on anything off-scale
    now = now or utcnow()
    response = MeasureResponse(
        resident_id=resident.id, episode_id=request.episode_id, form_request_id=request.id,
        instrument_code=result.code, instrument_version=str(result.version),
        answers=json.dumps(list(result.answers)), functioning=functioning, total=result.total, band=result.band,
        flags=",".join(sorted(result.flags)), submitted_at=now)
    try:
        with session.begin_nested():
            session.add(response)
            session.flush()
    except IntegrityError:
        first = session.scalars(select(MeasureResponse).where(MeasureResponse.form_request_id == request.id)).one()
        return FormSubmission(first, False, "item9" in first.flags)
    request.response_id = response.id
    request.draft = None
    session.flush()
    urgent = "item9" in result.flags
    if urgent:  # the flag marks the episode urgent (urgent_since) until it is closed with a note
        episode = session.get(Episode, request.episode_id)
        urgent_flags.raise_flag(session, resident_id=resident.id, team_id=episode.team_id, reason="item9",
                                episode_id=episode.id, now=now)
    return FormSubmission(response, True, urgent)


# --- Progress -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Point:
    """One score at one time."""

    at: datetime
    total: int


@dataclass(frozen=True)
class Series:
    """Scores of one instrument over time, with the range of the scale."""

    code: str
    points: list[Point]
    max_total: int

    @property
    def first(self) -> int | None:
        return self.points[0].total if self.points else None

    @property
    def last(self) -> int | None:
        return self.points[-1].total if self.points else None


def _series(responses: list[MeasureResponse]) -> list[Series]:
    by_code: dict[str, list[Point]] = {code: [] for code in PROGRESS_INSTRUMENTS}
    for response in responses:
        if response.instrument_code in by_code:
            by_code[response.instrument_code].append(Point(response.submitted_at, response.total))
    return [Series(code, points, measures.get(code).max_total) for code, points in by_code.items() if points]


def resident_progress(session: Session, *, resident: User) -> list[Series]:
    """The resident's own scores over time (one query, whatever the length of the history)."""
    responses = list(session.scalars(
        select(MeasureResponse)
        .where(MeasureResponse.resident_id == resident.id,
               MeasureResponse.instrument_code.in_(PROGRESS_INSTRUMENTS))
        .order_by(MeasureResponse.submitted_at, MeasureResponse.id)
    ))
    return _series(responses)


# --- The therapist's view of an episode -------------------------------------------------------

@dataclass(frozen=True)
class EpisodeFlags:
    """What needs the therapist's attention in an episode."""

    urgent: bool
    reliable_deterioration: bool
    not_on_track: bool
    hours_used: float
    over_budget: bool
    scored_contacts: int


@dataclass(frozen=True)
class EpisodeOverview:
    """Everything on the episode page, loaded with a fixed number of queries."""

    episode: Episode
    referral: Referral
    resident: User
    series: list[Series]
    responses: list[MeasureResponse]
    appointments: list[Appointment]
    flags: EpisodeFlags
    outcome: Any | None


def _scored_pairs(responses: list[MeasureResponse]) -> tuple[dict[str, int], dict[str, int], int]:
    """First and last PHQ-9/GAD-7 totals, and how many contacts have both scored."""
    phq = [r for r in responses if r.instrument_code == "PHQ-9"]
    gad = [r for r in responses if r.instrument_code == "GAD-7"]
    if not phq or not gad:
        return {}, {}, 0
    first = {"PHQ-9": phq[0].total, "GAD-7": gad[0].total}
    last = {"PHQ-9": phq[-1].total, "GAD-7": gad[-1].total}
    return first, last, min(len(phq), len(gad))


def episode_flags(episode: Episode, responses: list[MeasureResponse], appointments: list[Appointment]):
    """Flags from already loaded rows (pure; tests call it directly)."""
    first, last, scored = _scored_pairs(responses)
    result = measures.outcome(first, last) if scored >= 2 else None
    minutes = sum(a.duration_minutes for a in appointments if a.status == "attended")
    flags = EpisodeFlags(
        # Only the episode's mark: submit_form sets it, clear_urgent ends it. (Looking at recent
        # responses as well kept the flag up after the team had followed up.)
        urgent=episode.urgent_since is not None,
        reliable_deterioration=bool(result and result.reliable_deterioration),
        not_on_track=scored >= NOT_ON_TRACK_AFTER and not (result and result.reliable_improvement),
        hours_used=round(minutes / 60, 1),
        over_budget=minutes > BUDGET_HOURS * 60,
        scored_contacts=scored,
    )
    return flags, result


def episode_overview(session: Session, *, actor: User, episode_id: int) -> EpisodeOverview:
    """Open an episode (access-checked, audited) with its scores, contacts and flags."""
    episode = _episode_for_staff(session, actor=actor, episode_id=episode_id)
    referral = session.scalars(select(Referral).options(selectinload(Referral.resident))
                               .where(Referral.id == episode.referral_id)).one()
    responses = list(session.scalars(
        select(MeasureResponse).where(MeasureResponse.episode_id == episode.id)
        .order_by(MeasureResponse.submitted_at, MeasureResponse.id)))
    appointments = list(session.scalars(
        select(Appointment).options(selectinload(Appointment.form_requests), selectinload(Appointment.staff))
        .where(Appointment.episode_id == episode.id).order_by(Appointment.starts_at)))
    audit.record(session, actor=actor, subject=referral.resident, action="view_episode", object_type="episode",
                 object_id=episode.id, team_id=episode.team_id)
    flags, result = episode_flags(episode, responses, appointments)
    return EpisodeOverview(episode, referral, referral.resident, _series(responses), responses, appointments,
                           flags, result)


def clear_urgent(session: Session, *, actor: User, episode_id: int, note: str | None = None) -> Episode:
    """Close the episode's open urgent flags with a note; the urgent mark ends with the last one.

    The note is required (ValueError without one): following up is recorded, never a silent
    click. The episode page links to the flag page, where the note is written.
    """
    episode = _episode_for_staff(session, actor=actor, episode_id=episode_id)
    if not (note or "").strip():
        raise ValueError("a note is required to close an urgent flag")
    urgent_flags.flag_id_for_episode(session, actor=actor, episode_id=episode.id)  # an older mark gets its flag
    for flag_id in urgent_flags.open_flag_ids_for_episode(session, episode_id=episode.id):
        urgent_flags.close_flag(session, actor=actor, flag_id=flag_id, note=note)
    return episode


def discharge(session: Session, *, actor: User, episode_id: int, work_status_end: str | None,
              sick_leave_end: str | None, now: datetime | None = None) -> Episode:
    """End the episode, recording work and sick leave at the end."""
    episode = _episode_for_staff(session, actor=actor, episode_id=episode_id)
    episode.discharged_at = episode.discharged_at or now or utcnow()
    episode.work_status_end = work_status_end or None
    episode.sick_leave_end = sick_leave_end or None
    referral = session.get(Referral, episode.referral_id)
    referral.status = "closed" if referral.status != "guided_onward" else referral.status
    session.flush()
    return episode


def closure_note(overview: EpisodeOverview) -> str:
    """Text for the municipal record and the GP: offerings, contacts, hours, scores at start and end."""
    episode, lines = overview.episode, []
    referred = episode.referred_at.astimezone(NOTE_ZONE)
    ended = episode.discharged_at.astimezone(NOTE_ZONE) if episode.discharged_at else None
    lines.append(f"Avslutning av forløp i Rask psykisk helsehjelp, henvist {referred:%d.%m.%Y}"
                 + (f", avsluttet {ended:%d.%m.%Y}." if ended else "."))
    answers = json.loads(overview.referral.answers)
    goals = (answers.get("troubles") or {}).get("goals")
    if goals:
        lines.append(f"Mål: {goals}")
    if episode.offerings:
        lines.append("Tilbud: " + ", ".join(record_text.label(record_text.OFFERINGS, o)
                                            for o in episode.offerings.split(",")) + ".")
    attended = sum(1 for a in overview.appointments if a.status == "attended")
    lines.append(f"Gjennomførte kontakter: {attended}, {overview.flags.hours_used} timer.")
    for series in overview.series:
        if len(series.points) >= 2:
            lines.append(f"{series.code}: {series.first} ved start, {series.last} ved slutt.")
        else:
            lines.append(f"{series.code}: {series.first} (kun én måling).")
    if episode.work_status_end:
        lines.append(f"Arbeid ved slutt: {record_text.label(record_text.WORK, episode.work_status_end)}, "
                     f"sykmelding: {record_text.label(record_text.SICK_LEAVE, episode.sick_leave_end)}.")
    lines.append("Videre behov: ")
    return "\n".join(lines)


@dataclass(frozen=True)
class UrgentEpisode:
    """An ongoing episode where PHQ-9 item 9 was answered above 0: shown first to the team.

    `flag_id` is its oldest open urgent flag (None only for a mark made before flags existed;
    the episode page's link raises that flag)."""

    episode_id: int
    since: datetime
    flag_id: int | None = None


def urgent_episodes(session: Session, *, actor: User) -> list[UrgentEpisode]:
    """Episodes of the actor's teams that are marked urgent or have an open flag, oldest first.
    No names here: opening the episode or the flag (both audited) shows who it is."""
    if actor.role not in CLINICAL_ROLES:
        raise NotFound("episodes")
    open_flags = (
        select(UrgentFlag.episode_id, func.min(UrgentFlag.raised_at).label("raised"),
               func.min(UrgentFlag.id).label("flag_id"))
        .where(UrgentFlag.episode_id.is_not(None), UrgentFlag.closed_at.is_(None))
        .group_by(UrgentFlag.episode_id).subquery()
    )
    since = func.coalesce(Episode.urgent_since, open_flags.c.raised)
    rows = session.execute(
        select(Episode.id, since, open_flags.c.flag_id)
        .outerjoin(open_flags, open_flags.c.episode_id == Episode.id)
        .where(Episode.team_id.in_(staff_team_ids(session, actor)),
               or_(Episode.urgent_since.is_not(None), open_flags.c.episode_id.is_not(None)))
        .order_by(since, Episode.id)
    ).all()
    return [UrgentEpisode(episode_id, when, flag_id) for episode_id, when, flag_id in rows]
