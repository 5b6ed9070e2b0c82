"""Benchmark of a reminder burst: 10,000 reminders falling due at once, delivered to local test
endpoints while residents use the app.

    python -m bench.reminders
    BENCH_POSTGRES_URL=postgresql://... python -m bench.reminders   # also PostgreSQL (emptied first!)

10,000 residents with a booked appointment three hours ahead (the 24-hour reminder due now, as at
08:00 after a night's quiet hours), 80 % with a push subscription at the Web Push service stub
(tests/reminders/stubs.py, its own process on loopback), 20 % by SMS (the file outbox). As
deployed, three kinds of processes: the web app under gunicorn (2 workers, 4 threads) on
loopback, the scheduler's reminder job (`jobs.send_reminders`, repeated as the scheduler does)
in a process of its own, and this one, which loads the web app with 4 signed-in clients each
asking for the resident home (GET /me) every 0.25 s (LOAD_INTERVAL). Measures how long until every reminder has gone
out and been recorded, whether any went out twice (counted at the stub and in the outbox), and
the resident home's median and p95 before and during the burst. Outside 09:00-18:00 Oslo time
the job's clock is moved to the next 10:00 (the quiet hours would hold appointment reminders).
Goals are printed beside the figures; nothing is asserted.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.types import Text

from bench import fresh_database
from bench.day import RESIDENT_EMAIL, team_and_people
from bench.statistics import bulk_insert
from rph_pwa import create_app
from rph_pwa.config import TestConfig
from rph_pwa.crypto import field_crypto
from rph_pwa.db import get_session, utcnow
from rph_pwa.localtime import local_zone, to_local
from rph_pwa.models import Appointment, Episode, PushSubscription, Referral, Reminder, ReminderDelivery, User
from rph_pwa.models.people import phone_lookup_key
from rph_pwa.services import email_codes
from rph_pwa.services.accounts import set_email

COUNT = 10_000
#: Every fifth resident by SMS, the others by push.
SMS_EVERY = 5
LOAD_CLIENTS = 4
#: Each client asks for a page this often (seconds), whatever the last answer took: people arrive
#: at their own pace (16 pages a second in all, far above a municipality's residents). A loop
#: without pause would measure the server saturated (issue 15's load test), not how long a page
#: waits while a burst is sent.
LOAD_INTERVAL = 0.25
BASELINE_SECONDS = 5
GOAL_SECONDS, GOAL_P95_MS = 60, 200
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- The push service stub, in a process of its own ----------------------------------------------------

def push_service(conn) -> None:
    """Run the stub; answer "stats" with what it received, stop on "close"."""
    from tests.reminders.stubs import PushService

    # It stands in for the push services on the internet, which take none of our server's CPU:
    # it runs at the scheduler's priority, so it does not crowd out the web app's workers either.
    os.nice(10)
    service = PushService()
    conn.send(service.port)
    while conn.recv() != "close":  # "stats"
        with service._lock:  # noqa: SLF001 - the stub's own lock
            topics: dict[str, set[str]] = {}
            for path, topic in service.messages:
                topics.setdefault(path, set()).add(topic)
            sample = next(iter(service.messages.values()), None)
            conn.send({"requests": len(service.requests), "messages": len(service.messages),
                       "paths_with_two_topics": sum(len(t) > 1 for t in topics.values()),
                       "sample": None if sample is None else (sample.headers.get("topic"), sample.body)})
    service.close()


# --- The data ---------------------------------------------------------------------------------------------

def job_clock_shift() -> timedelta:
    """0 between 09:00 and 18:00 Oslo time; else how far ahead the next 10:00 is."""
    local = to_local(utcnow())
    if 9 <= local.hour < 18:
        return timedelta(0)
    day = local.date() if local.hour < 9 else local.date() + timedelta(days=1)
    return datetime.combine(day, datetime.min.time().replace(hour=10), tzinfo=local_zone()) - local


def build(session, *, endpoint, keys, now) -> dict:
    """COUNT residents, each with an open episode and an appointment three hours after `now`
    (the job's time); 80 % subscribed to push at the stub, all with a phone number."""
    team, municipalities, _therapist, _secret, colleague, _none = team_and_people(
        session, name="Bench reminders", first_number=9300, residents=0)
    crypto = field_crypto()
    phones = [f"+47 4{i:07d}" for i in range(COUNT)]
    people = bulk_insert(session, User, [
        {"role": "resident", "home_municipality_id": municipalities[i % 4].id, "team_id": team.id,
         "display_name": f"Innbygger {i}", "webauthn_user_handle": os.urandom(32), "phone": phones[i],
         "phone_lookup": phone_lookup_key(phones[i], crypto),
         "reminder_channels": "sms,email" if i % SMS_EVERY == 1 else "push,sms,email"} for i in range(COUNT)])
    answers_token = crypto.encrypt(json.dumps({"contact": {"name": "Bench", "phone": "412 34 567"}}))
    referral_insert = insert(Referral.__table__).values(answers=bindparam("answers_token", type_=Text()))
    referrals = bulk_insert(session, Referral, [
        {"submission_key": f"bench-reminders-{i}", "resident_id": people[i], "team_id": team.id,
         "municipality_id": municipalities[i % 4].id, "status": "accepted", "urgent": False, "channel": "app",
         "age_band": "25-34", "gender": "woman", "submitted_at": now - timedelta(days=30),
         "answers_token": answers_token} for i in range(COUNT)], referral_insert)
    episodes = bulk_insert(session, Episode, [
        {"referral_id": referrals[i], "resident_id": people[i], "team_id": team.id,
         "referred_at": now - timedelta(days=30), "first_contact_at": now - timedelta(days=20),
         "offerings": "guided_self_help", "instruments": "PHQ-9,GAD-7", "responsible_id": colleague.id}
        for i in range(COUNT)])
    bulk_insert(session, Appointment, [
        {"episode_id": episodes[i], "staff_id": colleague.id, "kind": ("assessment", "treatment")[i % 2],
         "starts_at": now + timedelta(hours=3, minutes=i % 60), "mode": ("phone", "video", "office")[i % 3],
         "duration_minutes": 45, "created_at": now - timedelta(days=7), "status": "booked"}
        for i in range(COUNT)])
    pushed = [i for i in range(COUNT) if i % SMS_EVERY != 1]
    bulk_insert(session, PushSubscription, [
        {"resident_id": people[i], "endpoint": endpoint(f"r{i}"),
         "endpoint_lookup": crypto.lookup_hash(f"push:{endpoint(f'r{i}')}"), "p256dh": keys.p256dh,
         "auth": keys.auth, "created_at": now - timedelta(days=7)} for i in pushed])
    set_email(session.get(User, people[0]), RESIDENT_EMAIL, crypto)
    session.commit()
    return {"push": len(pushed), "sms": COUNT - len(pushed)}


# --- The job, as the scheduler runs it ---------------------------------------------------------------------

def deliver() -> None:
    """(Its own process.) Run `jobs.send_reminders` as the scheduler does until every reminder
    is sent; print the seconds it took."""
    from rph_pwa.scheduling import jobs
    from rph_pwa.scheduling.runner import lower_priority

    app = create_app()
    lower_priority(app)  # as the scheduler process does
    shift = timedelta(seconds=float(os.environ["BENCH_CLOCK_SHIFT"]))
    with app.app_context():
        session = get_session()
        print("ready", flush=True)
        started = time.monotonic()
        while time.monotonic() - started < 300:
            jobs.send_reminders(app, clock=lambda: utcnow() + shift)
            sent = session.scalar(select(func.count()).where(ReminderDelivery.state == "sent"))
            session.rollback()
            if sent >= COUNT:
                break
            time.sleep(0.1)
        print(f"done {time.monotonic() - started:.2f}", flush=True)


# --- The web app and its load ----------------------------------------------------------------------------

def sign_in(base: str, app) -> requests.Session:
    """The resident signs in with an e-mail code over HTTP (the code read from the service, as
    from the mail)."""
    client = requests.Session()

    def token(path: str) -> str:
        return client.get(base + path).text.split('<meta name="csrf-token" content="')[1].split('"')[0]

    client.post(base + "/login/code", data={"email": RESIDENT_EMAIL, "csrf_token": token("/login/code")})
    with app.app_context():
        session = get_session()
        _user, code = email_codes.request_signin_code(session, email=RESIDENT_EMAIL, crypto=field_crypto())
        session.commit()
    client.post(base + "/login/code/verify", data={"code": code, "csrf_token": token("/login/code/verify")})
    assert client.get(base + "/me", allow_redirects=False).status_code == 200, "the resident is not signed in"
    return client


class Load:
    """LOAD_CLIENTS threads asking for GET /me every LOAD_INTERVAL; (start time, ms, status) per answer."""

    def __init__(self, base: str, signed_in: requests.Session) -> None:
        self.samples: list[tuple[float, float, int]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(base, signed_in.cookies.copy()), daemon=True)
                         for _ in range(LOAD_CLIENTS)]
        for thread in self._threads:
            thread.start()

    def _run(self, base: str, cookies) -> None:
        client = requests.Session()
        client.cookies = cookies
        due = time.monotonic()
        while not self._stop.is_set():
            started = time.monotonic()
            status = client.get(base + "/me", allow_redirects=False).status_code
            self.samples.append((started, (time.monotonic() - started) * 1000, status))
            due += LOAD_INTERVAL
            self._stop.wait(max(due - time.monotonic(), 0))

    def between(self, start: float, end: float) -> list[tuple[float, int]]:
        return [(ms, status) for at, ms, status in list(self.samples) if start <= at <= end]

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)


def figures(samples: list[tuple[float, int]]) -> str:
    times = sorted(ms for ms, _status in samples)
    if not times:
        return "no answers"
    p95 = times[max(int(len(times) * 0.95) - 1, 0)]
    errors = sum(status != 200 for _ms, status in samples)
    return (f"median {statistics.median(times):6.1f} ms, p95 {p95:6.1f} ms ({len(times)} requests, "
            f"{errors} not 200)   goal: p95 < {GOAL_P95_MS} ms, {'met' if p95 < GOAL_P95_MS else 'NOT met'}")


# --- One database ----------------------------------------------------------------------------------------

def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=10)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def measure(postgres: str | None) -> list[tuple[str, str]]:
    from tests.reminders.stubs import BrowserKeys

    name = "PostgreSQL" if postgres else "SQLite"
    folder = Path(tempfile.mkdtemp(prefix="rph-bench-reminders-"))
    url = fresh_database(postgres, folder)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = dict(SQLALCHEMY_DATABASE_URL=url, SIGNIN_RATE_LIMIT="100000 per minute", MAIL_BACKEND="outbox",
                    MAIL_OUTBOX=str(folder / "outbox"), PUBLIC_BASE_URL=base)
    app = create_app(TestConfig, **settings)
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0

    stub_conn, child_conn = multiprocessing.Pipe()
    stub = multiprocessing.Process(target=push_service, args=(child_conn,), daemon=True)
    stub.start()
    stub_port = stub_conn.recv()
    keys = BrowserKeys()
    with app.app_context():
        shift = job_clock_shift()
        started = time.perf_counter()
        mix = build(get_session(), endpoint=lambda n: f"http://127.0.0.1:{stub_port}/push/{n}", keys=keys,
                    now=utcnow() + shift)
        built = time.perf_counter() - started
        if postgres:
            get_session().execute(text("ANALYZE"))
            get_session().commit()

    env = {k: v for k, v in os.environ.items() if k not in ("RPH_ENV", "FLASK_APP")}
    env.update({"PYTHONPATH": str(ROOT), "DATABASE_URL": url, "PUBLIC_BASE_URL": base,
                "SIGNIN_RATE_LIMIT": "100000 per minute", "MAIL_BACKEND": "outbox",
                "MAIL_OUTBOX": str(folder / "outbox"), "SMS_BACKEND": "outbox", "SMS_OUTBOX": str(folder / "sms"),
                "PUSH_SERVICE_HOSTS": "127.0.0.1", "BENCH_CLOCK_SHIFT": str(shift.total_seconds())})
    web = subprocess.Popen([str(BIN / "gunicorn"), "-w", "2", "--threads", "4", "-b", f"127.0.0.1:{port}",
                            "--log-level", "warning", "rph_pwa:create_app()"], env=env, cwd=str(ROOT))
    rows = [(f"{name}: {COUNT:,} appointment reminders due at once, {mix['push']:,} by push, {mix['sms']:,} by SMS "
             f"(built in {built:.1f} s{', job clock moved out of the quiet hours' if shift else ''})", "")]
    try:
        _wait_for(base + "/healthz")
        load = Load(base, sign_in(base, app))
        time.sleep(BASELINE_SECONDS)
        idle_end = time.monotonic()
        job = subprocess.Popen([sys.executable, "-m", "bench.reminders", "deliver"], env=env, cwd=str(ROOT),
                               stdout=subprocess.PIPE, text=True)
        assert job.stdout.readline().strip() == "ready"
        burst_start = time.monotonic()
        done = job.stdout.readline().split()
        burst_end = time.monotonic()
        job.wait(60)
        load.stop()
        seconds = float(done[1]) if len(done) == 2 else float("nan")
        stub_conn.send("stats")
        stats = stub_conn.recv()
        sms_files = len(list((folder / "sms").glob("*.json")))
        with app.app_context():
            session = get_session()
            reminders = session.scalar(select(func.count()).select_from(Reminder))
            by_state = dict(session.execute(select(ReminderDelivery.channel, func.count())
                                            .where(ReminderDelivery.state == "sent")
                                            .group_by(ReminderDelivery.channel)).all())
            deliveries = session.scalar(select(func.count()).select_from(ReminderDelivery))
        topic, body = stats["sample"] or (None, None)
        readable = body is not None and keys.decrypt(body).get("token") == topic
        twice = (stats["requests"] - stats["messages"]) + stats["paths_with_two_topics"]
        all_sent = by_state.get("push", 0) + by_state.get("sms", 0) == COUNT
        rows += [
            ("  All delivered and recorded",
             f"{seconds:6.1f} s ({COUNT / seconds:,.0f} a second)   goal: < {GOAL_SECONDS} s, "
             f"{'met' if seconds < GOAL_SECONDS and all_sent else 'NOT met'}"),
            ("  At the endpoints",
             f"push: {stats['messages']:,} messages from {stats['requests']:,} requests; SMS: {sms_files:,} files; "
             f"payload decrypts: {'yes' if readable else 'NO'}"),
            ("  In the database",
             f"{reminders:,} reminders planned, {deliveries:,} deliveries, sent: push {by_state.get('push', 0):,}, "
             f"SMS {by_state.get('sms', 0):,}"),
            ("  Sent twice", f"{twice}   goal: 0, {'met' if twice == 0 else 'NOT met'}"),
            ("  GET /me before the burst", figures(load.between(idle_end - BASELINE_SECONDS, idle_end))),
            ("  GET /me during the burst", figures(load.between(burst_start, burst_end))),
        ]
    finally:
        web.terminate()
        web.wait(30)
        stub_conn.send("close")
        stub.join(10)
        app.extensions["rph_db"].engine.dispose()
    return rows


def main() -> None:
    if sys.argv[1:] == ["deliver"]:
        deliver()
        return
    postgres = os.environ.get("BENCH_POSTGRES_URL")
    rows = []
    for database in (None, postgres) if postgres else (None,):
        rows += measure(database)
    width = max(len(r[0]) for r in rows if r[1])
    print(f"\nrph-pwa reminder burst (gunicorn 2x4 on loopback, {LOAD_CLIENTS} clients asking for GET /me "
          f"every {LOAD_INTERVAL} s, the reminder job in its own process)\n")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}" if value else f"  {label}")
    print()


if __name__ == "__main__":
    main()
