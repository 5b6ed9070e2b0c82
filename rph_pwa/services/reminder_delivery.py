"""The scheduler's side of reminders: plan them from the appointments ahead, and deliver each one
exactly once, by the resident's first working channel, falling back to the next.

Exactly once, step by step (each step its own transaction):

1. **Plan.** Every source of "a time and a resident" (`SOURCES`: appointments today; course
   meetings plug in here) yields the reminders now due; each is inserted under its unique `key`,
   so planning twice, or in two processes, plans once. Missed while the scheduler was down? The
   next run plans them, if the appointment is still ahead.
2. **Claim.** A due reminder with no delivery under way gets a delivery for its next channel,
   inserted as `claimed` with a lease (unique per reminder and channel: two processes cannot both
   claim it). A claim whose lease ran out (its sender died) or a delivery waiting to retry is
   claimed again, with the same token.
3. **Send** outside any transaction (push and SMS in parallel threads). The token is the Web Push
   `Topic` and the SMS client reference, so a message sent again after a crash between sending and
   recording collapses at the push service or provider. E-mail is queued into the mail outbox in the
   claim's own transaction, so it needs no lease at all.
4. **Record** each outcome: sent (for push: until the service worker acknowledges it as shown),
   retrying with a growing delay, or failed — and a failed channel, or a push not acknowledged
   within PUSH_ACK_MINUTES while the appointment is still ahead, makes the next run use the next
   channel. A reminder whose appointment was cancelled, moved or is over is dropped, never sent.

Like `services.mail.deliver_outbox`, `deliver_due` commits (it wants a session with nothing
pending): what was claimed and what was sent must be durable before the next step.
"""
from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import Appointment, CourseMeeting, Episode, PushSubscription, Reminder, ReminderDelivery, Team, User
from .courses import due_course_meetings
from .mail import queue_mail, retry_delay
from .push import PushResult, PushSender
from .reminders import (
    SECOND_BEFORE,
    ChannelSetup,
    Due,
    chosen_order,
    due_time,
    in_quiet_hours,
    next_allowed,
    usable_channels,
)
from .sms import SmsError, SmsSender

log = logging.getLogger(__name__)

#: Tries of one channel before falling back to the next.
MAX_ATTEMPTS = 3
#: Rows per INSERT (SQLite allows at most 32,766 bound values in one statement).
INSERT_CHUNK = 500
#: Done reminders (with their deliveries) are deleted after this long.
KEEP_DONE = timedelta(days=400)


# --- 1. Plan -----------------------------------------------------------------------------------------

def appointment_key(appointment_id: int, kind: str, starts_at: datetime) -> str:
    """The key of an appointment's reminder: a moved appointment gets a new one."""
    return f"appointment:{appointment_id}:{kind}:{int(starts_at.timestamp())}"


def appointment_link(kind: str) -> str:
    """The page an appointment's reminder opens: the check-in for a self-help check-in, else the
    answer page ("Jeg kommer" / "Jeg må endre")."""
    return "client.check_in" if kind == "check_in" else "client.appointment_reply"


def due_appointments(session: Session, *, now: datetime) -> Iterator[Due]:
    """Booked appointments of open episodes whose reminder (the team's lead time before, and two
    hours before for residents who want it) is due and not yet planned for this start time."""
    def not_planned(kind: str):
        return ~exists().where(Reminder.appointment_id == Appointment.id, Reminder.starts_at == Appointment.starts_at,
                               Reminder.kind == kind)

    first_not_planned, soon_not_planned = not_planned("appointment"), not_planned("appointment_soon")
    rows = session.execute(
        select(Appointment.id, Appointment.starts_at, Appointment.kind, Episode.resident_id,
               Team.reminder_hours_before, User.reminder_second, first_not_planned, soon_not_planned)
        .join(Episode, Episode.id == Appointment.episode_id)
        .join(Team, Team.id == Episode.team_id)
        .join(User, User.id == Episode.resident_id)
        .where(Appointment.status == "booked", Appointment.starts_at > now, Appointment.course_meeting_id.is_(None),
               Appointment.starts_at <= now + timedelta(hours=48), Episode.discharged_at.is_(None),
               or_(first_not_planned, and_(User.reminder_second.is_(True), soon_not_planned)))).all()
    for appointment_id, starts_at, kind, resident_id, hours, second, first_open, soon_open in rows:
        soon = due_time(starts_at, SECOND_BEFORE) if second else None
        soon_due = soon is not None and soon <= now
        if soon_due and soon_open:
            yield Due(resident_id, "appointment_soon", appointment_key(appointment_id, "soon", starts_at), soon,
                      appointment_link(kind), appointment_id, starts_at)
        first = due_time(starts_at, timedelta(hours=hours or 24))
        # Not both at once: an appointment booked shortly before gets the nearer reminder only.
        if first_open and first is not None and first <= now and not soon_due:
            yield Due(resident_id, "appointment", appointment_key(appointment_id, "first", starts_at), first,
                      appointment_link(kind), appointment_id, starts_at)


#: Everything with a time and a resident. A source takes (session, now) and yields `Due`s; course
#: meetings add theirs here.
SOURCES: list[Callable[..., Iterator[Due]]] = [due_appointments, due_course_meetings]


def _insert(session: Session, model, rows: list[dict], *, returning=()):
    """INSERT ... ON CONFLICT DO NOTHING, in chunks; the returned rows of those inserted."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    # One statement with bound parameters per chunk (executemany: compiled once and cached; a
    # VALUES list of 500 rows would be compiled anew each time).
    statement = dialect.insert(model.__table__).on_conflict_do_nothing()
    if returning:
        statement = statement.returning(*returning)
    inserted = []
    for start in range(0, len(rows), INSERT_CHUNK):
        result = session.execute(statement, rows[start:start + INSERT_CHUNK])
        if returning:
            inserted.extend(result.all())
    return inserted


def due_rows(session: Session, *, now: datetime) -> list[dict]:
    """The reminder rows every source says are due now and not yet planned."""
    # Planned late (the scheduler was down, or the quiet hours held it): due when it can go out.
    soonest = next_allowed(now)
    return [dict(resident_id=d.resident_id, kind=d.kind, key=d.key, appointment_id=d.appointment_id,
                 course_meeting_id=d.course_meeting_id, starts_at=d.starts_at, link=d.link,
                 due_at=max(d.due_at, soonest), created_at=now)
            for source in SOURCES for d in source(session, now=now)]


def plan(session: Session, *, now: datetime) -> int:
    """Insert every reminder the sources say is due (each key once); how many were new."""
    rows = due_rows(session, now=now)
    return len(_insert(session, Reminder, rows, returning=(Reminder.id,))) if rows else 0


# --- 2. Claim ----------------------------------------------------------------------------------------

@dataclass
class Outgoing:
    """One claimed delivery with everything needed to send it (decrypted only in memory)."""

    delivery_id: int
    token: str
    channel: str
    attempts: int
    reminder_id: int
    kind: str
    link: str
    appointment_id: int | None
    starts_at: datetime | None
    resident_id: int
    locale: str | None
    to: str | None = None
    subscriptions: list[tuple[int, str, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Composed:
    """What one reminder says, by channel (made by `compose`, outside the services)."""

    push: dict
    sms: str
    email_subject: str
    email_body: str


def _still_valid(*, target_id, planned_start, status, starts_at, now: datetime) -> bool:
    """Whether the appointment or course meeting (`target_id`: its id; None for a reminder of
    neither) a reminder was planned for still takes place at the planned time, ahead."""
    if target_id is None:
        return True
    return status == "booked" and starts_at == planned_start and starts_at > now


def _done(session: Session, reminder_ids: list[int], outcome: str, now: datetime) -> None:
    if reminder_ids:
        session.execute(update(Reminder).where(Reminder.id.in_(reminder_ids), Reminder.done_at.is_(None))
                        .values(done_at=now, outcome=outcome).execution_options(synchronize_session=False))


def _active(now: datetime, ack_after: timedelta):
    """A delivery under way: claimed, waiting to retry, or a push sent and not yet overdue."""
    return or_(ReminderDelivery.state.in_(("claimed", "retrying")),
               and_(ReminderDelivery.state == "sent", ReminderDelivery.channel == "push",
                    ReminderDelivery.sent_at > now - ack_after))


#: What a reminder was planned for, as it is now: its status ("booked", "cancelled", ...; None when
#: the appointment is gone), its start, and its id (None for a reminder of nothing, such as a test),
#: for an appointment or a course meeting alike. Read through `_with_target`.
_TARGET_NOW = (
    func.coalesce(Appointment.status, case((CourseMeeting.id.is_(None), None),
                                           (CourseMeeting.cancelled.is_(True), "cancelled"),
                                           else_="booked")),
    func.coalesce(Appointment.starts_at, CourseMeeting.starts_at),
    func.coalesce(Reminder.appointment_id, Reminder.course_meeting_id),
)


def _with_target(query):
    """`query` on Reminder, joined to what the reminder was planned for (see _TARGET_NOW)."""
    return (query.outerjoin(Appointment, Appointment.id == Reminder.appointment_id)
            .outerjoin(CourseMeeting, CourseMeeting.id == Reminder.course_meeting_id))


def _reclaim(session: Session, *, now: datetime, lease: timedelta, limit: int) -> list[int]:
    """Claim again the deliveries whose lease ran out or whose retry is due; their ids."""
    ready = or_(and_(ReminderDelivery.state == "claimed", ReminderDelivery.lease_until < now),
                and_(ReminderDelivery.state == "retrying", ReminderDelivery.next_attempt_at <= now))
    picked = select(ReminderDelivery.id).where(ready).order_by(ReminderDelivery.id).limit(limit) \
        .with_for_update(skip_locked=True)
    return list(session.scalars(
        update(ReminderDelivery).where(ReminderDelivery.id.in_(picked), ready)
        .values(state="claimed", lease_until=now + lease, attempts=ReminderDelivery.attempts + 1)
        .returning(ReminderDelivery.id).execution_options(synchronize_session=False)).all())


def _claim_new(session: Session, *, now: datetime, setup: ChannelSetup, lease: timedelta, ack_after: timedelta,
               limit: int, compose: Callable[[Outgoing], Composed]) -> tuple[list[int], int]:
    """Give each due reminder without a delivery under way its next channel: the claimed ids, and
    how many went by e-mail (queued at once in this transaction, and recorded as sent)."""
    quiet = in_quiet_hours(now)
    open_due = and_(Reminder.done_at.is_(None), Reminder.due_at <= now,
                    ~exists().where(ReminderDelivery.reminder_id == Reminder.id, _active(now, ack_after)))
    if quiet:  # only a test the resident asked for goes out in the quiet hours
        open_due = and_(open_due, Reminder.kind == "test")
    rows = session.execute(
        _with_target(select(Reminder.id, Reminder.kind, Reminder.link, Reminder.appointment_id, Reminder.starts_at,
                            Reminder.resident_id, *_TARGET_NOW))
        .where(open_due).order_by(Reminder.due_at, Reminder.id).limit(limit)).all()
    if not rows:
        return [], 0
    tried: dict[int, dict[str, str]] = {}
    for reminder_id, channel, state in session.execute(
            select(ReminderDelivery.reminder_id, ReminderDelivery.channel, ReminderDelivery.state)
            .where(ReminderDelivery.reminder_id.in_([r[0] for r in rows]))):
        tried.setdefault(reminder_id, {})[channel] = state
    # Cancelled, moved or over: never sent (or, when a push went out unacknowledged, left at that).
    stale = {r[0] for r in rows if not _still_valid(target_id=r[8], planned_start=r[4], status=r[6],
                                                    starts_at=r[7], now=now)}
    _done(session, [i for i in stale if "sent" in tried.get(i, {}).values()], "unconfirmed", now)
    _done(session, [i for i in stale if "sent" not in tried.get(i, {}).values()], "dropped", now)
    rows = [r for r in rows if r[0] not in stale]
    resident_ids = sorted({r[5] for r in rows})
    # Only what choosing a channel needs: loading whole users would decrypt every field of each.
    people = {person.id: person for person in session.execute(
        select(User.id, User.reminder_channels, User.phone_lookup, User.email_lookup, User.locale, User.is_active)
        .where(User.id.in_(resident_ids)))}
    devices = dict(session.execute(select(PushSubscription.resident_id, func.count())
                                   .where(PushSubscription.resident_id.in_(resident_ids))
                                   .group_by(PushSubscription.resident_id)).all())
    claims, emails, outcomes = [], [], {}
    for reminder_id, kind, link, appointment_id, starts_at, resident_id, _status, _start, _planned_for in rows:
        person = people[resident_id]
        if not person.is_active:
            outcomes.setdefault("no_channel", []).append(reminder_id)
            continue
        usable = usable_channels(order=chosen_order(person), setup=setup, has_phone=bool(person.phone_lookup),
                                 has_email=bool(person.email_lookup), push_devices=devices.get(resident_id, 0))
        before = tried.get(reminder_id, {})
        following = next((c for c in usable if c not in before), None)
        if following is None:
            outcome = ("unconfirmed" if "sent" in before.values() else "failed" if before else "no_channel")
            outcomes.setdefault(outcome, []).append(reminder_id)
            continue
        row = dict(reminder_id=reminder_id, channel=following, token=secrets.token_urlsafe(24), attempts=1,
                   created_at=now)
        if following == "email":
            emails.append((row, Outgoing(0, row["token"], "email", 1, reminder_id, kind, link, appointment_id,
                                         starts_at, resident_id, person.locale)))
        else:
            claims.append(dict(row, state="claimed", lease_until=now + lease))
    for outcome, ids in outcomes.items():
        _done(session, ids, outcome, now)
    emailed = 0
    if emails:  # the addresses of those e-mailed now (decrypted only for them)
        addresses = dict(session.execute(select(User.id, User.email)
                                         .where(User.id.in_({o.resident_id for _row, o in emails}))).all())
        for _row, outgoing in emails:
            outgoing.to = addresses.get(outgoing.resident_id)
    for row, outgoing in emails:
        if _insert(session, ReminderDelivery, [dict(row, state="sent", sent_at=now)], returning=(ReminderDelivery.id,)):
            message = compose(outgoing)
            queue_mail(session, to=outgoing.to or "", subject=message.email_subject, body=message.email_body)
            _done(session, [outgoing.reminder_id], "delivered", now)
            emailed += 1
    claimed = _insert(session, ReminderDelivery, claims, returning=(ReminderDelivery.id,)) if claims else []
    return [r[0] for r in claimed], emailed


def _outgoing(session: Session, delivery_ids: list[int]) -> list[Outgoing]:
    """The claimed deliveries with the reminder, the resident's locale and number, and the push
    subscriptions, in three queries."""
    if not delivery_ids:
        return []
    rows = session.execute(
        select(ReminderDelivery.id, ReminderDelivery.token, ReminderDelivery.channel, ReminderDelivery.attempts,
               Reminder.id, Reminder.kind, Reminder.link, Reminder.appointment_id, Reminder.starts_at,
               Reminder.resident_id)
        .join(Reminder, Reminder.id == ReminderDelivery.reminder_id)
        .where(ReminderDelivery.id.in_(delivery_ids))).all()
    resident_ids = sorted({r[-1] for r in rows})
    texting = sorted({r[-1] for r in rows if r[2] == "sms"})
    pushing = sorted({r[-1] for r in rows if r[2] == "push"})
    locales = dict(session.execute(select(User.id, User.locale).where(User.id.in_(resident_ids))).all())
    phones = dict(session.execute(select(User.id, User.phone).where(User.id.in_(texting))).all()) if texting else {}
    subscriptions: dict[int, list] = {}
    if pushing:
        for sub_id, resident_id, endpoint, p256dh, auth in session.execute(
                select(PushSubscription.id, PushSubscription.resident_id, PushSubscription.endpoint,
                       PushSubscription.p256dh, PushSubscription.auth)
                .where(PushSubscription.resident_id.in_(pushing))):
            subscriptions.setdefault(resident_id, []).append((sub_id, endpoint, p256dh, auth))
    return [Outgoing(*row, locale=locales.get(row[-1]), to=phones.get(row[-1]) if row[2] == "sms" else None,
                     subscriptions=subscriptions.get(row[-1], []) if row[2] == "push" else [])
            for row in rows]


# --- 3. Send, 4. Record ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sent:
    """The outcome of one claimed delivery."""

    delivery_id: int
    reminder_id: int
    channel: str
    ok: bool = False
    #: Trying again cannot help (or the tries ran out): fall back to the next channel.
    final: bool = False
    error: str | None = None
    gone_subscriptions: tuple[int, ...] = ()


@dataclass(frozen=True)
class Channels:
    """The senders this installation has (None: that channel is off)."""

    setup: ChannelSetup
    push: PushSender | None = None
    sms: SmsSender | None = None


def _send(outgoing: Outgoing, message: Composed, *, channels: Channels, now: datetime) -> Sent:
    base = dict(delivery_id=outgoing.delivery_id, reminder_id=outgoing.reminder_id, channel=outgoing.channel)
    last_try = outgoing.attempts >= MAX_ATTEMPTS
    if outgoing.channel == "sms":
        if channels.sms is None or not outgoing.to:
            return Sent(**base, final=True, error="Not set up")
        try:
            channels.sms.send(to=outgoing.to, text=message.sms, reference=outgoing.token)
        except SmsError as exc:
            return Sent(**base, final=exc.permanent or last_try, error=exc.kind)
        return Sent(**base, ok=True)
    if channels.push is None or not outgoing.subscriptions:
        return Sent(**base, final=True, error="Not set up")
    payload = json.dumps(message.push, ensure_ascii=False).encode()
    ttl = int((outgoing.starts_at - now).total_seconds()) if outgoing.starts_at else 24 * 3600
    results: list[tuple[int, PushResult]] = [
        (sub_id, channels.push.send(endpoint=endpoint, p256dh=p256dh, auth=auth, payload=payload,
                                    topic=outgoing.token, ttl=min(max(ttl, 60), 24 * 3600)))
        for sub_id, endpoint, p256dh, auth in outgoing.subscriptions]
    gone = tuple(sub_id for sub_id, r in results if r.gone)
    if any(r.ok for _sub, r in results):
        return Sent(**base, ok=True, gone_subscriptions=gone)
    errors = [r.error for _sub, r in results if not r.gone]
    if not errors:  # every subscription is gone
        return Sent(**base, final=True, error="Gone", gone_subscriptions=gone)
    return Sent(**base, final=last_try, error=errors[0], gone_subscriptions=gone)


#: A sent delivery's new state: "sent", unless the service worker acknowledged it while the
#: batch was still being sent (then "shown" stays).
SENT_OR_SHOWN = case((ReminderDelivery.shown_at.is_not(None), "shown"), else_="sent")


def _record(session: Session, outcomes: list[Sent], *, now: datetime, attempts: dict[int, int]) -> None:
    """Record a batch of outcomes: one UPDATE per kind of outcome (sent; failed or retrying, by
    error and delay), not one per delivery."""
    groups: dict[tuple, list[int]] = {}
    for sent in outcomes:
        if sent.ok:  # the service worker may have acknowledged it already: "shown" stays
            key = (("state", SENT_OR_SHOWN), ("sent_at", now), ("lease_until", None), ("last_error", None))
        elif sent.final:
            key = (("state", "failed"), ("failed_at", now), ("lease_until", None), ("last_error", sent.error))
        else:
            key = (("state", "retrying"), ("lease_until", None), ("last_error", sent.error),
                   ("next_attempt_at", now + retry_delay(attempts.get(sent.delivery_id, 1))))
        groups.setdefault(key, []).append(sent.delivery_id)
    for key, ids in groups.items():
        session.execute(update(ReminderDelivery).where(ReminderDelivery.id.in_(ids)).values(**dict(key))
                        .execution_options(synchronize_session=False))
    _done(session, [s.reminder_id for s in outcomes if s.ok and s.channel == "sms"], "delivered", now)
    gone = [sub_id for s in outcomes for sub_id in s.gone_subscriptions]
    if gone:
        session.execute(delete(PushSubscription).where(PushSubscription.id.in_(gone)))
    pushed = [s.delivery_id for s in outcomes if s.ok and s.channel == "push"]
    if pushed:
        session.execute(update(PushSubscription).where(PushSubscription.id.in_(
            select(PushSubscription.id).join(Reminder, Reminder.resident_id == PushSubscription.resident_id)
            .join(ReminderDelivery, ReminderDelivery.reminder_id == Reminder.id)
            .where(ReminderDelivery.id.in_(pushed)))).values(last_success_at=now)
            .execution_options(synchronize_session=False))


@dataclass(frozen=True)
class RunResult:
    """What one `deliver_due` run did."""

    planned: int = 0
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    emailed: int = 0

    @property
    def busy(self) -> bool:
        return bool(self.planned or self.claimed or self.emailed)


def deliver_due(session: Session, *, channels: Channels, compose: Callable[[Outgoing], Composed], now: datetime,
                lease: timedelta, ack_after: timedelta, limit: int = 500, senders: int = 8,
                record_every: int = 200) -> RunResult:
    """One run: plan, claim up to `limit`, send, record (see the module docstring)."""
    # Committed chunk by chunk: on SQLite a writer holds the database's one write lock, and the
    # web app's requests wait for it; a burst is planned in short transactions, not one long one.
    rows, planned = due_rows(session, now=now), 0
    for start in range(0, len(rows), INSERT_CHUNK):
        planned += len(_insert(session, Reminder, rows[start:start + INSERT_CHUNK], returning=(Reminder.id,)))
        session.commit()
    session.commit()
    reclaimed = _reclaim(session, now=now, lease=lease, limit=limit)
    fresh, emailed = _claim_new(session, now=now, setup=channels.setup, lease=lease, ack_after=ack_after,
                                limit=max(limit - len(reclaimed), 0), compose=compose)
    session.commit()
    work = _outgoing(session, reclaimed + fresh)
    # A reclaimed delivery whose appointment or course meeting was cancelled or moved meanwhile is
    # not sent (the fresh claims were checked when claimed, a moment ago).
    again = set(reclaimed)
    stale = [o for o in work if o.delivery_id in again]
    if stale:
        current = {reminder_id: (status, starts_at, target_id) for reminder_id, status, starts_at, target_id
                   in session.execute(_with_target(select(Reminder.id, *_TARGET_NOW))
                                      .where(Reminder.id.in_(sorted({o.reminder_id for o in stale}))))}
        dropped = []
        for o in stale:
            status, starts_at, target_id = current[o.reminder_id]
            if not _still_valid(target_id=target_id, planned_start=o.starts_at, status=status, starts_at=starts_at,
                                now=now):
                dropped.append(o)
        if dropped:
            session.execute(update(ReminderDelivery).where(ReminderDelivery.id.in_([o.delivery_id for o in dropped]))
                            .values(state="failed", failed_at=now, lease_until=None, last_error="Cancelled")
                            .execution_options(synchronize_session=False))
            _done(session, [o.reminder_id for o in dropped], "dropped", now)
            work = [o for o in work if o not in dropped]
    session.commit()
    outcomes: list[Sent] = []
    attempts = {o.delivery_id: o.attempts for o in work}
    # Composed here, not in the sending threads: the texts need the app's translations and URLs.
    messages = [compose(o) for o in work]
    with ThreadPoolExecutor(max_workers=max(senders, 1)) as pool:
        for sent in pool.map(lambda o, m: _send(o, m, channels=channels, now=now), work, messages):
            outcomes.append(sent)
            if len(outcomes) % record_every == 0:
                _record(session, outcomes[-record_every:], now=now, attempts=attempts)
                session.commit()
    rest = len(outcomes) % record_every
    if rest:
        _record(session, outcomes[-rest:], now=now, attempts=attempts)
    session.commit()
    return RunResult(planned=planned, claimed=len(work), sent=sum(s.ok for s in outcomes),
                     retrying=sum(not s.ok and not s.final for s in outcomes),
                     failed=sum(not s.ok and s.final for s in outcomes), emailed=emailed)


def purge_done(session: Session, *, now: datetime, keep: timedelta = KEEP_DONE) -> int:
    """Delete reminders that ended more than `keep` ago (their deliveries go with them)."""
    old = select(Reminder.id).where(Reminder.done_at < now - keep)
    session.execute(delete(ReminderDelivery).where(ReminderDelivery.reminder_id.in_(old)))
    return session.execute(delete(Reminder).where(Reminder.done_at < now - keep)).rowcount
