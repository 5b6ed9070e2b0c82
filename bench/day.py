"""Benchmark of the therapist's day and the resident's home, at two data sizes.

    python -m bench.day

Full size: 5,000 residents, 1,000 open episodes, 200 of them on one therapist's caseload with a
year of weekly appointments (40 weeks back, 12 ahead, a few today), the forms asked before each
(answered before past ones) and the referral's scores. The same at a tenth of the size shows
whether the query count stays constant. Measures median and p95 server time (in-process test
client) and the SQL queries of GET /therapist/ (I dag), /therapist/caseload and the resident home
/me (a resident with an episode, appointments and open forms). A page whose endpoint the app does
not have yet is skipped with a note. Goals are printed beside the figures; nothing is asserted.
"""
from __future__ import annotations

import json
import secrets
import time
from datetime import timedelta

import pyotp
from sqlalchemy import bindparam, event, insert
from sqlalchemy.types import Text

from bench import bench_app, page_row, print_table
from bench.statistics import bulk_insert
from rph_pwa.crypto import field_crypto
from rph_pwa.db import get_session, utcnow
from rph_pwa.measures import score
from rph_pwa.models import Appointment, Episode, FormRequest, MeasureResponse, Municipality, Referral, Role, Team, User
from rph_pwa.services import email_codes
from rph_pwa.services.accounts import create_staff, normalise_email, set_email

FULL = {"residents": 5_000, "episodes": 1_000, "caseload": 200}
SIZES = (("1/10", 10), ("full", 1))
WEEKS_BACK, WEEKS_AHEAD = 40, 12
OTHER_CONTACTS = 10  # appointments of each episode not on the caseload
TODAY = 8  # caseload episodes with an appointment today
REPEAT = 30
PASSWORD = "bench-password-123"
RESIDENT_EMAIL = "bench-resident@example.no"
#: (label, endpoint, path, who, goal in ms)
PAGES = [("I dag", "therapist.index", "/therapist/", "staff", 50),
         ("My caseload", "therapist.caseload", "/therapist/caseload", "staff", 50),
         ("Resident home", "client.home", "/me", "resident", 20)]


def team_and_people(session, *, name: str, first_number: int, residents: int):
    """A team serving four new municipalities (numbered from `first_number`), its therapist (with
    the TOTP secret) and a colleague, and `residents` residents (bulk inserted, ids returned)."""
    municipalities = [Municipality(number=f"{first_number + i}", name=f"Benchkommune {i}") for i in range(4)]
    team = Team(name=name, phone="76 05 60 00", municipalities=municipalities)
    session.add(team)
    session.flush()
    therapist, secret = create_staff(session, username="bench-therapist", password=PASSWORD, role=Role.THERAPIST,
                                     display_name="Tone Terapeut", team_ids=[team.id])
    colleague, _ = create_staff(session, username="bench-colleague", password=PASSWORD, role=Role.THERAPIST,
                                display_name="Kari Kollega", team_ids=[team.id])
    people = bulk_insert(session, User, [
        {"role": "resident", "home_municipality_id": municipalities[i % 4].id, "team_id": team.id,
         "display_name": f"Innbygger {i}", "webauthn_user_handle": secrets.token_bytes(32)}
        for i in range(residents)])
    return team, municipalities, therapist, secret, colleague, people


def build(session, *, residents: int, episodes: int, caseload: int) -> tuple[User, str]:
    """The team, its therapist (returned with the TOTP secret) and the data; the first caseload
    resident has an e-mail address (RESIDENT_EMAIL) to sign in with."""
    team, municipalities, therapist, secret, colleague, people = team_and_people(
        session, name="Bench day", first_number=9100, residents=residents)

    now = utcnow()
    answers_token = field_crypto().encrypt(json.dumps({"work": {"work_status": "working", "sick_leave": "none"},
                                                       "contact": {"name": "Bench", "phone": "412 34 567"}}))
    referred = [now - timedelta(days=7 * WEEKS_BACK + 14 - i % 30) for i in range(episodes)]
    referral_insert = insert(Referral.__table__).values(answers=bindparam("answers_token", type_=Text()))
    referrals = bulk_insert(session, Referral, [
        {"submission_key": f"bench-day-{i}", "resident_id": people[i], "team_id": team.id,
         "municipality_id": municipalities[i % 4].id, "status": "accepted", "urgent": False, "channel": "app",
         "age_band": "25-34", "gender": "woman", "submitted_at": referred[i], "answers_token": answers_token}
        for i in range(episodes)], referral_insert)
    episode_ids = bulk_insert(session, Episode, [
        {"referral_id": referrals[i], "resident_id": people[i], "team_id": team.id, "referred_at": referred[i],
         "first_contact_at": referred[i] + timedelta(days=3), "first_treatment_at": referred[i] + timedelta(days=14),
         "offerings": "guided_self_help", "instruments": "PHQ-9,GAD-7",
         "responsible_id": therapist.id if i < caseload else colleague.id}
        for i in range(episodes)])

    scored = {code: score(code, values) for code, values in
              {"PHQ-9": [1, 1, 1, 1, 1, 1, 1, 1, 0], "GAD-7": [1, 1, 1, 1, 1, 1, 1]}.items()}

    def response(i: int, code: str, at) -> dict:
        result = scored[code]
        return {"resident_id": people[i], "referral_id": referrals[i], "episode_id": episode_ids[i],
                "instrument_code": code, "instrument_version": str(result.version), "answers": list(result.answers),
                "functioning": 1, "total": result.total, "band": result.band, "flags": "", "submitted_at": at}

    bulk_insert(session, MeasureResponse, [response(i, code, referred[i]) for i in range(episodes)
                                           for code in scored])
    appointments, owners = [], []
    for i in range(episodes):
        if i < caseload:
            weeks = range(-WEEKS_BACK, WEEKS_AHEAD + 1)
            staff_id = therapist.id
        else:
            weeks = range(-OTHER_CONTACTS // 2, OTHER_CONTACTS // 2)
            staff_id = colleague.id
        for week in weeks:
            starts = now + timedelta(days=7 * week + (i % 5), hours=i % 6 - 3)
            if week == 0 and i < caseload:
                starts = now + timedelta(minutes=30 + 20 * (i % TODAY)) if i < TODAY else starts + timedelta(days=1)
            appointments.append({"episode_id": episode_ids[i], "staff_id": staff_id, "kind": "check_in",
                                 "starts_at": starts, "mode": ("phone", "video", "office")[i % 3],
                                 "duration_minutes": 30, "created_at": starts - timedelta(days=7),
                                 "status": "attended" if starts < now else "booked"})
            owners.append(i)
    appointment_ids = bulk_insert(session, Appointment, appointments)
    past = [(k, owners[k]) for k, a in enumerate(appointments) if a["starts_at"] < now]
    answered = bulk_insert(session, MeasureResponse, [
        response(i, code, appointments[k]["starts_at"] - timedelta(hours=3)) for k, i in past for code in scored])
    answer_of = {(k, code): answered[n * len(scored) + c] for n, (k, _i) in enumerate(past)
                 for c, code in enumerate(scored)}
    bulk_insert(session, FormRequest, [
        {"appointment_id": appointment_ids[k], "episode_id": episode_ids[owners[k]], "resident_id": people[owners[k]],
         "instrument_code": code, "opens_at": a["starts_at"] - timedelta(hours=48),
         "response_id": answer_of.get((k, code))}
        for k, a in enumerate(appointments) for code in scored])
    set_email(session.get(User, people[0]), RESIDENT_EMAIL, field_crypto())
    session.commit()
    return therapist, secret


def _token(client, path: str) -> str:
    return client.get(path).get_data(as_text=True).split('<meta name="csrf-token" content="')[1].split('"')[0]


def signed_in(app, therapist: User, secret: str):
    """Test clients with the therapist (password + TOTP) and the resident (e-mail code) signed in."""
    staff = app.test_client()
    staff.post("/staff/login", data={"username": therapist.username, "password": PASSWORD,
                                     "csrf_token": _token(staff, "/staff/login")})
    staff.post("/staff/login/second-factor", data={"code": pyotp.TOTP(secret).now(),
                                                   "csrf_token": _token(staff, "/staff/login/second-factor")})
    resident = app.test_client()
    crypto = app.extensions["rph_crypto"]
    with app.app_context():
        session = get_session()
        _user, code = email_codes.request_signin_code(session, email=RESIDENT_EMAIL, crypto=crypto)
        session.commit()
    token = _token(resident, "/login/code")
    with resident.session_transaction() as cookie:
        cookie["code_lookup"] = crypto.lookup_hash(normalise_email(RESIDENT_EMAIL))
    resident.post("/login/code/verify", data={"code": code, "csrf_token": token})
    return {"staff": staff, "resident": resident}


def measure(label: str, divisor: int) -> list[tuple[str, str]]:
    """Build the data at FULL / divisor in a fresh SQLite file and time the pages."""
    size = {key: value // divisor for key, value in FULL.items()}
    app, _ = bench_app("day")
    with app.app_context():
        started = time.perf_counter()
        therapist, secret = build(get_session(), **size)
        built = time.perf_counter() - started
    clients = signed_in(app, therapist, secret)
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    queries = {"n": 0}
    engine = app.extensions["rph_db"].engine
    event.listen(engine, "before_cursor_execute", lambda *a, **k: queries.__setitem__("n", queries["n"] + 1))
    rows = [(f"{label}: {size['residents']:,} residents, {size['episodes']:,} open episodes, "
             f"{size['caseload']:,} on the caseload (built in {built:.1f} s)", "")]
    for name, endpoint, path, who, goal in PAGES:
        if endpoint not in endpoints:
            rows.append((f"  GET {path} ({name})", f"skipped: no endpoint {endpoint} in this app yet"))
            continue
        rows.append(page_row(clients[who], path, name, goal, queries, REPEAT))
    engine.dispose()
    return rows


def main() -> None:
    rows = []
    for label, divisor in SIZES:
        rows += measure(label, divisor)
    print_table(f"rph-pwa therapist's day and resident home (SQLite, in-process test client, {REPEAT} runs each)",
                rows, "The query count of each page should be the same at both sizes.")


if __name__ == "__main__":
    main()
