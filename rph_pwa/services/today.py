"""I dag, the therapist's start page: my appointments today in time order, the open urgent flags
of my teams, and the tasks that are due.

Tasks: residents' change and cancel requests; referrals waiting longer than the team's target
(`Team.response_days` working days since they were sent, still not started); people guided onward
whose follow-up is due; episodes on my caseload near the 15-hour budget; forms not yet answered
before my appointments tomorrow; and a missed appointment with nothing booked after it.

A fixed number of queries, however many rows (no query per appointment or per episode). The
residents shown are audited in one insert (the urgent flags by `urgent_flags.open_flags` and the
requests here, as their own lists).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..localtime import add_working_days, local_date, start_of_local_day
from ..models import (
    Appointment,
    AppointmentRequest,
    CourseLeader,
    CourseMeeting,
    CourseParticipant,
    CourseRun,
    CourseTemplate,
    Episode,
    FormRequest,
    Referral,
    Team,
    User,
)
from . import appointment_requests, audit, dropout, onward, reminders, urgent_flags
from .access import is_clinical, staff_team_ids
from .caseload import NEAR_BUDGET_MINUTES, ScoreTrend, contact_summary, score_histories, trends
from .outcomes import form_not_answered
from .phones import e164_or_none
from .triage import not_started
from .urgent_flags import FlagView

#: The longest list of one kind of task on I dag (the rest are counted; the caseload lists them all).
TASK_LIMIT = 10


@dataclass(frozen=True)
class DayAppointment:
    """One of my appointments today."""

    id: int
    episode_id: int
    resident_id: int
    team_id: int
    starts_at: datetime
    duration_minutes: int
    kind: str
    mode: str
    status: str
    name: str
    #: The number as stored (shown) and its E.164 form for a `tel:` link (None when not valid).
    phone: str | None
    phone_e164: str | None
    forms_planned: int
    forms_answered: int
    scores: list[ScoreTrend]
    #: The resident answered "Jeg kommer" (Appointment.resident_answer).
    coming: bool = False
    #: No reminder channel can reach the resident (None: not known, no channel setup given).
    unreachable: bool | None = None

    @property
    def forms_done(self) -> bool:
        return self.forms_answered >= self.forms_planned


@dataclass(frozen=True)
class OverdueReferrals:
    """Referrals of my teams waiting past their team's target, not yet started."""

    count: int
    oldest_at: datetime | None


@dataclass(frozen=True)
class EpisodeTask:
    """An episode on my caseload or in my appointments that needs something done."""

    episode_id: int
    resident_id: int
    team_id: int
    name: str
    at: datetime | None = None
    minutes: int = 0
    missing: int = 0


@dataclass(frozen=True)
class Tasks:
    """What is due today."""

    requests: list[AppointmentRequest] = field(default_factory=list)
    overdue: OverdueReferrals = OverdueReferrals(0, None)
    follow_ups_due: int = 0
    near_budget: list[EpisodeTask] = field(default_factory=list)
    unanswered_tomorrow: list[EpisodeTask] = field(default_factory=list)
    no_shows: list[EpisodeTask] = field(default_factory=list)
    #: How many episodes are near the budget, or missed without a new time, in all (the lists
    #: above hold the first TASK_LIMIT of each).
    near_budget_total: int = 0
    no_shows_total: int = 0
    #: The drop-out routine: the written notice is due, or the deadline passed (close as dropped out).
    dropout_notices: list[dropout.DropoutTask] = field(default_factory=list)
    dropout_closes: list[dropout.DropoutTask] = field(default_factory=list)

    @property
    def count(self) -> int:
        return (len(self.requests) + (1 if self.overdue.count else 0) + (1 if self.follow_ups_due else 0)
                + self.near_budget_total + len(self.unanswered_tomorrow) + self.no_shows_total
                + len(self.dropout_notices) + len(self.dropout_closes))


@dataclass(frozen=True)
class DayCourseMeeting:
    """A course or group meeting I lead today (its leader's page has the people and the forms)."""

    id: int
    starts_at: datetime
    duration_minutes: int
    title: str
    number: int
    enrolled: int


@dataclass(frozen=True)
class Day:
    """Everything on I dag (empty for staff who do not work with residents: admins)."""

    day: date
    appointments: list[DayAppointment] = field(default_factory=list)
    flags: list[FlagView] = field(default_factory=list)
    tasks: Tasks = Tasks()
    course_meetings: list[DayCourseMeeting] = field(default_factory=list)


def day_for(session: Session, *, actor: User, now: datetime,
            setup: reminders.ChannelSetup | None = None) -> Day:
    """My day: appointments today (local day) in time order, open urgent flags of my teams, and
    the tasks that are due (see the module's docstring). Audited: one event per resident shown.
    With `setup` (the installation's reminder channels), appointments whose resident no
    reminder can reach are marked."""
    today = local_date(now)
    if not is_clinical(actor):
        return Day(today)
    team_ids = staff_team_ids(session, actor)
    appointments = _appointments(session, actor=actor, team_ids=team_ids, day=today, setup=setup)
    flags = urgent_flags.open_flags(session, actor=actor, now=now)
    near_budget, near_budget_total = _near_budget(session, actor=actor, team_ids=team_ids)
    no_shows, no_shows_total = _no_shows(session, actor=actor, team_ids=team_ids)
    dropout_notices, dropout_closes = dropout.due_tasks(session, actor=actor, team_ids=team_ids, now=now)
    tasks = Tasks(
        requests=appointment_requests.open_requests(session, actor=actor),
        overdue=_overdue(session, team_ids=team_ids, today=today),
        follow_ups_due=onward.count_follow_ups_due(session, actor=actor, now=now),
        near_budget=near_budget, near_budget_total=near_budget_total,
        unanswered_tomorrow=_unanswered(session, actor=actor, team_ids=team_ids, day=today + timedelta(days=1)),
        no_shows=no_shows, no_shows_total=no_shows_total,
        dropout_notices=dropout_notices, dropout_closes=dropout_closes,
    )
    shown = ([(a.resident_id, a.team_id, a.episode_id) for a in appointments]
             + [(r.resident_id, r.team_id, r.appointment.episode_id) for r in tasks.requests]
             + [(t.resident_id, t.team_id, t.episode_id)
                for t in (tasks.near_budget + tasks.unanswered_tomorrow + tasks.no_shows + tasks.dropout_notices
                          + tasks.dropout_closes)])
    # "view_episode": the resident's access log says their course of care was opened (the page
    # shows their appointments and scores); the object type tells I dag apart.
    audit.record_shown(session, actor=actor, shown=shown, action="view_episode", object_type="day_summary",
                       now=now)
    return Day(today, appointments, flags, tasks, _course_meetings(session, actor=actor, day=today))


def _course_meetings(session: Session, *, actor: User, day: date) -> list[DayCourseMeeting]:
    """The course and group meetings I lead on `day` (not cancelled), with how many are enrolled."""
    enrolled = (select(func.count()).select_from(CourseParticipant)
                .where(CourseParticipant.run_id == CourseMeeting.run_id, CourseParticipant.status == "enrolled")
                .scalar_subquery())
    rows = session.execute(
        select(CourseMeeting.id, CourseMeeting.starts_at, CourseMeeting.duration_minutes, CourseTemplate.title,
               CourseMeeting.number, enrolled)
        .join(CourseRun, CourseRun.id == CourseMeeting.run_id)
        .join(CourseTemplate, CourseTemplate.id == CourseRun.template_id)
        .join(CourseLeader, and_(CourseLeader.run_id == CourseRun.id, CourseLeader.user_id == actor.id))
        .where(CourseMeeting.cancelled.is_(False), CourseRun.cancelled.is_(False),
               CourseMeeting.starts_at >= start_of_local_day(day),
               CourseMeeting.starts_at < start_of_local_day(day + timedelta(days=1)))
        .order_by(CourseMeeting.starts_at, CourseMeeting.id)).all()
    return [DayCourseMeeting(*row) for row in rows]


def _appointments(session: Session, *, actor: User, team_ids: list[int], day: date,
                  setup: reminders.ChannelSetup | None = None) -> list[DayAppointment]:
    """My appointments on `day` (not cancelled), with the forms planned for each, the scores, the
    resident's answer and (with `setup`) whether any reminder can reach them. The participants'
    contacts of a course meeting are not listed one by one: the meeting is (`course_meetings`)."""
    rows = session.execute(
        select(Appointment, Episode.resident_id, Episode.team_id, User.display_name, User.phone)
        .join(Episode, Episode.id == Appointment.episode_id)
        .join(User, User.id == Episode.resident_id)
        .where(Appointment.staff_id == actor.id, Episode.team_id.in_(team_ids),
               Appointment.starts_at >= start_of_local_day(day),
               Appointment.starts_at < start_of_local_day(day + timedelta(days=1)),
               Appointment.status != "cancelled", Appointment.course_meeting_id.is_(None))
        .order_by(Appointment.starts_at, Appointment.id)).all()
    if not rows:
        return []
    forms: dict[int, list[int]] = {}
    for appointment_id, planned, answered in session.execute(
            select(FormRequest.appointment_id, func.count(), func.count(FormRequest.response_id))
            .where(FormRequest.appointment_id.in_([r[0].id for r in rows]))
            .group_by(FormRequest.appointment_id)):
        forms[appointment_id] = [planned, answered]
    histories = score_histories(session, list({r[0].episode_id for r in rows}))
    cut_off = (reminders.unreachable(session, resident_ids=sorted({r[1] for r in rows}), setup=setup)
               if setup is not None else None)
    return [DayAppointment(
        id=a.id, episode_id=a.episode_id, resident_id=resident_id, team_id=team_id, starts_at=a.starts_at,
        duration_minutes=a.duration_minutes, kind=a.kind, mode=a.mode, status=a.status,
        name=name or f"#{resident_id}", phone=phone, phone_e164=e164_or_none(phone),
        forms_planned=forms.get(a.id, [0, 0])[0], forms_answered=forms.get(a.id, [0, 0])[1],
        scores=trends(histories.get(a.episode_id, {})),
        coming=a.resident_answer == "coming",
        unreachable=(resident_id in cut_off) if cut_off is not None else None,
    ) for a, resident_id, team_id, name, phone in rows]


def _overdue(session: Session, *, team_ids: list[int], today: date) -> OverdueReferrals:
    """Not-started referrals sent before their team's target day (one query for all my teams)."""
    teams = session.execute(select(Team.id, Team.response_days).where(Team.id.in_(team_ids))).all()
    if not teams:
        return OverdueReferrals(0, None)
    late = or_(*(and_(Referral.team_id == team_id,
                      Referral.submitted_at < start_of_local_day(add_working_days(today, -days)))
                 for team_id, days in teams))
    count, oldest = session.execute(
        select(func.count(), func.min(Referral.submitted_at)).select_from(Referral)
        .join(Episode, Episode.referral_id == Referral.id)
        .where(late, *not_started())).one()
    return OverdueReferrals(count or 0, oldest)


def _caseload_ids(*, actor: User, team_ids: list[int]):
    return select(Episode.id).where(Episode.responsible_id == actor.id, Episode.team_id.in_(team_ids),
                                    Episode.discharged_at.is_(None))


def _near_budget(session: Session, *, actor: User, team_ids: list[int]) -> tuple[list[EpisodeTask], int]:
    """The TASK_LIMIT episodes on my caseload with the most attended treatment, of those with at
    least NEAR_BUDGET_MINUTES, and how many there are in all."""
    summary = contact_summary(_caseload_ids(actor=actor, team_ids=team_ids).scalar_subquery())
    rows = session.execute(
        select(Episode.id, Episode.resident_id, Episode.team_id, User.display_name, summary.c.minutes,
               func.count().over())
        .join(summary, summary.c.episode_id == Episode.id)
        .join(User, User.id == Episode.resident_id)
        .where(summary.c.minutes >= NEAR_BUDGET_MINUTES)
        .order_by(summary.c.minutes.desc(), Episode.id).limit(TASK_LIMIT)).all()
    return ([EpisodeTask(episode_id, resident_id, team_id, name or f"#{resident_id}", minutes=minutes)
             for episode_id, resident_id, team_id, name, minutes, _total in rows], rows[0][-1] if rows else 0)


def _unanswered(session: Session, *, actor: User, team_ids: list[int], day: date) -> list[EpisodeTask]:
    """My booked appointments on `day` with forms not yet answered, and how many are missing."""
    rows = session.execute(
        select(Appointment.episode_id, Episode.resident_id, Episode.team_id, User.display_name,
               Appointment.starts_at, func.count(FormRequest.id))
        .join(Episode, Episode.id == Appointment.episode_id)
        .join(User, User.id == Episode.resident_id)
        .join(FormRequest, FormRequest.appointment_id == Appointment.id)
        .where(Appointment.staff_id == actor.id, Episode.team_id.in_(team_ids), Appointment.status == "booked",
               Appointment.course_meeting_id.is_(None),
               Appointment.starts_at >= start_of_local_day(day),
               Appointment.starts_at < start_of_local_day(day + timedelta(days=1)),
               form_not_answered())
        .group_by(Appointment.id, Appointment.episode_id, Episode.resident_id, Episode.team_id, User.display_name,
                  Appointment.starts_at)
        .order_by(Appointment.starts_at, Appointment.id)).all()
    return [EpisodeTask(episode_id, resident_id, team_id, name or f"#{resident_id}", at=at, missing=missing)
            for episode_id, resident_id, team_id, name, at, missing in rows]


def _no_shows(session: Session, *, actor: User, team_ids: list[int]) -> tuple[list[EpisodeTask], int]:
    """The newest missed appointment of each open episode that is mine (on my caseload, or the
    missed appointment was with me) when nothing was booked or attended after it: the TASK_LIMIT
    oldest, and how many there are in all."""
    later = aliased(Appointment)
    after = (select(later.id).where(later.episode_id == Appointment.episode_id,
                                    later.starts_at > Appointment.starts_at,
                                    later.status.in_(("booked", "attended"))).exists())
    rows = session.execute(
        select(Appointment.episode_id, Episode.resident_id, Episode.team_id, User.display_name,
               func.max(Appointment.starts_at), func.count().over())
        .join(Episode, Episode.id == Appointment.episode_id)
        .join(User, User.id == Episode.resident_id)
        .where(Appointment.status == "no_show", Episode.team_id.in_(team_ids), Episode.discharged_at.is_(None),
               Appointment.course_meeting_id.is_(None),
               or_(Episode.responsible_id == actor.id, Appointment.staff_id == actor.id), ~after)
        .group_by(Appointment.episode_id, Episode.resident_id, Episode.team_id, User.display_name)
        .order_by(func.max(Appointment.starts_at), Appointment.episode_id).limit(TASK_LIMIT)).all()
    return ([EpisodeTask(episode_id, resident_id, team_id, name or f"#{resident_id}", at=at)
             for episode_id, resident_id, team_id, name, at, _total in rows], rows[0][-1] if rows else 0)
