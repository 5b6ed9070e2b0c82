"""The scheduler process: APScheduler in the foreground, never inside web workers (each forked
worker would run every job). Started by `flask --app rph_pwa scheduler`; `make run` starts it
beside the web server.

On PostgreSQL only one scheduler works at a time: each takes a session-level advisory lock
before starting its jobs and waits while another holds it (the lock goes with the holder's
connection, so a killed scheduler frees it at once). Even without the lock no reminder or mail is
sent twice (their claims are rows with leases), but one worker is simpler to watch.
"""
from __future__ import annotations

import logging
import os
import signal
import time
from datetime import timedelta, timezone

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import text

from ..db import utcnow
from . import jobs

log = logging.getLogger(__name__)

#: The advisory lock's key ("rph-pwa scheduler"), the same for every process of an installation.
LOCK_KEY = 0x7270685F7363
#: Seconds between tries for the lock while another scheduler works.
LOCK_RETRY_SECONDS = 5


def build_scheduler(app: Flask) -> BlockingScheduler:
    """The scheduler with every job: mail and reminders every few seconds, clean-up once a day."""
    scheduler = BlockingScheduler(timezone=timezone.utc)
    now = utcnow()
    # max_instances=1 and coalesce: a slow run is never overlapped by the next one, and runs
    # missed while the process was busy or asleep collapse into one.
    every = dict(replace_existing=True, max_instances=1, coalesce=True, misfire_grace_time=None)
    scheduler.add_job(jobs.deliver_mail, "interval", args=[app], id="deliver_mail",
                      seconds=float(app.config["SCHEDULER_OUTBOX_SECONDS"]), next_run_time=now, **every)
    # Reminders missed while the scheduler was down go out at once on start (if still ahead).
    scheduler.add_job(jobs.send_reminders, "interval", args=[app], id="send_reminders",
                      seconds=float(app.config["REMINDER_SECONDS"]), next_run_time=now, **every)
    scheduler.add_job(jobs.purge_drafts, "interval", args=[app], id="purge_drafts",
                      days=1, next_run_time=now + timedelta(seconds=30), **every)
    scheduler.add_job(jobs.purge_old, "interval", args=[app], id="purge_old",
                      days=1, next_run_time=now + timedelta(seconds=60), **every)
    return scheduler


def lower_priority(app: Flask) -> None:
    """Run the jobs at a lower CPU priority (SCHEDULER_NICE, POSIX nice): a burst of reminders on
    a small server shares the CPU with the web workers, and people waiting for a page come first."""
    niceness = int(app.config.get("SCHEDULER_NICE", 0))
    if niceness > 0 and hasattr(os, "nice"):
        os.nice(niceness)


def hold_scheduler_lock(app: Flask):
    """On PostgreSQL, wait for the advisory lock and return the connection holding it (keep it
    open while working); on SQLite, None (one file, one machine: `make run` starts one)."""
    engine = app.extensions["rph_db"].engine
    if engine.dialect.name != "postgresql":
        return None
    connection = engine.connect()
    waiting = False
    while not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar():
        connection.rollback()
        if not waiting:
            log.info("another scheduler is working; waiting for it to stop")
            waiting = True
        time.sleep(LOCK_RETRY_SECONDS)
    connection.commit()
    return connection


def run_scheduler(app: Flask) -> None:
    """Run the jobs until Ctrl-C or SIGTERM; a job that is running is allowed to finish."""

    def stop(_signum, _frame) -> None:
        raise KeyboardInterrupt

    # A process started in the background by a shell ignores SIGINT; SIGTERM is how it is stopped.
    signal.signal(signal.SIGTERM, stop)
    lock = None
    scheduler = None
    lower_priority(app)
    try:
        lock = hold_scheduler_lock(app)
        scheduler = build_scheduler(app)
        log.info("scheduler started: mail every %s s, reminders every %s s, clean-up daily",
                 app.config["SCHEDULER_OUTBOX_SECONDS"], app.config["REMINDER_SECONDS"])
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=True)
        if lock is not None:
            lock.close()
        log.info("scheduler stopped")
