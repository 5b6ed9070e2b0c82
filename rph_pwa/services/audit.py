"""The audit log: record every staff read of a resident's data; let people browse it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..models import AuditEvent, Role, User
from .access import staff_team_ids


def record(session: Session, *, actor: User, subject: User, action: str, object_type: str,
           object_id: int | None = None, team_id: int | None = None) -> AuditEvent:
    """Write one audit event. Holds no health information, only keys."""
    event = AuditEvent(actor_id=actor.id, subject_id=subject.id, team_id=team_id if team_id is not None else subject.team_id,
                       action=action, object_type=object_type, object_id=object_id)
    session.add(event)
    session.flush()
    return event


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


def events_for_team_lead(session: Session, *, actor: User, limit: int = 200, before_id: int | None = None) -> list[AuditRow]:
    """Audit events for residents of the lead's teams, newest first (admins see all)."""
    if actor.role not in (Role.TEAM_LEAD.value, Role.ADMIN.value):
        raise PermissionError("only team leads browse the audit log")
    query = select(AuditEvent).options(selectinload(AuditEvent.actor)).order_by(AuditEvent.id.desc()).limit(limit)
    if actor.role == Role.TEAM_LEAD.value:
        query = query.where(AuditEvent.team_id.in_(staff_team_ids(session, actor)))
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
