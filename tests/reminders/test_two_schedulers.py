"""Two schedulers at once never send a reminder twice: two scheduler processes against PostgreSQL
(only one works, holding the advisory lock; when it is killed mid-batch the other takes over),
and two `deliver_due` runs in parallel threads on any database (their claims are rows)."""
from __future__ import annotations

import os
import random
import threading
import time
from datetime import timedelta

import pytest

from rph_pwa import create_app
from rph_pwa.config import TestConfig
from rph_pwa.db import get_session, utcnow
from rph_pwa.reminder_texts import compose
from rph_pwa.scheduling.runner import LOCK_RETRY_SECONDS
from rph_pwa.services.mail import MailSettings, deliver_outbox
from rph_pwa.services.push import PushSender
from rph_pwa.services.reminder_delivery import Channels, deliver_due
from rph_pwa.services.reminders import ChannelSetup
from rph_pwa.services.sms import FileOutbox
from tests.reminders.scheduler_process import (
    Scheduler,
    acknowledge_pushes,
    arrived,
    assert_all_done,
    assert_exactly_once,
    expire_mail_claims,
    make_batch,
    own_database,
    scheduler_env,
    settled,
)

BATCH = 150
SCHEMA = "two_schedulers"
WAITING = "another scheduler is working"


@pytest.fixture(scope="module")
def own_db(tmp_path_factory, app_settings):
    yield from own_database(tmp_path_factory.mktemp("two-schedulers"), SCHEMA, app_settings)


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                    reason="the scheduler's advisory lock is PostgreSQL's (set TEST_DATABASE_URL); on SQLite "
                           "one scheduler runs per file, and parallel runs are covered by the threads test below")
def test_two_scheduler_processes_on_postgresql_work_one_at_a_time_and_send_each_reminder_once(
        own_db, push_service, smtp_server):
    app, url, folder = own_db
    controller, mailbox = smtp_server
    seed = int(os.environ.get("RPH_CRASH_SEED") or random.randrange(1_000_000))
    print(f"RPH_CRASH_SEED={seed}")
    rng = random.Random(seed)
    batch = make_batch(app, push_service, count=BATCH, tag=f"two{seed}", seed=seed)
    sms_outbox = folder / f"sms-{seed}"
    env = scheduler_env(url, sms_outbox=sms_outbox, smtp_port=controller.port)

    first = Scheduler(env, folder / f"two-{seed}-a.log")
    second = Scheduler(env, folder / f"two-{seed}-b.log")
    try:
        deadline = time.monotonic() + 60
        while not ("scheduler started" in first.log() + second.log() and WAITING in first.log() + second.log()):
            assert time.monotonic() < deadline, first.log() + second.log()
            assert first.process.poll() is None and second.process.poll() is None, first.log() + second.log()
            time.sleep(0.05)
        working, waiting = (first, second) if "scheduler started" in first.log() else (second, first)
        assert WAITING not in working.log() and "scheduler started" not in waiting.log()

        # The one working dies mid-batch: its lock goes with its connection, the other takes over.
        time.sleep(rng.uniform(0, 1.5))
        working.kill()
        # The mail it took is due again 10 minutes later (services.mail); let that time pass.
        expire_mail_claims(app)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and waiting.process.poll() is None:
            if settled(app, batch) and arrived(batch, push_service, sms_outbox=sms_outbox,
                                               mailbox=mailbox).distinct() >= batch.expected_messages:
                break
            time.sleep(0.2)
        # The batch may be done before the kill; the other still takes the lock at its next try
        # (every LOCK_RETRY_SECONDS), which can come after the batch settled.
        deadline = time.monotonic() + LOCK_RETRY_SECONDS + 5
        while ("scheduler started" not in waiting.log() and time.monotonic() < deadline
               and waiting.process.poll() is None):
            time.sleep(0.1)
        time.sleep(2.5)  # longer than a lease: nothing more goes out once done
        assert "scheduler started" in waiting.log(), waiting.log()
        assert waiting.process.poll() is None, waiting.log()
    finally:
        first.stop()
        second.stop()

    got = arrived(batch, push_service, sms_outbox=sms_outbox, mailbox=mailbox)
    assert_exactly_once(app, batch, got)
    acknowledge_pushes(app, batch, got, push_service)
    assert_all_done(app, batch)


def test_two_deliver_due_runs_in_parallel_threads_send_each_reminder_once(own_db, push_service, mailbox,
                                                                          app_settings):
    app, url, folder = own_db
    batch = make_batch(app, push_service, count=60, tag="threads", seed=1)
    sms_outbox = folder / "sms-threads"
    # As the scheduler runs them (SQLite: IMMEDIATE transactions, queueing for the write lock).
    worker = create_app(TestConfig, **{**app_settings, "SQLALCHEMY_DATABASE_URL": url})
    channels = Channels(setup=ChannelSetup(push=True, sms=True),
                        push=PushSender(private_key=worker.config["VAPID_PRIVATE_KEY"],
                                        subject=worker.config["VAPID_SUBJECT"]),
                        sms=FileOutbox(str(sms_outbox), "Avtaler"))
    start = threading.Barrier(2)
    results, errors = [], []

    def run() -> None:
        try:
            with worker.app_context():
                start.wait(10)
                results.append(deliver_due(get_session(), channels=channels, compose=compose, now=utcnow(),
                                           lease=timedelta(minutes=2), ack_after=timedelta(minutes=30), senders=4))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with worker.app_context():
        while deliver_outbox(get_session(), MailSettings.from_config(worker.config), now=utcnow(), limit=200).sent:
            pass
    worker.extensions["rph_db"].engine.dispose()
    # Both ran; between them each reminder was claimed once.
    assert sum(r.claimed + r.emailed for r in results) == batch.size, results
    assert settled(app, batch)

    got = arrived(batch, push_service, sms_outbox=sms_outbox, mailbox=mailbox)
    assert got.push_repeats == 0
    assert_exactly_once(app, batch, got)
    acknowledge_pushes(app, batch, got, push_service)
    assert_all_done(app, batch)
