"""The scheduler as a real process (`flask --app rph_pwa scheduler`) against a database of its own,
a batch of residents with reminders due now, and the exactly-once count at the test endpoints.
Shared by test_scheduler_crash.py and test_two_schedulers.py.

Its own database: the scheduler works on everything due, so on the suite's database it would
also send (and change) other tests' reminders and mail. A fresh SQLite file, or on PostgreSQL a
fresh schema in TEST_DATABASE_URL's database.

The batch is of test notifications (kind "test", due at once): they go out in the quiet hours too
(21:00-08:00 Europe/Oslo), so these tests do not depend on the time of day they run at. The
claim, send and record steps are the same for every kind; planning appointment reminders is
tested in-process with a chosen `now` (tests/reminders/test_delivery.py).
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, select, text, update

from rph_pwa import create_app
from rph_pwa.config import TestConfig, normalise_database_url
from rph_pwa.crypto import field_crypto
from rph_pwa.db import get_session, utcnow
from rph_pwa.models import OutboxMessage, Reminder, ReminderDelivery
from rph_pwa.services import reminders
from rph_pwa.services.sms import international, read_outbox
from tests.factories import email, make_resident, make_team
from tests.reminders.stubs import BrowserKeys, PushService

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).parent / "flask"


def own_database_url(tmp_path: Path, schema: str) -> str:
    """A new empty database for the scheduler tests (see the module docstring)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'scheduler.sqlite3'}"
    url = normalise_database_url(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def drop_own_database(url: str, schema: str) -> None:
    if url.startswith("postgresql"):
        engine = create_engine(url.split("?")[0])
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


def migrated_app(url: str, app_settings: dict):
    """An app on `url` with the schema made (for setting up data and reading the outcome).
    DEFERRED: the test's reads while a scheduler works take no write lock on SQLite."""
    app = create_app(TestConfig, **{**app_settings, "SQLALCHEMY_DATABASE_URL": url, "SQLITE_BEGIN": "DEFERRED"})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    return app


def own_database(folder: Path, schema: str, app_settings: dict):
    """(app, url, folder) of a new migrated database for one test module; dropped afterwards.
    For a module fixture: `yield from own_database(...)`."""
    url = own_database_url(folder, schema)
    app = migrated_app(url, app_settings)
    yield app, url, folder
    app.extensions["rph_db"].engine.dispose()
    drop_own_database(url, schema)


@dataclass
class Batch:
    """The residents of one batch by channel, with each resident's one test reminder."""

    #: resident id -> the endpoint names of their devices (push).
    push: dict[int, list[str]] = field(default_factory=dict)
    #: resident id -> phone number (SMS; they have an e-mail address too, for a wrong fallback).
    sms: dict[int, str] = field(default_factory=dict)
    #: resident id -> e-mail address (e-mail only).
    email: dict[int, str] = field(default_factory=dict)
    #: resident id -> their reminder's id.
    reminder_of: dict[int, int] = field(default_factory=dict)
    #: endpoint name -> the browser's keys (to decrypt what it received).
    keys: dict[str, BrowserKeys] = field(default_factory=dict)
    #: Every e-mail address of the batch's residents (push and SMS residents have one too).
    addresses: dict[int, str] = field(default_factory=dict)
    phones: dict[int, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.reminder_of)

    @property
    def expected_messages(self) -> int:
        """Distinct messages at the endpoints when every reminder arrived once."""
        return sum(len(names) for names in self.push.values()) + len(self.sms) + len(self.email)


def make_batch(app, service: PushService, *, count: int, tag: str, seed: int) -> Batch:
    """`count` residents (about half with push, some of them on two devices; a quarter SMS; a
    quarter e-mail), each with a test notification due now."""
    rng = random.Random(seed)
    batch = Batch()
    with app.app_context():
        session = get_session()
        team = make_team(session)
        lookup = field_crypto().lookup_hash
        for i in range(count):
            address = email()
            resident = make_resident(session, team=team, email=address)
            resident.phone = f"+47 4{rng.randrange(10 ** 7):07d}"
            batch.addresses[resident.id], batch.phones[resident.id] = address, resident.phone
            kind = ("push", "push", "sms", "email")[i % 4]
            if kind == "push":
                resident.reminder_channels = "push,sms,email"
                names = [f"{tag}-{i}-{d}" for d in range(2 if i % 12 == 0 else 1)]
                for name in names:
                    keys = batch.keys[name] = BrowserKeys()
                    reminders.subscribe(session, resident=resident, endpoint=service.endpoint(name), p256dh=keys.p256dh,
                                        auth=keys.auth, lookup=lookup, allowed_hosts=("127.0.0.1",))
                batch.push[resident.id] = names
            elif kind == "sms":
                resident.reminder_channels = "sms,email"
                batch.sms[resident.id] = resident.phone
            else:
                resident.reminder_channels = "email"
                resident.phone = None
                batch.email[resident.id] = address
            session.flush()
            batch.reminder_of[resident.id] = reminders.send_test(session, resident=resident).id
        session.commit()
    return batch


class Scheduler:
    """One `flask --app rph_pwa scheduler` process (development config, as `make run` starts it)."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen([str(FLASK), "--app", "rph_pwa", "scheduler"], env=env, cwd=str(ROOT),
                                        stdout=self._log, stderr=subprocess.STDOUT)
        self.started = time.monotonic()

    def wait_until_logged(self, text: str, timeout: float = 60) -> None:
        """Wait for `text` in the process's log (e.g. "scheduler started": its app is made)."""
        deadline = time.monotonic() + timeout
        while text not in self.log():
            assert self.process.poll() is None and time.monotonic() < deadline, self.log()
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a crash or an OOM kill."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def scheduler_env(url: str, *, sms_outbox: Path, smtp_port: int, lease_seconds: int = 2) -> dict[str, str]:
    """The environment of a scheduler process on `url`, sending to the test endpoints."""
    env = {k: v for k, v in os.environ.items() if k not in ("RPH_ENV", "TEST_DATABASE_URL", "FLASK_APP")}
    env.update({
        "PYTHONPATH": str(ROOT), "DATABASE_URL": url, "PUSH_SERVICE_HOSTS": "127.0.0.1",
        "SMS_BACKEND": "outbox", "SMS_OUTBOX": str(sms_outbox),
        "MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_port),
        "REMINDER_SECONDS": "0.5", "SCHEDULER_OUTBOX_SECONDS": "0.5", "REMINDER_LEASE_SECONDS": str(lease_seconds),
        "REMINDER_SENDERS": "2",
    })
    return env


def expire_mail_claims(app) -> int:
    """Let the time of the mail outbox's claims pass (10 minutes in `services.mail`): what a dead
    deliverer took becomes due again, as it would that much later."""
    with app.app_context():
        session = get_session()
        count = session.execute(update(OutboxMessage).where(OutboxMessage.sent_at.is_(None),
                                                            OutboxMessage.gave_up_at.is_(None))
                                .values(next_attempt_at=utcnow())).rowcount
        session.commit()
    return count


@dataclass
class Arrived:
    """What the test endpoints received for a batch."""

    #: resident id -> {endpoint name: set of Topics} (push), from every request the service got.
    topics: dict[int, dict[str, set[str]]]
    #: Push requests that repeated an (endpoint, Topic) already received (collapsed at the service).
    push_repeats: int
    #: phone -> SMS references received (one file per reference: a resend replaces its file).
    sms: dict[str, list[str]]
    #: address -> Message-IDs received (a resend after a crash has the same one).
    mail: dict[str, list[str]]

    def distinct(self) -> int:
        return (sum(len(t) for by_name in self.topics.values() for t in by_name.values())
                + sum(len(set(r)) for r in self.sms.values()) + sum(len(set(m)) for m in self.mail.values()))


def arrived(batch: Batch, service: PushService, *, sms_outbox: Path, mailbox) -> Arrived:
    owner = {f"/push/{name}": (rid, name) for rid, names in batch.push.items() for name in names}
    topics: dict[int, dict[str, set[str]]] = {}
    pairs = Counter()
    with service._lock:  # noqa: SLF001 - the stub's own lock; a read while the scheduler posts
        received = list(service.requests)
    for request in received:
        if request.path in owner:
            rid, name = owner[request.path]
            topic = request.headers.get("topic", "")
            topics.setdefault(rid, {}).setdefault(name, set()).add(topic)
            pairs[(request.path, topic)] += 1
    phones = {p: [] for p in batch.phones.values()}
    numbers = {international(p): p for p in batch.phones.values()}
    for message in read_outbox(str(sms_outbox)):
        if message["to"] in numbers:
            phones[numbers[message["to"]]].append(message["reference"])
    mail = {address: [str(m["Message-ID"]) for m in mailbox.received_to(address)]
            for address in batch.addresses.values()}
    return Arrived(topics=topics, push_repeats=sum(n - 1 for n in pairs.values()), sms=phones, mail=mail)


def deliveries(app, batch: Batch) -> dict[int, list[tuple[str, str, str]]]:
    """reminder id -> its deliveries as (channel, state, token)."""
    with app.app_context():
        rows = get_session().execute(
            select(ReminderDelivery.reminder_id, ReminderDelivery.channel, ReminderDelivery.state,
                   ReminderDelivery.token)
            .where(ReminderDelivery.reminder_id.in_(list(batch.reminder_of.values())))
            .order_by(ReminderDelivery.id)).all()
    result: dict[int, list] = {rid: [] for rid in batch.reminder_of.values()}
    for reminder_id, channel, state, token in rows:
        result[reminder_id].append((channel, state, token))
    return result


def settled(app, batch: Batch) -> bool:
    """Nothing of the batch under way: no claim or retry open, no reminder mail waiting."""
    with app.app_context():
        session = get_session()
        open_deliveries = session.scalar(select(ReminderDelivery.id).where(
            ReminderDelivery.reminder_id.in_(list(batch.reminder_of.values())),
            ReminderDelivery.state.in_(("claimed", "retrying"))).limit(1))
        undelivered = session.scalar(select(Reminder.id).where(
            Reminder.id.in_(list(batch.reminder_of.values())), Reminder.done_at.is_(None),
            ~Reminder.deliveries.any()).limit(1))
        waiting = session.scalar(select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None),
                                                               OutboxMessage.gave_up_at.is_(None)).limit(1))
        session.rollback()
    return open_deliveries is None and undelivered is None and waiting is None


def assert_exactly_once(app, batch: Batch, got: Arrived) -> None:
    """Every reminder of the batch arrived once by its first channel, counted at the endpoints
    (a resend collapsed by Topic, reference or Message-ID counts once), and none by another."""
    delivered = deliveries(app, batch)
    problems = []
    for rid, reminder_id in batch.reminder_of.items():
        rows = delivered[reminder_id]
        channel = "push" if rid in batch.push else "sms" if rid in batch.sms else "email"
        if [(c, s) for c, s, _t in rows] != [(channel, "sent")]:
            problems.append(f"reminder {reminder_id}: deliveries {[(c, s) for c, s, _t in rows]}, wanted one "
                            f"{channel} sent")
            continue
        token = rows[0][2]
        pushed = got.topics.get(rid, {})
        if channel == "push":
            if set(pushed) != set(batch.push[rid]) or any(t != {token} for t in pushed.values()):
                problems.append(f"reminder {reminder_id}: push topics {pushed}, wanted {token} on each device")
        elif pushed:
            problems.append(f"reminder {reminder_id}: pushed although by {channel}")
        sms = got.sms.get(batch.phones[rid], [])
        if sms != ([token] if channel == "sms" else []):
            problems.append(f"reminder {reminder_id}: SMS references {sms} ({channel})")
        mail = set(got.mail.get(batch.addresses[rid], []))
        if len(mail) != (1 if channel == "email" else 0):
            problems.append(f"reminder {reminder_id}: {len(mail)} distinct e-mails ({channel})")
    assert not problems, f"{len(problems)} reminders not delivered exactly once:\n" + "\n".join(problems[:20])


def acknowledge_pushes(app, batch: Batch, got: Arrived, service: PushService) -> None:
    """Each device decrypts the push it kept (the newest per Topic) and its service worker
    acknowledges it with the token in the payload, which is the Topic it came with."""
    with app.app_context():
        session = get_session()
        for rid, names in batch.push.items():
            for name in names:
                (topic,) = got.topics[rid][name]
                payload = batch.keys[name].decrypt(service.messages[(f"/push/{name}", topic)].body)
                assert payload["token"] == payload["tag"] == topic
                reminders.acknowledge(session, token=payload["token"])
        session.commit()


def assert_all_done(app, batch: Batch) -> None:
    with app.app_context():
        outcomes = Counter(get_session().scalars(select(Reminder.outcome).where(
            Reminder.id.in_(list(batch.reminder_of.values())))))
    assert outcomes == {"delivered": batch.size}, outcomes
