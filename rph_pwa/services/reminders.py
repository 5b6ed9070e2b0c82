"""Reminders as residents and staff meet them: the resident's channels and their order, Web Push
subscriptions, the test notification, acknowledging a shown push and answering "Jeg kommer",
messages queued by other services (new feedback, the drop-out routine), and what staff see per
appointment. The scheduler's side (planning and sending each reminder exactly once) is
`services.reminder_delivery`.

When: appointment reminders go out the team's lead time before the start (24 hours by default,
24-48), and optionally again two hours before; never between 21:00 and 08:00 local time — a
reminder that would fall then is moved to 08:00 if the appointment is still ahead
(`due_time`). Messages go out at once, or at 08:00 when queued in the quiet hours.
"""
from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ..codes import ReminderChannel, ReminderKind, values
from ..db import utcnow
from ..localtime import local_zone, to_local
from ..models import Appointment, Episode, PushSubscription, Reminder, ReminderDelivery, User
from . import audit
from .access import clinical_team_ids
from .errors import NotFound

CHANNELS = values(ReminderChannel)
#: Quiet hours, local time: nothing is sent from QUIET_FROM until QUIET_UNTIL.
QUIET_FROM = time(21, 0)
QUIET_UNTIL = time(8, 0)
#: The team's lead time may be set between these (hours, handbook L2666-2686: 1-2 days).
LEAD_HOURS_MIN, LEAD_HOURS_MAX = 24, 48
#: The optional second reminder.
SECOND_BEFORE = timedelta(hours=2)
#: Longest push endpoint URL accepted.
ENDPOINT_MAX = 1000


# --- When ------------------------------------------------------------------------------------------

def in_quiet_hours(moment: datetime) -> bool:
    """Whether `moment` falls in the quiet hours (21:00-08:00 where the team works)."""
    clock = to_local(moment).time()
    return clock >= QUIET_FROM or clock < QUIET_UNTIL


def next_allowed(moment: datetime) -> datetime:
    """`moment`, or the next 08:00 local time when it falls in the quiet hours (UTC)."""
    if not in_quiet_hours(moment):
        return moment
    local = to_local(moment)
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_UNTIL, tzinfo=local_zone()).astimezone(moment.tzinfo or local.tzinfo)


@dataclass(frozen=True)
class Due:
    """A reminder a source says is due now (`reminder_delivery.SOURCES`): an appointment's, or a
    course meeting's for one participant."""

    resident_id: int
    kind: str
    key: str
    due_at: datetime
    link: str
    appointment_id: int | None = None
    starts_at: datetime | None = None
    course_meeting_id: int | None = None


def due_time(starts_at: datetime, before: timedelta) -> datetime | None:
    """When to remind of an appointment at `starts_at`, `before` ahead: moved out of the quiet
    hours to 08:00, and None when that is no longer before the start."""
    due = next_allowed(starts_at - before)
    return due if due < starts_at else None


# --- The resident's channels -------------------------------------------------------------------------

@dataclass(frozen=True)
class ChannelSetup:
    """Which channels this installation can use at all (from the app's config)."""

    push: bool
    sms: bool
    email: bool = True

    @classmethod
    def from_config(cls, config) -> "ChannelSetup":
        return cls(push=bool(config.get("VAPID_PRIVATE_KEY") and config.get("VAPID_PUBLIC_KEY")),
                   sms=bool(config.get("SMS_BACKEND")), email=True)

    def offered(self) -> tuple[str, ...]:
        """The channels a resident may choose, in the default order."""
        return tuple(c for c in CHANNELS if getattr(self, c))


def chosen_order(resident: User) -> list[str]:
    """The resident's channels in order of preference (known values only, no repeats)."""
    seen: list[str] = []
    for part in (resident.reminder_channels or "").split(","):
        if part in CHANNELS and part not in seen:
            seen.append(part)
    return seen


def usable_channels(*, order: list[str], setup: ChannelSetup, has_phone: bool, has_email: bool,
                    push_devices: int) -> list[str]:
    """The channels a reminder may use now, in the resident's order: chosen, offered by this
    installation and set up by the resident (a phone number, an address, a subscribed device)."""
    ready = {"push": push_devices > 0, "sms": has_phone, "email": has_email}
    return [c for c in order if getattr(setup, c) and ready[c]]


@dataclass(frozen=True)
class ReminderSettings:
    """The resident's reminder settings as the settings page shows them."""

    order: list[str]
    second: bool
    offered: tuple[str, ...]
    has_phone: bool
    has_email: bool
    push_devices: int
    usable: list[str]
    #: The latest test notification: its reminder (with deliveries), if any.
    last_test: Reminder | None = None
    hours_before: int = 24


def settings_for(session: Session, *, resident: User, setup: ChannelSetup) -> ReminderSettings:
    """The resident's reminder settings, the devices subscribed and the latest test's outcome."""
    devices = session.scalar(select(func.count()).where(PushSubscription.resident_id == resident.id)) or 0
    last_test = session.scalars(
        select(Reminder).options(selectinload(Reminder.deliveries))
        .where(Reminder.resident_id == resident.id, Reminder.kind == ReminderKind.TEST.value)
        .order_by(Reminder.id.desc()).limit(1)).first()
    order = chosen_order(resident)
    has_phone, has_email = bool(resident.phone), bool(resident.email)
    return ReminderSettings(order=order, second=bool(resident.reminder_second), offered=setup.offered(),
                            has_phone=has_phone, has_email=has_email, push_devices=devices,
                            usable=usable_channels(order=order, setup=setup, has_phone=has_phone,
                                                   has_email=has_email, push_devices=devices),
                            last_test=last_test,
                            hours_before=resident.team.reminder_hours_before if resident.team else 24)


def set_preferences(session: Session, *, resident: User, channels: list[str], second: bool) -> None:
    """Store the resident's channels in order of preference (an empty list: no reminders) and
    whether they want the second reminder. ValueError for an unknown or repeated channel."""
    if any(c not in CHANNELS for c in channels) or len(set(channels)) != len(channels):
        raise ValueError("channels")
    resident.reminder_channels = ",".join(channels)
    resident.reminder_second = bool(second)
    session.flush()


# --- Web Push subscriptions --------------------------------------------------------------------------

def _b64url(value: str, length: int) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("key") from exc
    if len(raw) != length:
        raise ValueError("key")
    return raw


def check_endpoint(endpoint: str, *, allowed_hosts: tuple[str, ...]) -> str:
    """The endpoint when it is an https address at a known push service (or a host in
    `allowed_hosts`, e.g. a test stub on loopback, which may use http); ValueError otherwise, so
    the scheduler never posts to an address a visitor chose."""
    endpoint = (endpoint or "").strip()
    if not endpoint or len(endpoint) > ENDPOINT_MAX or any(c.isspace() for c in endpoint):
        raise ValueError("endpoint")
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    if parts.username or parts.password or not host:
        raise ValueError("endpoint")
    known = any(host == h or host.endswith("." + h) for h in allowed_hosts)
    if not known or (parts.scheme != "https" and not (parts.scheme == "http" and host in ("127.0.0.1", "localhost"))):
        raise ValueError("endpoint")
    return endpoint


def subscribe(session: Session, *, resident: User, endpoint: str, p256dh: str, auth: str, lookup,
              allowed_hosts: tuple[str, ...], now: datetime | None = None) -> PushSubscription:
    """Keep this device's subscription for the resident (one row per endpoint: a device
    subscribed again, or by the next person on a shared phone, is updated, not doubled).
    `lookup` is the keyed hash (FieldCrypto.lookup_hash). ValueError for a bad endpoint or keys."""
    endpoint = check_endpoint(endpoint, allowed_hosts=allowed_hosts)
    key = _b64url(p256dh or "", 65)
    if key[0] != 4:
        raise ValueError("key")
    _b64url(auth or "", 16)
    digest = lookup(f"push:{endpoint}")
    row = session.scalars(select(PushSubscription).where(PushSubscription.endpoint_lookup == digest)).first()
    if row is None:
        row = PushSubscription(resident_id=resident.id, endpoint=endpoint, endpoint_lookup=digest,
                               p256dh=p256dh, auth=auth, created_at=now or utcnow())
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # the same device subscribed in a parallel request
            row = session.scalars(select(PushSubscription).where(PushSubscription.endpoint_lookup == digest)).one()
    row.resident_id, row.p256dh, row.auth = resident.id, p256dh, auth
    session.flush()
    return row


def unsubscribe(session: Session, *, resident: User, endpoint: str, lookup) -> bool:
    """Forget this device's subscription (only the resident's own); whether one was removed."""
    digest = lookup(f"push:{(endpoint or '').strip()}")
    return session.execute(delete(PushSubscription).where(
        PushSubscription.endpoint_lookup == digest, PushSubscription.resident_id == resident.id)).rowcount > 0


# --- Messages and the test ---------------------------------------------------------------------------

def queue_message(session: Session, *, resident_id: int, key: str, link: str = "client.home",
                  appointment_id: int | None = None, now: datetime | None = None) -> Reminder | None:
    """Tell the resident "Du har en ny melding" (nothing more), at once or at 08:00 after the
    quiet hours. `key` names the news (e.g. "feedback:<report id>"): queued once per key, so a
    repeated or parallel call queues nothing more (returns None then)."""
    now = now or utcnow()
    reminder = Reminder(resident_id=resident_id, kind=ReminderKind.MESSAGE.value, key=f"message:{key}"[:120],
                        link=link, appointment_id=appointment_id, due_at=next_allowed(now), created_at=now)
    try:
        with session.begin_nested():
            session.add(reminder)
    except IntegrityError:
        return None
    return reminder


def send_test(session: Session, *, resident: User, now: datetime | None = None) -> Reminder:
    """A test notification to the resident now (quiet hours do not apply: they asked for it),
    through their channels in order, like any reminder."""
    now = now or utcnow()
    reminder = Reminder(resident_id=resident.id, kind=ReminderKind.TEST.value,
                        key=f"test:{resident.id}:{secrets.token_hex(8)}", link="client.reminders",
                        due_at=now, created_at=now)
    session.add(reminder)
    session.flush()
    return reminder


# --- The service worker's answers --------------------------------------------------------------------

def _push_delivery(session: Session, token: str) -> ReminderDelivery | None:
    if not token or len(token) > 64:
        return None
    return session.scalars(select(ReminderDelivery).where(ReminderDelivery.token == token,
                                                          ReminderDelivery.channel == "push")).first()


def acknowledge(session: Session, *, token: str, now: datetime | None = None) -> bool:
    """The service worker showed the push with this token: mark it shown and the reminder
    delivered (once; later acknowledgements change nothing). Whether the token was known."""
    now = now or utcnow()
    delivery = _push_delivery(session, token)
    if delivery is None:
        return False
    session.execute(update(ReminderDelivery).where(ReminderDelivery.id == delivery.id,
                                                   ReminderDelivery.shown_at.is_(None))
                    .values(state="shown", shown_at=now).execution_options(synchronize_session=False))
    session.execute(update(Reminder).where(Reminder.id == delivery.reminder_id, Reminder.done_at.is_(None))
                    .values(done_at=now, outcome="delivered").execution_options(synchronize_session=False))
    return True


def answer_coming(session: Session, *, appointment: Appointment, now: datetime | None = None) -> bool:
    """Record "Jeg kommer" for an upcoming booked appointment; False when it is not upcoming."""
    now = now or utcnow()
    if appointment.status != "booked" or appointment.starts_at <= now:
        return False
    appointment.resident_answer, appointment.resident_answered_at = "coming", now
    session.flush()
    return True


def answer_coming_by_token(session: Session, *, token: str, now: datetime | None = None) -> bool:
    """"Jeg kommer" from a push notification's action (the worker posts the push's token; no
    sign-in needed, and the token can do nothing else). Also acknowledges the push."""
    delivery = _push_delivery(session, token)
    if delivery is None:
        return False
    acknowledge(session, token=token, now=now)
    reminder = session.get(Reminder, delivery.reminder_id)
    if reminder is None or reminder.appointment_id is None:
        return False
    appointment = session.get(Appointment, reminder.appointment_id)
    return appointment is not None and answer_coming(session, appointment=appointment, now=now)


# --- What staff see ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AppointmentReminders:
    """One appointment's reminders with their deliveries, for the therapist."""

    appointment: Appointment
    resident: User
    reminders: list[Reminder] = field(default_factory=list)
    #: The channels that could reach the resident now (empty: the therapist must call).
    usable: list[str] = field(default_factory=list)


def appointment_reminders(session: Session, *, actor: User, appointment_id: int,
                          setup: ChannelSetup) -> AppointmentReminders:
    """Which reminder went out for an appointment, when, by which channel, whether it was shown
    or failed (staff of the episode's team; audited)."""
    row = session.execute(select(Appointment, Episode).join(Episode, Episode.id == Appointment.episode_id)
                          .where(Appointment.id == appointment_id,
                                 Episode.team_id.in_(clinical_team_ids(session, actor)))).first()
    if row is None:
        raise NotFound("appointment")
    appointment, episode = row
    resident = session.get(User, episode.resident_id)
    reminders = session.scalars(select(Reminder).options(selectinload(Reminder.deliveries))
                                .where(Reminder.appointment_id == appointment.id).order_by(Reminder.due_at)).all()
    audit.record(session, actor=actor, subject=resident, action="view_episode", object_type="reminders",
                 object_id=appointment.id, team_id=episode.team_id)
    devices = session.scalar(select(func.count()).where(PushSubscription.resident_id == resident.id)) or 0
    return AppointmentReminders(appointment, resident, list(reminders),
                                usable_channels(order=chosen_order(resident), setup=setup,
                                                has_phone=bool(resident.phone), has_email=bool(resident.email),
                                                push_devices=devices))


#: Residents' push devices, counted (`unreachable`; built once, as the episode page asks every time).
_DEVICES = (select(PushSubscription.resident_id, func.count())
            .where(PushSubscription.resident_id.in_(bindparam("ids", expanding=True)))
            .group_by(PushSubscription.resident_id))
#: Residents' chosen channels and whether they have a phone number and an e-mail address.
_CHANNELS = (select(User.id, User.reminder_channels, User.phone_lookup.is_not(None), User.email_lookup.is_not(None))
             .where(User.id.in_(bindparam("ids", expanding=True))))


def unreachable(session: Session, *, resident_ids: list[int], setup: ChannelSetup) -> set[int]:
    """Of these residents, those no reminder can reach (no usable channel), in two queries."""
    if not resident_ids:
        return set()
    devices = dict(session.execute(_DEVICES, {"ids": resident_ids}).all())
    people = session.execute(_CHANNELS, {"ids": resident_ids}).all()
    return {uid for uid, channels, phone, email in people
            if not usable_channels(order=[c for c in (channels or "").split(",") if c in CHANNELS], setup=setup,
                                   has_phone=phone, has_email=email, push_devices=devices.get(uid, 0))}
