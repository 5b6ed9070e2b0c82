"""The scheduler process killed with SIGKILL at random points of a batch, several times, and
restarted until the batch is done: every reminder arrives exactly once, counted at the test
endpoints (the push service stub, the SMS file outbox, the SMTP server on loopback), a resend
after a crash collapsing by its Web Push Topic, SMS reference or e-mail Message-ID; none lost.

The kill points are random (seed printed; RPH_CRASH_SEED=<seed> repeats the choices): once the
process has started its jobs, half of the runs are killed after a random number of further
messages reached the endpoints (mid-batch, between a send and its record), the other half after a
random time (planning, claiming, the first sends, or idle once all went out).
"""
from __future__ import annotations

import os
import random
import time

import pytest

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
from tests.reminders.stubs import PushService

BATCH = 150
KILLED_RUNS = 5
SCHEMA = "scheduler_crash"


@pytest.fixture(scope="module")
def own_db(tmp_path_factory, app_settings):
    yield from own_database(tmp_path_factory.mktemp("scheduler-crash"), SCHEMA, app_settings)


def _raw_count(batch, service: PushService, sms_outbox, mailbox) -> int:
    """Everything the endpoints have received so far, resends included."""
    files = len(list(sms_outbox.glob("*.json"))) if sms_outbox.is_dir() else 0
    return len(service.requests) + files + sum(len(mailbox.received_to(a)) for a in batch.addresses.values())


def test_a_scheduler_killed_at_random_points_delivers_every_reminder_exactly_once(own_db, push_service,
                                                                                   smtp_server):
    app, url, folder = own_db
    controller, mailbox = smtp_server
    seed = int(os.environ.get("RPH_CRASH_SEED") or random.randrange(1_000_000))
    print(f"RPH_CRASH_SEED={seed}")
    rng = random.Random(seed)
    batch = make_batch(app, push_service, count=BATCH, tag=f"crash{seed}", seed=seed)
    sms_outbox = folder / f"sms-{seed}"
    env = scheduler_env(url, sms_outbox=sms_outbox, smtp_port=controller.port)

    for run in range(KILLED_RUNS):
        before = _raw_count(batch, push_service, sms_outbox, mailbox)
        scheduler = Scheduler(env, folder / f"crash-{seed}-{run}.log")
        scheduler.wait_until_logged("scheduler started")
        started = time.monotonic()
        if run % 2 == 0:  # mid-batch: after 1 to 60 more messages
            target = before + rng.randint(1, 60)
            while (_raw_count(batch, push_service, sms_outbox, mailbox) < target
                   and time.monotonic() < started + 5):
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.02))
        else:  # planning, claiming, the first sends
            time.sleep(rng.uniform(0, 1.0))
        alive = scheduler.process.poll() is None
        scheduler.kill()
        assert alive, scheduler.log()
        print(f"run {run}: killed {time.monotonic() - started:.2f} s after its jobs started, "
              f"{_raw_count(batch, push_service, sms_outbox, mailbox) - before} messages")
        # What a killed mail deliverer took is due again 10 minutes later; let that time pass.
        expire_mail_claims(app)

    final = Scheduler(env, folder / f"crash-{seed}-final.log")
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and final.process.poll() is None:
        if settled(app, batch) and arrived(batch, push_service, sms_outbox=sms_outbox,
                                           mailbox=mailbox).distinct() >= batch.expected_messages:
            break
        time.sleep(0.2)
    time.sleep(2.5)  # longer than a lease, several runs: nothing more goes out once done
    assert final.process.poll() is None, final.log()
    final.stop()

    got = arrived(batch, push_service, sms_outbox=sms_outbox, mailbox=mailbox)
    print(f"{got.push_repeats} pushes sent again and collapsed by Topic; "
          f"{sum(len(m) - len(set(m)) for m in got.mail.values())} e-mails sent again with the same Message-ID")
    assert_exactly_once(app, batch, got)
    acknowledge_pushes(app, batch, got, push_service)
    assert_all_done(app, batch)
