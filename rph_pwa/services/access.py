"""Object-level access: which residents a staff member may open."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..models import Episode, Role, Team, TeamMembership, User
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


def served_by(team_ids):
    """A condition on `User`: the resident's team is one of `team_ids`, or one of those teams has an
    open (not discharged) episode of the resident. A team the resident moved away from keeps access
    while its episode is open. `team_ids` may be a list or a subquery."""
    open_episode = (select(Episode.id)
                    .where(Episode.resident_id == User.id, Episode.team_id.in_(team_ids),
                           Episode.discharged_at.is_(None))
                    .exists())
    return or_(User.team_id.in_(team_ids), open_episode)


def resident_for_staff(session: Session, *, actor: User, resident_id: int) -> User:
    """The resident, if the actor is clinical staff on a team that serves them: the resident's own
    team, or a team with an open episode of theirs (one query).

    Raises NotFound otherwise, for unknown and forbidden ids alike, so ids reveal nothing.
    """
    if actor.role not in CLINICAL_ROLES:
        raise NotFound("resident")
    my_teams = select(TeamMembership.team_id).where(TeamMembership.user_id == actor.id).scalar_subquery()
    resident = session.scalars(
        select(User).where(User.id == resident_id, User.role == Role.RESIDENT.value, served_by(my_teams))
    ).first()
    if resident is None:
        raise NotFound("resident")
    return resident
