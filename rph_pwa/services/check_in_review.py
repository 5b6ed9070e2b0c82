"""The therapist's review of guided self-help check-ins: the queue, one check-in on one screen,
marking it reviewed (the minutes given), the team's phrase bank and the away date.

**The queue** holds the check-in contacts (kind `check_in`, still booked) of open episodes in my
teams that either have a report sent and not reviewed ("waiting"), or have no report although
their time has passed ("no check-in this week"). Mine are those of episodes I am responsible for
(or contacts booked with me). A colleague's show too, as cover, when the responsible therapist is
away (`User.away_until` today or later) or when the check-in has waited two working days (since it
was sent; a missing one since its time). A sent check-in is due two working days after it was
sent (what the resident is told); a missing one at its time. Urgent ones come first (the episode
is urgent, the resident has an open urgent flag, asked to talk sooner, or the PHQ-9/GAD-7 show
reliable deterioration), then by due time.

The queue takes a fixed number of queries however many rows: the rows with everything but the
scores (one query), the first and last PHQ-9/GAD-7 of all rows (one aggregate query,
`caseload.score_histories`) and the audit insert of the rows shown.

**Marking reviewed** records the minutes actually given on the contact (so the statistics'
`hours_check_in` and the 15-hour budget count them), marks it attended (by phone when the
therapist called instead), stores the feedback (encrypted) and books next week's check-in unless
the programme has ended or had all its weeks. A check-in the resident never sent can be completed
as phone guidance only: its report row is made then, with no answers (`answers == {}` means "no
written check-in"). One conditional UPDATE of the contact settles a double click or two tabs:
the second gets Conflict, and only one next check-in is booked.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from flask_babel import force_locale
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from ..codes import AppointmentKind
from ..db import utcnow
from ..localtime import add_working_days, local_date, local_to_utc, local_today, start_of_local_day, to_local
from ..models import (
    Appointment,
    CheckInReport,
    Episode,
    ExternalProgramme,
    FeedbackPhrase,
    FormRequest,
    MeasureResponse,
    ModuleProgress,
    SelfHelpAssignment,
    UrgentFlag,
    User,
    Worksheet,
)
from ..selfhelp import content
from ..selfhelp.worksheets import WORKSHEETS
from . import audit, check_ins, outcomes, record_text, reminders, selfhelp
from .access import clinical_team_ids, is_clinical, require_clinical, require_team, staff_team_ids, team_object
from .caseload import ScoreHistory, score_histories
from .errors import Conflict

#: A sent check-in is read within this many working days (what the resident is told,
#: `check_ins.read_by`); after it a colleague in the team sees it too.
DUE_WORKING_DAYS = check_ins.READ_WITHIN_WORKING_DAYS
#: The longest feedback to the resident.
FEEDBACK_MAX = 4000
#: The minutes a review may record (the contact's length).
MINUTES_MIN, MINUTES_MAX = 1, 120
#: The longest phrase in a team's phrase bank.
PHRASE_MAX = 500
#: How far ahead a therapist may say they are away.
AWAY_MAX_DAYS = 366
#: How many earlier feedbacks the review screen shows.
EARLIER_FEEDBACK = 5
#: The most worksheets the review screen lists (new and changed since the last review).
WORKSHEETS_SHOWN = 50


# --- The queue ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueRow:
    """One check-in in the queue. `sent_at` None: no check-in this week (missing). `urgent` holds
    the reasons ("episode", "flag", "talk_sooner", "deterioration"); `cover` why a colleague's
    check-in is in my queue ("away", "overdue"; None when it is mine)."""

    appointment_id: int
    episode_id: int
    resident_id: int
    team_id: int
    name: str
    programme: str
    starts_at: datetime
    sent_at: datetime | None
    due: datetime
    overdue: bool
    urgent: tuple[str, ...] = ()
    cover: str | None = None
    responsible_name: str | None = None


@dataclass(frozen=True)
class Queue:
    """One page of the sent check-ins waiting for review (urgent first, then by due time), the
    first missing ones, and the totals."""

    waiting: list[QueueRow] = field(default_factory=list)
    missing: list[QueueRow] = field(default_factory=list)
    waiting_total: int = 0
    missing_total: int = 0
    page: int = 1
    pages: int = 1


#: Rows per page of the queue (and the most missing check-ins listed): the page stays fast and
#: audits only the residents it shows.
PAGE_SIZE = 25


def due_at(sent_at: datetime) -> datetime:
    """When a check-in sent at `sent_at` should be read: DUE_WORKING_DAYS working days later, at
    the same local time."""
    local = to_local(sent_at)
    return local_to_utc(_due_day(local.date()), local.time())


@lru_cache(maxsize=512)
def _due_day(day: date) -> date:
    return add_working_days(day, DUE_WORKING_DAYS)


def _candidates(session: Session, *, actor: User, team_ids: list[int], now: datetime):
    """The check-ins in `team_ids` that may be in my queue (one query): mine, those of an away
    colleague, and any waiting at least two calendar days (two working days are at least that)."""
    responsible = aliased(User)
    today = local_today()
    early = now - timedelta(days=DUE_WORKING_DAYS)
    mine = or_(Episode.responsible_id == actor.id, Appointment.staff_id == actor.id)
    away = responsible.away_until >= today
    open_flag = exists().where(UrgentFlag.resident_id == Episode.resident_id, UrgentFlag.closed_at.is_(None))
    return session.execute(
        select(Appointment.id, Appointment.starts_at, Appointment.staff_id, Episode.id.label("episode_id"),
               Episode.resident_id, Episode.team_id, Episode.responsible_id, Episode.urgent_since,
               responsible.away_until,
               CheckInReport.sent_at, CheckInReport.talk_sooner, SelfHelpAssignment.programme,
               ExternalProgramme.title.label("external_title"), open_flag.label("open_flag"))
        .join(Episode, Episode.id == Appointment.episode_id)
        .outerjoin(responsible, responsible.id == Episode.responsible_id)
        .outerjoin(CheckInReport, CheckInReport.appointment_id == Appointment.id)
        .outerjoin(SelfHelpAssignment, SelfHelpAssignment.open_episode_id == Episode.id)
        .outerjoin(ExternalProgramme, ExternalProgramme.id == SelfHelpAssignment.external_programme_id)
        .where(Appointment.kind == AppointmentKind.CHECK_IN.value, Appointment.status == "booked",
               Episode.team_id.in_(team_ids), Episode.discharged_at.is_(None),
               or_(and_(CheckInReport.id.is_not(None), CheckInReport.reviewed_at.is_(None)),
                   and_(CheckInReport.id.is_(None), Appointment.starts_at <= now)),
               or_(mine, away, func.coalesce(CheckInReport.sent_at, Appointment.starts_at) <= early))).all()


def _mine_or_cover(row, *, actor_id: int, now: datetime, today: date, due: datetime) -> tuple[bool, str | None]:
    """Whether the check-in belongs in my queue, and the cover reason when it is a colleague's
    (`due`: two working days after it was sent, or after its time when none was sent)."""
    if row.responsible_id == actor_id or row.staff_id == actor_id:
        return True, None
    if row.away_until is not None and row.away_until >= today:
        return True, "away"
    if now > due:
        return True, "overdue"
    return False, None


def _programme_title(row, locale: str | None) -> str:
    if row.programme:
        found = content.programme(row.programme)
        return content.localized(found.titles, locale) if found else row.programme
    return row.external_title or ""


def deteriorated(histories: dict[str, ScoreHistory]) -> bool:
    """Reliable deterioration from the first to the last PHQ-9/GAD-7 (`outcomes.flags_from`)."""
    phq, gad = histories.get("PHQ-9"), histories.get("GAD-7")
    scored = min(phq.count, gad.count) if phq and gad else 0
    if scored < 2:
        return False
    flags, _result = outcomes.flags_from(urgent=False, first={"PHQ-9": phq.first, "GAD-7": gad.first},
                                         last={"PHQ-9": phq.last, "GAD-7": gad.last}, scored=scored,
                                         budget_minutes=0)
    return flags.reliable_deterioration


def review_queue(session: Session, *, actor: User, now: datetime | None = None, locale: str | None = None,
                 page: int = 1) -> Queue:
    """My review queue, a page at a time (see the module docstring). Every candidate is sorted with
    coded values only; names are decrypted, and residents audited (one insert), for the rows shown."""
    now = now or utcnow()
    team_ids = clinical_team_ids(session, actor, what="review queue")
    chosen, today, actor_id = [], local_date(now), actor.id  # actor may be a proxy: read its id once
    for row in _candidates(session, actor=actor, team_ids=team_ids, now=now):
        late = due_at(row.sent_at or row.starts_at)
        belongs, cover = _mine_or_cover(row, actor_id=actor_id, now=now, today=today, due=late)
        if belongs:
            chosen.append((row, cover, late))
    histories = score_histories(session, sorted({row.episode_id for row, _cover, _late in chosen}))
    waiting, missing = [], []
    for row, cover, late in chosen:
        due = late if row.sent_at else row.starts_at
        reasons = tuple(key for key, on in (
            ("episode", row.urgent_since is not None), ("flag", bool(row.open_flag)),
            ("talk_sooner", bool(row.talk_sooner)),
            ("deterioration", deteriorated(histories.get(row.episode_id, {})))) if on)
        (waiting if row.sent_at else missing).append((row, cover, due, reasons))
    waiting.sort(key=lambda r: (not r[3], r[2], r[0].id))
    missing.sort(key=lambda r: (not r[3], r[0].starts_at, r[0].id))
    pages = max(1, -(-len(waiting) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown_waiting = waiting[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    shown_missing = missing[:PAGE_SIZE] if page == 1 else []
    shown = shown_waiting + shown_missing
    people = {row.resident_id for row, *_rest in shown} | {row.responsible_id for row, cover, *_r in shown if cover}
    names = {person.id: person.display_name or person.username
             for person in session.execute(select(User.id, User.display_name, User.username)
                                           .where(User.id.in_(sorted(p for p in people if p is not None))))}

    def item(row, cover, due, reasons) -> QueueRow:
        return QueueRow(appointment_id=row.id, episode_id=row.episode_id, resident_id=row.resident_id,
                        team_id=row.team_id, name=names.get(row.resident_id) or f"#{row.resident_id}",
                        programme=_programme_title(row, locale), starts_at=row.starts_at, sent_at=row.sent_at,
                        due=due, overdue=now > due, urgent=reasons, cover=cover,
                        responsible_name=names.get(row.responsible_id) if cover else None)

    queue = Queue(waiting=[item(*r) for r in shown_waiting], missing=[item(*r) for r in shown_missing],
                  waiting_total=len(waiting), missing_total=len(missing), page=page, pages=pages)
    audit.record_shown(session, actor=actor, shown=[(r.resident_id, r.team_id, r.appointment_id)
                                                    for r in queue.waiting + queue.missing],
                       action="view_episode", object_type="check_in_queue", now=now)
    return queue


def waiting_count(session: Session, *, actor: User, now: datetime | None = None) -> int:
    """How many sent check-ins wait for my review (mine and those I cover), for I dag. Counts
    only, so not audited; one query (0 for staff who do not work with residents)."""
    if not is_clinical(actor):
        return 0
    now = now or utcnow()
    team_ids = staff_team_ids(session, actor)
    if not team_ids:
        return 0
    today = local_date(now)
    return sum(1 for row in _candidates(session, actor=actor, team_ids=team_ids, now=now)
               if row.sent_at is not None
               and _mine_or_cover(row, actor_id=actor.id, now=now, today=today, due=due_at(row.sent_at))[0])


# --- One check-in ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class WorksheetChange:
    """A worksheet written or changed since the last review."""

    worksheet: Worksheet
    new: bool


@dataclass(frozen=True)
class CheckInReview:
    """Everything on the review screen of one check-in, loaded with a fixed number of queries."""

    appointment: Appointment
    episode: Episode
    resident: User
    phone: str | None
    report: CheckInReport | None
    assignment: SelfHelpAssignment | None
    programme: str
    since: datetime
    modules: list[selfhelp.ModuleState]
    progress: list[ModuleProgress]
    next_module: selfhelp.ModuleItem | None
    worksheets: list[WorksheetChange]
    responses: list[MeasureResponse]
    deteriorated: bool
    earlier_feedback: list[CheckInReport]
    forms: list[FormRequest]
    phrases: list[FeedbackPhrase]
    started_at: datetime

    @property
    def reviewed(self) -> bool:
        return self.report is not None and self.report.reviewed_at is not None

    @property
    def can_complete(self) -> bool:
        return self.appointment.status == "booked"

    def elapsed_minutes(self, now: datetime) -> int:
        """Whole minutes since the review started, within MINUTES_MIN..MINUTES_MAX."""
        return min(MINUTES_MAX, max(MINUTES_MIN, int((now - self.started_at).total_seconds() // 60)))


def check_in_for_staff(session: Session, *, actor: User, appointment_id: int) -> tuple[Appointment, Episode]:
    """A check-in contact of my teams, with its episode; NotFound for anything else."""
    found = session.execute(
        select(Appointment, Episode).join(Episode, Episode.id == Appointment.episode_id)
        .where(Appointment.id == appointment_id, Appointment.kind == AppointmentKind.CHECK_IN.value)).first()
    require_team(session, actor, found[1].team_id if found else None, what="check-in")
    return found[0], found[1]


def next_module(modules: list[selfhelp.ModuleState]) -> selfhelp.ModuleItem | None:
    """The first module not open to the resident yet (the one the therapist may open early)."""
    return next((s.item for s in modules if not s.available), None)


def check_in_review(session: Session, *, actor: User, appointment_id: int, now: datetime | None = None,
                    locale: str | None = None) -> CheckInReview:
    """Open a check-in for review (access-checked, audited). The first open by a therapist starts
    the review's timer (`review_started_at`)."""
    now = now or utcnow()
    appointment, episode = check_in_for_staff(session, actor=actor, appointment_id=appointment_id)
    resident = session.get(User, episode.resident_id)
    report = session.scalars(select(CheckInReport).where(CheckInReport.appointment_id == appointment.id)).first()
    if report is not None and report.review_started_at is None and report.reviewed_at is None:
        report.review_started_at = now
    assignment = selfhelp.episode_assignment(session, episode_id=episode.id)
    until = report.reviewed_at if report is not None and report.reviewed_at is not None else now
    earlier = list(session.scalars(
        select(CheckInReport).where(CheckInReport.episode_id == episode.id, CheckInReport.reviewed_at.is_not(None),
                                    CheckInReport.reviewed_at < until, CheckInReport.appointment_id != appointment.id)
        .order_by(CheckInReport.reviewed_at.desc()).limit(EARLIER_FEEDBACK)))
    if earlier:
        since = earlier[0].reviewed_at
    elif assignment is not None:
        since = start_of_local_day(assignment.starts_on)
    else:
        since = episode.referred_at
    progress = selfhelp.progress_rows(session, assignment_id=assignment.id) if assignment else []
    modules = selfhelp.module_states(assignment, progress, today=local_date(now), locale=locale) if assignment else []
    worksheets = list(session.scalars(
        select(Worksheet).where(Worksheet.resident_id == resident.id, Worksheet.updated_at >= since)
        .order_by(Worksheet.updated_at.desc(), Worksheet.id.desc()).limit(WORKSHEETS_SHOWN)))
    responses = list(session.scalars(
        select(MeasureResponse).where(MeasureResponse.episode_id == episode.id,
                                      MeasureResponse.instrument_code.in_(("PHQ-9", "GAD-7")))
        .order_by(MeasureResponse.submitted_at, MeasureResponse.id)))
    forms = list(session.scalars(select(FormRequest).where(FormRequest.appointment_id == appointment.id)
                                 .order_by(FormRequest.id)))
    phrases = team_phrases(session, team_id=episode.team_id)
    audit.record(session, actor=actor, subject=resident, action="view_episode", object_type="check_in",
                 object_id=appointment.id, team_id=episode.team_id)
    started = report.review_started_at if report is not None and report.review_started_at else now
    return CheckInReview(
        appointment=appointment, episode=episode, resident=resident,
        phone=resident.phone or None,
        report=report, assignment=assignment,
        programme=selfhelp.programme_title(assignment, locale) if assignment else "", since=since,
        modules=modules, progress=progress, next_module=next_module(modules) if assignment and not
        assignment.ended_at else None,
        worksheets=[WorksheetChange(w, new=w.created_at >= since) for w in worksheets],
        responses=responses, deteriorated=_responses_deteriorated(responses),
        earlier_feedback=[r for r in earlier if r.feedback], forms=forms, phrases=phrases, started_at=started)


def _responses_deteriorated(responses: list[MeasureResponse]) -> bool:
    by_code: dict[str, list[int]] = {"PHQ-9": [], "GAD-7": []}
    for response in responses:
        by_code[response.instrument_code].append(response.total)
    histories = {code: ScoreHistory(first=totals[0], previous=None, last=totals[-1], last_at=datetime.min,
                                    count=len(totals)) for code, totals in by_code.items() if totals}
    return deteriorated(histories)


# --- Marking it reviewed --------------------------------------------------------------------------

@dataclass(frozen=True)
class Completed:
    """What marking a check-in reviewed did."""

    appointment: Appointment
    report: CheckInReport
    next_check_in: Appointment | None


def programme_weeks(assignment: SelfHelpAssignment) -> int:
    """How many weekly check-ins the programme has."""
    if assignment.programme is not None:
        found = content.programme(assignment.programme)
        return found.weeks if found else 0
    return assignment.external_programme.weeks if assignment.external_programme else 0


def complete_review(session: Session, *, actor: User, appointment_id: int, feedback: str | None, minutes: int,
                    by_phone: bool, now: datetime | None = None) -> Completed:
    """Mark a check-in reviewed (see the module docstring). ValueError for minutes outside
    MINUTES_MIN..MINUTES_MAX, feedback over FEEDBACK_MAX, no feedback on a written review, or a
    written review of a check-in never sent; Conflict when it was already completed."""
    now = now or utcnow()
    appointment, episode = check_in_for_staff(session, actor=actor, appointment_id=appointment_id)
    feedback = (feedback or "").strip() or None
    if not MINUTES_MIN <= minutes <= MINUTES_MAX:
        raise ValueError("minutes")
    if feedback is not None and len(feedback) > FEEDBACK_MAX:
        raise ValueError("feedback too long")
    if feedback is None and not by_phone:
        raise ValueError("feedback")
    if episode.discharged_at is not None:
        raise Conflict("episode ended")
    report = session.scalars(select(CheckInReport).where(CheckInReport.appointment_id == appointment.id)).first()
    if report is None and not by_phone:
        raise ValueError("no check-in sent")
    values: dict[str, Any] = {"status": "attended", "duration_minutes": minutes}
    if by_phone:
        values["mode"] = "phone"
    done = session.execute(update(Appointment).where(Appointment.id == appointment.id, Appointment.status == "booked")
                           .values(**values).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict("already reviewed")
    session.refresh(appointment)
    assignment = selfhelp.episode_assignment(session, episode_id=episode.id)
    if report is None:
        report = CheckInReport(appointment_id=appointment.id, episode_id=episode.id, resident_id=episode.resident_id,
                               assignment_id=assignment.id if assignment else None, answers={}, sent_at=now)
        session.add(report)
    report.review_started_at = report.review_started_at or now
    report.reviewed_at, report.reviewed_by_id, report.feedback = now, actor.id, feedback
    report.by_phone = by_phone
    when = appointment.starts_at
    if episode.first_contact_at is None or when < episode.first_contact_at:
        episode.first_contact_at = when
    if episode.first_treatment_at is None or when < episode.first_treatment_at:
        episode.first_treatment_at = when
    session.flush()
    if feedback is not None:  # "Du har en ny melding", nothing more; the home shows the feedback
        reminders.queue_message(session, resident_id=episode.resident_id, key=f"feedback:{report.id}",
                                link="client.home", now=now)
    return Completed(appointment, report, _book_next(session, actor=actor, episode=episode, assignment=assignment,
                                                     appointment=appointment, today=local_date(now)))


def _book_next(session: Session, *, actor: User, episode: Episode, assignment: SelfHelpAssignment | None,
               appointment: Appointment, today: date) -> Appointment | None:
    """Next week's check-in, unless the programme ended, had all its weeks, or one is booked."""
    if assignment is None or assignment.ended_at is not None:
        return None
    counted, booked = session.execute(
        select(func.count().filter(Appointment.status == "attended"),
               func.count().filter(Appointment.status == "booked"))
        .where(Appointment.episode_id == episode.id, Appointment.kind == AppointmentKind.CHECK_IN.value,
               Appointment.starts_at >= start_of_local_day(assignment.starts_on))).one()
    if counted >= programme_weeks(assignment) or booked:
        return None
    return selfhelp.book_next_check_in(session, assignment=assignment, episode=episode,
                                       staff_id=episode.responsible_id or actor.id,
                                       after=max(local_date(appointment.starts_at), today))


# --- The record note ------------------------------------------------------------------------------

def record_note(review: CheckInReview) -> str:
    """The note for the patient record of one guidance contact, in bokmål whatever the reader's
    language: date, minutes, by phone or written, modules worked on, worksheets, scores and the
    feedback."""
    appointment, report = review.appointment, review.report
    at = report.reviewed_at if report is not None and report.reviewed_at else appointment.starts_at
    lines = [f"Veiledet selvhjelp, ukentlig veiledning {to_local(at):%d.%m.%Y}"
             + (f" ({review.programme})." if review.programme else ".")]
    lines.append(f"Tid brukt: {appointment.duration_minutes} minutter, "
                 + ("veiledning på telefon." if report is not None and report.by_phone else "skriftlig veiledning."))
    worked = [_nb_module(s) for s in review.modules
              if any(t is not None and t >= review.since for t in (s.first_read_at, s.finished_at))]
    lines.append("Moduler arbeidet med: " + (", ".join(worked) + "." if worked else "ingen nye siden sist."))
    with force_locale(record_text.RECORD_LOCALE):
        sheets = [str(WORKSHEETS[w.worksheet.kind].title) for w in review.worksheets if w.worksheet.kind in WORKSHEETS]
    counted = ", ".join(f"{name} ({sheets.count(name)})" for name in dict.fromkeys(sheets))
    lines.append("Arbeidsark: " + (counted + "." if counted else "ingen nye siden sist."))
    latest = {r.instrument_code: r.total for r in review.responses}
    scores = "; ".join(f"{code} {total}" for code, total in latest.items())
    lines.append("Skårer: " + (scores + "." if scores else "ingen.")
                 + (" Pålitelig forverring siden start." if review.deteriorated else ""))
    if report is not None and report.talk_sooner:
        lines.append("Personen ba om å snakke med noen raskere.")
    if report is not None and report.feedback:
        lines.append(f"Tilbakemelding til personen: {report.feedback}")
    return "\n".join(lines)


def _nb_module(state: selfhelp.ModuleState) -> str:
    module = state.item.module
    title = content.localized(module.titles, "nb") if module is not None else state.item.title
    return f"{state.item.number}. {title}" + (" (fullført)" if state.finished_at else "")


# --- Opening the next module ------------------------------------------------------------------------

def open_next_module(session: Session, *, actor: User, appointment_id: int, now: datetime | None = None
                     ) -> selfhelp.ModuleItem:
    """Open the next module not yet open for the resident of this check-in (access-checked);
    Conflict when there is none (every module open, or the programme ended)."""
    now = now or utcnow()
    _appointment, episode = check_in_for_staff(session, actor=actor, appointment_id=appointment_id)
    assignment = selfhelp.episode_assignment(session, episode_id=episode.id)
    if assignment is None or assignment.ended_at is not None:
        raise Conflict("no programme")
    modules = selfhelp.module_states(assignment, selfhelp.progress_rows(session, assignment_id=assignment.id),
                                     today=local_date(now))
    item = next_module(modules)
    if item is None:
        raise Conflict("every module is open")
    selfhelp.open_module(session, actor=actor, assignment_id=assignment.id, module_key=item.key)
    return item


# --- The phrase bank ----------------------------------------------------------------------------

def team_phrases(session: Session, *, team_id: int) -> list[FeedbackPhrase]:
    return list(session.scalars(select(FeedbackPhrase).where(FeedbackPhrase.team_id == team_id)
                                .order_by(FeedbackPhrase.id)))


def phrases_of_my_teams(session: Session, *, actor: User) -> list[FeedbackPhrase]:
    """The phrase banks of my teams (team text, no resident data: not audited)."""
    team_ids = clinical_team_ids(session, actor, what="phrases")
    return list(session.scalars(select(FeedbackPhrase).where(FeedbackPhrase.team_id.in_(team_ids))
                                .order_by(FeedbackPhrase.team_id, FeedbackPhrase.id)))


def add_phrase(session: Session, *, actor: User, team_id: int, text: str) -> FeedbackPhrase:
    """Add a phrase to one of my teams' banks; ValueError when empty or over PHRASE_MAX."""
    require_team(session, actor, team_id, what="team")
    text = (text or "").strip()
    if not text or len(text) > PHRASE_MAX:
        raise ValueError("phrase")
    phrase = FeedbackPhrase(team_id=team_id, text=text, created_by_id=actor.id)
    session.add(phrase)
    session.flush()
    return phrase


def delete_phrase(session: Session, *, actor: User, phrase_id: int) -> None:
    """Remove a phrase from one of my teams' banks (NotFound otherwise)."""
    phrase = team_object(session, actor, FeedbackPhrase, phrase_id, what="phrase")
    session.delete(phrase)
    session.flush()


# --- Away ---------------------------------------------------------------------------------------

def set_away(session: Session, *, actor: User, until: date | None, today: date | None = None) -> User:
    """Mark myself away up to and including `until` (None: back). ValueError for a day in the
    past or more than AWAY_MAX_DAYS ahead."""
    require_clinical(actor, what="away")
    today = today or local_today()
    if until is not None and not today <= until <= today + timedelta(days=AWAY_MAX_DAYS):
        raise ValueError("away date")
    actor.away_until = until
    session.flush()
    return actor
