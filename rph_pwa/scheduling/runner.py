"""The scheduler process: APScheduler in the foreground, never inside web workers (each forked
worker would run every job). Started by `flask --app rph_pwa scheduler`; `make run` starts it
beside the web server."""
from __future__ import annotations

import logging
import signal
from datetime import timedelta, timezone

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from ..db import utcnow
from . import jobs

log = logging.getLogger(__name__)


def build_scheduler(app: Flask) -> BlockingScheduler:
    """The scheduler with every job: mail every few seconds, draft clean-up once a day."""
    scheduler = BlockingScheduler(timezone=timezone.utc)
    now = utcnow()
    # max_instances=1 and coalesce: a slow run is never overlapped by the next one, and runs
    # missed while the process was busy or asleep collapse into one.
    scheduler.add_job(jobs.deliver_mail, "interval", args=[app], id="deliver_mail", replace_existing=True,
                      seconds=float(app.config["SCHEDULER_OUTBOX_SECONDS"]), next_run_time=now,
                      max_instances=1, coalesce=True, misfire_grace_time=None)
    scheduler.add_job(jobs.purge_drafts, "interval", args=[app], id="purge_drafts", replace_existing=True,
                      days=1, next_run_time=now + timedelta(seconds=30),
                      max_instances=1, coalesce=True, misfire_grace_time=None)
    return scheduler


def run_scheduler(app: Flask) -> None:
    """Run the jobs until Ctrl-C or SIGTERM; a job that is running is allowed to finish."""
    scheduler = build_scheduler(app)

    def stop(_signum, _frame) -> None:
        raise KeyboardInterrupt

    # A process started in the background by a shell ignores SIGINT; SIGTERM is how it is stopped.
    signal.signal(signal.SIGTERM, stop)
    log.info("scheduler started: mail every %s s, referral drafts daily", app.config["SCHEDULER_OUTBOX_SECONDS"])
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)
        log.info("scheduler stopped")
