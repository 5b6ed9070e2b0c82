"""Load test: 50 people at once for 60 s against the app as deployed (gunicorn on loopback), on
SQLite and (with BENCH_POSTGRES_URL) on PostgreSQL.

Residents open their home, their safety plan, a form before a contact and Min fremgang, keep a
draft of that form and save their safety plan; therapists open I dag, the triage queue, an
episode and the statistics. Every answer must be what a person would get (200, or a redirect
after a saved form): anything else, or a request that fails, is an error. Goal: 0 errors; the
figures are requests per second and p50/p95/p99 in milliseconds, per kind of page and in all.

Run with `python -m bench.load` (part of `make bench`); LOAD_SECONDS and LOAD_USERS change the
length and the number of people (60 and 50 by default).
"""
from __future__ import annotations

import os
import random
import re
import tempfile
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import select

from bench import fresh_database, print_table
from bench.serve import Session, gunicorn, run_load, session_cookie
from rph_pwa import create_app
from rph_pwa.config import Config
from rph_pwa.db import get_session, utcnow

SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
USERS = int(os.environ.get("LOAD_USERS", "50"))
#: Seconds of the same load before measuring (every worker's first pages compile templates).
WARM_UP = 5
#: Of the USERS, this share are therapists (the rest residents).
THERAPIST_SHARE = 0.3
#: gunicorn as the README's production section runs it.
WORKERS = 4
CSRF = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"|value="([^"]+)" name="csrf_token"')


def settings(database_url: str, folder: Path) -> tuple[dict[str, str], dict[str, object]]:
    """Production settings with throw-away secrets over plain HTTP on loopback: the environment
    for gunicorn, and the same as config overrides for making the data in this process."""
    secret, field_key, lookup = os.urandom(32).hex(), Fernet.generate_key().decode(), os.urandom(32).hex()
    env = {"RPH_ENV": "production", "DATABASE_URL": database_url, "SECRET_KEY": secret, "FIELD_KEYS": field_key,
           "LOOKUP_KEY": lookup, "WEBAUTHN_RP_ID": "localhost", "WEBAUTHN_ORIGIN": "https://localhost",
           "PUBLIC_BASE_URL": "https://localhost", "TRUSTED_HOSTS": "127.0.0.1", "MAIL_BACKEND": "outbox",
           "MAIL_OUTBOX": str(folder / "outbox")}
    overrides = {"SQLALCHEMY_DATABASE_URL": database_url, "SECRET_KEY": secret, "FIELD_KEYS": [field_key],
                 "LOOKUP_KEY": lookup, "MAIL_BACKEND": "outbox", "MAIL_OUTBOX": str(folder / "outbox")}
    return env, overrides


def make_people(app, *, residents: int, therapists: int) -> tuple[list[dict], list[dict], list[int]]:
    """The demo data, `residents` more residents each in treatment with forms open before
    tomorrow's contact, and `therapists` more therapists of the Lofoten team. Returns the residents
    (cookies, open form request id), the therapists (cookies) and the team's episode ids."""
    from rph_pwa.codes import AppointmentKind, MeetingMode
    from rph_pwa.demo import demo_referral, load_demo_data
    from rph_pwa.models import Episode, FormRequest, Municipality, Role, Team
    from rph_pwa.services import outcomes, responsibility
    from rph_pwa.services.accounts import create_staff

    with app.app_context():
        db = get_session()
        crypto = app.extensions["rph_crypto"]
        load_demo_data(db, crypto=crypto)
        team = db.scalars(select(Team).where(Team.name.like("RPH Lofoten%"))).one()
        municipality = db.scalars(select(Municipality).where(Municipality.number == "1860")).one()
        staff = [create_staff(db, username=f"load-{n}", password="load-password-123", role=Role.THERAPIST,
                              display_name=f"Terapeut {n}", team_ids=[team.id])[0] for n in range(therapists)]
        people = []
        for n in range(residents):
            resident = demo_referral(db, crypto=crypto, municipality=municipality, name=f"Beboer {n}",
                                     email=f"load-{n}@example.no", phq9=[2, 1, 2, 1, 1, 2, 1, 1, 0],
                                     crisis="no", phone=f"4{n:07d}")
            episode = db.scalars(select(Episode).where(Episode.resident_id == resident.id)).one()
            therapist = staff[n % len(staff)]
            responsibility.set_responsible(db, actor=therapist, episode_id=episode.id, therapist_id=therapist.id)
            outcomes.book_contact(db, actor=therapist, episode_id=episode.id, kind=AppointmentKind.CHECK_IN,
                                  starts_at=utcnow() + timedelta(days=1), duration_minutes=20,
                                  mode=MeetingMode.PHONE, place=None)
            people.append((resident, episode))
        db.commit()
        forms = {r: f for r, f in db.execute(
            select(FormRequest.resident_id, FormRequest.id).where(FormRequest.instrument_code == "PHQ-9",
                                                                  FormRequest.response_id.is_(None)))}
        with app.test_request_context():
            residents_out = [{"cookies": session_cookie(app, user=r), "form": forms[r.id]} for r, _e in people]
            therapists_out = [{"cookies": session_cookie(app, user=t, staff=True)} for t in staff]
        episodes = list(db.scalars(select(Episode.id).where(Episode.team_id == team.id)))
    return residents_out, therapists_out, episodes


def csrf_token(body: bytes) -> str:
    match = CSRF.search(body)
    if not match:
        raise ValueError("no CSRF token on the page")
    return (match.group(1) or match.group(2)).decode()


def resident_script(form_id: int):
    """A resident's round: home, safety plan, the form (a draft kept), progress, and a saved plan."""
    def script(s: Session) -> None:
        s.timed("resident: home", "GET", "/me")
        s.timed("resident: safety plan", "GET", "/me/safety-plan")
        page = s.timed("resident: form", "GET", f"/me/forms/{form_id}")
        if page is not None:
            s.timed("resident: form draft (POST)", "POST", f"/me/forms/{form_id}/draft",
                    body=f"csrf_token={csrf_token(page.body)}&q1=1&q2=2".encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
        s.timed("resident: progress", "GET", "/me/progress")
        edit = s.timed("resident: safety plan edit", "GET", "/me/safety-plan/edit")
        if edit is not None:
            s.timed("resident: safety plan save (POST)", "POST", "/me/safety-plan/edit",
                    body=(f"csrf_token={csrf_token(edit.body)}&warning_signs=Sover+d%C3%A5rlig"
                          f"&coping_alone=G%C3%A5+en+tur&reasons_for_living=Familien").encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    expect=lambda r: r.status == 302)
    return script


def therapist_script(episodes: list[int], seed: int):
    """A therapist's round: I dag, the triage queue, an episode of the team, the statistics."""
    rng = random.Random(seed)

    def script(s: Session) -> None:
        s.timed("therapist: I dag", "GET", "/therapist/")
        s.timed("therapist: triage", "GET", "/therapist/triage")
        s.timed("therapist: episode", "GET", f"/therapist/episodes/{rng.choice(episodes)}")
        s.timed("therapist: statistics", "GET", "/therapist/statistics")
    return script


def measure(database: str | None, folder: Path) -> list[tuple[str, str]]:
    name = "PostgreSQL" if database else "SQLite"
    url = fresh_database(database, folder)
    env, overrides = settings(url, folder)
    app = create_app(Config, **overrides)
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    therapists = max(1, round(USERS * THERAPIST_SHARE))
    residents, staff, episodes = make_people(app, residents=USERS - therapists, therapists=therapists)
    users = [(resident_script(r["form"]), r["cookies"]) for r in residents]
    users += [(therapist_script(episodes, n), t["cookies"]) for n, t in enumerate(staff)]
    with gunicorn("rph_pwa:create_app()", env=env, workers=WORKERS, log=folder / "gunicorn.log") as base:
        run_load(base, users, seconds=WARM_UP)  # each worker compiles its templates first; not counted
        result = run_load(base, users, seconds=SECONDS, ok=lambda r: r.status == 200)
    rows = [(f"{name}: {USERS} people ({USERS - therapists} residents, {therapists} therapists), "
             f"{result.seconds:.0f} s, gunicorn -w {WORKERS}", "")]
    errors = result.error_count
    rows.append(("  all requests", f"{result.requests:6d} requests, {result.per_second:6.1f} req/s, "
                 f"p50 {result.percentile(50):6.1f} ms, p95 {result.percentile(95):6.1f} ms, "
                 f"p99 {result.percentile(99):6.1f} ms, {errors} errors   goal: 0 errors, "
                 f"{'met' if errors == 0 else 'NOT met'}"))
    for label in sorted(result.latencies):
        rows.append((f"  {label}", f"{len(result.latencies[label]):6d} requests, "
                     f"p50 {result.percentile(50, label):6.1f} ms, p95 {result.percentile(95, label):6.1f} ms, "
                     f"p99 {result.percentile(99, label):6.1f} ms, {result.errors.get(label, 0)} errors"))
    rows += [("  error", sample) for sample in result.error_samples]
    return rows


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="rph-load-"))
    postgres = os.environ.get("BENCH_POSTGRES_URL")
    rows = measure(None, folder)
    if postgres:
        rows += measure(postgres, folder)
    else:
        rows.append(("PostgreSQL", "skipped: set BENCH_POSTGRES_URL to an empty database's URL"))
    print_table("Load test: residents and therapists at once (loopback, gunicorn)", rows,
                note="Errors are answers other than 200 (302 after a saved form) and failed requests.")


if __name__ == "__main__":
    main()
