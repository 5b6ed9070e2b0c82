"""Open courses for residents: the public list of runs anyone may join, a resident's own
enrolment through the short screen (eligibility and the referral's crisis questions), and the
resident's course page (meetings, workbook files, the waiting list, withdrawing).

A participant who enrols themselves gets a referral with channel `course` (accepted at once) and
an episode with the offering `course`, or, with an open episode in one of the run's teams, that
episode gains the offering. A relative (pårørende) gets neither: no episode, no outcome forms.
PHQ-9 item 9 above 0 or "in crisis now" raises an urgent flag on the serving team, as the
referral does. Participants never see each other: nothing here names anyone.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ..db import utcnow
from ..models import (
    CourseMaterial,
    CourseMeeting,
    CourseParticipant,
    CourseRun,
    CourseTemplateMeeting,
    Episode,
    Municipality,
    Referral,
    Team,
    User,
)
from ..models.people import team_municipality
from . import courses, urgent_flags
from .errors import NotFound
from .referral_drafts import MINIMUM_AGE
from .referrals import age_band
from .resident_home import VIDEO_LINK_FROM

#: The statuses a resident's course page shows (a withdrawn run is gone from it).
SHOWN_STATUSES = ("enrolled", "waiting")


# --- The public list -------------------------------------------------------------------------------

@dataclass(frozen=True)
class MeetingView:
    """One meeting of a run with what the template says it covers."""

    number: int
    starts_at: datetime
    ends_at: datetime
    title: str
    content: str
    is_follow_up: bool
    cancelled: bool


@dataclass(frozen=True)
class PublicRun:
    """An open run as anyone may see it: no names of leaders or participants."""

    id: int
    title: str
    audience: str
    kind: str
    mode: str
    place: str
    meetings: list[MeetingView]
    places_left: int
    #: The next meeting (not cancelled) from now, and whether the run has begun (a run that has
    #: begun shows its next meeting, not its first).
    next: MeetingView | None = None
    begun: bool = False

    @property
    def first(self) -> MeetingView | None:
        return next((m for m in self.meetings if not m.cancelled), None)

    @property
    def full(self) -> bool:
        return self.places_left <= 0


def _meeting_views(run: CourseRun, titles: dict[tuple[int, int], CourseTemplateMeeting]) -> list[MeetingView]:
    views = []
    for meeting in run.meetings:
        described = titles.get((run.template_id, meeting.number))
        views.append(MeetingView(number=meeting.number, starts_at=meeting.starts_at,
                                 ends_at=meeting.starts_at + timedelta(minutes=meeting.duration_minutes),
                                 title=described.title if described else "",
                                 content=described.content if described else "",
                                 is_follow_up=meeting.is_follow_up, cancelled=meeting.cancelled))
    return views


def _template_meetings(session: Session, template_ids: set[int]) -> dict[tuple[int, int], CourseTemplateMeeting]:
    rows = session.scalars(select(CourseTemplateMeeting).where(CourseTemplateMeeting.template_id.in_(template_ids)))
    return {(row.template_id, row.number): row for row in rows}


def _enrolled_counts(session: Session, run_ids: list[int]) -> dict[int, int]:
    rows = session.execute(select(CourseParticipant.run_id, func.count()).where(
        CourseParticipant.run_id.in_(run_ids), CourseParticipant.status == "enrolled")
        .group_by(CourseParticipant.run_id)).all()
    return dict(rows)


def open_condition(now: datetime):
    """A condition on `CourseRun`: open to residents, not cancelled, and still worth joining:
    its first meeting is ahead, or it has begun, has places left and a regular meeting ahead.
    (A run that has begun takes no one onto its waiting list: nobody would be called in time.)"""
    ahead = and_(CourseMeeting.run_id == CourseRun.id, CourseMeeting.cancelled.is_(False))
    not_begun = ~exists().where(ahead, CourseMeeting.starts_at <= now)
    regular_ahead = exists().where(ahead, CourseMeeting.is_follow_up.is_(False), CourseMeeting.starts_at > now)
    enrolled = (select(func.count()).select_from(CourseParticipant)
                .where(CourseParticipant.run_id == CourseRun.id, CourseParticipant.status == "enrolled")
                .scalar_subquery())
    return and_(CourseRun.is_open.is_(True), CourseRun.cancelled.is_(False), regular_ahead,
                or_(not_begun, enrolled < CourseRun.capacity))


def _public_run(run: CourseRun, titles: dict, taken: int, now: datetime) -> PublicRun:
    meetings = _meeting_views(run, titles)
    held = [m for m in meetings if not m.cancelled]
    return PublicRun(id=run.id, title=run.template.title, audience=run.template.audience, kind=run.template.kind,
                     mode=run.mode, place=run.place, meetings=meetings, places_left=max(0, run.capacity - taken),
                     next=next((m for m in held if m.starts_at > now), None),
                     begun=any(m.starts_at <= now for m in held))


def _public_runs(session: Session, runs: list[CourseRun], now: datetime | None = None) -> list[PublicRun]:
    now = now or utcnow()
    titles = _template_meetings(session, {run.template_id for run in runs})
    counts = _enrolled_counts(session, [run.id for run in runs])
    return [_public_run(run, titles, counts.get(run.id, 0), now) for run in runs]


def public_runs(session: Session, *, now: datetime | None = None) -> list[PublicRun]:
    """Every open run of every team, the first to start first."""
    now = now or utcnow()
    first_start = (select(func.min(CourseMeeting.starts_at)).where(CourseMeeting.run_id == CourseRun.id)
                   .scalar_subquery())
    runs = list(session.scalars(
        select(CourseRun).where(open_condition(now)).order_by(first_start, CourseRun.id)
        .options(selectinload(CourseRun.template), selectinload(CourseRun.meetings))))
    return _public_runs(session, runs, now)


def open_run(session: Session, *, run_id: int, now: datetime | None = None) -> CourseRun:
    """The run if residents may join it now; NotFound otherwise (unknown, closed, over alike)."""
    now = now or utcnow()
    run = session.scalar(select(CourseRun).where(CourseRun.id == run_id, open_condition(now)))
    if run is None:
        raise NotFound("course")
    return run


def public_run(session: Session, *, run_id: int, now: datetime | None = None) -> PublicRun:
    return _public_runs(session, [open_run(session, run_id=run_id, now=now)], now)[0]


# --- Eligibility and the short screen ----------------------------------------------------------------

@dataclass(frozen=True)
class Eligibility:
    """"ok" (with the run's team that serves the person), "under_16" or "unserved"."""

    outcome: str
    team: Team | None = None
    municipality: Municipality | None = None


def run_team_ids(run: CourseRun) -> list[int]:
    """The run's own team first, then the teams sharing it."""
    return [run.team_id, *(share.team_id for share in run.shares if share.team_id != run.team_id)]


def serving_team(session: Session, *, run: CourseRun, municipality_id: int) -> Team | None:
    """The run's team if it serves the municipality, else a sharing team that does (by name)."""
    team_ids = run_team_ids(run)
    teams = list(session.scalars(
        select(Team).join(team_municipality, team_municipality.c.team_id == Team.id)
        .where(team_municipality.c.municipality_id == municipality_id, Team.id.in_(team_ids))
        .order_by(Team.name)))
    return next((t for t in teams if t.id == run.team_id), teams[0] if teams else None)


def check_eligibility(session: Session, *, run: CourseRun, age: int, municipality_id: int) -> Eligibility:
    """Who may join an open run: 16 or older, living in a municipality its team or a sharing team
    serves (the referral's rule, with the run's teams)."""
    municipality = session.get(Municipality, municipality_id)
    if municipality is None:
        raise NotFound("municipality")
    if age < MINIMUM_AGE:
        return Eligibility("under_16", municipality=municipality)
    team = serving_team(session, run=run, municipality_id=municipality.id)
    if team is None:
        return Eligibility("unserved", municipality=municipality)
    return Eligibility("ok", team=team, municipality=municipality)


@dataclass(frozen=True)
class Answers:
    """The short screen's answers (already checked for shape by the form)."""

    course_role: str
    age: int
    municipality_id: int
    crisis: bool
    #: PHQ-9 item 9 (0-3).
    item9: int

    @property
    def urgent_reasons(self) -> list[str]:
        """Why the team must call quickly, as the referral decides: item 9 above 0, "in crisis now"."""
        return [reason for reason, yes in (("item9", self.item9 > 0), ("crisis", self.crisis)) if yes]


@dataclass(frozen=True)
class Enrolment:
    """What the screen did: `eligibility.outcome` "ok" with the participant (enrolled or waiting),
    or not eligible (nothing stored, flags neither)."""

    eligibility: Eligibility
    participant: CourseParticipant | None = None


def open_episode(session: Session, *, resident: User, team_ids: list[int]) -> Episode | None:
    """The resident's newest open episode in one of `team_ids`."""
    return session.scalar(select(Episode).where(Episode.resident_id == resident.id, Episode.team_id.in_(team_ids),
                                                Episode.discharged_at.is_(None))
                          .order_by(Episode.referred_at.desc(), Episode.id.desc()).limit(1))


def add_offering(episode: Episode, offering: str) -> None:
    offerings = [o for o in (episode.offerings or "").split(",") if o]
    if offering not in offerings:
        episode.offerings = ",".join([*offerings, offering])


def _course_referral(session: Session, *, resident: User, run: CourseRun, team: Team, answers: Answers,
                     now: datetime) -> Episode:
    """A referral through the course (accepted: the course is the agreed offering) and its episode."""
    reasons = answers.urgent_reasons
    key = hashlib.sha256(f"course:{run.id}:{resident.id}:{secrets.token_urlsafe(16)}".encode()).hexdigest()
    referral = Referral(
        submission_key=key, resident_id=resident.id, team_id=team.id, municipality_id=answers.municipality_id,
        status="accepted", urgent=bool(reasons), urgent_reason=",".join(reasons) or None, channel="course",
        age_band=age_band(answers.age), gender="unspecified", submitted_at=now,
        answers={"eligibility": {"age": answers.age, "municipality_id": answers.municipality_id,
                                 "crisis": "yes" if answers.crisis else "no"},
                 "course": {"run_id": run.id, "role": answers.course_role}, "item9": answers.item9})
    session.add(referral)
    session.flush()
    episode = Episode(referral_id=referral.id, resident_id=resident.id, team_id=team.id, referred_at=now,
                      offerings="course")
    session.add(episode)
    session.flush()
    return episode


def enrol_self(session: Session, *, resident: User, run_id: int, answers: Answers,
               now: datetime | None = None) -> Enrolment:
    """A resident joins an open run from the short screen (as participant or relative), or is put
    on its waiting list when it is full. Not eligible: nothing is stored. Enrolling again returns
    the same participant (a double submit makes one referral, episode and participant): the run's
    row is locked first, so parallel submits take turns. Crisis answers always raise the flag."""
    now = now or utcnow()
    run = open_run(session, run_id=run_id, now=now)
    eligibility = check_eligibility(session, run=run, age=answers.age, municipality_id=answers.municipality_id)
    if eligibility.outcome != "ok":
        return Enrolment(eligibility)
    team = eligibility.team
    courses.lock_run(session, run.id)
    participant = session.scalar(select(CourseParticipant).where(CourseParticipant.run_id == run.id,
                                                                 CourseParticipant.user_id == resident.id))
    if participant is None or participant.status == "withdrawn":
        episode = None
        if answers.course_role == "participant":
            episode = open_episode(session, resident=resident, team_ids=run_team_ids(run))
            if episode is None:
                episode = _course_referral(session, resident=resident, run=run, team=team, answers=answers, now=now)
            else:
                add_offering(episode, "course")
        participant = courses.enrol(session, run_id=run.id, user=resident, role=answers.course_role,
                                    episode=episode, now=now)
    if resident.home_municipality_id is None:
        resident.home_municipality_id = answers.municipality_id
    if resident.team_id is None:
        resident.team_id = team.id
    episode = session.get(Episode, participant.episode_id) if participant.episode_id else None
    for reason in answers.urgent_reasons:
        urgent_flags.raise_flag(session, resident_id=resident.id, team_id=episode.team_id if episode else team.id,
                                reason=reason, referral_id=episode.referral_id if episode else None,
                                episode_id=episode.id if episode else None, now=now,
                                item9_answer=answers.item9 if reason == "item9" else None)
    session.flush()
    return Enrolment(eligibility, participant)


def current_participation(session: Session, *, resident: User, run_id: int) -> CourseParticipant | None:
    """The resident's place (enrolled or waiting) in a run, if any."""
    return session.scalar(select(CourseParticipant).where(
        CourseParticipant.run_id == run_id, CourseParticipant.user_id == resident.id,
        CourseParticipant.status.in_(SHOWN_STATUSES)))


# --- The resident's course page ----------------------------------------------------------------------

@dataclass(frozen=True)
class MaterialView:
    id: int
    filename: str
    size: int


@dataclass(frozen=True)
class MyCourse:
    """One of the resident's runs as their course page shows it."""

    participant_id: int
    status: str
    role: str
    run: PublicRun
    next_meeting: MeetingView | None
    #: The run's video address, only from VIDEO_LINK_FROM before a meeting until its end.
    video_link: str | None
    materials: list[MaterialView]


def has_course(session: Session, *, resident: User) -> bool:
    """Whether the resident is enrolled or waiting in a run that is not cancelled (the menu's "Kurs")."""
    return session.scalar(select(exists().where(
        CourseParticipant.user_id == resident.id, CourseParticipant.status.in_(SHOWN_STATUSES),
        CourseParticipant.run_id == CourseRun.id, CourseRun.cancelled.is_(False)))) or False


def _video_link(run: CourseRun, meetings: list[MeetingView], now: datetime) -> str | None:
    link = run.video_link or ""
    if run.mode != "video" or not link.lower().startswith("https://"):
        return None
    live = any(not m.cancelled and m.starts_at - VIDEO_LINK_FROM <= now <= m.ends_at for m in meetings)
    return link if live else None


def my_courses(session: Session, *, resident: User, now: datetime | None = None) -> list[MyCourse]:
    """The resident's runs (enrolled or waiting, not cancelled), the next to meet first."""
    now = now or utcnow()
    participants = list(session.scalars(
        select(CourseParticipant).join(CourseRun, CourseRun.id == CourseParticipant.run_id)
        .where(CourseParticipant.user_id == resident.id, CourseParticipant.status.in_(SHOWN_STATUSES),
               CourseRun.cancelled.is_(False))
        .options(selectinload(CourseParticipant.run).selectinload(CourseRun.meetings),
                 selectinload(CourseParticipant.run).selectinload(CourseRun.template))))
    runs = _public_runs(session, [p.run for p in participants], now)
    template_ids = {p.run.template_id for p in participants}
    materials: dict[int, list[MaterialView]] = {}
    for row in session.execute(select(CourseMaterial.id, CourseMaterial.template_id, CourseMaterial.filename,
                                      CourseMaterial.size).where(CourseMaterial.template_id.in_(template_ids))
                               .order_by(CourseMaterial.id)):
        materials.setdefault(row.template_id, []).append(MaterialView(row.id, row.filename, row.size))
    result = []
    for participant, run in zip(participants, runs):
        enrolled = participant.status == "enrolled"
        upcoming = [m for m in run.meetings if not m.cancelled and m.ends_at >= now]
        result.append(MyCourse(
            participant_id=participant.id, status=participant.status, role=participant.role, run=run,
            next_meeting=upcoming[0] if upcoming else None,
            video_link=_video_link(participant.run, run.meetings, now) if enrolled else None,
            materials=materials.get(participant.run.template_id, []) if enrolled else []))
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(result, key=lambda c: (c.next_meeting.starts_at if c.next_meeting else far, c.participant_id))


def material_for_resident(session: Session, *, resident: User, material_id: int) -> CourseMaterial:
    """A workbook file, if the resident is enrolled in a run of its template; NotFound otherwise."""
    material = session.scalar(select(CourseMaterial).where(
        CourseMaterial.id == material_id,
        exists().where(CourseParticipant.user_id == resident.id, CourseParticipant.status == "enrolled",
                       CourseParticipant.run_id == CourseRun.id, CourseRun.template_id == CourseMaterial.template_id,
                       CourseRun.cancelled.is_(False))))
    if material is None:
        raise NotFound("course")
    return material


def withdraw_self(session: Session, *, resident: User, participant_id: int,
                  now: datetime | None = None) -> CourseParticipant:
    """The resident takes themselves off a run or its waiting list (NotFound for anyone else's)."""
    participant = courses.participation(session, resident=resident, participant_id=participant_id)
    courses.withdraw(session, participant=participant, now=now)
    return participant

