"""Benchmark of guided self-help's review view, at two data sizes, on SQLite and PostgreSQL.

    python -m bench.selfhelp                       # SQLite
    BENCH_POSTGRES_URL=postgresql://... python -m bench.selfhelp   # also PostgreSQL (emptied first!)

Full size: 10,000 residents, 1,000 open episodes with the sleep programme assigned, 500 check-ins
sent and waiting for review (a third of them on the measured therapist's caseload, the rest on a
colleague's, some two working days overdue so they show as cover), a year of worksheets for every
waiting resident (a sleep diary each night and a weekly thought record: 500 x 417 rows), module
progress, and the scores asked before each check-in. The same at a tenth of the size shows whether
the query count stays constant. Measures median and p95 server time (in-process test client) and
the SQL queries of the review queue (GET /therapist/check-ins) and one review page (GET
/therapist/check-ins/<id>, a resident with a year of worksheets). Goals are printed beside the
figures; nothing is asserted.
"""
from __future__ import annotations

import json
import time
from datetime import timedelta

from sqlalchemy import bindparam, event, insert, text
from sqlalchemy.types import Text

from bench import at_each_size, bench_app, page_row, print_table
from bench.day import RESIDENT_EMAIL, signed_in, team_and_people
from bench.statistics import bulk_insert
from rph_pwa.crypto import field_crypto
from rph_pwa.db import get_session, utcnow
from rph_pwa.localtime import local_today
from rph_pwa.measures import score
from rph_pwa.models import (
    Appointment,
    CheckInReport,
    Episode,
    FormRequest,
    MeasureResponse,
    ModuleProgress,
    Referral,
    SelfHelpAssignment,
    User,
    Worksheet,
)
from rph_pwa.selfhelp import content
from rph_pwa.services.accounts import set_email

FULL = {"residents": 10_000, "episodes": 1_000, "waiting": 500}
SIZES = (("1/10", 10), ("full", 1))
#: Worksheets per waiting resident: a year of nightly sleep diaries and weekly thought records.
DIARY_NIGHTS, RECORD_WEEKS = 365, 52
REPEAT = 30
GOAL_MS = 50


def build(session, *, residents: int, episodes: int, waiting: int) -> tuple[User, str, int]:
    """The team, the measured therapist (with the TOTP secret) and the data; returns also the
    appointment id of one waiting check-in of the therapist's (a resident with a year of work)."""
    team, municipalities, therapist, secret, colleague, people = team_and_people(
        session, name="Bench self-help", first_number=9200, residents=residents)
    crypto = field_crypto()
    now, today = utcnow(), local_today()
    started = today - timedelta(days=DIARY_NIGHTS)
    answers_token = crypto.encrypt(json.dumps({"contact": {"name": "Bench", "phone": "412 34 567"}}))
    referral_insert = insert(Referral.__table__).values(answers=bindparam("answers_token", type_=Text()))
    referrals = bulk_insert(session, Referral, [
        {"submission_key": f"bench-selfhelp-{i}", "resident_id": people[i], "team_id": team.id,
         "municipality_id": municipalities[i % 4].id, "status": "accepted", "urgent": False, "channel": "app",
         "age_band": "25-34", "gender": "woman", "submitted_at": now - timedelta(days=400),
         "answers_token": answers_token} for i in range(episodes)], referral_insert)
    mine = waiting // 3
    episode_ids = bulk_insert(session, Episode, [
        {"referral_id": referrals[i], "resident_id": people[i], "team_id": team.id,
         "referred_at": now - timedelta(days=400), "first_treatment_at": now - timedelta(days=DIARY_NIGHTS),
         "offerings": "guided_self_help", "instruments": "PHQ-9,GAD-7",
         "responsible_id": therapist.id if i < mine else colleague.id} for i in range(episodes)])
    assignment_ids = bulk_insert(session, SelfHelpAssignment, [
        {"episode_id": episode_ids[i], "resident_id": people[i], "team_id": team.id, "programme": "sovn",
         "checkin_weekday": today.weekday(), "pace": "weekly", "starts_on": started,
         "assigned_by_id": therapist.id, "open_episode_id": episode_ids[i]} for i in range(episodes)])
    # Each open episode has its check-in this week; the first `waiting` were sent (some of them
    # three working days ago: overdue, so they also show in the colleague's queue as cover).
    checkins = bulk_insert(session, Appointment, [
        {"episode_id": episode_ids[i], "staff_id": therapist.id if i < mine else colleague.id, "kind": "check_in",
         "starts_at": now - timedelta(days=5 if i % 7 == 0 else 0, hours=1), "mode": "phone",
         "duration_minutes": 20, "status": "booked", "created_at": now - timedelta(days=7)}
        for i in range(episodes)])
    words_token = crypto.encrypt(json.dumps({"worked_on": "Søvndagbok hver morgen.", "helped": "Fast tid.",
                                             "hard": "Helgene.", "question": "Hvor lenge varer trøttheten?"}))
    report_insert = insert(CheckInReport.__table__).values(answers=bindparam("words_token", type_=Text()))
    bulk_insert(session, CheckInReport, [
        {"appointment_id": checkins[i], "episode_id": episode_ids[i], "resident_id": people[i],
         "assignment_id": assignment_ids[i], "talk_sooner": i % 50 == 0, "words_token": words_token,
         "sent_at": now - timedelta(days=5 if i % 7 == 0 else 0, hours=3)} for i in range(waiting)], report_insert)
    scored = {code: score(code, values) for code, values in
              {"PHQ-9": [1, 1, 1, 1, 1, 1, 1, 1, 0], "GAD-7": [1, 1, 1, 1, 1, 1, 1]}.items()}
    responses = bulk_insert(session, MeasureResponse, [
        {"resident_id": people[i], "episode_id": episode_ids[i], "instrument_code": code,
         "instrument_version": str(result.version), "answers": list(result.answers), "functioning": 1,
         "total": result.total, "band": result.band, "flags": "", "submitted_at": now - timedelta(hours=5)}
        for i in range(waiting) for code, result in scored.items()])
    bulk_insert(session, FormRequest, [
        {"appointment_id": checkins[i], "episode_id": episode_ids[i], "resident_id": people[i],
         "instrument_code": code, "opens_at": now - timedelta(hours=48), "response_id": responses[2 * i + c]}
        for i in range(waiting) for c, code in enumerate(scored)])
    modules = content.programme("sovn").modules
    bulk_insert(session, ModuleProgress, [
        {"assignment_id": assignment_ids[i], "module_key": m.key, "first_read_at": now - timedelta(days=30 - n),
         "finished_at": now - timedelta(days=29 - n), "rating": 4} for i in range(waiting)
        for n, m in enumerate(modules[:3])])
    diary = crypto.encrypt(json.dumps({"night": "2026-01-01", "bedtime": "23:00", "lights_out": "23:15",
                                       "minutes_to_sleep": 30, "minutes_awake": 40, "woke": "06:00",
                                       "rose": "06:30", "quality": 3}))
    record = crypto.encrypt(json.dumps({"situation": "På jobb.", "feelings": "Uro", "thought": "Jeg rekker det ikke."}))
    worksheet_insert = insert(Worksheet.__table__).values(content=bindparam("token", type_=Text()))
    rows = []
    for i in range(waiting):
        for night in range(DIARY_NIGHTS):
            day = started + timedelta(days=night)
            at = now - timedelta(days=DIARY_NIGHTS - night)
            rows.append({"resident_id": people[i], "episode_id": episode_ids[i], "kind": "sleep_diary",
                         "client_key": f"d{night}", "for_date": day, "token": diary, "revision": 1,
                         "created_at": at, "updated_at": at})
        for week in range(RECORD_WEEKS):
            at = now - timedelta(days=7 * (RECORD_WEEKS - week))
            rows.append({"resident_id": people[i], "episode_id": episode_ids[i], "kind": "thought_record",
                         "client_key": f"t{week}", "for_date": None, "token": record, "revision": 1,
                         "created_at": at, "updated_at": at})
        if len(rows) > 20_000:
            bulk_insert(session, Worksheet, rows, worksheet_insert)
            rows = []
    bulk_insert(session, Worksheet, rows, worksheet_insert)
    set_email(session.get(User, people[0]), RESIDENT_EMAIL, crypto)
    session.commit()
    return therapist, secret, checkins[0]


def measure(label: str, divisor: int, postgres: str | None) -> list[tuple[str, str]]:
    """Build the data at FULL / divisor in a fresh database and time the pages."""
    size = {key: value // divisor for key, value in FULL.items()}
    app, _ = bench_app("selfhelp", postgres)
    with app.app_context():
        started = time.perf_counter()
        therapist, secret, appointment_id = build(get_session(), **size)
        built = time.perf_counter() - started
        if postgres:
            get_session().execute(text("ANALYZE"))
            get_session().commit()
    clients = signed_in(app, therapist, secret)
    engine = app.extensions["rph_db"].engine
    queries = {"n": 0}
    event.listen(engine, "before_cursor_execute", lambda *a, **k: queries.__setitem__("n", queries["n"] + 1))
    worksheets = size["waiting"] * (DIARY_NIGHTS + RECORD_WEEKS)
    rows = [(f"{label} ({'PostgreSQL' if postgres else 'SQLite'}): {size['residents']:,} residents, "
             f"{size['episodes']:,} in the programme, {size['waiting']:,} check-ins waiting, {worksheets:,} worksheets "
             f"(built in {built:.1f} s)", "")]
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    for name, endpoint, path in (("Review queue", "therapist.review_queue", "/therapist/check-ins"),
                                 ("Review page", "therapist.review", f"/therapist/check-ins/{appointment_id}")):
        if endpoint not in endpoints:
            rows.append((f"  GET {path} ({name})", f"skipped: no endpoint {endpoint} in this app yet"))
            continue
        rows.append(page_row(clients["staff"], path, name, GOAL_MS, queries, REPEAT))
    engine.dispose()
    return rows


def main() -> None:
    rows = at_each_size(measure, SIZES)
    print_table(f"rph-pwa guided self-help review view (in-process test client, {REPEAT} runs each)",
                rows, "The query count of each page should be the same at both sizes.")


if __name__ == "__main__":
    main()
