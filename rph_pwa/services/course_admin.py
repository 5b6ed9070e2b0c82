"""The staff's course administration: the team's templates and runs, editing them, workbook files,
enrolment from an episode or of a relative, withdrawal, and moving or cancelling a meeting.

Who may do what (on top of `services.courses`' checks):
- templates and their files: clinical staff of the template's team;
- a run's settings and its meetings: clinical staff of the owning team, and the run's leaders;
- seeing a run and enrolling in it: also staff of a team the run is shared with. They see only
  the participants from their own teams (plus the counts); the owning team and the leaders see all.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from ..crypto import FieldCrypto
from ..db import parse_id, utcnow
from ..measures.registry import INSTRUMENTS
from ..models import (
    Appointment,
    CourseAttendanceMark,
    CourseLeader,
    CourseMaterial,
    CourseMeeting,
    CourseParticipant,
    CourseRun,
    CourseShare,
    CourseTemplate,
    CourseTemplateMeeting,
    Episode,
    Team,
    TeamMembership,
    User,
)
from ..models.people import phone_lookup_key
from . import audit, courses
from .access import clinical_only, clinical_team_ids, team_object
from .accounts import create_resident, find_by_email, set_email
from .errors import NotFound

#: The questionnaires a template may ask before its meetings (outcome instruments, not session feedback).
COURSE_INSTRUMENTS = tuple(code for code in INSTRUMENTS if code != "SESSION-FEEDBACK")
#: Workbook files: at most this many bytes, and only these kinds (by extension).
MATERIAL_MAX_BYTES = 10 * 1024 * 1024
MATERIAL_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".txt": "text/plain",
}
TITLE_MAX = 200
PLACE_MAX = 300
CONTENT_MAX = 5000


class MaterialTooLarge(ValueError):
    """A workbook file over MATERIAL_MAX_BYTES."""


class MaterialType(ValueError):
    """A workbook file whose extension is not allowed."""


class PastDate(ValueError):
    """A meeting date in the past."""


class NoLeaders(ValueError):
    """A run needs at least one leader."""


class NotALeaderChoice(ValueError):
    """A leader who is not clinical staff of the owning or a sharing team."""


# --- Listing ---------------------------------------------------------------------------------------

@dataclass
class RunRow:
    """One run as the course list shows it."""

    run: CourseRun
    first: datetime | None
    last: datetime | None
    enrolled: int = 0
    waiting: int = 0
    leaders: list[str] = field(default_factory=list)


@dataclass
class CourseList:
    templates: list[CourseTemplate]
    coming: list[RunRow]
    in_progress: list[RunRow]
    finished: list[RunRow]


def _counts(session: Session, run_ids: list[int]) -> dict[tuple[int, str], int]:
    if not run_ids:
        return {}
    rows = session.execute(select(CourseParticipant.run_id, CourseParticipant.status, func.count())
                           .where(CourseParticipant.run_id.in_(run_ids))
                           .group_by(CourseParticipant.run_id, CourseParticipant.status)).all()
    return {(run_id, status): n for run_id, status, n in rows}


def course_list(session: Session, *, actor: User, now: datetime | None = None) -> CourseList:
    """The actor's teams' templates, and the runs of those teams or shared with them, by phase."""
    now = now or utcnow()
    teams = clinical_team_ids(session, actor, what="course")
    templates = list(session.scalars(select(CourseTemplate).where(CourseTemplate.team_id.in_(teams))
                                     .options(selectinload(CourseTemplate.team))
                                     .order_by(CourseTemplate.archived, CourseTemplate.title)))
    runs = list(session.scalars(
        select(CourseRun).where(courses.visible_to_teams(teams))
        .options(selectinload(CourseRun.meetings), selectinload(CourseRun.template),
                 selectinload(CourseRun.leaders).selectinload(CourseLeader.user))))
    counts = _counts(session, [r.id for r in runs])
    result = CourseList(templates, [], [], [])
    for run in runs:
        held = [m for m in run.meetings if not m.cancelled] or run.meetings
        first = min((m.starts_at for m in held), default=None)
        last = max((m.starts_at + timedelta(minutes=m.duration_minutes) for m in held), default=None)
        row = RunRow(run, first, last, counts.get((run.id, "enrolled"), 0), counts.get((run.id, "waiting"), 0),
                     sorted(leader.user.display_name or "" for leader in run.leaders))
        if last is not None and last < now or run.cancelled:
            result.finished.append(row)
        elif first is not None and first <= now:
            result.in_progress.append(row)
        else:
            result.coming.append(row)
    result.coming.sort(key=lambda r: r.first or now)
    result.in_progress.sort(key=lambda r: r.first or now)
    result.finished.sort(key=lambda r: r.last or now, reverse=True)
    return result


# --- Templates -------------------------------------------------------------------------------------

def check_instruments(codes: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [code for code in codes if code not in COURSE_INSTRUMENTS]
    if unknown:
        raise ValueError("unknown instrument")
    return tuple(dict.fromkeys(codes))


def save_template(session: Session, *, actor: User, template_id: int | None, team_id: int, title: str, kind: str,
                  audience: str, meeting_count: int, meeting_minutes: int, capacity: int, follow_up: bool,
                  instrument_codes: tuple[str, ...], evaluation_each_meeting: bool, is_open: bool,
                  meetings: tuple[tuple[str, str], ...], archived: bool = False) -> CourseTemplate:
    """Create a template (template_id None) or change one; `meetings` gives each meeting's (title,
    content), the follow-up meeting's last when there is one. Missing meetings get empty content.
    A template is archived, never deleted (its runs and results keep it)."""
    codes = check_instruments(instrument_codes)
    wanted = meeting_count + (1 if follow_up else 0)
    meetings = (tuple(meetings) + (("", ""),) * wanted)[:wanted]
    if template_id is None:
        return courses.create_template(
            session, actor=actor, team_id=team_id, title=title, kind=kind, audience=audience,
            meeting_count=meeting_count, meeting_minutes=meeting_minutes, capacity=capacity, follow_up=follow_up,
            instrument_codes=codes, evaluation_each_meeting=evaluation_each_meeting, is_open=is_open,
            meetings=meetings)
    template = courses.template_for_staff(session, actor=actor, template_id=template_id)
    template.title, template.kind, template.audience = title.strip(), kind, audience.strip()
    template.meeting_count, template.meeting_minutes, template.capacity = meeting_count, meeting_minutes, capacity
    template.follow_up, template.instrument_codes = follow_up, ",".join(codes)
    template.evaluation_each_meeting, template.is_open = evaluation_each_meeting, is_open
    template.archived = archived
    by_number = {m.number: m for m in template.meetings}
    for number, (title_, content) in enumerate(meetings, start=1):
        meeting = by_number.pop(number, None)
        if meeting is None:
            template.meetings.append(CourseTemplateMeeting(number=number, title=title_, content=content))
        else:
            meeting.title, meeting.content = title_, content
    for meeting in by_number.values():
        template.meetings.remove(meeting)
    session.flush()
    return template


def template_runs(session: Session, *, template: CourseTemplate) -> list[CourseRun]:
    return list(session.scalars(select(CourseRun).where(CourseRun.template_id == template.id)
                                .options(selectinload(CourseRun.meetings)).order_by(CourseRun.created_at.desc())))


# --- Workbook files ---------------------------------------------------------------------------------

def material_type(filename: str) -> str:
    """The content type of a workbook file, from its extension (MaterialType if not allowed)."""
    content_type = MATERIAL_TYPES.get(os.path.splitext(filename or "")[1].lower())
    if content_type is None:
        raise MaterialType(filename)
    return content_type


def add_material(session: Session, *, actor: User, template_id: int, filename: str, data: bytes) -> CourseMaterial:
    template = courses.template_for_staff(session, actor=actor, template_id=template_id)
    if len(data) > MATERIAL_MAX_BYTES:
        raise MaterialTooLarge(filename)
    name = os.path.basename((filename or "").replace("\\", "/")).strip()[:TITLE_MAX] or "file"
    material = CourseMaterial(template_id=template.id, filename=name, content_type=material_type(name),
                              size=len(data), data=data)
    session.add(material)
    session.flush()
    return material


def material_for_staff(session: Session, *, actor: User, material_id: int) -> CourseMaterial:
    """A workbook file of a template of the actor's teams, or of a run shared with them."""
    material = session.get(CourseMaterial, material_id)
    if material is None:
        raise NotFound("course")
    teams = clinical_team_ids(session, actor, what="course")
    if material.template.team_id not in teams and session.scalar(
            select(CourseRun.id).where(CourseRun.template_id == material.template_id,
                                       courses.visible_to_teams(teams)).limit(1)) is None:
        raise NotFound("course")
    return material


def delete_material(session: Session, *, actor: User, material_id: int) -> CourseTemplate:
    material = session.get(CourseMaterial, material_id)
    if material is None:
        raise NotFound("course")
    template = courses.template_for_staff(session, actor=actor, template_id=material.template_id)
    session.delete(material)
    session.flush()
    return template


# --- Runs --------------------------------------------------------------------------------------------

def may_manage(session: Session, *, actor: User, run: CourseRun) -> bool:
    """Staff of the owning team and the run's leaders change its settings and meetings."""
    return (run.team_id in clinical_team_ids(session, actor, what="course")
            or courses.is_leader(session, actor=actor, run_id=run.id))


def run_to_manage(session: Session, *, actor: User, run_id: int) -> CourseRun:
    run = courses.run_for_staff(session, actor=actor, run_id=run_id)
    if not may_manage(session, actor=actor, run=run):
        raise NotFound("course")
    return run


def leader_choices(session: Session, *, team_ids: list[int]) -> list[User]:
    """Clinical staff of these teams (who may lead a run of them), by name."""
    if not team_ids:
        return []
    return list(session.scalars(
        select(User).where(clinical_only(), User.is_active.is_(True),
                           User.id.in_(select(TeamMembership.user_id).where(TeamMembership.team_id.in_(team_ids))))
        .order_by(User.display_name, User.id)))


def other_teams(session: Session, *, team_id: int) -> list[Team]:
    """Every other team (joint courses across municipalities may share a run with any team)."""
    return list(session.scalars(select(Team).where(Team.id != team_id).order_by(Team.name)))


def weekly_starts(first: datetime, count: int) -> list[datetime]:
    return [first + timedelta(weeks=n) for n in range(count)]


def check_leaders(session: Session, *, team_id: int, shared_team_ids: tuple[int, ...],
                  leader_ids: tuple[int, ...]) -> tuple[int, ...]:
    leaders = tuple(dict.fromkeys(leader_ids))
    if not leaders:
        raise NoLeaders()
    allowed = {u.id for u in leader_choices(session, team_ids=[team_id, *shared_team_ids])}
    if not set(leaders) <= allowed:
        raise NotALeaderChoice()
    return leaders


def check_shares(session: Session, *, team_id: int, shared_team_ids: tuple[int, ...]) -> tuple[int, ...]:
    shares = tuple(dict.fromkeys(t for t in shared_team_ids if t != team_id))
    if any(parse_id(t) is None for t in shares):
        raise NotFound("team")
    if shares and len(session.scalars(select(Team.id).where(Team.id.in_(shares))).all()) != len(shares):
        raise NotFound("team")
    return shares


def new_run(session: Session, *, actor: User, template_id: int, first_start: datetime, mode: str, place: str,
            video_link: str | None, capacity: int, leader_ids: tuple[int, ...], shared_team_ids: tuple[int, ...],
            evaluation_anonymous: bool, follow_up_at: datetime | None, now: datetime | None = None) -> CourseRun:
    """A run with weekly meetings from `first_start` (each can be moved afterwards)."""
    now = now or utcnow()
    template = courses.template_for_staff(session, actor=actor, template_id=template_id)
    if template.archived:
        raise NotFound("course")
    starts = weekly_starts(first_start, template.meeting_count)
    if first_start <= now:
        raise PastDate()
    if follow_up_at is not None and follow_up_at <= starts[-1]:
        raise PastDate()
    shares = check_shares(session, team_id=template.team_id, shared_team_ids=shared_team_ids)
    leaders = check_leaders(session, team_id=template.team_id, shared_team_ids=shares, leader_ids=leader_ids)
    return courses.create_run(session, actor=actor, template_id=template.id, starts=starts, mode=mode,
                              place=place if mode == "office" else "",
                              video_link=video_link if mode == "video" else None, capacity=capacity,
                              leader_ids=leaders, shared_team_ids=shares, evaluation_anonymous=evaluation_anonymous,
                              follow_up_at=follow_up_at if template.follow_up else None)


def edit_run(session: Session, *, actor: User, run_id: int, mode: str, place: str, video_link: str | None,
             capacity: int, leader_ids: tuple[int, ...], shared_team_ids: tuple[int, ...],
             evaluation_anonymous: bool, now: datetime | None = None) -> CourseRun:
    """Change a run's place or link, places, leaders and sharing teams (meetings are moved one by
    one). More places take people from the waiting list; fewer keep everyone already enrolled."""
    run = run_to_manage(session, actor=actor, run_id=run_id)
    shares = check_shares(session, team_id=run.team_id, shared_team_ids=shared_team_ids)
    leaders = check_leaders(session, team_id=run.team_id, shared_team_ids=shares, leader_ids=leader_ids)
    run.mode = mode
    run.place = place.strip() if mode == "office" else ""
    run.video_link = (video_link or None) if mode == "video" else None
    run.capacity = capacity
    run.evaluation_anonymous = evaluation_anonymous
    keep = {leader.user_id: leader for leader in run.leaders}
    run.leaders = [keep.get(user_id) or CourseLeader(user_id=user_id) for user_id in leaders]
    shared = {share.team_id: share for share in run.shares}
    run.shares = [shared.get(team_id) or CourseShare(team_id=team_id) for team_id in shares]
    session.flush()
    # The participants' contacts ahead follow the run's place and mode.
    session.execute(update(Appointment).where(
        Appointment.course_meeting_id.in_(select(CourseMeeting.id).where(CourseMeeting.run_id == run.id)),
        Appointment.status == "booked")
        .values(mode="video" if run.mode == "video" else "office", place=run.place or None)
        .execution_options(synchronize_session=False))
    courses.promote_waiting(session, run=run, now=now)
    return run


def meeting_to_manage(session: Session, *, actor: User, meeting_id: int) -> CourseMeeting:
    meeting = session.get(CourseMeeting, meeting_id)
    if meeting is None:
        raise NotFound("course")
    run_to_manage(session, actor=actor, run_id=meeting.run_id)
    return meeting


def change_meeting(session: Session, *, actor: User, meeting_id: int, starts_at: datetime | None, cancel: bool,
                   now: datetime | None = None) -> CourseMeeting:
    """Move a meeting to a new time in the future, or cancel it."""
    now = now or utcnow()
    meeting = meeting_to_manage(session, actor=actor, meeting_id=meeting_id)
    if cancel:
        courses.cancel_meeting(session, meeting=meeting)
        return meeting
    if starts_at is None or starts_at <= now:
        raise PastDate()
    courses.move_meeting(session, meeting=meeting, starts_at=starts_at)
    return meeting


# --- The run page -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ParticipantRow:
    participant: CourseParticipant
    name: str
    attended: int
    team_id: int | None


@dataclass
class RunPage:
    run: CourseRun
    manage: bool
    leader: bool
    enrolled: list[ParticipantRow]
    waiting: list[ParticipantRow]
    enrolled_count: int
    waiting_count: int


def sees_all_participants(session: Session, *, actor: User, run: CourseRun) -> bool:
    return may_manage(session, actor=actor, run=run)


def participant_team(participant: CourseParticipant, episode_team: int | None) -> int | None:
    """The team a person is enrolled through: their episode's, or (relatives) their own team."""
    return episode_team if episode_team is not None else participant.user.team_id


def run_page(session: Session, *, actor: User, run_id: int, now: datetime | None = None) -> RunPage:
    """A run with its meetings and the participants the actor may see, audited (one event per
    person shown)."""
    now = now or utcnow()
    run = courses.run_for_staff(session, actor=actor, run_id=run_id)
    everyone = sees_all_participants(session, actor=actor, run=run)
    # The leaders' names in one query (their `user` is then found in the session's identity map).
    session.scalars(select(User).where(User.id.in_([leader.user_id for leader in run.leaders]))).all()
    teams = set(clinical_team_ids(session, actor, what="course"))
    rows = session.execute(
        select(CourseParticipant, Episode.team_id).outerjoin(Episode, Episode.id == CourseParticipant.episode_id)
        .where(CourseParticipant.run_id == run.id, CourseParticipant.status != "withdrawn")
        .options(selectinload(CourseParticipant.user))
        .order_by(CourseParticipant.created_at, CourseParticipant.id)).all()
    attended = dict(session.execute(
        select(CourseAttendanceMark.participant_id, func.count())
        .join(CourseMeeting, CourseMeeting.id == CourseAttendanceMark.meeting_id)
        .where(CourseMeeting.run_id == run.id, CourseAttendanceMark.status == "attended")
        .group_by(CourseAttendanceMark.participant_id)).all())
    enrolled, waiting = [], []
    counts = {"enrolled": 0, "waiting": 0}
    for participant, episode_team in rows:
        counts[participant.status] = counts.get(participant.status, 0) + 1
        team_id = participant_team(participant, episode_team)
        if not everyone and team_id not in teams:
            continue
        row = ParticipantRow(participant, participant.user.display_name or "", attended.get(participant.id, 0),
                             team_id)
        (enrolled if participant.status == "enrolled" else waiting).append(row)
    audit.record_shown(session, actor=actor, shown=[(r.participant.user_id, r.team_id, run.id)
                                                    for r in enrolled + waiting],
                       action="view_course_run", object_type="course_run", now=now)
    return RunPage(run, everyone, courses.is_leader(session, actor=actor, run_id=run.id), enrolled, waiting,
                   counts["enrolled"], counts["waiting"])


# --- Enrolment ------------------------------------------------------------------------------------

def run_team_ids(run: CourseRun) -> set[int]:
    return {run.team_id, *(share.team_id for share in run.shares)}


def enrolable_episodes(session: Session, *, actor: User, run: CourseRun, limit: int = 300) -> list[tuple[int, str]]:
    """Open episodes of the actor's teams that take part in the run, those offered a course first:
    (episode id, the resident's name); only the name is decrypted."""
    teams = set(clinical_team_ids(session, actor, what="course")) & run_team_ids(run)
    if not teams:
        return []
    rows = session.execute(
        select(Episode.id, User.display_name).join(User, User.id == Episode.resident_id)
        .where(Episode.team_id.in_(teams), Episode.discharged_at.is_(None),
               ~Episode.resident_id.in_(select(CourseParticipant.user_id).where(
                   CourseParticipant.run_id == run.id, CourseParticipant.status != "withdrawn")))
        .order_by(Episode.offerings.contains("course").desc(), User.display_name, Episode.id).limit(limit)).all()
    return [(episode_id, name or "") for episode_id, name in rows]


def enrol_episode(session: Session, *, actor: User, run_id: int, episode_id: int,
                  now: datetime | None = None) -> CourseParticipant:
    """Enrol the resident of an open episode of the actor's teams in a run open to that team."""
    run = courses.run_for_staff(session, actor=actor, run_id=run_id)
    episode = team_object(session, actor, Episode, episode_id, what="episode")
    if episode.discharged_at is not None or episode.team_id not in run_team_ids(run):
        raise NotFound("episode")
    resident = session.get(User, episode.resident_id)
    return courses.enrol(session, run_id=run.id, user=resident, role="participant", episode=episode, actor=actor,
                         now=now)


def runs_for_episode(session: Session, *, actor: User, episode_id: int,
                     now: datetime | None = None) -> list[RunRow]:
    """Runs not begun yet that are open to the episode's team (the episode page's course form)."""
    now = now or utcnow()
    episode = team_object(session, actor, Episode, episode_id, what="episode")
    runs = list(session.scalars(
        select(CourseRun).where(courses.visible_to_teams([episode.team_id]), CourseRun.cancelled.is_(False),
                                ~CourseRun.meetings.any(CourseMeeting.starts_at <= now))
        .options(selectinload(CourseRun.template), selectinload(CourseRun.meetings))))
    counts = _counts(session, [r.id for r in runs])
    rows = [RunRow(run, min((m.starts_at for m in run.meetings), default=None), None,
                   counts.get((run.id, "enrolled"), 0), counts.get((run.id, "waiting"), 0)) for run in runs]
    return sorted((r for r in rows if r.first is not None), key=lambda r: r.first)


def relative_account(session: Session, *, team: Team, name: str, email: str | None, phone: str | None,
                     crypto: FieldCrypto) -> User:
    """The resident account with this e-mail address or phone number, or a new one (no episode)
    in the team's first municipality."""
    user = None
    if email:
        user = find_by_email(session, email, crypto)
    if user is None and phone:
        user = session.scalars(select(User).where(User.phone_lookup == phone_lookup_key(phone, crypto),
                                                  User.is_active.is_(True))).first()
    if user is not None:
        if not user.is_resident:  # a staff member's address: not a relative's account
            raise NotFound("resident")
        return user
    if not team.municipalities:
        raise NotFound("municipality")
    user = create_resident(session, municipality_id=team.municipalities[0].id, display_name=name)
    user.team_id = team.id
    if email:
        set_email(user, email, crypto)
    if phone:
        user.phone, user.phone_lookup = phone, phone_lookup_key(phone, crypto)
    session.flush()
    return user


def enrol_relative(session: Session, *, actor: User, run_id: int, team_id: int, name: str, email: str | None,
                   phone: str | None, crypto: FieldCrypto, now: datetime | None = None) -> CourseParticipant:
    """Enrol a relative (pårørende) on equal terms: no episode, no outcome forms."""
    run = courses.run_for_staff(session, actor=actor, run_id=run_id)
    team = session.get(Team, team_id)
    if team is None or team_id not in set(clinical_team_ids(session, actor, what="course")) & run_team_ids(run):
        raise NotFound("team")
    user = relative_account(session, team=team, name=name, email=email, phone=phone, crypto=crypto)
    return courses.enrol(session, run_id=run.id, user=user, role="relative", actor=actor, now=now)


def withdraw_participant(session: Session, *, actor: User, participant_id: int,
                         now: datetime | None = None) -> CourseParticipant:
    """Take someone off a run (staff who may see them on the run page)."""
    participant = session.get(CourseParticipant, participant_id)
    if participant is None:
        raise NotFound("course")
    run = courses.run_for_staff(session, actor=actor, run_id=participant.run_id)
    if not sees_all_participants(session, actor=actor, run=run):
        episode_team = session.scalar(select(Episode.team_id).where(Episode.id == participant.episode_id)) \
            if participant.episode_id is not None else None
        if participant_team(participant, episode_team) not in clinical_team_ids(session, actor, what="course"):
            raise NotFound("course")
    courses.withdraw(session, participant=participant, now=now)
    return participant
