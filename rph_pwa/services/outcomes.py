"""Routine outcome monitoring: forms before every contact, the resident's progress, and the
therapist's view of an episode with its flags.

Default plan: the episode's instruments (PHQ-9 + GAD-7) before every contact, WSAS too before the
first contact, every fourth contact and the last. Which of these a person receives is the
therapist's choice per episode (`set_instruments`). Session feedback is asked before every contact
that follows an attended one, except course meetings (courses get their own evaluation). Forms
open 48 hours before the contact.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from .. import measures
from ..charts import downsample
from ..db import utcnow
from ..localtime import to_local
from ..models import (
    Appointment,
    Episode,
    FormRequest,
    IntakeChecklist,
    MeasureResponse,
    OfferingChange,
    Referral,
    UrgentFlag,
    UrgentFlagAnswer,
    User,
)
from ..models.referrals import APPOINTMENT_KINDS, END_REASONS, MEETING_MODES, OFFERINGS
from . import audit, record_text, urgent_flags
from .access import clinical_team_ids, team_object
from .errors import Conflict, NotFound
from .measure_responses import store_response

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
#: The forms a therapist can choose for an episode (WSAS on its schedule, the others every contact).
CHOOSABLE_INSTRUMENTS = ("PHQ-9", "GAD-7", "WSAS")
#: Contacts that count towards the 15-hour budget (the assessment conversation does not: H L252).
BUDGET_EXCLUDES = ("assessment",)
#: Contacts before which no session feedback is asked (courses get their own evaluation).
NO_FEEDBACK_BEFORE = ("course_meeting",)
#: Longest "fot i bakken" note on a change of offering.
OFFERING_NOTE_MAX = 2000
#: The episode page shows its newest answers and latest contacts in full; older ones are read
#: HISTORY_CHUNK at a time on pages of their own, so the page stays small as the record grows.
#: Five answers cover the forms asked before the latest contact (at most four) and one more; the
#: scores of every answer are in the page's charts and tables, and each older answer item by item
#: is a link away.
LATEST_ANSWERS, LATEST_CONTACTS, HISTORY_CHUNK = 5, 10, 30
#: The newest scores of each instrument listed under its chart on the episode page (the chart and
#: its description cover every score).
LATEST_SCORES = 10


# --- Planning forms for a contact ---------------------------------------------------------------

def plan_forms(session: Session, *, appointment: Appointment, episode: Episode) -> list[FormRequest]:
    """Create the form requests for one contact (idempotent: existing ones are kept)."""
    codes = _planned_codes(session, appointment=appointment, episode=episode)
    existing = set(session.scalars(select(FormRequest.instrument_code)
                                   .where(FormRequest.appointment_id == appointment.id)))
    created = []
    for code in codes:
        if code in existing:
            continue
        request = FormRequest(appointment_id=appointment.id, episode_id=episode.id, resident_id=episode.resident_id,
                              instrument_code=code, opens_at=appointment.starts_at - OPENS_BEFORE)
        session.add(request)
        created.append(request)
    session.flush()
    return created


def _episode_for_staff(session: Session, *, actor: User, episode_id: int) -> Episode:
    return team_object(session, actor, Episode, episode_id, what="episode")


def book_contact(session: Session, *, actor: User, episode_id: int, kind: str, starts_at: datetime,
                 duration_minutes: int, mode: str, place: str | None, is_last: bool = False,
                 video_link: str | None = None) -> Appointment:
    """Book a contact in an episode and plan the forms asked before it (`video_link`: the
    meeting's address, shown to the resident only shortly before the time)."""
    if kind not in APPOINTMENT_KINDS:
        raise ValueError("unknown kind of contact")
    if mode not in MEETING_MODES:
        raise ValueError("unknown mode")
    episode = _episode_for_staff(session, actor=actor, episode_id=episode_id)
    if episode.discharged_at is not None:
        raise Conflict("episode ended")
    appointment = Appointment(episode_id=episode.id, staff_id=actor.id, kind=kind, starts_at=starts_at, mode=mode,
                              place=place or None, duration_minutes=duration_minutes, is_last=is_last,
                              video_link=video_link or None)
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
        # Contacts booked ahead (a series) were planned before any contact was attended: the
        # session feedback about this one is planned now.
        replan_upcoming(session, episode=episode, after=appointment.starts_at)
        # The earliest attended contact dates the episode, whatever order they are marked in.
        when = appointment.starts_at
        if episode.first_contact_at is None or when < episode.first_contact_at:
            episode.first_contact_at = when
        if appointment.kind != "assessment" and (episode.first_treatment_at is None
                                                 or when < episode.first_treatment_at):
            episode.first_treatment_at = when
    session.flush()
    return appointment


def replan_upcoming(session: Session, *, episode: Episode, after: datetime | None = None) -> None:
    """Plan the forms of the episode's booked contacts (after `after`) again: missing ones are
    added; unanswered ones the plan no longer holds are removed."""
    query = (select(Appointment).options(selectinload(Appointment.form_requests))
             .where(Appointment.episode_id == episode.id, Appointment.status == "booked"))
    if after is not None:
        query = query.where(Appointment.starts_at > after)
    for appointment in session.scalars(query.order_by(Appointment.starts_at)).all():
        plan_forms(session, appointment=appointment, episode=episode)
        wanted = _planned_codes(session, appointment=appointment, episode=episode)
        for request in list(appointment.form_requests):
            if request.instrument_code not in wanted and request.response_id is None and request.draft is None:
                appointment.form_requests.remove(request)
                session.delete(request)
    session.flush()


def _planned_codes(session: Session, *, appointment: Appointment, episode: Episode) -> list[str]:
    """The instruments the plan holds for a contact, in the order they are asked."""
    contacts = session.scalar(
        select(func.count()).select_from(Appointment)
        .where(Appointment.episode_id == episode.id, Appointment.status != "cancelled",
               Appointment.starts_at <= appointment.starts_at)) or 1
    attended_before = session.scalar(
        select(func.count()).select_from(Appointment)
        .where(Appointment.episode_id == episode.id, Appointment.status == "attended",
               Appointment.starts_at < appointment.starts_at))
    chosen = [c for c in episode.instruments.split(",") if c]
    codes = [c for c in chosen if c != "WSAS"]
    if "WSAS" in chosen and (contacts == 1 or contacts % WSAS_EVERY == 0 or appointment.is_last):
        codes.append("WSAS")
    if attended_before and appointment.kind not in NO_FEEDBACK_BEFORE:
        codes.append(FEEDBACK)  # about the last talk (alliance and usefulness)
    return list(dict.fromkeys(codes))


def set_instruments(session: Session, *, actor: User, episode_id: int, instruments: list[str]) -> Episode:
    """The therapist's choice of forms for this person (none is a valid choice); the booked
    contacts' unanswered forms follow the new choice."""
    if any(code not in CHOOSABLE_INSTRUMENTS for code in instruments):
        raise ValueError("unknown instrument")
    episode = _episode_for_staff(session, actor=actor, episode_id=episode_id)
    episode.instruments = ",".join(c for c in CHOOSABLE_INSTRUMENTS if c in instruments)
    session.flush()
    replan_upcoming(session, episode=episode)
    return episode


def change_offerings(session: Session, *, actor: User, episode_id: int, offerings: list[str], note: str,
                     now: datetime | None = None) -> OfferingChange:
    """Change the episode's offerings with a short note: how it went, what was learnt, what comes
    next (handbook L1722, L1796). ValueError without a note, with an unknown offering or no change."""
    note = (note or "").strip()
    if not note:
        raise ValueError("a note is required")
    if len(note) > OFFERING_NOTE_MAX:
        raise ValueError("note too long")
    if not offerings or any(o not in OFFERINGS for o in offerings):
        raise ValueError("choose at least one known offering")
    episode = _episode_for_staff(session, actor=actor, episode_id=episode_id)
    new = ",".join(o for o in OFFERINGS if o in offerings)
    if new == episode.offerings:
        raise ValueError("no change")
    change = OfferingChange(episode_id=episode.id, staff_id=actor.id, from_offerings=episode.offerings,
                            to_offerings=new, note=note, at=now or utcnow())
    episode.offerings = new
    session.add(change)
    session.flush()
    return change


# --- The resident's forms -----------------------------------------------------------------------

@dataclass(frozen=True)
class OpenForm:
    """A form the resident can fill in now."""

    id: int
    instrument_code: str
    contact_at: datetime
    has_draft: bool


def form_not_answered():
    """A condition on `FormRequest`: not answered yet. Written as coalesce(response_id, 0) = 0,
    not "IS NULL": without statistics SQLite takes "response_id IS NULL" on the unique index as
    selective and reads every unanswered form of everyone, when the query's other conditions (one
    resident's forms, one therapist's appointments of a day) find a few rows through their index."""
    return func.coalesce(FormRequest.response_id, 0) == 0


def open_forms(session: Session, *, resident: User, now: datetime | None = None) -> list[OpenForm]:
    """Forms open now: from 48 hours before a (not cancelled) contact until a day after it."""
    now = now or utcnow()
    rows = session.execute(
        select(FormRequest.id, FormRequest.instrument_code, Appointment.starts_at, FormRequest.draft.is_not(None))
        .join(Appointment, Appointment.id == FormRequest.appointment_id)
        .where(FormRequest.resident_id == resident.id, form_not_answered(),
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
        request.draft = dict(raw)
        session.flush()


def form_draft(request: FormRequest) -> dict[str, list[str]]:
    """The raw answers of a partly filled form."""
    return dict(request.draft or {})


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
    try:
        with session.begin_nested():
            response = store_response(session, result=result, resident_id=resident.id, submitted_at=now,
                                      episode_id=request.episode_id, form_request_id=request.id,
                                      functioning=functioning)
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
                                episode_id=episode.id, now=now, item9_answer=result.value_of("item9"))
    return FormSubmission(response, True, urgent)


# --- Progress -----------------------------------------------------------------------------------

class Point(NamedTuple):
    """One score at one time (with its severity band, a stable key, where the reader needs it).
    A named tuple: a long history makes hundreds of them per page, and a tuple is made in a third
    of the time of a frozen dataclass."""

    at: datetime
    total: int
    band: str = ""


@dataclass(frozen=True)
class Series:
    """Scores of one instrument over time, with the range of the scale: every score in `points`
    (`series_of`), or only some of them (`sampled_series`: those a chart draws in `points`, the
    newest in `latest`). `count` is how many there are in all; the first and the last are always
    in `points`."""

    code: str
    points: list[Point]
    max_total: int
    count: int
    latest: list[Point] = field(default_factory=list)

    @property
    def first(self) -> int | None:
        return self.points[0].total if self.points else None

    @property
    def last(self) -> int | None:
        return self.points[-1].total if self.points else None


def series_of(rows) -> list[Series]:
    """The progress instruments' series from rows (responses, or score columns) carrying
    instrument_code, submitted_at, total and band, oldest first."""
    by_code: dict[str, list[Point]] = {code: [] for code in PROGRESS_INSTRUMENTS}
    for row in rows:
        if row.instrument_code in by_code:
            by_code[row.instrument_code].append(Point(row.submitted_at, row.total, row.band))
    return [Series(code, points, measures.get(code).max_total, len(points))
            for code, points in by_code.items() if points]


#: Every progress score of an episode, oldest first, as small columns (`sampled_series`).
_EPISODE_TOTALS = (select(MeasureResponse.instrument_code, MeasureResponse.id, MeasureResponse.total)
                   .where(MeasureResponse.instrument_code.in_(PROGRESS_INSTRUMENTS),
                          MeasureResponse.episode_id == bindparam("episode_id"))
                   .order_by(MeasureResponse.submitted_at, MeasureResponse.id))
#: The time and band of some scores, by response id.
_SCORE_DETAILS = (select(MeasureResponse.id, MeasureResponse.submitted_at, MeasureResponse.band)
                  .where(MeasureResponse.id.in_(bindparam("ids", expanding=True))))


def sampled_series(session: Session, *, episode_id: int, latest: int) -> list[Series]:
    """The episode's progress series without reading every score whole: each series' `points` are
    those its chart draws (`charts.downsample` of every score: the first, the last and the shape
    between), `latest` its `latest` newest scores.

    Two queries, whatever the length of the history: the totals of every score in order (small
    columns with nothing to convert), then the time and band of the few kept."""
    totals: dict[str, list[tuple[int, int]]] = {}
    rows = session.execute(_EPISODE_TOTALS, {"episode_id": episode_id}).all()
    for code, response_id, total in rows:
        totals.setdefault(code, []).append((response_id, total))
    if not totals:
        return []
    drawn = {code: downsample(scores, value=itemgetter(1)) for code, scores in totals.items()}
    kept = {response_id for scores in drawn.values() for response_id, _total in scores}
    kept.update(response_id for scores in totals.values() for response_id, _total in scores[-latest:])
    details = {response_id: (at, band)
               for response_id, at, band in session.execute(_SCORE_DETAILS, {"ids": list(kept)})}

    def points(scores: list[tuple[int, int]]) -> list[Point]:
        return [Point(details[response_id][0], total, details[response_id][1]) for response_id, total in scores]

    return [Series(code, points(drawn[code]), measures.get(code).max_total, len(totals[code]),
                   points(totals[code][-latest:]))
            for code in PROGRESS_INSTRUMENTS if code in totals]


def score_rows(*conditions):
    """The columns a series needs of the progress responses matching `conditions`, oldest first:
    no encrypted column is read (nor decrypted), whatever the length of the history."""
    return (select(MeasureResponse.instrument_code, MeasureResponse.submitted_at, MeasureResponse.total,
                   MeasureResponse.band)
            .where(MeasureResponse.instrument_code.in_(PROGRESS_INSTRUMENTS), *conditions)
            .order_by(MeasureResponse.submitted_at, MeasureResponse.id))


def resident_progress(session: Session, *, resident: User) -> list[Series]:
    """The resident's own scores over time (one query, whatever the length of the history)."""
    return series_of(session.execute(score_rows(MeasureResponse.resident_id == resident.id)).all())


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
class ContactCount:
    """How many of an episode's contacts have one kind and status, and their minutes."""

    kind: str
    status: str
    count: int
    minutes: int


@dataclass(frozen=True)
class EpisodeOverview:
    """Everything on the episode page, loaded with a fixed number of queries: every score (as
    `series`), the newest answers and the latest contacts in full, the others counted."""

    episode: Episode
    referral: Referral
    resident: User
    series: list[Series]
    responses: list[MeasureResponse]
    appointments: list[Appointment]
    flags: EpisodeFlags
    outcome: Any | None
    checklist: IntakeChecklist | None = None
    offering_changes: list[OfferingChange] = ()
    item9_answers: list[UrgentFlagAnswer] = ()
    #: Every answer of the episode (`responses` holds the newest LATEST_ANSWERS).
    answers_total: int = 0
    #: Every contact counted by kind and status (`appointments` holds the latest LATEST_CONTACTS).
    contact_counts: list[ContactCount] = ()
    #: The totals of the forms answered before the contacts shown, by response id.
    response_totals: dict[int, int] = field(default_factory=dict)
    #: Who held the first contact other than the assessment (or else the first contact).
    first_staff: User | None = None
    #: The progress scores given with the referral, (code, total) in the order answered.
    referral_scores: list[tuple[str, int]] = ()

    @property
    def contacts_total(self) -> int:
        return sum(c.count for c in self.contact_counts)


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
    minutes = sum(a.duration_minutes for a in appointments
                  if a.status == "attended" and a.kind not in BUDGET_EXCLUDES)
    # Only the episode's mark: submit_form sets it, clear_urgent ends it. (Looking at recent
    # responses as well kept the flag up after the team had followed up.)
    return flags_from(urgent=episode.urgent_since is not None, first=first, last=last, scored=scored,
                      budget_minutes=minutes)


def flags_from(*, urgent: bool, first: dict[str, int], last: dict[str, int], scored: int, budget_minutes: int):
    """`episode_flags` from summary numbers (pure): the first and last PHQ-9/GAD-7 totals, how many
    contacts have both scored, and the attended minutes that count towards the budget. Lists that
    aggregate in SQL (the caseload) call this, so the rules stay in one place."""
    result = measures.outcome(first, last) if scored >= 2 else None
    flags = EpisodeFlags(
        urgent=urgent,
        reliable_deterioration=bool(result and result.reliable_deterioration),
        not_on_track=scored >= NOT_ON_TRACK_AFTER and not (result and result.reliable_improvement),
        hours_used=round(budget_minutes / 60, 1),
        over_budget=budget_minutes > BUDGET_HOURS * 60,
        scored_contacts=scored,
    )
    return flags, result


def _scored_from_series(series: list[Series]) -> tuple[dict[str, int], dict[str, int], int]:
    """`_scored_pairs` from the series: first and last PHQ-9/GAD-7 totals and how many contacts
    have both scored."""
    by_code = {s.code: s for s in series}
    phq, gad = by_code.get("PHQ-9"), by_code.get("GAD-7")
    if phq is None or gad is None:
        return {}, {}, 0
    return ({"PHQ-9": phq.first, "GAD-7": gad.first}, {"PHQ-9": phq.last, "GAD-7": gad.last},
            min(phq.count, gad.count))


# The episode page's queries are built once, with their values as bound parameters: building a
# statement and its cache key cost more than running most of them.

#: An episode's contacts counted by kind and status, with their minutes.
_CONTACT_COUNTS = (select(Appointment.kind, Appointment.status, func.count(),
                          func.coalesce(func.sum(Appointment.duration_minutes), 0))
                   .where(Appointment.episode_id == bindparam("episode_id"))
                   .group_by(Appointment.kind, Appointment.status))
#: A page of an episode's contacts, the latest first, with their forms and who holds them.
_LATEST_CONTACTS = (select(Appointment).options(selectinload(Appointment.form_requests),
                                                joinedload(Appointment.staff))
                    .where(Appointment.episode_id == bindparam("episode_id"))
                    .order_by(Appointment.starts_at.desc(), Appointment.id.desc())
                    .offset(bindparam("offset")).limit(bindparam("limit")))
#: A page of an episode's responses, the newest first. The ids are chosen first, from an index
#: that holds the episode, the time and the id, and only those rows are read: ordering whole rows
#: read every answer of the episode (8 ms at 1,000 answers on SQLite, against 0.2 ms).
_NEWEST_RESPONSES = (select(MeasureResponse).where(MeasureResponse.id.in_(
    select(MeasureResponse.id).where(MeasureResponse.episode_id == bindparam("episode_id"))
    .order_by(MeasureResponse.submitted_at.desc(), MeasureResponse.id.desc())
    .offset(bindparam("offset")).limit(bindparam("limit")).scalar_subquery()))
    .order_by(MeasureResponse.submitted_at.desc(), MeasureResponse.id.desc()))
#: The totals of some responses, by id.
_TOTALS = select(MeasureResponse.id, MeasureResponse.total).where(
    MeasureResponse.id.in_(bindparam("ids", expanding=True)))
#: How many responses an episode has.
_ANSWER_COUNT = (select(func.count()).select_from(MeasureResponse)
                 .where(MeasureResponse.episode_id == bindparam("episode_id")))
#: The referral's own progress scores, in the order answered.
_REFERRAL_SCORES = (select(MeasureResponse.instrument_code, MeasureResponse.total)
                    .where(MeasureResponse.referral_id == bindparam("referral_id"),
                           MeasureResponse.instrument_code.in_(PROGRESS_INSTRUMENTS))
                    .order_by(MeasureResponse.id))
#: A referral with its resident and team.
_REFERRAL = (select(Referral).options(joinedload(Referral.resident), joinedload(Referral.team))
             .where(Referral.id == bindparam("referral_id")))
#: Who held an episode's first contact other than the assessment (or else its first contact).
_FIRST_STAFF = (select(User).join(Appointment, Appointment.staff_id == User.id)
                .where(Appointment.episode_id == bindparam("episode_id"))
                .order_by((Appointment.kind == "assessment").asc(), Appointment.starts_at, Appointment.id).limit(1))
_CHECKLIST = select(IntakeChecklist).where(IntakeChecklist.episode_id == bindparam("episode_id"))
_OFFERING_CHANGES = (select(OfferingChange).options(selectinload(OfferingChange.staff))
                     .where(OfferingChange.episode_id == bindparam("episode_id"))
                     .order_by(OfferingChange.at, OfferingChange.id))
#: The item 9 answers of an episode's open urgent flags.
_OPEN_ITEM9 = (select(UrgentFlagAnswer).join(UrgentFlag, UrgentFlag.id == UrgentFlagAnswer.flag_id)
               .where(UrgentFlag.episode_id == bindparam("episode_id"), UrgentFlag.closed_at.is_(None))
               .order_by(UrgentFlagAnswer.at, UrgentFlagAnswer.id))


def contact_counts(session: Session, *, episode_id: int) -> list[ContactCount]:
    """The episode's contacts counted by kind and status, with their minutes (one grouped query)."""
    rows = session.execute(_CONTACT_COUNTS, {"episode_id": episode_id}).all()
    return [ContactCount(kind, status, count, minutes) for kind, status, count, minutes in rows]


def latest_contacts(session: Session, *, episode_id: int, offset: int, limit: int) -> list[Appointment]:
    """`limit` contacts of the episode, the latest first after skipping `offset`, returned oldest
    first, with their forms and staff (two queries)."""
    latest = list(session.scalars(_LATEST_CONTACTS, {"episode_id": episode_id, "offset": offset, "limit": limit}))
    return latest[::-1]


def _latest_responses(session: Session, *, episode_id: int, offset: int, limit: int) -> list[MeasureResponse]:
    """`limit` questionnaire responses of the episode, newest first after skipping `offset`."""
    return list(session.scalars(_NEWEST_RESPONSES, {"episode_id": episode_id, "offset": offset, "limit": limit}))


def response_totals(session: Session, appointments: list[Appointment]) -> dict[int, int]:
    """The totals of the answered forms asked before `appointments`, by response id (columns only)."""
    ids = [r.response_id for a in appointments for r in a.form_requests if r.response_id]
    if not ids:
        return {}
    return dict(session.execute(_TOTALS, {"ids": ids}).all())


def episode_overview(session: Session, *, actor: User, episode_id: int) -> EpisodeOverview:
    """Open an episode (access-checked, audited) with its scores, latest answers and contacts, and
    flags. A fixed number of queries, whatever the length of the history: the scores are read as
    columns, the flags and the notes come from grouped counts, and only the LATEST_ANSWERS newest
    answers and the LATEST_CONTACTS latest contacts are read whole (older ones: `older_answers`,
    `older_contacts`)."""
    episode = _episode_for_staff(session, actor=actor, episode_id=episode_id)
    this = {"episode_id": episode.id}
    referral = session.scalars(_REFERRAL, {"referral_id": episode.referral_id}).one()
    referral_scores = session.execute(_REFERRAL_SCORES, {"referral_id": referral.id}).all()
    answers_total = session.scalar(_ANSWER_COUNT, this) or 0
    responses = _latest_responses(session, episode_id=episode.id, offset=0, limit=LATEST_ANSWERS)
    series = sampled_series(session, episode_id=episode.id, latest=LATEST_SCORES)
    counts = contact_counts(session, episode_id=episode.id)
    appointments = latest_contacts(session, episode_id=episode.id, offset=0, limit=LATEST_CONTACTS)
    totals = response_totals(session, appointments)
    # Only the start note names the first contact's therapist, when nobody is responsible yet.
    first_staff = session.scalars(_FIRST_STAFF, this).first() if episode.responsible_id is None else None
    audit.record(session, actor=actor, subject=referral.resident, action="view_episode", object_type="episode",
                 object_id=episode.id, team_id=episode.team_id)
    checklist = session.scalars(_CHECKLIST, this).first()
    changes = list(session.scalars(_OFFERING_CHANGES, this))
    item9 = list(session.scalars(_OPEN_ITEM9, this))
    first, last, scored = _scored_from_series(series)
    minutes = sum(c.minutes for c in counts if c.status == "attended" and c.kind not in BUDGET_EXCLUDES)
    flags, result = flags_from(urgent=episode.urgent_since is not None, first=first, last=last, scored=scored,
                               budget_minutes=minutes)
    return EpisodeOverview(episode, referral, referral.resident, series, responses, appointments, flags, result,
                           checklist, changes, item9, answers_total=answers_total, contact_counts=counts,
                           response_totals=totals, first_staff=first_staff,
                           referral_scores=[(code, total) for code, total in referral_scores])


@dataclass(frozen=True)
class HistoryPage:
    """One page of an episode's older answers or contacts (`rows`), older than what the episode
    page shows: page `page` of `pages`, `total` older ones in all."""

    episode: Episode
    resident: User
    rows: list
    total: int
    page: int
    pages: int
    response_totals: dict[int, int]


def _history_page(session: Session, *, actor: User, episode_id: int, page: int, object_type: str,
                  count: Select, shown: int, read: Callable[[int], list]) -> HistoryPage:
    """A page of HISTORY_CHUNK older rows (`read(offset)`, after the `shown` latest of the `count`),
    access-checked like the episode page and audited once; a page past the end gives the last."""
    episode = _episode_for_staff(session, actor=actor, episode_id=episode_id)
    resident = session.get(User, episode.resident_id)
    total = max(0, (session.scalar(count) or 0) - shown)
    pages = max(1, -(-total // HISTORY_CHUNK))
    page = min(max(page, 1), pages)
    rows = read(shown + (page - 1) * HISTORY_CHUNK)
    audit.record(session, actor=actor, subject=resident, action="view_episode", object_type=object_type,
                 object_id=episode.id, team_id=episode.team_id)
    return HistoryPage(episode, resident, rows, total, page, pages, {})


def older_answers(session: Session, *, actor: User, episode_id: int, page: int = 1) -> HistoryPage:
    """The episode's answers older than the LATEST_ANSWERS on its page, newest first, HISTORY_CHUNK
    per page (audited like the page: the answers are health information)."""
    return _history_page(
        session, actor=actor, episode_id=episode_id, page=page, object_type="episode_answers",
        count=_ANSWER_COUNT.params(episode_id=episode_id),
        shown=LATEST_ANSWERS,
        read=lambda offset: _latest_responses(session, episode_id=episode_id, offset=offset, limit=HISTORY_CHUNK))


def older_contacts(session: Session, *, actor: User, episode_id: int, page: int = 1) -> HistoryPage:
    """The episode's contacts before the LATEST_CONTACTS on its page (the latest page first, each
    page oldest first), HISTORY_CHUNK per page, with the totals of the forms asked before them."""
    result = _history_page(
        session, actor=actor, episode_id=episode_id, page=page, object_type="episode_contacts",
        count=select(func.count()).select_from(Appointment).where(Appointment.episode_id == episode_id),
        shown=LATEST_CONTACTS,
        read=lambda offset: latest_contacts(session, episode_id=episode_id, offset=offset, limit=HISTORY_CHUNK))
    return replace(result, response_totals=response_totals(session, result.rows))


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
              sick_leave_end: str | None, end_reason: str | None = None, now: datetime | None = None) -> Episode:
    """End the episode, recording work and sick leave at the end and why it ended (END_REASONS,
    H L4989-4993; ValueError for an unknown reason). Saving again corrects these; `end_reason`
    None keeps the one recorded."""
    if end_reason is not None and end_reason not in END_REASONS:
        raise ValueError("unknown end reason")
    episode = _episode_for_staff(session, actor=actor, episode_id=episode_id)
    episode.discharged_at = episode.discharged_at or now or utcnow()
    episode.work_status_end = work_status_end or None
    episode.sick_leave_end = sick_leave_end or None
    episode.end_reason = end_reason or episode.end_reason
    referral = session.get(Referral, episode.referral_id)
    referral.status = "closed" if referral.status != "guided_onward" else referral.status
    session.flush()
    return episode


def _labels(mapping: dict[str, str], keys: str | list[str] | None) -> str:
    items = keys.split(",") if isinstance(keys, str) else (keys or [])
    return ", ".join(record_text.label(mapping, k) for k in items if k)


def _scores_line(series: Series) -> str:
    if series.count >= 2:
        return f"{series.code}: {series.first} ved start, {series.last} ved slutt."
    return f"{series.code}: {series.first} (kun én måling)."


def start_note(overview: EpisodeOverview, *, therapist: User | None = None) -> str:
    """The start note for the record, and for the GP only with consent (handbook L4961–4975):
    reason for contact, assessment, the offering started, responsible therapist and contact, an
    invitation to cooperate, and that a closure note follows."""
    episode, referral = overview.episode, overview.referral
    answers = referral.answers
    troubles = answers.get("troubles") or {}
    consent = bool((answers.get("contact") or {}).get("gp_consent"))
    referred = to_local(episode.referred_at)
    lines = [f"Oppstart i Rask psykisk helsehjelp (selvhenvisning {referred:%d.%m.%Y})."]
    reason = _labels(record_text.PROBLEMS, troubles.get("problems"))
    lines.append("Kontaktårsak: " + (reason + "." if reason else ""))
    if troubles.get("goals"):
        lines.append(f"Mål: {troubles['goals']}")
    assessed = (f"kartleggingssamtale {to_local(episode.assessed_at):%d.%m.%Y}"
                if episode.assessed_at else "kartleggingssamtale")
    scores = "; ".join(f"{s.code} {s.first}" for s in overview.series)
    referral_scores = "; ".join(f"{code} {total}" for code, total in overview.referral_scores)
    lines.append(f"Vurdering: {assessed}" + (f", skårer ved henvisning: {referral_scores}" if referral_scores else "")
                 + (f", ved første kontakt: {scores}" if scores else "") + ".")
    offering = _labels(record_text.OFFERINGS, episode.offerings)
    lines.append("Tilbud som er startet: " + (offering + "." if offering else "ikke avtalt ennå."))
    responsible = therapist or episode.responsible or overview.first_staff
    name = (responsible.display_name or responsible.username) if responsible else ""
    team_phone = referral.team.phone if referral.team else None
    lines.append(f"Ansvarlig terapeut: {name}" + (f", telefon {team_phone}" if team_phone else "") + ".")
    lines.append("Fastlegen inviteres til samarbeid, og kan kontakte oss ved spørsmål.")
    lines.append("Det sendes et avslutningsnotat når forløpet avsluttes.")
    lines.append("Samtykke til å sende notatet til fastlege: " + ("ja." if consent else
                                                                 "nei – notatet sendes ikke til fastlege."))
    return "\n".join(lines)


def closure_note(overview: EpisodeOverview, *, self_help_plan: str | None = None) -> str:
    """The closure note for the record and the GP (handbook L5015–5026): background, goals,
    treatment given, most useful methods, scores at start and end, status and further needs,
    reason for ending, and the resident's self-help plan (`worksheets.plan_for_record`), which stays
    theirs after discharge."""
    episode, lines = overview.episode, []
    referred = to_local(episode.referred_at)
    ended = to_local(episode.discharged_at) if episode.discharged_at else None
    lines.append(f"Avslutning av forløp i Rask psykisk helsehjelp, henvist {referred:%d.%m.%Y}"
                 + (f", avsluttet {ended:%d.%m.%Y}." if ended else "."))
    answers = overview.referral.answers
    troubles = answers.get("troubles") or {}
    background = _labels(record_text.PROBLEMS, troubles.get("problems"))
    lines.append("Bakgrunn: " + (f"selvhenvist for {background}." if background else "selvhenvist."))
    if troubles.get("goals"):
        lines.append(f"Mål: {troubles['goals']}")
    offering = _labels(record_text.OFFERINGS, episode.offerings)
    kinds = {k: sum(c.count for c in overview.contact_counts if c.kind == k and c.status == "attended")
             for k in APPOINTMENT_KINDS}
    counted = ", ".join(f"{record_text.label(record_text.CONTACTS, k)}: {n}" for k, n in kinds.items() if n)
    lines.append("Behandling gitt: " + (offering + ". " if offering else "")
                 + f"Gjennomførte kontakter: {sum(kinds.values())}" + (f" ({counted})" if counted else "")
                 + f", {overview.flags.hours_used} timer behandling.")
    lines.append("Mest nyttige metoder: ")
    for series in overview.series:
        lines.append(_scores_line(series))
    if episode.work_status_end:
        lines.append(f"Arbeid ved slutt: {record_text.label(record_text.WORK, episode.work_status_end)}, "
                     f"sykmelding: {record_text.label(record_text.SICK_LEAVE, episode.sick_leave_end)}.")
    lines.append("Status ved avslutning og videre behov: ")
    end_reason = getattr(episode, "end_reason", None)
    lines.append("Årsak til avslutning: " + (record_text.label(record_text.END_REASONS, end_reason) + "."
                                            if end_reason else ""))
    lines.append("Selvhjelpsplan: " + (self_help_plan or "ikke skrevet."))
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
    team_ids = clinical_team_ids(session, actor, what="episodes")
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
        .where(Episode.team_id.in_(team_ids),
               or_(Episode.urgent_since.is_not(None), open_flags.c.episode_id.is_not(None)))
        .order_by(since, Episode.id)
    ).all()
    return [UrgentEpisode(episode_id, when, flag_id) for episode_id, when, flag_id in rows]
