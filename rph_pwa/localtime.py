"""Local time, in one place: the team's zone (BABEL_DEFAULT_TIMEZONE, Europe/Oslo by default).

Stored times are UTC (`db.utcnow`). Services use these helpers for calendar questions ("today",
"this year", "the day this happened"); pages show times with Flask-Babel's `format_datetime` /
`format_date`, which use the same configured zone. No Flask here, so services can import it.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Europe/Oslo"

_zone = ZoneInfo(DEFAULT_ZONE)


def init_app(app) -> None:
    """Take the zone from the app's BABEL_DEFAULT_TIMEZONE."""
    global _zone
    _zone = ZoneInfo(app.config.get("BABEL_DEFAULT_TIMEZONE") or DEFAULT_ZONE)


def local_zone() -> ZoneInfo:
    """The configured local zone."""
    return _zone


def to_local(moment: datetime) -> datetime:
    """An aware time in the local zone (naive times are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(_zone)


def local_now() -> datetime:
    """Now, in the local zone."""
    return datetime.now(_zone)


def local_today() -> date:
    """Today's date where the team works."""
    return local_now().date()


def local_date(moment: datetime) -> date:
    """The local calendar day of an aware (or UTC-naive) time."""
    return to_local(moment).date()


def local_to_utc(day: date, at: time) -> datetime:
    """A date and wall-clock time in the local zone (as staff type them) as an aware UTC time."""
    return datetime.combine(day, at, tzinfo=_zone).astimezone(timezone.utc)


def start_of_local_day(day: date) -> datetime:
    """Local midnight at the start of `day`, as an aware UTC time (for queries on stored times)."""
    return datetime.combine(day, time.min, tzinfo=_zone).astimezone(timezone.utc)


def add_working_days(day: date, days: int) -> date:
    """The date `days` working days (Monday to Friday) after `day`, or before it when `days` is
    negative. Public holidays are not counted out, so a promise "within N working days" errs early."""
    step = timedelta(days=1 if days >= 0 else -1)
    left = abs(days)
    while left > 0:
        day += step
        if day.weekday() < 5:
            left -= 1
    return day
