"""The drop-out routine (H L2676-2686, docs/domain.md §6): "Brukeren mister tilbud etter tre
mislykkede forsøk på kontakt over tre uker. Et av forsøkene burde være en skriftlig orientering
... med en tidsfrist", and the person is welcome back later. The closure note is still written
(H L4989-4993).

1. A missed appointment (marked `no_show` by staff, `mark_attendance`): the resident gets a
   content-free message inviting them to book again (`reminders.queue_message`), logged as a
   contact attempt by the app (method "app", "left_message") on the referral.
2. When the newest missed appointment of an open episode has nothing booked or attended after
   it, and at least NOTICE_AFTER_ATTEMPTS failed attempts were made since (after the last one
   that reached the person), the first NOTICE_AFTER or longer ago, and no notice was sent since
   the miss: staff send the written notice and record it with a deadline (`record_notice`).
3. When the deadline has passed with nothing booked or attended and nobody reached since the
   notice, staff close the episode as dropped out (`close_dropped_out`): one discharge however
   many press the button, and a content-free "welcome back later" message.

Booking (or attending) anything after the miss stops the routine; a new miss starts it again.
Plain functions on a Session: the views and I dag call them; they flush, never commit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from ..db import utcnow
from ..localtime import local_date
from ..models import Appointment, ContactAttempt, Episode, User
from . import outcomes, reminders
from .access import team_object
from .errors import Conflict

#: Failed contact attempts before the written notice is due ...
NOTICE_AFTER_ATTEMPTS = 3
#: ... spread over at least this long (the first this long ago or more): "over tre uker".
NOTICE_AFTER = timedelta(days=21)
#: The notice's deadline: this many days ahead by default, at most DEADLINE_MAX_DAYS.
DEADLINE_DAYS = 14
DEADLINE_MAX_DAYS = 90
#: Where each message's link opens: booking again, and the resident's home.
BOOK_AGAIN_LINK = "client.appointments"
WELCOME_BACK_LINK = "client.home"

#: Where an episode stands in the routine.
NONE = "none"            # no missed appointment without something booked after it
TRYING = "trying"        # trying to reach the person
NOTICE_DUE = "notice_due"  # send the written notice
WAITING = "waiting"      # notice sent, the deadline is ahead
REACHED = "reached"      # notice sent, and the person was reached since
CLOSE_DUE = "close_due"  # the deadline passed: close as dropped out


@dataclass(frozen=True)
class Attempt:
    """One contact attempt as the routine counts it."""

    at: datetime
    method: str
    outcome: str
    staff_id: int | None = None


@dataclass(frozen=True)
class Routine:
    """Where one episode stands in the drop-out routine."""

    stage: str
    missed_at: datetime | None = None
    #: The attempts since the missed appointment, oldest first.
    attempts: list[Attempt] = field(default_factory=list)
    #: Failed attempts counted towards the notice (after the last one that reached the person).
    failed: int = 0
    first_failed_at: datetime | None = None
    notice_at: datetime | None = None
    deadline: date | None = None


def stage_of(*, missed_at: datetime | None, attempts: list[Attempt], notice_at: datetime | None,
             deadline: date | None, now: datetime) -> Routine:
    """The routine's stage from the loaded facts (pure; the rules live here only).

    `missed_at`: the newest missed appointment with nothing booked or attended after it (None:
    no routine). A notice recorded before that miss belongs to an earlier round and is ignored.
    """
    if missed_at is None:
        return Routine(NONE)
    since = sorted((a for a in attempts if a.at >= missed_at), key=lambda a: a.at)
    if notice_at is not None and notice_at >= missed_at and deadline is not None:
        if any(a.outcome == "reached" and a.at >= notice_at for a in since):
            stage = REACHED
        else:
            stage = CLOSE_DUE if local_date(now) > deadline else WAITING
        return Routine(stage, missed_at, since, notice_at=notice_at, deadline=deadline)
    reached = [a.at for a in since if a.outcome == "reached"]
    failed = [a for a in since if a.outcome != "reached" and (not reached or a.at > max(reached))]
    first = failed[0].at if failed else None
    due = len(failed) >= NOTICE_AFTER_ATTEMPTS and first is not None and first <= now - NOTICE_AFTER
    return Routine(NOTICE_DUE if due else TRYING, missed_at, since, len(failed), first)


# --- Queries -------------------------------------------------------------------------------------

def _nothing_after():
    """No contact of the same episode booked or attended after this (Appointment) one."""
    later = aliased(Appointment)
    return ~(select(later.id).where(later.episode_id == Appointment.episode_id,
                                    later.starts_at > Appointment.starts_at,
                                    later.status.in_(("booked", "attended"))).exists())


def _attempts(session: Session, referral_ids: list[int], since: datetime) -> dict[int, list[Attempt]]:
    """{referral id: attempts since `since`}, in one query."""
    found: dict[int, list[Attempt]] = {}
    if not referral_ids:
        return found
    for referral_id, at, method, outcome, staff_id in session.execute(
            select(ContactAttempt.referral_id, ContactAttempt.at, ContactAttempt.method, ContactAttempt.outcome,
                   ContactAttempt.staff_id)
            .where(ContactAttempt.referral_id.in_(referral_ids), ContactAttempt.at >= since)
            .order_by(ContactAttempt.at, ContactAttempt.id)):
        found.setdefault(referral_id, []).append(Attempt(at, method, outcome, staff_id))
    return found


#: When an episode's last missed appointment was, if nothing is booked or attended after it (built
#: once: the episode page asks every time it is opened).
_LAST_MISSED = (select(func.max(Appointment.starts_at))
                .where(Appointment.episode_id == bindparam("episode_id"), Appointment.status == "no_show",
                       _nothing_after()))


def routine_for(session: Session, *, episode: Episode, now: datetime | None = None) -> Routine:
    """Where an (already access-checked) episode stands, in two queries."""
    now = now or utcnow()
    if episode.discharged_at is not None:
        return Routine(NONE)
    missed_at = session.scalar(_LAST_MISSED, {"episode_id": episode.id})
    if missed_at is None:
        return Routine(NONE)
    attempts = _attempts(session, [episode.referral_id], missed_at).get(episode.referral_id, [])
    return stage_of(missed_at=missed_at, attempts=attempts, notice_at=episode.dropout_notice_at,
                    deadline=episode.dropout_deadline, now=now)


@dataclass(frozen=True)
class DropoutTask:
    """An episode whose routine needs a step from staff (for I dag)."""

    episode_id: int
    resident_id: int
    team_id: int
    name: str
    routine: Routine


def due_tasks(session: Session, *, actor: User, team_ids: list[int], now: datetime
              ) -> tuple[list[DropoutTask], list[DropoutTask]]:
    """The open episodes that are mine (on my caseload, or the missed appointment was with me)
    whose notice is due, and those to close as dropped out, oldest miss first. Two queries,
    whatever the number of episodes (the candidates are those I dag lists as missed already)."""
    rows = session.execute(
        select(Episode.id, Episode.resident_id, Episode.team_id, Episode.referral_id, User.display_name,
               Episode.dropout_notice_at, Episode.dropout_deadline, func.max(Appointment.starts_at))
        .join(Episode, Episode.id == Appointment.episode_id)
        .join(User, User.id == Episode.resident_id)
        .where(Appointment.status == "no_show", Episode.team_id.in_(team_ids), Episode.discharged_at.is_(None),
               or_(Episode.responsible_id == actor.id, Appointment.staff_id == actor.id), _nothing_after())
        .group_by(Episode.id, Episode.resident_id, Episode.team_id, Episode.referral_id, User.display_name,
                  Episode.dropout_notice_at, Episode.dropout_deadline)
        .order_by(func.max(Appointment.starts_at), Episode.id)).all()
    if not rows:
        return [], []
    attempts = _attempts(session, [r[3] for r in rows], min(r[-1] for r in rows))
    notice, close = [], []
    for episode_id, resident_id, team_id, referral_id, name, notice_at, deadline, missed_at in rows:
        routine = stage_of(missed_at=missed_at, attempts=attempts.get(referral_id, []), notice_at=notice_at,
                           deadline=deadline, now=now)
        task = DropoutTask(episode_id, resident_id, team_id, name or f"#{resident_id}", routine)
        if routine.stage == NOTICE_DUE:
            notice.append(task)
        elif routine.stage == CLOSE_DUE:
            close.append(task)
    return notice, close


# --- Steps ---------------------------------------------------------------------------------------

def mark_attendance(session: Session, *, actor: User, appointment_id: int, status: str,
                    now: datetime | None = None) -> Appointment:
    """`outcomes.record_attendance`; a contact newly marked not attended starts the routine: the
    resident is invited to book again (a content-free message, once per appointment) and the
    message is logged as a contact attempt by the app."""
    before = session.scalar(select(Appointment.status).where(Appointment.id == appointment_id))
    appointment = outcomes.record_attendance(session, actor=actor, appointment_id=appointment_id, status=status)
    if status == "no_show" and before != "no_show":
        after_no_show(session, actor=actor, appointment=appointment, now=now)
    return appointment


def after_no_show(session: Session, *, actor: User, appointment: Appointment,
                  now: datetime | None = None) -> ContactAttempt | None:
    """Invite the resident to book again after a missed appointment and log it on the referral
    (None when the message was queued before: the appointment was marked missed already)."""
    now = now or utcnow()
    episode = session.get(Episode, appointment.episode_id)
    if episode is None or episode.discharged_at is not None:
        return None
    if reminders.queue_message(session, resident_id=episode.resident_id, key=f"no_show:{appointment.id}",
                               link=BOOK_AGAIN_LINK, now=now) is None:
        return None
    attempt = ContactAttempt(referral_id=episode.referral_id, staff_id=actor.id, at=now, method="app",
                             outcome="left_message")
    session.add(attempt)
    session.flush()
    return attempt


def check_deadline(deadline: date, *, today: date) -> date:
    """The notice's deadline: after today and at most DEADLINE_MAX_DAYS ahead (ValueError)."""
    if not today < deadline <= today + timedelta(days=DEADLINE_MAX_DAYS):
        raise ValueError("deadline")
    return deadline


def record_notice(session: Session, *, actor: User, episode_id: int, deadline: date,
                  now: datetime | None = None) -> Episode:
    """Staff sent the written notice with `deadline`: recorded on the episode, and logged as a
    contact attempt by letter. ValueError for a deadline not after today or too far ahead;
    Conflict when the episode has ended, has nothing missed to follow up, or a notice stands."""
    now = now or utcnow()
    episode = team_object(session, actor, Episode, episode_id, what="episode")
    check_deadline(deadline, today=local_date(now))
    routine = routine_for(session, episode=episode, now=now)
    if routine.stage not in (TRYING, NOTICE_DUE):
        raise Conflict("no notice to send")
    done = session.execute(update(Episode).where(Episode.id == episode.id, Episode.discharged_at.is_(None),
                                                 or_(Episode.dropout_notice_at.is_(None),
                                                     Episode.dropout_notice_at < routine.missed_at))
                           .values(dropout_notice_at=now, dropout_deadline=deadline)
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:  # recorded by someone else at the same moment
        raise Conflict("notice recorded")
    session.add(ContactAttempt(referral_id=episode.referral_id, staff_id=actor.id, at=now, method="letter",
                               outcome="left_message"))
    session.flush()
    session.refresh(episode)
    return episode


def close_dropped_out(session: Session, *, actor: User, episode_id: int, now: datetime | None = None) -> Episode:
    """Close the episode as dropped out once the notice's deadline has passed with no answer
    (`outcomes.discharge` with end reason "dropped_out"), and tell the resident they are welcome
    back (a content-free message). Conflict when it is not due; of two parallel closes one
    discharges and the other gets Conflict (a conditional UPDATE decides)."""
    now = now or utcnow()
    episode = team_object(session, actor, Episode, episode_id, what="episode")
    if routine_for(session, episode=episode, now=now).stage != CLOSE_DUE:
        raise Conflict("not due")
    done = session.execute(update(Episode).where(Episode.id == episode.id, Episode.discharged_at.is_(None))
                           .values(discharged_at=now).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict("already closed")
    session.refresh(episode)
    outcomes.discharge(session, actor=actor, episode_id=episode.id, work_status_end=episode.work_status_end,
                       sick_leave_end=episode.sick_leave_end, end_reason="dropped_out", now=now)
    reminders.queue_message(session, resident_id=episode.resident_id, key=f"dropout_closed:{episode.id}",
                            link=WELCOME_BACK_LINK, now=now)
    return episode
