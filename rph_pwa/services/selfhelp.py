"""Guided self-help's core: a programme assigned in an episode, which of its modules are open,
and the weekly check-in contacts.

A programme is either shipped with the app (`rph_pwa.selfhelp.content`) or one the team
registered (`ExternalProgramme`); `programme_modules` gives both the same shape. Modules open week
by week from the assignment's start (module 1 at once, module 2 a week later, ...) or all at once;
the therapist may open one earlier (`open_module`).

Each week's check-in is a contact of kind `check_in`, booked on the assignment's weekday at
`CHECKIN_TIME` with the responsible therapist, so its forms are planned by outcome monitoring like
any contact's (`outcomes.plan_forms`). The first is booked when the programme is assigned, the next
when a check-in is reviewed (`book_next_check_in`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..codes import AppointmentKind, Offering
from ..db import utcnow
from ..localtime import local_to_utc, local_today
from ..models import Appointment, Episode, ExternalProgramme, ModuleProgress, SelfHelpAssignment, User
from ..models.selfhelp import PACES
from ..selfhelp import content
from . import outcomes
from .access import require_team, team_object
from .errors import Conflict, NotFound

#: When the weekly check-in contact is booked on its weekday (local time): the therapist's
#: guidance, usually a call or written feedback, is due that day.
CHECKIN_TIME = time(12, 0)
#: The planned length of a check-in's guidance (the handbook's "about 20 minutes").
CHECKIN_MINUTES = 20


@dataclass(frozen=True)
class ModuleItem:
    """A module as every page shows it, shipped or external. `module` is the shipped module (None
    for an external programme, whose `where` says the chapter's link or pages)."""

    key: str
    number: int
    title: str
    worksheet: str | None
    minutes: int | None
    module: content.Module | None = None
    where: str | None = None


@dataclass(frozen=True)
class ModuleState:
    """A module's state for one resident: open or not yet, and their progress."""

    item: ModuleItem
    available: bool
    opened_early: bool
    first_read_at: datetime | None
    finished_at: datetime | None
    rating: int | None


def programme_title(assignment: SelfHelpAssignment, locale: str | None = None) -> str:
    if assignment.programme is not None:
        programme = content.programme(assignment.programme)
        return content.localized(programme.titles, locale) if programme else assignment.programme
    return assignment.external_programme.title if assignment.external_programme else ""


def programme_modules(assignment: SelfHelpAssignment, locale: str | None = None, *,
                      hide_drafts: bool = False) -> list[ModuleItem]:
    """The assignment's modules in order (for an external programme, its registered chapters).
    `hide_drafts` (the deployment's SELFHELP_HIDE_DRAFTS, for residents): leave out modules no
    clinician has signed off; their numbers stay, so a URL keeps naming the same module."""
    if assignment.programme is not None:
        programme = content.programme(assignment.programme)
        if programme is None:
            return []
        return [ModuleItem(key=m.key, number=i, title=content.localized(m.titles, locale), worksheet=m.worksheet,
                           minutes=m.minutes, module=m)
                for i, m in enumerate(programme.modules, start=1) if not (hide_drafts and m.is_draft)]
    external = assignment.external_programme
    return [ModuleItem(key=f"{i:02d}", number=i, title=str(m.get("title", "")), worksheet=None, minutes=None,
                       where=str(m.get("where", "")) or None)
            for i, m in enumerate(external.modules if external else [], start=1)]


def module_states(assignment: SelfHelpAssignment, progress: list[ModuleProgress], *, today: date,
                  locale: str | None = None, hide_drafts: bool = False) -> list[ModuleState]:
    """Every module with whether it is open and the resident's progress (pure, given the rows)."""
    by_key = {p.module_key: p for p in progress}
    weeks_in = max((today - assignment.starts_on).days // 7, -1)
    states = []
    for index, item in enumerate(programme_modules(assignment, locale, hide_drafts=hide_drafts)):
        row = by_key.get(item.key)
        by_pace = assignment.pace == "all" or index <= weeks_in
        opened_early = bool(row and row.opened_at) and not by_pace
        states.append(ModuleState(item=item, available=by_pace or opened_early, opened_early=opened_early,
                                  first_read_at=row.first_read_at if row else None,
                                  finished_at=row.finished_at if row else None,
                                  rating=row.rating if row else None))
    return states


def this_weeks_module(states: list[ModuleState]) -> ModuleState | None:
    """The module to work on now: the first open one not finished, else the last open one."""
    available = [s for s in states if s.available]
    return next((s for s in available if s.finished_at is None), available[-1] if available else None)


def open_assignment(session: Session, *, resident_id: int) -> SelfHelpAssignment | None:
    """The resident's programme now (the open assignment of their latest episode), or None."""
    return session.scalars(select(SelfHelpAssignment)
                           .where(SelfHelpAssignment.resident_id == resident_id,
                                  SelfHelpAssignment.ended_at.is_(None))
                           .order_by(SelfHelpAssignment.id.desc()).limit(1)).first()


def episode_assignment(session: Session, *, episode_id: int) -> SelfHelpAssignment | None:
    """The episode's programme: the open one, else the latest."""
    return session.scalars(select(SelfHelpAssignment).where(SelfHelpAssignment.episode_id == episode_id)
                           .order_by(SelfHelpAssignment.ended_at.is_not(None), SelfHelpAssignment.id.desc())
                           .limit(1)).first()


def progress_rows(session: Session, *, assignment_id: int) -> list[ModuleProgress]:
    return list(session.scalars(select(ModuleProgress).where(ModuleProgress.assignment_id == assignment_id)))


def progress_row(session: Session, *, assignment: SelfHelpAssignment, module_key: str) -> ModuleProgress:
    """The progress row of one module, made when first needed (parallel requests share one row)."""
    query = select(ModuleProgress).where(ModuleProgress.assignment_id == assignment.id,
                                         ModuleProgress.module_key == module_key)
    row = session.scalars(query).first()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = ModuleProgress(assignment_id=assignment.id, module_key=module_key)
            session.add(row)
    except IntegrityError:
        row = session.scalars(query).one()
    return row


def next_weekday(day: date, weekday: int) -> date:
    """The first day on or after `day` that falls on `weekday` (0 = Monday)."""
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def check_in_at(day: date) -> datetime:
    return local_to_utc(day, CHECKIN_TIME)


def book_next_check_in(session: Session, *, assignment: SelfHelpAssignment, episode: Episode, staff_id: int,
                       after: date) -> Appointment:
    """Book the check-in contact on the first check-in weekday after `after` and plan its forms."""
    day = next_weekday(after + timedelta(days=1), assignment.checkin_weekday)
    appointment = Appointment(episode_id=episode.id, staff_id=staff_id, kind=AppointmentKind.CHECK_IN.value,
                              starts_at=check_in_at(day), mode="phone", duration_minutes=CHECKIN_MINUTES)
    session.add(appointment)
    session.flush()
    outcomes.plan_forms(session, appointment=appointment, episode=episode)
    return appointment


def assign_programme(session: Session, *, actor: User, episode_id: int, programme: str | None = None,
                     external_programme_id: int | None = None, checkin_weekday: int, pace: str = "weekly",
                     starts_on: date | None = None) -> SelfHelpAssignment:
    """Give a programme to the resident of an episode (access-checked): modules open from
    `starts_on` (today), the first check-in is booked on the next `checkin_weekday`, and the
    episode's offerings gain guided self-help. One open programme per episode (Conflict)."""
    episode = team_object(session, actor, Episode, episode_id, what="episode")
    if episode.discharged_at is not None:
        raise Conflict("episode ended")
    if pace not in PACES or not 0 <= checkin_weekday <= 6:
        raise ValueError("unknown pace or weekday")
    if (programme is None) == (external_programme_id is None):
        raise ValueError("one programme")
    if programme is not None and content.programme(programme) is None:
        raise NotFound("programme")
    if external_programme_id is not None:
        external = session.get(ExternalProgramme, external_programme_id)
        if external is None or external.team_id != episode.team_id or external.retired_at is not None:
            raise NotFound("programme")
    starts_on = starts_on or local_today()
    assignment = SelfHelpAssignment(episode_id=episode.id, resident_id=episode.resident_id, team_id=episode.team_id,
                                    programme=programme, external_programme_id=external_programme_id,
                                    checkin_weekday=checkin_weekday, pace=pace, starts_on=starts_on,
                                    assigned_by_id=actor.id, open_episode_id=episode.id)
    try:
        with session.begin_nested():
            session.add(assignment)
    except IntegrityError:
        raise Conflict("a programme is already open in this episode") from None
    offerings = [o for o in episode.offerings.split(",") if o]
    if Offering.GUIDED_SELF_HELP.value not in offerings:
        episode.offerings = ",".join([*offerings, Offering.GUIDED_SELF_HELP.value])
    book_next_check_in(session, assignment=assignment, episode=episode,
                       staff_id=episode.responsible_id or actor.id, after=starts_on - timedelta(days=1))
    return assignment


def end_assignment(session: Session, *, actor: User, assignment_id: int) -> SelfHelpAssignment:
    """End a programme (access-checked); its worksheets and the self-help plan stay the resident's."""
    assignment = session.get(SelfHelpAssignment, assignment_id)
    if assignment is None:
        raise NotFound("assignment")
    require_team(session, actor, assignment.team_id, what="assignment")
    if assignment.ended_at is None:
        assignment.ended_at, assignment.open_episode_id = utcnow(), None
        session.flush()
    return assignment


def open_module(session: Session, *, actor: User, assignment_id: int, module_key: str) -> ModuleProgress:
    """The therapist opens a module for the resident ahead of the weekly pace (access-checked)."""
    assignment = session.get(SelfHelpAssignment, assignment_id)
    if assignment is None:
        raise NotFound("assignment")
    require_team(session, actor, assignment.team_id, what="assignment")
    if assignment.ended_at is not None:
        raise Conflict("programme ended")
    if module_key not in {item.key for item in programme_modules(assignment)}:
        raise NotFound("module")
    row = progress_row(session, assignment=assignment, module_key=module_key)
    if row.opened_at is None:
        row.opened_at, row.opened_by_id = utcnow(), actor.id
    session.flush()
    return row



# --- The resident's side -------------------------------------------------------------------------

@dataclass(frozen=True)
class ResidentProgramme:
    """The resident's open programme as their pages show it: its title, every module with its
    state, the module to work on now, and the day each module not open yet opens."""

    assignment: SelfHelpAssignment
    title: str
    states: list[ModuleState]
    this_week: ModuleState | None
    #: Module number -> the day it opens by the weekly pace (modules already open are left out).
    opens_on: dict[int, date]


def resident_programme(session: Session, *, resident: User, today: date, locale: str | None = None,
                       hide_drafts: bool = False) -> ResidentProgramme | None:
    """The resident's open programme (None without one). Two queries: the assignment (with an
    external programme) and its progress rows."""
    assignment = open_assignment(session, resident_id=resident.id)
    if assignment is None:
        return None
    states = module_states(assignment, progress_rows(session, assignment_id=assignment.id), today=today,
                           locale=locale, hide_drafts=hide_drafts)
    opens_on = {s.item.number: assignment.starts_on + timedelta(weeks=index)
                for index, s in enumerate(states) if not s.available}
    return ResidentProgramme(assignment=assignment, title=programme_title(assignment, locale), states=states,
                             this_week=this_weeks_module(states), opens_on=opens_on)


def resident_module(programme: ResidentProgramme, number: int) -> ModuleState:
    """One open module of the resident's programme by its number (NotFound when it is not there,
    hidden, or not open yet)."""
    state = next((s for s in programme.states if s.item.number == number), None)
    if state is None or not state.available:
        raise NotFound("module")
    return state


def record_read(session: Session, *, assignment: SelfHelpAssignment, state: ModuleState,
                now: datetime | None = None) -> ModuleProgress:
    """The resident opened an open module: its first reading is recorded once."""
    row = progress_row(session, assignment=assignment, module_key=state.item.key)
    if row.first_read_at is None:
        row.first_read_at = now or utcnow()
        session.flush()
    return row


def finish_module(session: Session, *, assignment: SelfHelpAssignment, state: ModuleState, rating: int | None,
                  now: datetime | None = None) -> ModuleProgress:
    """The resident has finished an open module, with how useful it was (1-5, optional; a later
    rating replaces the earlier one)."""
    if rating is not None and not 1 <= rating <= 5:
        raise ValueError("rating out of range")
    now = now or utcnow()
    row = progress_row(session, assignment=assignment, module_key=state.item.key)
    row.first_read_at = row.first_read_at or now
    row.finished_at = row.finished_at or now
    if rating is not None:
        row.rating = rating
    session.flush()
    return row
