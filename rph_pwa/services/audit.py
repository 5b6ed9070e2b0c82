"""The audit log: record every staff read of a resident's data; let people browse it.

Who sees what: a team lead sees the events of their teams' residents (who opened whose record, and
what); a resident sees who opened their own record. An admin manages accounts, not care, so an admin
sees no resident at all: per staff member, how many reads of how many residents (to spot an account
that reads far more than its work needs), and the staff sign-ins. Neither names a resident nor the
kind of record read, so an admin cannot tell who has an urgent flag or who is in care.

A list page is audited either with one event per resident shown (`record_shown`) or, for a page
that shows many rows at once (the triage queue), with one event per page view that names every
row shown in `AuditShown` (`record_page`); both are found by the team lead and by each resident.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import distinct, func, insert, or_, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from ..models import AuditEvent, AuditShown, LoginSession, Role, User
from .access import has_role, staff_only, staff_team_ids


def record(session: Session, *, actor: User, subject: User, action: str, object_type: str,
           object_id: int | None = None, team_id: int | None = None) -> None:
    """Write one audit event. Holds no health information, only keys. An insert statement, not an
    object flushed: nothing reads the event back, and a flush costs more than the insert."""
    session.execute(insert(AuditEvent), [{
        "actor_id": actor.id, "subject_id": subject.id, "team_id": team_id if team_id is not None else subject.team_id,
        "action": action, "object_type": object_type, "object_id": object_id}])


def record_shown(session: Session, *, actor: User, shown: Iterable[tuple[int, int | None, int | None]],
                 action: str, object_type: str, now: datetime) -> None:
    """One event per resident a list page shows, in one insert: `shown` holds (resident id, team
    id, object id) triples; repeats of a resident and team are written once."""
    rows, seen, actor_id = [], set(), actor.id  # actor may be a proxy (current_user): read its id once
    for subject_id, team_id, object_id in shown:
        if (subject_id, team_id) in seen:
            continue
        seen.add((subject_id, team_id))
        rows.append({"actor_id": actor_id, "subject_id": subject_id, "team_id": team_id, "action": action,
                     "object_type": object_type, "object_id": object_id, "at": now})
    if rows:
        session.connection().execute(insert(AuditEvent.__table__), rows)  # Core: no ORM bookkeeping per row


def record_page(session: Session, *, actor: User, shown: Iterable[tuple[int, int, int]], action: str,
                object_type: str, now: datetime) -> None:
    """One event for a page view that showed many rows: `shown` holds (resident id, team id,
    object id) triples in the order shown; the event names each of them (`AuditShown`). One event
    per team shown (one for most staff), so each team lead sees exactly their team's part. A page
    that showed nothing writes nothing."""
    by_team: dict[int, list[tuple[int, int]]] = {}
    for subject_id, team_id, object_id in shown:
        by_team.setdefault(team_id, []).append((subject_id, object_id))
    connection, actor_id = session.connection(), actor.id  # Core: no ORM bookkeeping per row
    for team_id, rows in by_team.items():
        event_id = connection.execute(insert(AuditEvent.__table__).values(
            actor_id=actor_id, subject_id=None, team_id=team_id, action=action, object_type=object_type,
            at=now)).inserted_primary_key[0]
        connection.execute(insert(AuditShown.__table__), [
            {"event_id": event_id, "subject_id": subject_id, "object_id": object_id} for subject_id, object_id in rows])


@dataclass(frozen=True)
class AuditRow:
    """One line of an audit listing, ready for display."""

    at: datetime
    actor_name: str
    actor_role: str
    subject_label: str
    action: str
    object_type: str
    #: The residents a page view showed ("#id" each, in the order shown), for an event of `record_page`.
    shown: tuple[str, ...] = ()


def _rows(events: list[AuditEvent], *, with_shown: bool = False) -> list[AuditRow]:
    return [
        AuditRow(
            at=e.at,
            actor_name=(e.actor.display_name or e.actor.username or "?") if e.actor else "?",
            actor_role=e.actor.role if e.actor else "",
            subject_label=f"#{e.subject_id}" if e.subject_id else "",
            action=e.action,
            object_type=e.object_type,
            shown=tuple(f"#{s.subject_id}" if s.subject_id else "?" for s in e.shown) if with_shown else (),
        )
        for e in events
    ]


def events_for_team_lead(session: Session, *, actor: User, limit: int = 200,
                         before_id: int | None = None) -> list[AuditRow]:
    """Audit events for residents of the lead's teams, newest first (admins: see `staff_activity`)."""
    if not has_role(actor, Role.TEAM_LEAD):
        raise PermissionError("only team leads browse the audit log")
    query = (select(AuditEvent).options(selectinload(AuditEvent.actor), selectinload(AuditEvent.shown))
             .where(AuditEvent.team_id.in_(staff_team_ids(session, actor)))
             .order_by(AuditEvent.id.desc()).limit(limit))
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return _rows(list(session.scalars(query)), with_shown=True)


def events_about(session: Session, *, resident: User, limit: int = 200) -> list[AuditRow]:
    """Who has opened this resident's record, newest first (for the resident): their own events
    and the page views that showed them (never who else a page showed)."""
    pages = select(AuditShown.event_id).where(AuditShown.subject_id == resident.id)
    query = (
        select(AuditEvent)
        .options(selectinload(AuditEvent.actor))
        .where(or_(AuditEvent.subject_id == resident.id, AuditEvent.id.in_(pages)))
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return _rows(list(session.scalars(query)))


@dataclass(frozen=True)
class StaffActivity:
    """How much one staff member read in a period: counts only, no resident and no kind of record."""

    staff_id: int
    name: str
    role: str
    reads: int
    residents: int
    last_at: datetime


def staff_activity(session: Session, *, actor: User, since: datetime) -> list[StaffActivity]:
    """Per staff member, audited reads (a page view is one) and distinct residents (those a page
    showed included) since `since`, most reads first (admins)."""
    if not has_role(actor, Role.ADMIN):
        raise PermissionError("only admins see the staff overview")
    rows = session.execute(
        select(User, func.count(distinct(AuditEvent.id)),
               func.count(distinct(func.coalesce(AuditShown.subject_id, AuditEvent.subject_id))),
               func.max(AuditEvent.at))
        .join(AuditEvent, AuditEvent.actor_id == User.id)
        .outerjoin(AuditShown, AuditShown.event_id == AuditEvent.id)  # a page view's residents
        .where(AuditEvent.at >= since)
        .group_by(User.id)
    ).all()
    found = [StaffActivity(staff_id=user.id, name=user.display_name or user.username or "?", role=user.role,
                           reads=reads, residents=residents, last_at=last_at)
             for user, reads, residents, last_at in rows]
    return sorted(found, key=lambda a: (-a.reads, a.name))


@dataclass(frozen=True)
class StaffSignIn:
    """One staff sign-in (residents' sign-ins are not shown: they would name residents)."""

    name: str
    role: str
    method: str
    at: datetime
    ended_at: datetime | None


def staff_sign_ins(session: Session, *, actor: User, limit: int = 100) -> list[StaffSignIn]:
    """The newest staff sign-ins, newest first (admins)."""
    if not has_role(actor, Role.ADMIN):
        raise PermissionError("only admins see the staff sign-ins")
    sessions = session.scalars(
        select(LoginSession).join(LoginSession.user).options(contains_eager(LoginSession.user))
        .where(staff_only())
        .order_by(LoginSession.id.desc()).limit(limit)
    )
    return [StaffSignIn(name=s.user.display_name or s.user.username or "?", role=s.user.role, method=s.method,
                        at=s.created_at, ended_at=s.revoked_at) for s in sessions]
