"""The audit log: record every staff read of a resident's data; let people browse it.

Who sees what: a team lead sees the events of their teams' residents (who opened whose record, and
what); a resident sees who opened their own record. An admin manages accounts, not care, so an admin
sees no resident at all: per staff member, how many reads of how many residents (to spot an account
that reads far more than its work needs), and the staff sign-ins. Neither names a resident nor the
kind of record read, so an admin cannot tell who has an urgent flag or who is in care.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import distinct, func, insert, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from ..models import AuditEvent, LoginSession, Role, User
from .access import has_role, staff_only, staff_team_ids


def record(session: Session, *, actor: User, subject: User, action: str, object_type: str,
           object_id: int | None = None, team_id: int | None = None) -> AuditEvent:
    """Write one audit event. Holds no health information, only keys."""
    event = AuditEvent(actor_id=actor.id, subject_id=subject.id,
                       team_id=team_id if team_id is not None else subject.team_id,
                       action=action, object_type=object_type, object_id=object_id)
    session.add(event)
    session.flush()
    return event


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


@dataclass(frozen=True)
class AuditRow:
    """One line of an audit listing, ready for display."""

    at: datetime
    actor_name: str
    actor_role: str
    subject_label: str
    action: str
    object_type: str


def _rows(events: list[AuditEvent]) -> list[AuditRow]:
    return [
        AuditRow(
            at=e.at,
            actor_name=(e.actor.display_name or e.actor.username or "?") if e.actor else "?",
            actor_role=e.actor.role if e.actor else "",
            subject_label=f"#{e.subject_id}" if e.subject_id else "",
            action=e.action,
            object_type=e.object_type,
        )
        for e in events
    ]


def events_for_team_lead(session: Session, *, actor: User, limit: int = 200,
                         before_id: int | None = None) -> list[AuditRow]:
    """Audit events for residents of the lead's teams, newest first (admins: see `staff_activity`)."""
    if not has_role(actor, Role.TEAM_LEAD):
        raise PermissionError("only team leads browse the audit log")
    query = (select(AuditEvent).options(selectinload(AuditEvent.actor))
             .where(AuditEvent.team_id.in_(staff_team_ids(session, actor)))
             .order_by(AuditEvent.id.desc()).limit(limit))
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return _rows(list(session.scalars(query)))


def events_about(session: Session, *, resident: User, limit: int = 200) -> list[AuditRow]:
    """Who has opened this resident's record, newest first (for the resident)."""
    query = (
        select(AuditEvent)
        .options(selectinload(AuditEvent.actor))
        .where(AuditEvent.subject_id == resident.id)
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
    """Per staff member, audited reads and distinct residents since `since`, most reads first (admins)."""
    if not has_role(actor, Role.ADMIN):
        raise PermissionError("only admins see the staff overview")
    rows = session.execute(
        select(User, func.count(AuditEvent.id), func.count(distinct(AuditEvent.subject_id)), func.max(AuditEvent.at))
        .join(AuditEvent, AuditEvent.actor_id == User.id)
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
