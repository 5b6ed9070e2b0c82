"""Courses and treatment groups, the core every course page stands on: who may see a run, enrolment
with its waiting list, withdrawal, attendance, and the course meetings' reminders.

A participant with an episode gets one `Appointment` (kind `course_meeting`) per meeting ahead,
with the template's forms planned before it: their forms, attendance and outcome measurement then
work as for any other contact. Relatives have no episode and no such appointments; they fill in no
outcome forms and never count in outcome statistics. Everyone enrolled gets their own reminders
(`due_course_meetings`, one of the reminder engine's sources), never naming the course.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from ..db import utcnow
from ..models import (
    Appointment,
    CourseAttendanceMark,
    CourseLeader,
    CourseMeeting,
    CourseParticipant,
    CourseRun,
    CourseShare,
    CourseTemplate,
    CourseTemplateMeeting,
    Episode,
    FormRequest,
    Reminder,
    Team,
    User,
)
from .access import clinical_team_ids, team_object
from .errors import Conflict, NotFound
from .outcomes import OPENS_BEFORE
from .reminders import SECOND_BEFORE, Due, due_time

#: A meeting's QR check-in is valid from this long before its start until this long after its end.
CHECK_IN_MARGIN = timedelta(minutes=60)
#: The link a course meeting's reminder opens (the resident's course page; no argument).
COURSE_LINK = "client.courses"
#: A follow-up meeting's usual distance after the last meeting (1-2 months, H L692-695).
FOLLOW_UP_AFTER = timedelta(weeks=6)


# --- Who sees what ---------------------------------------------------------------------------------

def visible_to_teams(team_ids):
    """A condition on `CourseRun`: run by one of `team_ids`, or shared with one of them."""
    shared = exists().where(CourseShare.run_id == CourseRun.id, CourseShare.team_id.in_(team_ids))
    return or_(CourseRun.team_id.in_(team_ids), shared)


def run_for_staff(session: Session, *, actor: User, run_id: int) -> CourseRun:
    """The run if the actor is clinical staff on its team or a team it is shared with, or one of
    its leaders; NotFound otherwise (unknown and foreign ids alike)."""
    teams = clinical_team_ids(session, actor, what="course")
    run = session.scalar(select(CourseRun).where(
        CourseRun.id == run_id,
        or_(visible_to_teams(teams), exists().where(CourseLeader.run_id == CourseRun.id,
                                                    CourseLeader.user_id == actor.id))))
    if run is None:
        raise NotFound("course")
    return run


def template_for_staff(session: Session, *, actor: User, template_id: int) -> CourseTemplate:
    """A template of one of the actor's teams (NotFound otherwise)."""
    return team_object(session, actor, CourseTemplate, template_id, what="course")


def is_leader(session: Session, *, actor: User, run_id: int) -> bool:
    return session.scalar(select(exists().where(CourseLeader.run_id == run_id,
                                                CourseLeader.user_id == actor.id))) or False


def require_leader(session: Session, *, actor: User, run_id: int) -> CourseRun:
    """The run, if the actor leads it (the leader's view, the flags); NotFound otherwise."""
    run = run_for_staff(session, actor=actor, run_id=run_id)
    if not is_leader(session, actor=actor, run_id=run_id):
        raise NotFound("course")
    return run


def meeting_for_leader(session: Session, *, actor: User, meeting_id: int) -> CourseMeeting:
    meeting = session.get(CourseMeeting, meeting_id)
    if meeting is None:
        raise NotFound("course")
    require_leader(session, actor=actor, run_id=meeting.run_id)
    return meeting


def participation(session: Session, *, resident: User, participant_id: int) -> CourseParticipant:
    """The resident's own participation (NotFound for anyone else's)."""
    participant = session.get(CourseParticipant, participant_id)
    if participant is None or participant.user_id != resident.id:
        raise NotFound("course")
    return participant


# --- Templates and runs ----------------------------------------------------------------------------

def create_template(session: Session, *, actor: User, team_id: int, title: str, kind: str = "course",
                    audience: str = "", meeting_count: int = 4, meeting_minutes: int = 120, capacity: int = 20,
                    follow_up: bool = False, instrument_codes: tuple[str, ...] = ("PHQ-9", "GAD-7"),
                    evaluation_each_meeting: bool = False, is_open: bool = False,
                    meetings: tuple[tuple[str, str], ...] = ()) -> CourseTemplate:
    """A team's course or group template; `meetings` gives each meeting's (title, content)."""
    if team_id not in clinical_team_ids(session, actor, what="course"):
        raise NotFound("team")
    template = CourseTemplate(team_id=team_id, kind=kind, title=title.strip(), audience=audience.strip(),
                              meeting_count=meeting_count, meeting_minutes=meeting_minutes, capacity=capacity,
                              follow_up=follow_up, instrument_codes=",".join(instrument_codes),
                              evaluation_each_meeting=evaluation_each_meeting, is_open=is_open)
    template.meetings = [CourseTemplateMeeting(number=number, title=title_, content=content)
                         for number, (title_, content) in enumerate(meetings, start=1)]
    session.add(template)
    session.flush()
    return template


def create_run(session: Session, *, actor: User, template_id: int, starts: list[datetime], mode: str = "office",
               place: str = "", video_link: str | None = None, capacity: int | None = None,
               leader_ids: tuple[int, ...] = (), shared_team_ids: tuple[int, ...] = (),
               evaluation_anonymous: bool = True, follow_up_at: datetime | None = None) -> CourseRun:
    """A run of a template with one meeting per start time (and the follow-up meeting, if given).
    The leaders must be clinical staff of the run's team or a sharing team."""
    template = template_for_staff(session, actor=actor, template_id=template_id)
    if not starts:
        raise ValueError("a run needs its meetings")
    leaders = tuple(dict.fromkeys(leader_ids or (actor.id,)))
    run = CourseRun(template_id=template.id, team_id=template.team_id, mode=mode, place=place.strip(),
                    video_link=video_link or None, capacity=capacity or template.capacity, is_open=template.is_open,
                    evaluation_anonymous=evaluation_anonymous,
                    evaluation_each_meeting=template.evaluation_each_meeting)
    run.meetings = [CourseMeeting(number=number, starts_at=start, duration_minutes=template.meeting_minutes)
                    for number, start in enumerate(sorted(starts), start=1)]
    if follow_up_at is not None:
        run.meetings.append(CourseMeeting(number=len(starts) + 1, starts_at=follow_up_at, is_follow_up=True,
                                          duration_minutes=template.meeting_minutes))
    run.shares = [CourseShare(team_id=team_id) for team_id in dict.fromkeys(shared_team_ids)
                  if team_id != template.team_id]
    run.leaders = [CourseLeader(user_id=user_id) for user_id in leaders]
    session.add(run)
    session.flush()
    return run


# --- Enrolment -------------------------------------------------------------------------------------

def lock_run(session: Session, run_id: int) -> CourseRun:
    """The run, locked for this transaction on PostgreSQL (parallel enrolments count places one at a
    time; SQLite has one writer anyway)."""
    run = session.scalar(select(CourseRun).where(CourseRun.id == run_id).with_for_update()
                         .execution_options(populate_existing=True))
    if run is None:
        raise NotFound("course")
    return run


def enrolled_count(session: Session, run_id: int) -> int:
    return session.scalar(select(func.count()).select_from(CourseParticipant)
                          .where(CourseParticipant.run_id == run_id, CourseParticipant.status == "enrolled")) or 0


def enrol(session: Session, *, run_id: int, user: User, role: str = "participant", episode: Episode | None = None,
          actor: User | None = None, fills_forms: bool | None = None,
          now: datetime | None = None) -> CourseParticipant:
    """Enrol a person in a run, or put them on its waiting list when it is full. Enrolling twice
    keeps one row (a withdrawn person is enrolled again). A participant brings their episode; a
    relative has none and fills in no forms unless `fills_forms`. Access is the caller's check."""
    now = now or utcnow()
    run = lock_run(session, run_id)
    if run.cancelled:
        raise Conflict("course cancelled")
    if role not in ("participant", "relative"):
        raise ValueError("unknown role")
    participant = session.scalar(select(CourseParticipant).where(CourseParticipant.run_id == run.id,
                                                                 CourseParticipant.user_id == user.id))
    if participant is not None and participant.status != "withdrawn":
        return participant
    status = "enrolled" if enrolled_count(session, run.id) < run.capacity else "waiting"
    if participant is None:
        participant = CourseParticipant(run_id=run.id, user_id=user.id)
        session.add(participant)
    participant.role = role
    participant.episode_id = episode.id if episode is not None and role == "participant" else None
    participant.fills_forms = (role == "participant") if fills_forms is None else fills_forms
    participant.status = status
    participant.enrolled_by_id = actor.id if actor is not None else None
    participant.created_at = now
    participant.enrolled_at = now if status == "enrolled" else None
    participant.withdrawn_at = None
    session.flush()
    if status == "enrolled":
        plan_contacts(session, run=run, participants=[participant], now=now)
    return participant


def withdraw(session: Session, *, participant: CourseParticipant,
             now: datetime | None = None) -> list[CourseParticipant]:
    """Take a person off a run (or its waiting list): their contacts ahead are cancelled and their
    reminders dropped; the first on the waiting list takes a freed place. The promoted people."""
    now = now or utcnow()
    run = lock_run(session, participant.run_id)
    if participant.status == "withdrawn":
        return []
    was_enrolled = participant.status == "enrolled"
    participant.status, participant.withdrawn_at = "withdrawn", now
    session.execute(update(Appointment).where(
        Appointment.course_meeting_id.in_(select(CourseMeeting.id).where(CourseMeeting.run_id == run.id)),
        Appointment.episode_id == participant.episode_id, Appointment.status == "booked",
        Appointment.starts_at > now).values(status="cancelled").execution_options(synchronize_session=False))
    session.execute(update(Reminder).where(
        Reminder.resident_id == participant.user_id, Reminder.done_at.is_(None),
        Reminder.course_meeting_id.in_(select(CourseMeeting.id).where(CourseMeeting.run_id == run.id)))
        .values(done_at=now, outcome="dropped").execution_options(synchronize_session=False))
    session.flush()
    return promote_waiting(session, run=run, now=now) if was_enrolled else []


def promote_waiting(session: Session, *, run: CourseRun, now: datetime | None = None) -> list[CourseParticipant]:
    """Fill free places from the waiting list, first come first served."""
    now = now or utcnow()
    free = run.capacity - enrolled_count(session, run.id)
    if free <= 0:
        return []
    promoted = list(session.scalars(
        select(CourseParticipant).where(CourseParticipant.run_id == run.id, CourseParticipant.status == "waiting")
        .order_by(CourseParticipant.created_at, CourseParticipant.id).limit(free)))
    for participant in promoted:
        participant.status, participant.enrolled_at = "enrolled", now
    session.flush()
    if promoted:
        plan_contacts(session, run=run, participants=promoted, now=now)
    return promoted


def plan_contacts(session: Session, *, run: CourseRun, participants: list[CourseParticipant],
                  now: datetime | None = None) -> None:
    """For participants with an episode: one contact per meeting ahead (kind `course_meeting`, by
    the first leader) with the template's forms before it, if they fill in forms. Idempotent."""
    now = now or utcnow()
    with_episode = [p for p in participants if p.episode_id is not None and p.status == "enrolled"]
    if not with_episode:
        return
    meetings = [m for m in run.meetings if m.starts_at > now and not m.cancelled]
    leader_id = min((leader.user_id for leader in run.leaders), default=None)
    if not meetings or leader_id is None:
        return
    have = set(session.execute(
        select(Appointment.episode_id, Appointment.course_meeting_id)
        .where(Appointment.course_meeting_id.in_([m.id for m in meetings]),
               Appointment.episode_id.in_([p.episode_id for p in with_episode]))).all())
    mode = "video" if run.mode == "video" else "office"
    codes = run.template.instruments
    created: list[tuple[Appointment, CourseParticipant]] = []
    for participant in with_episode:
        for meeting in meetings:
            if (participant.episode_id, meeting.id) in have:
                continue
            appointment = Appointment(episode_id=participant.episode_id, staff_id=leader_id, kind="course_meeting",
                                      starts_at=meeting.starts_at, mode=mode, place=run.place or None,
                                      duration_minutes=meeting.duration_minutes, course_meeting_id=meeting.id)
            session.add(appointment)
            created.append((appointment, participant))
    session.flush()
    for appointment, participant in created:
        if participant.fills_forms:
            for code in codes:
                session.add(FormRequest(appointment_id=appointment.id, episode_id=participant.episode_id,
                                        resident_id=participant.user_id, instrument_code=code,
                                        opens_at=appointment.starts_at - OPENS_BEFORE))
    session.flush()


def move_meeting(session: Session, *, meeting: CourseMeeting, starts_at: datetime) -> None:
    """Move a meeting: its participants' contacts and forms follow (their reminders are planned
    again for the new time)."""
    meeting.starts_at = starts_at
    session.execute(update(Appointment).where(Appointment.course_meeting_id == meeting.id,
                                              Appointment.status == "booked")
                    .values(starts_at=starts_at, resident_answer=None, resident_answered_at=None)
                    .execution_options(synchronize_session=False))
    session.execute(update(FormRequest).where(
        FormRequest.appointment_id.in_(select(Appointment.id).where(Appointment.course_meeting_id == meeting.id)))
        .values(opens_at=starts_at - OPENS_BEFORE).execution_options(synchronize_session=False))
    session.flush()


def cancel_meeting(session: Session, *, meeting: CourseMeeting) -> None:
    """Cancel a meeting: the participants' contacts are cancelled and no reminder goes out."""
    meeting.cancelled = True
    session.execute(update(Appointment).where(Appointment.course_meeting_id == meeting.id,
                                              Appointment.status == "booked")
                    .values(status="cancelled").execution_options(synchronize_session=False))
    session.flush()


# --- Attendance ------------------------------------------------------------------------------------

def mark_attendance(session: Session, *, meeting: CourseMeeting, participant: CourseParticipant, attended: bool,
                    via: str = "leader", now: datetime | None = None) -> CourseAttendanceMark:
    """Mark one person attended or absent (a second tap changes the mark). The participant's
    contact follows; their first attended meeting dates their episode's first treatment."""
    now = now or utcnow()
    if participant.run_id != meeting.run_id or participant.status != "enrolled":
        raise NotFound("participant")
    mark = session.get(CourseAttendanceMark, (meeting.id, participant.id))
    status = "attended" if attended else "absent"
    if mark is None:
        mark = CourseAttendanceMark(meeting_id=meeting.id, participant_id=participant.id, status=status, via=via,
                                    at=now)
        session.add(mark)
    else:
        mark.status, mark.via, mark.at = status, via, now
    if participant.episode_id is not None:
        session.execute(update(Appointment).where(Appointment.course_meeting_id == meeting.id,
                                                  Appointment.episode_id == participant.episode_id)
                        .values(status="attended" if attended else "no_show")
                        .execution_options(synchronize_session=False))
        if attended:
            episode = session.get(Episode, participant.episode_id)
            when = meeting.starts_at
            if episode.first_contact_at is None or when < episode.first_contact_at:
                episode.first_contact_at = when
            if episode.first_treatment_at is None or when < episode.first_treatment_at:
                episode.first_treatment_at = when
    session.flush()
    return mark


def check_in_open(meeting: CourseMeeting, now: datetime) -> bool:
    """Whether the meeting's QR check-in is valid now."""
    end = meeting.starts_at + timedelta(minutes=meeting.duration_minutes)
    return not meeting.cancelled and meeting.starts_at - CHECK_IN_MARGIN <= now <= end + CHECK_IN_MARGIN


def check_in(session: Session, *, resident: User, code: str, now: datetime | None = None) -> CourseMeeting:
    """The participant scanned the meeting's QR code: mark them attended. NotFound for an unknown
    code, someone not enrolled, or outside the meeting's time (all alike: nothing is revealed)."""
    now = now or utcnow()
    meeting = session.scalar(select(CourseMeeting).where(CourseMeeting.check_in_code == code))
    if meeting is None or not check_in_open(meeting, now):
        raise NotFound("meeting")
    participant = session.scalar(select(CourseParticipant).where(
        CourseParticipant.run_id == meeting.run_id, CourseParticipant.user_id == resident.id,
        CourseParticipant.status == "enrolled"))
    if participant is None:
        raise NotFound("meeting")
    mark_attendance(session, meeting=meeting, participant=participant, attended=True, via="qr", now=now)
    return meeting


# --- Reminders -------------------------------------------------------------------------------------

def course_key(meeting_id: int, participant_id: int, kind: str, starts_at: datetime) -> str:
    """The key of one participant's reminder of one meeting: a moved meeting gets a new one."""
    return f"course:{meeting_id}:{participant_id}:{kind}:{int(starts_at.timestamp())}"


@dataclass(frozen=True)
class _Row:
    meeting_id: int
    participant_id: int
    resident_id: int
    starts_at: datetime
    hours: int | None
    second: bool


def due_course_meetings(session: Session, *, now: datetime) -> Iterator[Due]:
    """Each enrolled person's reminder of each meeting ahead (the run's team's lead time before,
    and two hours before for those who want it), not yet planned for this start time. The
    participants' own `course_meeting` contacts get no reminder of their own."""
    def not_planned(kind: str):
        return ~exists().where(Reminder.course_meeting_id == CourseMeeting.id,
                               Reminder.resident_id == CourseParticipant.user_id,
                               Reminder.starts_at == CourseMeeting.starts_at, Reminder.kind == kind)

    first_open, soon_open = not_planned("appointment"), not_planned("appointment_soon")
    rows = session.execute(
        select(CourseMeeting.id, CourseParticipant.id, CourseParticipant.user_id, CourseMeeting.starts_at,
               Team.reminder_hours_before, User.reminder_second, first_open, soon_open)
        .join(CourseRun, CourseRun.id == CourseMeeting.run_id)
        .join(CourseParticipant, and_(CourseParticipant.run_id == CourseRun.id,
                                      CourseParticipant.status == "enrolled"))
        .join(Team, Team.id == CourseRun.team_id)
        .join(User, User.id == CourseParticipant.user_id)
        .where(CourseMeeting.cancelled.is_(False), CourseRun.cancelled.is_(False), CourseMeeting.starts_at > now,
               CourseMeeting.starts_at <= now + timedelta(hours=48),
               or_(first_open, and_(User.reminder_second.is_(True), soon_open)))).all()
    for meeting_id, participant_id, resident_id, starts_at, hours, second, first_not_planned, soon_not_planned in rows:
        soon = due_time(starts_at, SECOND_BEFORE) if second else None
        soon_due = soon is not None and soon <= now
        if soon_due and soon_not_planned:
            yield Due(resident_id, "appointment_soon", course_key(meeting_id, participant_id, "soon", starts_at), soon,
                      COURSE_LINK, None, starts_at, meeting_id)
        first = due_time(starts_at, timedelta(hours=hours or 24))
        if first_not_planned and first is not None and first <= now and not soon_due:
            yield Due(resident_id, "appointment", course_key(meeting_id, participant_id, "first", starts_at), first,
                      COURSE_LINK, None, starts_at, meeting_id)
