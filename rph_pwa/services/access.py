"""Object-level access: which residents a staff member may open."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Role, Team, TeamMembership, User
from .errors import NotFound

#: Staff roles that work with residents' data (admins manage accounts, not care).
CLINICAL_ROLES = (Role.THERAPIST.value, Role.TEAM_LEAD.value)


def staff_team_ids(session: Session, actor: User) -> list[int]:
    """The ids of the teams a staff member belongs to."""
    return list(session.scalars(select(TeamMembership.team_id).where(TeamMembership.user_id == actor.id)))


def staff_teams(session: Session, actor: User) -> list[Team]:
    """The teams a staff member belongs to, by name."""
    return list(session.scalars(
        select(Team).join(TeamMembership, TeamMembership.team_id == Team.id)
        .where(TeamMembership.user_id == actor.id).order_by(Team.name)
    ))


def resident_for_staff(session: Session, *, actor: User, resident_id: int) -> User:
    """The resident, if the actor is clinical staff on a team that serves them.

    Raises NotFound otherwise, for unknown and forbidden ids alike, so ids reveal nothing.
    """
    if actor.role not in CLINICAL_ROLES:
        raise NotFound("resident")
    resident = session.get(User, resident_id)
    if (resident is None or not resident.is_resident or resident.team_id is None
            or resident.team_id not in staff_team_ids(session, actor)):
        raise NotFound("resident")
    return resident
