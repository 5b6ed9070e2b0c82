"""Benchmark of courses and treatment groups, at two data sizes, on SQLite and PostgreSQL.

    python -m bench.courses                       # SQLite
    BENCH_POSTGRES_URL=postgresql://... python -m bench.courses   # also PostgreSQL (emptied first!)

Full size: one team with 30 runs of a four-meeting course (weekly at 18:00: two meetings past, the
third tomorrow, the fourth in eight days), open to residents with places left, each with 40
enrolled participants with episodes (1,200 in all) and 4 relatives; plus one finished run of the
same template with 40 participants, attendance at its last meeting and 40 anonymous evaluation
answers. The measured run's participants are enrolled through `courses.enrol` (so their contacts
and forms are planned by `plan_contacts`), marked at the first two meetings through
`courses.mark_attendance`, and have answered PHQ-9 and GAD-7 before each (every tenth with item 9
above 0, every tenth PHQ-9 >= 20, every tenth a reliable deterioration since the first meeting);
the other runs are bulk inserted with their contacts and forms. The 1/10 size divides the runs,
the participants per run and the answers by ten (3 runs of 4): the query count of each page
should be the same at both sizes.

Measures median and p95 server time (in-process test client) and the SQL queries of the leader's
meeting page (the second meeting), the run page, the finished run's results page and CSV, the
template's runs side by side, the public course list, a participant's /me/courses and /me; the
HTML size of the meeting and results pages; and the time to plan one day's course reminders
(`reminder_delivery.plan` on the evening before the meetings: one for every person enrolled).
Goals are printed beside the figures; nothing is asserted.
"""
from __future__ import annotations

import gzip
import json
import secrets
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock

from sqlalchemy import bindparam, event, func, insert, select, text, update
from sqlalchemy.types import Text

from bench import at_each_size, bench_app, page_row, print_table, timed
from bench.day import RESIDENT_EMAIL, signed_in, team_and_people
from bench.statistics import bulk_insert
from rph_pwa.crypto import field_crypto, secret_digest
from rph_pwa.db import get_session, utcnow
from rph_pwa.localtime import local_today, local_zone
from rph_pwa.measures import score
from rph_pwa.models import (
    Appointment,
    CourseAttendanceMark,
    CourseMeeting,
    CourseParticipant,
    CourseRun,
    Episode,
    EvaluationAnswer,
    EvaluationLink,
    FormRequest,
    MeasureResponse,
    Referral,
    Reminder,
    User,
)
from rph_pwa.models.courses import random_id
from rph_pwa.services import courses, reminder_delivery
from rph_pwa.services.accounts import set_email
from rph_pwa.services.outcomes import OPENS_BEFORE

FULL = {"runs": 30, "per_run": 40}
SIZES = (("1/10", 10), ("full", 1))
RELATIVES = 4  # per run, full size (at least one at 1/10)
#: The meetings' days from today (local, at 18:00): two past, tomorrow, in eight days.
MEETING_DAYS = (-13, -6, 1, 8)
FINISHED_DAYS = (-41, -34, -27, -20)
CAPACITY = 50
REPEAT = 30
PLAN_REPEAT = 5
PAGE_GOAL, HEAVY_GOAL, PLAN_GOAL_MS, SIZE_GOAL_KB = 50, 100, 2000, 100
PHQ_STEADY, GAD_STEADY = [1, 1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1]
PHQ_ITEM9, PHQ_SEVERE = [1, 1, 1, 1, 1, 1, 1, 1, 1], [3, 3, 2, 2, 2, 2, 2, 2, 2]
PHQ_LOW, PHQ_WORSE = [1, 1, 1, 0, 0, 0, 0, 0, 0], [2, 2, 2, 1, 1, 1, 1, 1, 0]


def at_six(days: int) -> datetime:
    """18:00 local time `days` from today, in UTC."""
    day = local_today() + timedelta(days=days)
    return datetime.combine(day, clock(18), tzinfo=local_zone()).astimezone(UTC)


def people_with_episodes(session, *, team, municipalities, colleague, people: list[int], tag: str) -> list[int]:
    """An accepted referral (channel `course`) and an open episode for each of `people`."""
    now = utcnow()
    answers_token = field_crypto().encrypt(json.dumps({"contact": {"name": "Bench", "phone": "412 34 567"}}))
    referral_insert = insert(Referral.__table__).values(answers=bindparam("answers_token", type_=Text()))
    referrals = bulk_insert(session, Referral, [
        {"submission_key": f"bench-courses-{tag}-{i}", "resident_id": person, "team_id": team.id,
         "municipality_id": municipalities[i % 4].id, "status": "accepted", "urgent": False, "channel": "course",
         "age_band": "25-34", "gender": "woman", "submitted_at": now - timedelta(days=30),
         "answers_token": answers_token} for i, person in enumerate(people)], referral_insert)
    return bulk_insert(session, Episode, [
        {"referral_id": referrals[i], "resident_id": person, "team_id": team.id,
         "referred_at": now - timedelta(days=30), "offerings": "course", "instruments": "PHQ-9,GAD-7",
         "responsible_id": colleague.id} for i, person in enumerate(people)])


def bulk_run(session, run: CourseRun, *, people: list[int], episodes: list[int], relatives: list[int],
             leader_id: int, enrolled_at: datetime) -> list[int]:
    """Participants (with their contacts and forms, as `plan_contacts` makes them) and relatives
    of a run, bulk inserted; the participants' ids."""
    participant_ids = bulk_insert(session, CourseParticipant, [
        {"run_id": run.id, "user_id": person, "episode_id": episodes[i], "role": "participant",
         "status": "enrolled", "fills_forms": True, "created_at": enrolled_at, "enrolled_at": enrolled_at}
        for i, person in enumerate(people)])
    bulk_insert(session, CourseParticipant, [
        {"run_id": run.id, "user_id": person, "episode_id": None, "role": "relative", "status": "enrolled",
         "fills_forms": False, "created_at": enrolled_at, "enrolled_at": enrolled_at} for person in relatives])
    contacts = [(i, m) for i in range(len(people)) for m in run.meetings]
    appointment_ids = bulk_insert(session, Appointment, [
        {"episode_id": episodes[i], "staff_id": leader_id, "kind": "course_meeting", "starts_at": m.starts_at,
         "mode": "office", "duration_minutes": m.duration_minutes, "course_meeting_id": m.id,
         "status": "attended" if m.starts_at < utcnow() else "booked", "created_at": enrolled_at}
        for i, m in contacts])
    bulk_insert(session, FormRequest, [
        {"appointment_id": appointment_ids[k], "episode_id": episodes[i], "resident_id": people[i],
         "instrument_code": code, "opens_at": m.starts_at - OPENS_BEFORE}
        for k, (i, m) in enumerate(contacts) for code in ("PHQ-9", "GAD-7")])
    return participant_ids


def answers_of(i: int, number: int) -> dict[str, list[int]]:
    """What participant `i` answered before meeting `number`: every tenth flagged for item 9,
    every tenth PHQ-9 >= 20, every tenth worse by more than the reliable change since meeting 1."""
    phq = {0: PHQ_ITEM9, 1: PHQ_SEVERE, 2: PHQ_LOW if number == 1 else PHQ_WORSE}.get(i % 10, PHQ_STEADY)
    return {"PHQ-9": phq, "GAD-7": GAD_STEADY}


def measured_run(session, run: CourseRun, *, therapist: User, people: list[int], episodes: list[int],
                 relatives: list[int]) -> None:
    """Enrol through the services, mark the first two meetings, answer the forms before them (and
    before tomorrow's meeting for half of the participants)."""
    before = run.meetings[0].starts_at - timedelta(days=7)
    enrolled = [courses.enrol(session, run_id=run.id, user=session.get(User, person),
                              episode=session.get(Episode, episodes[i]), actor=therapist, now=before)
                for i, person in enumerate(people)]
    enrolled += [courses.enrol(session, run_id=run.id, user=session.get(User, person), role="relative",
                               actor=therapist, now=before) for person in relatives]
    for meeting in run.meetings[:2]:
        for i, participant in enumerate(enrolled):
            courses.mark_attendance(session, meeting=meeting, participant=participant,
                                    attended=(i + meeting.number) % 7 != 0, now=meeting.starts_at)
    requests = session.execute(
        select(FormRequest.id, Appointment.episode_id, CourseMeeting.number, FormRequest.instrument_code,
               FormRequest.resident_id, Appointment.starts_at)
        .join(Appointment, Appointment.id == FormRequest.appointment_id)
        .join(CourseMeeting, CourseMeeting.id == Appointment.course_meeting_id)
        .where(CourseMeeting.run_id == run.id)).all()
    index = {episode: i for i, episode in enumerate(episodes)}
    answered = [r for r in requests if r.number <= 2 or (r.number == 3 and index[r.episode_id] % 2 == 0)]
    results = [score(r.instrument_code, answers_of(index[r.episode_id], r.number)[r.instrument_code])
               for r in answered]
    response_ids = bulk_insert(session, MeasureResponse, [
        {"resident_id": r.resident_id, "episode_id": r.episode_id, "instrument_code": r.instrument_code,
         "instrument_version": str(result.version), "answers": list(result.answers), "functioning": 1,
         "total": result.total, "band": result.band, "flags": ",".join(sorted(result.flags)),
         "submitted_at": r.starts_at - timedelta(hours=5), "form_request_id": r.id}
        for r, result in zip(answered, results, strict=True)])
    table = FormRequest.__table__
    session.execute(update(table).where(table.c.id == bindparam("request_id")).values(response_id=bindparam("rid")),
                    [{"request_id": r.id, "rid": rid} for r, rid in zip(answered, response_ids, strict=True)])


def finished_run(session, run: CourseRun, participant_ids: list[int]) -> None:
    """Attendance at the last meeting, the used links and one anonymous answer per participant."""
    last = run.meetings[-1]
    session.execute(insert(CourseAttendanceMark.__table__), [
        {"meeting_id": last.id, "participant_id": p, "status": "attended", "via": "leader", "at": last.starts_at}
        for p in participant_ids])
    token_insert = insert(EvaluationLink.__table__).values(token=bindparam("token_plain", type_=Text()))
    crypto = field_crypto()
    tokens = [secrets.token_urlsafe(24) for _ in participant_ids]
    session.execute(token_insert, [
        {"id": random_id(), "run_id": run.id, "meeting_id": None, "participant_id": p, "token_hash": secret_digest(t),
         "token_plain": crypto.encrypt(t), "used": True} for p, t in zip(participant_ids, tokens, strict=True)])
    useful = ["Øvelsene med tankefeller.", "Å høre at andre har det likt.", "", "Arbeidsboka."]
    less = ["Lange pauser.", "", "For mye tekst på lysarkene.", ""]
    session.execute(insert(EvaluationAnswer.__table__), [
        {"id": random_id(), "run_id": run.id, "meeting_id": None, "participant_id": None,
         "instrument_code": "COURSE-EVAL", "instrument_version": 1,
         "scores": {"relevance": 3 + i % 3, "delivery": 4 + i % 2, "material": 2 + i % 4},
         "useful": useful[i % 4] or None, "less_useful": less[i % 4] or None,
         "answered_on": last.starts_at.date()} for i in range(len(participant_ids))])


def build(session, *, runs: int, per_run: int) -> dict:
    """The team, its leaders, the runs and the people; what the pages need."""
    relatives = max(1, RELATIVES * per_run // FULL["per_run"])
    everyone = (runs + 1) * per_run + runs * relatives
    team, municipalities, therapist, secret, colleague, people = team_and_people(
        session, name="Bench courses", first_number=9400, residents=everyone)
    template = courses.create_template(
        session, actor=therapist, team_id=team.id, title="Kurs i mestring av depresjon",
        audience="Voksne med lett til moderat depresjon.", capacity=CAPACITY, is_open=True,
        meetings=tuple((f"Møte {n}", f"Tema og øvelser for møte {n}. " * 10) for n in range(1, 5)))
    made = [courses.create_run(session, actor=therapist, template_id=template.id,
                               starts=[at_six(d) for d in MEETING_DAYS], place="Kulturhuset, sal 2",
                               leader_ids=(therapist.id, colleague.id)) for _ in range(runs)]
    finished = courses.create_run(session, actor=therapist, template_id=template.id,
                                  starts=[at_six(d) for d in FINISHED_DAYS], place="Kulturhuset, sal 2",
                                  leader_ids=(therapist.id, colleague.id))
    participants = people[:(runs + 1) * per_run]
    relative_ids = people[(runs + 1) * per_run:]
    episodes = people_with_episodes(session, team=team, municipalities=municipalities, colleague=colleague,
                                    people=participants, tag="p")
    for r, run in enumerate([*made, finished]):
        own = slice(r * per_run, (r + 1) * per_run)
        own_relatives = relative_ids[r * relatives:(r + 1) * relatives] if run is not finished else []
        if r == 0:
            measured_run(session, run, therapist=therapist, people=participants[own], episodes=episodes[own],
                         relatives=own_relatives)
            continue
        ids = bulk_run(session, run, people=participants[own], episodes=episodes[own], relatives=own_relatives,
                       leader_id=therapist.id, enrolled_at=run.meetings[0].starts_at - timedelta(days=7))
        if run is finished:
            finished_run(session, run, ids)
    set_email(session.get(User, participants[1]), RESIDENT_EMAIL, field_crypto())
    session.commit()
    return {"therapist": therapist, "secret": secret, "meeting": made[0].meetings[1].id, "run": made[0].id,
            "finished": finished.id, "template": template.id, "enrolled": runs * (per_run + relatives)}


def plan_row(app, queries: dict, enrolled: int) -> tuple[str, str]:
    """Plan the reminders due on the evening before the meetings (23 hours ahead), rolled back
    after each of PLAN_REPEAT runs."""
    now = at_six(MEETING_DAYS[2]) - timedelta(hours=23)
    planned = {}
    with app.app_context():
        session = get_session()

        def once() -> None:
            planned["n"] = reminder_delivery.plan(session, now=now)
            planned["course"] = session.scalar(select(func.count()).select_from(Reminder)
                                               .where(Reminder.course_meeting_id.is_not(None)))
            session.rollback()

        once()
        queries["n"] = 0
        once()
        per_plan = queries["n"]
        middle, p95 = timed(once, PLAN_REPEAT)
    return (f"  reminder_delivery.plan, the evening before ({enrolled:,} enrolled)",
            f"median {middle:6.1f} ms, p95 {p95:6.1f} ms, {per_plan:3d} queries, {planned['n']:,} planned "
            f"({planned['course']:,} course)   goal: p95 < {PLAN_GOAL_MS} ms, "
            f"{'met' if p95 < PLAN_GOAL_MS else 'NOT met'}")


def size_row(client, path: str, name: str) -> tuple[str, str]:
    """The page's HTML in KB, and gzipped (as a compressing proxy would send it)."""
    body = client.get(path).data
    kb, zipped = len(body) / 1024, len(gzip.compress(body)) / 1024
    return (f"  HTML of {name}", f"{kb:6.1f} KB ({zipped:.1f} KB gzipped)   goal: < {SIZE_GOAL_KB} KB, "
                                f"{'met' if kb < SIZE_GOAL_KB else 'NOT met'}")


def measure(label: str, divisor: int, postgres: str | None) -> list[tuple[str, str]]:
    """Build the data at FULL / divisor in a fresh database and time the pages."""
    size = {key: value // divisor for key, value in FULL.items()}
    app, _ = bench_app("courses", postgres)
    with app.app_context():
        started = time.perf_counter()
        built = build(get_session(), **size)
        seconds = time.perf_counter() - started
        if postgres:
            get_session().execute(text("ANALYZE"))
            get_session().commit()
    clients = signed_in(app, built["therapist"], built["secret"])
    engine = app.extensions["rph_db"].engine
    queries = {"n": 0}
    event.listen(engine, "before_cursor_execute", lambda *a, **k: queries.__setitem__("n", queries["n"] + 1))
    meeting = f"/therapist/courses/meetings/{built['meeting']}"
    results = f"/therapist/courses/runs/{built['finished']}/results?figures=shown"
    pages = [("Leader's meeting page", meeting, "staff", HEAVY_GOAL),
             ("Run page", f"/therapist/courses/runs/{built['run']}", "staff", PAGE_GOAL),
             ("Results page", results, "staff", HEAVY_GOAL),
             ("Results CSV", f"/therapist/courses/runs/{built['finished']}/results.csv", "staff", PAGE_GOAL),
             ("Runs side by side", f"/therapist/courses/templates/{built['template']}/results", "staff", PAGE_GOAL),
             ("Public course list", "/kurs", "staff", PAGE_GOAL),
             ("My courses", "/me/courses", "resident", PAGE_GOAL),
             ("Resident home", "/me", "resident", PAGE_GOAL)]
    rows = [(f"{label} ({'PostgreSQL' if postgres else 'SQLite'}): {size['runs']} runs + 1 finished, "
             f"{size['per_run']} participants each, {built['enrolled']:,} enrolled (built in {seconds:.1f} s)", "")]
    for name, path, who, goal in pages:
        rows.append(page_row(clients[who], path, name, goal, queries, REPEAT, on="p95"))
    rows.append(size_row(clients["staff"], meeting, "the meeting page"))
    rows.append(size_row(clients["staff"], results, "the results page"))
    rows.append(plan_row(app, queries, built["enrolled"]))
    engine.dispose()
    return rows


def main() -> None:
    rows = at_each_size(measure, SIZES)
    print_table(f"rph-pwa courses and treatment groups (in-process test client, {REPEAT} runs each)",
                rows, "The query count of each page should be the same at both sizes.")


if __name__ == "__main__":
    main()
