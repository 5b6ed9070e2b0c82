"""The leader's view of one course meeting (H L2425-2438, L3989-3997): who is enrolled and who came
(a leader's tap or the QR check-in), what the meeting covers, the day's content note, the forms
filled in before it with a flag for anyone who may need more, a "fot i bakken" talk for a flagged
person, and a note per participant for the record.

Flags (`flags_for`, pure): PHQ-9 item 9 above 0, PHQ-9 at or above 20, or reliable deterioration
since the person's first meeting of the run (the reliable-change thresholds of the outcome
statistics, `measures.DEFAULT_THRESHOLDS`: PHQ-9 6 points, GAD-7 4 points). Only the run's leaders
see them (`courses.meeting_for_leader`); the check-in screen shows none.

The talk (`book_talk`) is a treatment contact in the participant's own episode, booked through
`outcomes.book_contact`. A leader who is not clinical staff of that episode's team (a run shared
across teams) cannot book in it: `OtherTeam` names the team to ask instead. Relatives have no
episode: `NoEpisode`.

Every view of the page writes one audit event per person shown (`audit.record_shown`, one insert).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import utcnow
from ..localtime import to_local
from ..measures import DEFAULT_THRESHOLDS
from ..models import (
    Appointment,
    CourseAttendanceMark,
    CourseMeeting,
    CourseParticipant,
    CourseRun,
    CourseTemplateMeeting,
    Episode,
    FormRequest,
    MeasureResponse,
    Team,
    User,
)
from . import audit, courses, outcomes
from .access import clinical_team_ids
from .errors import Conflict, NotFound

#: Flag keys, in the order the page shows them.
FLAG_ITEM9, FLAG_SEVERE, FLAG_WORSE = "item9", "phq9_severe", "deterioration"
#: PHQ-9 total from which a participant is flagged (severe depression).
PHQ9_SEVERE = 20
#: Reliable change per questionnaire (the outcome statistics' thresholds).
RELIABLE_CHANGE = {"PHQ-9": DEFAULT_THRESHOLDS.phq9_reliable_change,
                   "GAD-7": DEFAULT_THRESHOLDS.gad7_reliable_change}
#: The longest content note.
NOTE_MAX = 5000
#: The kind of contact a "fot i bakken" talk is booked as.
TALK_KIND = "treatment"


class NoEpisode(Conflict):
    """A relative has no episode to book a talk in."""


class OtherTeam(Conflict):
    """The participant's episode belongs to a team the leader is not clinical staff of."""

    def __init__(self, team_name: str):
        super().__init__(team_name)
        self.team_name = team_name


@dataclass(frozen=True)
class Score:
    """One form filled in before this meeting, and the total at the person's first meeting."""

    code: str
    total: int
    band: str
    first_total: int | None
    item9: bool


@dataclass(frozen=True)
class Attendee:
    participant_id: int
    user_id: int
    name: str
    role: str
    episode_id: int | None
    #: "attended", "absent" or None (not marked yet); `via` "leader" or "qr".
    attendance: str | None
    via: str | None
    scores: tuple[Score, ...]
    flags: tuple[str, ...]
    #: The note for this person's record (bokmål, plain text).
    record_note: str


@dataclass(frozen=True)
class MeetingPage:
    meeting: CourseMeeting
    run: CourseRun
    title: str
    meeting_count: int
    topic: str
    content: str
    note: str
    attendees: tuple[Attendee, ...]


def flags_for(scores: list[Score] | tuple[Score, ...]) -> tuple[str, ...]:
    """Who may need more: item 9 above 0, PHQ-9 at or above 20, or a rise since the first meeting
    at or above the questionnaire's reliable change."""
    flags = []
    if any(s.item9 for s in scores):
        flags.append(FLAG_ITEM9)
    if any(s.code == "PHQ-9" and s.total >= PHQ9_SEVERE for s in scores):
        flags.append(FLAG_SEVERE)
    if any(s.code in RELIABLE_CHANGE and s.first_total is not None
           and s.total - s.first_total >= RELIABLE_CHANGE[s.code] for s in scores):
        flags.append(FLAG_WORSE)
    return tuple(flags)


def person_name(user: User) -> str:
    """How a leader knows a participant: their display name, else a number."""
    return user.display_name or f"#{user.id}"


def _scores(session: Session, *, meeting: CourseMeeting, episode_ids: list[int]) -> dict[int, list[Score]]:
    """Per episode: the forms answered before this meeting, each with its total at the episode's
    first meeting of the run that has one (one query)."""
    if not episode_ids:
        return {}
    # The columns shown, not the whole response: its encrypted answers would be decrypted for nothing.
    rows = session.execute(
        select(Appointment.episode_id, CourseMeeting.number, MeasureResponse.instrument_code, MeasureResponse.total,
               MeasureResponse.band, MeasureResponse.flags)
        .join(CourseMeeting, CourseMeeting.id == Appointment.course_meeting_id)
        .join(FormRequest, FormRequest.appointment_id == Appointment.id)
        .join(MeasureResponse, MeasureResponse.id == FormRequest.response_id)
        .where(CourseMeeting.run_id == meeting.run_id, CourseMeeting.number <= meeting.number,
               Appointment.episode_id.in_(episode_ids))
        .order_by(CourseMeeting.number, MeasureResponse.submitted_at)).all()
    first: dict[tuple[int, str], tuple[int, int]] = {}
    current: dict[int, list[tuple[str, int, str, str]]] = {}
    for episode_id, number, code, total, band, flags in rows:
        first.setdefault((episode_id, code), (number, total))
        if number == meeting.number:
            current.setdefault(episode_id, []).append((code, total, band, flags))
    result: dict[int, list[Score]] = {}
    for episode_id, responses in current.items():
        for code, total_now, band, flags in responses:
            number, total = first[(episode_id, code)]
            item9 = "item9" in (flags or "").split(",")
            result.setdefault(episode_id, []).append(Score(
                code=code, total=total_now, band=band,
                first_total=total if number < meeting.number else None, item9=item9))
    return result


def attendance_line(attendance: str | None) -> str:
    """The record note's line about attendance (the page's script swaps it after a tap)."""
    return "Oppmøte: " + {"attended": "møtt.", "absent": "ikke møtt."}.get(attendance or "", "ikke registrert.")


def record_note(*, title: str, meeting: CourseMeeting, meeting_count: int, topic: str, note: str, role: str,
                attendance: str | None, scores: list[Score] | tuple[Score, ...]) -> str:
    """The note for one participant's record (bokmål): the meeting, its content, attendance and
    the scores before it. Names no one else."""
    day = to_local(meeting.starts_at)
    lines = [f"Kursmøte {meeting.number} av {meeting_count} i «{title}», {day:%d.%m.%Y} kl. {day:%H:%M}"
             + (" (pårørende)." if role == "relative" else ".")]
    content = note.strip() or topic
    lines.append("Innhold: " + (content if content else "ikke skrevet."))
    lines.append(attendance_line(attendance))
    if scores:
        parts = [f"{s.code} {s.total}" + (f" (første møte: {s.first_total})" if s.first_total is not None else "")
                 for s in scores]
        lines.append("Skårer før møtet: " + "; ".join(parts) + ".")
        if any(s.item9 for s in scores):
            lines.append("PHQ-9 ledd 9 over 0: må følges opp.")
    elif role == "participant":
        lines.append("Skårer før møtet: ikke fylt ut.")
    return "\n".join(lines)


def meeting_page(session: Session, *, actor: User, meeting_id: int, now: datetime | None = None) -> MeetingPage:
    """Everything the leader's page shows of one meeting (leaders only: NotFound otherwise); the
    people shown are audited."""
    now = now or utcnow()
    meeting = courses.meeting_for_leader(session, actor=actor, meeting_id=meeting_id)
    run = meeting.run
    template = run.template
    topic_row = session.scalar(select(CourseTemplateMeeting).where(
        CourseTemplateMeeting.template_id == template.id, CourseTemplateMeeting.number == meeting.number))
    people = session.execute(
        select(CourseParticipant, User).join(User, User.id == CourseParticipant.user_id)
        .where(CourseParticipant.run_id == run.id, CourseParticipant.status == "enrolled")
        .order_by(CourseParticipant.enrolled_at, CourseParticipant.id)).all()
    marks = {m.participant_id: m for m in session.scalars(
        select(CourseAttendanceMark).where(CourseAttendanceMark.meeting_id == meeting.id))}
    episode_ids = [p.episode_id for p, _ in people if p.episode_id is not None]
    teams = dict(session.execute(select(Episode.id, Episode.team_id).where(Episode.id.in_(episode_ids))).all()) \
        if episode_ids else {}
    scores = _scores(session, meeting=meeting, episode_ids=episode_ids)
    # The record holds what the leaders wrote the meeting covered, else the planned meeting's title
    # (its whole description is on the page once, not repeated in every person's note).
    topic = topic_row.title if topic_row else ""
    note = meeting.content_note or ""
    meeting_count = len(run.meetings)
    attendees = []
    for participant, user in people:
        own = tuple(scores.get(participant.episode_id, ())) if participant.episode_id is not None else ()
        mark = marks.get(participant.id)
        attendance = mark.status if mark else None
        attendees.append(Attendee(
            participant_id=participant.id, user_id=user.id, name=person_name(user), role=participant.role,
            episode_id=participant.episode_id, attendance=attendance, via=mark.via if mark else None,
            scores=own, flags=flags_for(own),
            record_note=record_note(title=template.title, meeting=meeting, meeting_count=meeting_count, topic=topic,
                                    note=note, role=participant.role, attendance=attendance, scores=own)))
    audit.record_shown(session, actor=actor, shown=[
        (a.user_id, teams.get(a.episode_id, run.team_id), meeting.id) for a in attendees],
        action="view_course_meeting", object_type="course_meeting", now=now)
    return MeetingPage(meeting=meeting, run=run, title=template.title, meeting_count=meeting_count,
                       topic=topic_row.title if topic_row else "", content=topic_row.content if topic_row else "",
                       note=note, attendees=tuple(attendees))


def mark(session: Session, *, actor: User, meeting_id: int, participant_id: int, attended: bool,
         now: datetime | None = None) -> CourseAttendanceMark:
    """A leader's tap: mark one enrolled person of this meeting's run attended or absent."""
    meeting = courses.meeting_for_leader(session, actor=actor, meeting_id=meeting_id)
    participant = session.get(CourseParticipant, participant_id)
    if participant is None or participant.run_id != meeting.run_id:
        raise NotFound("participant")
    return courses.mark_attendance(session, meeting=meeting, participant=participant, attended=attended, now=now)


def save_note(session: Session, *, actor: User, meeting_id: int, note: str) -> CourseMeeting:
    """The day's content note (encrypted at rest); empty clears it. ValueError when too long."""
    meeting = courses.meeting_for_leader(session, actor=actor, meeting_id=meeting_id)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValueError("note too long")
    meeting.content_note = note or None
    session.flush()
    return meeting


def book_talk(session: Session, *, actor: User, participant_id: int, starts_at: datetime, duration_minutes: int,
              mode: str, place: str | None = None) -> Appointment:
    """Book a "fot i bakken" talk with a participant of a run the actor leads: a treatment contact
    in their episode (with its forms). NoEpisode for a relative; OtherTeam when the episode's team
    is not one of the actor's clinical teams (the page says which team to ask)."""
    participant = session.get(CourseParticipant, participant_id)
    if participant is None:
        raise NotFound("participant")
    courses.require_leader(session, actor=actor, run_id=participant.run_id)
    if participant.episode_id is None:
        raise NoEpisode("no episode")
    episode = session.get(Episode, participant.episode_id)
    if episode.team_id not in clinical_team_ids(session, actor, what="course"):
        raise OtherTeam(session.scalar(select(Team.name).where(Team.id == episode.team_id)) or "")
    return outcomes.book_contact(session, actor=actor, episode_id=episode.id, kind=TALK_KIND, starts_at=starts_at,
                                 duration_minutes=duration_minutes, mode=mode, place=place)



def check_in_meeting(session: Session, *, resident: User, code: str, now: datetime | None = None) -> CourseMeeting:
    """The meeting whose QR check-in `resident` may confirm now, without changing anything (the
    confirm page). NotFound, alike, for an unknown code, a meeting not open for check-in, or a
    person not enrolled in its run."""
    now = now or utcnow()
    meeting = session.scalar(select(CourseMeeting).where(CourseMeeting.check_in_code == code))
    if meeting is None or not courses.check_in_open(meeting, now):
        raise NotFound("meeting")
    enrolled = session.scalar(select(CourseParticipant.id).where(
        CourseParticipant.run_id == meeting.run_id, CourseParticipant.user_id == resident.id,
        CourseParticipant.status == "enrolled"))
    if enrolled is None:
        raise NotFound("meeting")
    return meeting
