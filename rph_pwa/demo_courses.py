"""Demo courses (idempotent): the Lofoten team's depression course, run once already with its
evaluations in, and running now with terapeut leading: today's meeting has its forms in, one
participant flagged (item 9 above 0, raised as urgent like any form) and one relative."""
from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .codes import ReferralStatus
from .crypto import FieldCrypto, secret_digest
from .localtime import local_now, local_zone
from .models import (
    CourseTemplate,
    Episode,
    EvaluationAnswer,
    EvaluationLink,
    FormRequest,
    Municipality,
    Referral,
    Team,
    User,
)
from .services import courses, outcomes
from .services.accounts import create_resident, set_email

TITLE = "Kurs i mestring av depresjon (KiD)"
AUDIENCE = ("For deg som er 16 år eller eldre og kjenner deg nedfor. Du lærer enkle verktøy fra kognitiv terapi. "
            "Pårørende er også velkomne.")
MEETINGS = (
    ("Tanker, følelser og handlinger", "Hvordan henger tanker, følelser og det vi gjør sammen? Vi lager en plan "
     "for uka med små, gode aktiviteter."),
    ("Aktivitet og hvile", "Vi ser på planene fra forrige gang. Hva fungerte? Vi øver på å legge inn ting som gir "
     "glede og mestring."),
    ("Tankefeller", "Vi lærer å legge merke til tanker som gjør oss nedfor, og å finne andre måter å se det på."),
    ("Veien videre", "Vi lager en plan for å holde på det som hjelper, og for hva du gjør hvis det blir tungt igjen."),
)
#: The finished run's anonymous evaluations: (relevance, delivery, material, useful, less useful).
EVALUATIONS = (
    (5, 5, 4, "Aktivitetsplanen. Jeg bruker den fortsatt hver uke.", ""),
    (4, 5, 4, "Å høre at andre har det likt.", "Litt mye tekst i heftet."),
    (4, 4, 3, "Tankefellene.", "Det ble sent på kvelden."),
    (3, 4, 5, "Heftet er fint å ha.", "Jeg ville hatt mer tid til spørsmål."),
    (4, 5, 4, "Kursholderne var trygge og varme.", ""),
    (5, 5, 5, "Alt!", ""),
)
#: Participants of the finished run and of the run in progress: (first name, municipality).
FINISHED = [("Eva", "1860"), ("Arne", "1859"), ("Hilde", "1874"), ("Rune", "1860"), ("Ingrid", "1860"),
            ("Tor", "1874"), ("Marit", "1859"), ("Knut", "1860")]
RUNNING = [("Anne", "1860"), ("Bjørn", "1874"), ("Camilla", "1859"), ("Dag", "1860"), ("Elin", "1860")]
#: Before today's meeting: PHQ-9 totals at the first meeting and now; Dag answers item 9 with 1.
RUNNING_SCORES = {"Anne": (14, 9), "Bjørn": (12, 11), "Camilla": (9, 16), "Dag": (15, 13), "Elin": (11, 8)}
FLAGGED = "Dag"


def _participant(session: Session, *, crypto: FieldCrypto, name: str, municipality: Municipality, team: Team,
                 index: int, batch: str) -> tuple[User, Episode]:
    """A resident who enrolled from the open course page: an accepted referral by channel `course`
    and an episode with the course offering."""
    from .demo import demo_referral

    resident = demo_referral(session, crypto=crypto, municipality=municipality, name=name,
                             email=f"{batch}{index}@example.no", phq9=[1, 1, 1, 1, 1, 1, 1, 1, 0], crisis="no",
                             phone=f"41{index:02d} 55 {index:03d}"[:11])
    episode = session.scalars(select(Episode).where(Episode.resident_id == resident.id)).one()
    referral = session.get(Referral, episode.referral_id)
    referral.status, referral.channel = ReferralStatus.ACCEPTED, "course"
    episode.offerings = "course"
    return resident, episode


def _weekly(first_day_offset: int, count: int) -> list[datetime]:
    today = local_now().date()
    return [datetime.combine(today + timedelta(days=first_day_offset + 7 * week), time(17), tzinfo=local_zone())
            for week in range(count)]


def load_demo_courses(session: Session, *, crypto: FieldCrypto, by_number: dict, team: Team, leaders: list[User],
                      co_leader: User) -> None:
    if session.scalar(select(CourseTemplate.id).where(CourseTemplate.team_id == team.id,
                                                      CourseTemplate.title == TITLE)):
        return
    template = courses.create_template(
        session, actor=leaders[0], team_id=team.id, title=TITLE, audience=AUDIENCE, meeting_count=4,
        meeting_minutes=120, capacity=20, follow_up=True, is_open=True, meetings=MEETINGS)
    # Run 1: finished eight weeks ago, anonymous evaluation, every answer in.
    finished = courses.create_run(session, actor=leaders[0], template_id=template.id, starts=_weekly(-63, 4),
                                  place="Leknes kulturhus, møterom 2", leader_ids=(leaders[0].id, co_leader.id))
    enrolled_at = finished.meetings[0].starts_at - timedelta(days=10)
    participants = []
    for index, (name, number) in enumerate(FINISHED, start=1):
        resident, episode = _participant(session, crypto=crypto, name=name, municipality=by_number[number],
                                         team=team, index=index, batch="kurs-var")
        participants.append(courses.enrol(session, run_id=finished.id, user=resident, episode=episode,
                                          actor=leaders[0], now=enrolled_at))
    for meeting in finished.meetings:
        for number, participant in enumerate(participants):
            came = (number + meeting.number) % 7 != 0  # most come, a few miss one (7 of 8 the last time)
            courses.mark_attendance(session, meeting=meeting, participant=participant, attended=came,
                                    now=meeting.starts_at)
        meeting.content_note = f"Gikk gjennom «{MEETINGS[meeting.number - 1][0]}». God stemning i gruppa."
    last_day = finished.meetings[-1].starts_at.date()
    for participant, evaluation in zip(participants, EVALUATIONS + ((None,) * len(participants))):
        token = secrets.token_urlsafe(24)
        session.add(EvaluationLink(run_id=finished.id, participant_id=participant.id, token=token,
                                   token_hash=secret_digest(token),
                                   used=evaluation is not None and evaluation[0] is not None))
    for relevance, delivery, material, useful, less in EVALUATIONS:
        session.add(EvaluationAnswer(run_id=finished.id, instrument_code="COURSE-EVAL", instrument_version=1,
                                     scores={"relevance": relevance, "delivery": delivery, "material": material},
                                     useful=useful or None, less_useful=less or None, answered_on=last_day))
    # Run 2: in progress, terapeut leads with the team lead; the third meeting is today at 17:00.
    running = courses.create_run(session, actor=leaders[0], template_id=template.id, starts=_weekly(-14, 4),
                                 place="Leknes kulturhus, møterom 2", leader_ids=tuple(u.id for u in leaders))
    enrolled_at = running.meetings[0].starts_at - timedelta(days=10)
    people = []
    for index, (name, number) in enumerate(RUNNING, start=1):
        resident, episode = _participant(session, crypto=crypto, name=name, municipality=by_number[number],
                                         team=team, index=index, batch="kurs-na")
        people.append((name, resident, courses.enrol(session, run_id=running.id, user=resident, episode=episode,
                                                     actor=leaders[0], now=enrolled_at)))
    relative = create_resident(session, municipality_id=by_number["1860"].id, display_name="Gunn (pårørende)")
    set_email(relative, "kurs-parorende@example.no", crypto)
    courses.enrol(session, run_id=running.id, user=relative, role="relative", actor=leaders[0], now=enrolled_at)
    for meeting in running.meetings[:2]:
        for _name, _resident, participant in people:
            courses.mark_attendance(session, meeting=meeting, participant=participant, attended=True,
                                    now=meeting.starts_at)
    today = running.meetings[2]
    for name, resident, participant in people:
        first, now = RUNNING_SCORES[name]
        for meeting, total in ((running.meetings[0], first), (today, now)):
            _answer(session, resident=resident, episode_id=participant.episode_id, meeting_id=meeting.id,
                    total=total, item9=1 if name == FLAGGED and meeting is today else 0,
                    at=meeting.starts_at - timedelta(hours=5))
    session.flush()


def _answer(session: Session, *, resident: User, episode_id: int, meeting_id: int, total: int, item9: int,
            at: datetime) -> None:
    """Fill in the PHQ-9 and GAD-7 the participant was asked for before a meeting, through the
    same service as the app (item 9 above 0 raises an urgent flag)."""
    from .models import Appointment

    requests = session.scalars(
        select(FormRequest).join(Appointment, Appointment.id == FormRequest.appointment_id)
        .where(Appointment.course_meeting_id == meeting_id, FormRequest.episode_id == episode_id)).all()
    for request in requests:
        count = 9 if request.instrument_code == "PHQ-9" else 7
        value = total if request.instrument_code == "PHQ-9" else max(total - 3, 0)
        answers = [value // count + (1 if i < value % count else 0) for i in range(count)]
        if request.instrument_code == "PHQ-9":
            answers[8] = item9
        outcomes.submit_form(session, resident=resident, request_id=request.id, answers=answers, functioning=1,
                             now=at)
