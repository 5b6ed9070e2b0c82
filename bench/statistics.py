"""Benchmark of the team statistics: 10,000 episodes and 200,000 questionnaire responses.

    python -m bench.statistics                                   # a throw-away SQLite file
    python -m bench.statistics --database-url postgresql://rph:rph@localhost/rph_bench

Builds the data with bulk `insert()` (executemany), then times `team_statistics` + building the CSV
rows for one calendar year (median of 5 runs), for all municipalities and for one, and prints the
figures. Nothing is asserted (tests never time things). Against an existing database it adds its own
uniquely named team and rows; use a throw-away database.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import random
import secrets
import statistics
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import bindparam, event, insert, select, text
from sqlalchemy.types import Text

from rph_pwa import create_app
from rph_pwa.config import TestConfig, normalise_database_url
from rph_pwa.crypto import field_crypto
from rph_pwa.db import get_session
from rph_pwa.measures import score
from rph_pwa.models import Appointment, Episode, MeasureResponse, Municipality, Referral, Role, Team, User
from rph_pwa.models.referrals import CHANNELS, END_REASONS, OFFERINGS
from rph_pwa.services.accounts import create_staff
from rph_pwa.services.statistics import statistics_rows, team_statistics

EPISODES = 10_000
RESPONSES_PER_EPISODE = 20  # 9 PHQ-9 + 9 GAD-7 + 2 WSAS = 200,000 rows
CONTACTS = 9
YEAR = 2025
RUNS = 5
BATCH = 20_000
WORK = ("working", "studying", "job_seeking", "benefits", "retired", "other")
SICK = ("none", "graded", "full")
#: Rough shares of end reasons (completed, guided_onward, dropped_out, declined, other) and of
#: channels (app, phone, paper, course enrolment: codes.Channel's order).
END_REASON_WEIGHTS = (60, 12, 15, 8, 5)
CHANNEL_WEIGHTS = (70, 18, 5, 7)


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.statistics", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--seed", type=int, default=20250101)
    return parser.parse_args()


def _answers(code: str, total: int) -> str:
    """Stored item answers adding up to `total` (filled from the first item)."""
    from rph_pwa.measures import get

    instrument, values = get(code), []
    for item in instrument.items:
        value = min(total, instrument.options_for(item)[-1].value)
        values.append(value)
        total -= value
    return json.dumps(values)


def bulk_insert(session, model, rows: list[dict], statement=None) -> list[int]:
    """Bulk insert in batches (executemany); returns the new ids in the order of `rows`."""
    statement = statement if statement is not None else insert(model.__table__)
    statement = statement.returning(model.__table__.c.id, sort_by_parameter_order=True)
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        ids += list(session.scalars(statement, rows[start:start + BATCH]))
    return ids


def build(session, rng: random.Random) -> tuple[User, list[Municipality]]:
    """One team serving four municipalities, a therapist, and EPISODES episodes around YEAR."""
    tag = uuid.uuid4().hex[:8]
    taken = set(session.scalars(select(Municipality.number)))
    numbers = [n for n in (f"{i:04d}" for i in range(9000, 10000)) if n not in taken][:4]
    municipalities = [Municipality(number=n, name=f"Benchkommune {n}") for n in numbers]
    team = Team(name=f"Bench statistics {tag}", municipalities=municipalities)
    session.add(team)
    session.flush()
    staff, _secret = create_staff(session, username=f"bench-stats-{tag}", password="bench-password-123",
                                  role=Role.THERAPIST, display_name="Bench", team_ids=[team.id])

    residents = bulk_insert(session, User, [
        {"role": "resident", "home_municipality_id": municipalities[i % 4].id, "team_id": team.id,
         "webauthn_user_handle": secrets.token_bytes(32)} for i in range(EPISODES)])

    # Referral answers are encrypted: a few real Fernet tokens, inserted as they are.
    crypto = field_crypto()
    tokens = [crypto.encrypt(json.dumps({"work": {"work_status": w, "sick_leave": "none"},
                                         "troubles": {"own_words": f"Bench {w}"}})) for w in WORK]
    referral_insert = insert(Referral.__table__).values(answers=bindparam("answers_token", type_=Text()))
    start_of_data = datetime(YEAR - 1, 11, 1, 11, tzinfo=timezone.utc)
    referred = [start_of_data + timedelta(days=rng.randrange(425), minutes=rng.randrange(480))
                for _ in range(EPISODES)]
    channels = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS, k=EPISODES)
    referrals = bulk_insert(session, Referral, [
        {"submission_key": f"bench-{tag}-{i}", "resident_id": residents[i], "team_id": team.id,
         "municipality_id": municipalities[i % 4].id, "status": "accepted", "urgent": False, "channel": channels[i],
         "age_band": "25-34", "gender": ("woman", "man", "other")[i % 3], "submitted_at": referred[i],
         "answers_token": tokens[i % len(tokens)]} for i in range(EPISODES)], referral_insert)

    episode_rows, plans = [], []
    for i in range(EPISODES):
        treated = rng.random() < 0.9
        first_treatment = referred[i] + timedelta(days=rng.randint(5, 40)) if treated else None
        ended = referred[i] + timedelta(days=rng.randint(60, 160)) if rng.random() < 0.85 else None
        offerings = ",".join(sorted(rng.sample(OFFERINGS, rng.choice((0, 1, 1, 1, 2)))))
        episode_rows.append({
            "referral_id": referrals[i], "resident_id": residents[i], "team_id": team.id, "referred_at": referred[i],
            "first_contact_at": referred[i] + timedelta(days=rng.randint(0, 14)), "assessed_at": None,
            "first_treatment_at": first_treatment, "discharged_at": ended, "offerings": offerings,
            "instruments": "PHQ-9,GAD-7", "work_status_start": rng.choice(WORK), "sick_leave_start": rng.choice(SICK),
            "work_status_end": rng.choice(WORK) if ended else None,
            "sick_leave_end": rng.choice(SICK) if ended else None,
            "end_reason": rng.choices(END_REASONS, weights=END_REASON_WEIGHTS)[0] if ended else None,
        })
        plans.append((first_treatment or referred[i] + timedelta(days=7), rng.randint(8, 22), rng.randint(5, 18)))
    episodes = bulk_insert(session, Episode, episode_rows)

    scored = {(code, total): score(code, json.loads(_answers(code, total)))
              for code, top in (("PHQ-9", 27), ("GAD-7", 21), ("WSAS", 40)) for total in range(top + 1)}
    responses, appointments = [], []
    for i, episode_id in enumerate(episodes):
        start, phq9, gad7 = plans[i]
        wsas, trend = rng.randint(10, 30), rng.choice((-1, 0, 1, 1, 2, 2))  # most get better, some worse
        for contact in range(CONTACTS):
            at = start + timedelta(days=7 * contact)
            drop = contact * trend
            totals = [("PHQ-9", min(27, max(0, phq9 - drop))), ("GAD-7", min(21, max(0, gad7 - drop)))]
            if contact in (0, CONTACTS - 1):
                totals.append(("WSAS", min(40, max(0, wsas - 2 * drop))))
            for code, total in totals:
                result = scored[(code, total)]
                responses.append({
                    "resident_id": residents[i], "referral_id": referrals[i], "episode_id": episode_id,
                    "instrument_code": code, "instrument_version": str(result.version),
                    "answers": list(result.answers), "functioning": None, "total": total,
                    "band": result.band, "flags": "", "submitted_at": at})
            appointments.append({
                "episode_id": episode_id, "staff_id": staff.id, "kind": "assessment" if contact == 0 else "treatment",
                "starts_at": at + timedelta(hours=1), "mode": "office", "place": None,
                "duration_minutes": 45 if contact else 60, "is_last": contact == CONTACTS - 1,
                "status": "attended" if rng.random() < 0.85 else rng.choice(("cancelled", "no_show", "booked")),
                "created_at": at})
    bulk_insert(session, MeasureResponse, responses)
    bulk_insert(session, Appointment, appointments)
    session.commit()
    if session.bind.dialect.name == "postgresql":
        # Autovacuum would gather planner statistics soon after a load like this; do it now.
        session.execute(text("ANALYZE"))
        session.commit()
    return staff, municipalities


def _csv(stats) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("section", "metric", "value"))
    writer.writerows(statistics_rows(stats))
    return out.getvalue()


def main() -> None:
    args = _args()
    tmp = Path(tempfile.mkdtemp(prefix="rph-bench-stats-"))
    url = normalise_database_url(args.database_url) if args.database_url else f"sqlite:///{tmp / 'bench.sqlite3'}"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URL=url, MAIL_BACKEND="outbox", MAIL_OUTBOX=str(tmp / "outbox"))
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    rng = random.Random(args.seed)
    with app.app_context():
        session = get_session()
        started = time.perf_counter()
        staff, municipalities = build(session, rng)
        built = time.perf_counter() - started
        queries = {"n": 0}
        engine = app.extensions["rph_db"].engine
        event.listen(engine, "before_cursor_execute", lambda *a, **k: queries.__setitem__("n", queries["n"] + 1))
        timings = []
        for label, municipality_id in (("all municipalities", None), ("one municipality", municipalities[0].id)):
            samples = []
            for _ in range(RUNS):
                session.expire_all()
                queries["n"] = 0
                t0 = time.perf_counter()
                stats = team_statistics(session, actor=staff, since=date(YEAR, 1, 1), until=date(YEAR + 1, 1, 1),
                                        municipality_id=municipality_id)
                text = _csv(stats)
                samples.append((time.perf_counter() - t0) * 1000)
            timings.append((label, statistics.median(samples), min(samples), max(samples), queries["n"],
                            len(text.splitlines())))
            if municipality_id is None:
                figures = statistics_rows(stats)
    engine.dispose()

    print(f"\nrph-pwa team statistics benchmark ({engine.dialect.name}; {EPISODES:,} episodes, "
          f"{EPISODES * RESPONSES_PER_EPISODE:,} responses, {EPISODES * CONTACTS:,} appointments; "
          f"data built in {built:.1f} s)\n")
    for label, median, low, high, n, lines in timings:
        print(f"  team_statistics + CSV, {YEAR}, {label:<18}  median {median:6.1f} ms "
              f"(min {low:.1f}, max {high:.1f}; {RUNS} runs), {n} queries, {lines} CSV lines")
    print(f"\nFigures for {YEAR}, all municipalities:\n")
    for section, metric, value in figures:
        print(f"  {section:<18} {metric:<28} {value}")
    print()


if __name__ == "__main__":
    main()
