"""Residents: the resident's own profile, and staff views of the residents they serve."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..models import Municipality, Team, User, team_municipality
from . import audit
from .access import resident_for_staff, residents_only, served_by, staff_team_ids


@dataclass(frozen=True)
class ProfileInput:
    """What a resident may change about themselves."""

    display_name: str | None
    phone: str | None
    contact_note: str | None


def update_profile(session: Session, *, resident: User, data: ProfileInput) -> User:
    """Save the resident's own contact details (encrypted at rest)."""
    resident.display_name = data.display_name or None
    resident.phone = data.phone or None
    resident.contact_note = data.contact_note or None
    session.flush()
    return resident


def open_resident(session: Session, *, actor: User, resident_id: int) -> User:
    """A staff member opens a resident's record: access-checked, then written to the audit log."""
    resident = resident_for_staff(session, actor=actor, resident_id=resident_id)
    audit.record(session, actor=actor, subject=resident, action="view_resident", object_type="resident_profile",
                 object_id=resident.id)
    return resident


@dataclass(frozen=True)
class ResidentListItem:
    """One resident in a staff list: enough to pick the right person, no health information."""

    id: int
    label: str
    municipality: str
    team: str


def residents_for_staff(session: Session, *, actor: User) -> list[ResidentListItem]:
    """Residents served by the actor's teams (their own team, or an open episode), newest first.

    Names are not decrypted here on purpose: opening a record (audited) shows them.
    """
    team_ids = staff_team_ids(session, actor)
    rows = session.scalars(
        select(User)
        .options(joinedload(User.home_municipality), joinedload(User.team))
        .where(residents_only(), served_by(team_ids))
        .order_by(User.id.desc())
        .limit(500)
    )
    return [
        ResidentListItem(id=u.id, label=f"#{u.id}",
                         municipality=u.home_municipality.name if u.home_municipality else "",
                         team=u.team.name if u.team else "")
        for u in rows
    ]


@dataclass(frozen=True)
class TeamSummary:
    """Public facts about the team serving a municipality."""

    name: str
    phone: str | None
    response_days: int
    municipalities: list[str]


def team_summary(session: Session, *, municipality_id: int) -> TeamSummary | None:
    """The team serving a municipality, with every municipality it serves; None if no team does."""
    from .accounts import team_for_municipality

    team = team_for_municipality(session, municipality_id)
    if team is None:
        return None
    return TeamSummary(team.name, team.phone, team.response_days, [m.name for m in team.municipalities])


@dataclass(frozen=True)
class MunicipalityChoice:
    """A municipality and whether a team serves it."""

    id: int
    number: str
    name: str
    team_name: str | None


def municipality_choices(session: Session) -> list[MunicipalityChoice]:
    """Every municipality with the name of the team serving it, by name (one query)."""
    rows = session.execute(
        select(Municipality.id, Municipality.number, Municipality.name, Team.name)
        .outerjoin(team_municipality, team_municipality.c.municipality_id == Municipality.id)
        .outerjoin(Team, Team.id == team_municipality.c.team_id)
        .order_by(Municipality.name, Team.name)
    ).all()
    seen: dict[int, MunicipalityChoice] = {}
    for mid, number, name, team_name in rows:
        seen.setdefault(mid, MunicipalityChoice(mid, number, name, team_name))
    return list(seen.values())
