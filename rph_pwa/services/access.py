"""Object-level access, in one place: who may open what.

Every service that reads or changes residents' data starts with one of these checks instead of
comparing roles itself (tests/services/test_access_rules.py keeps it that way):

    referral = team_object(session, actor, Referral, referral_id, what="referral")  # a row of my teams
    require_team(session, actor, team_id, what="team")                # an object of one of my teams
    team_ids = clinical_team_ids(session, actor, what="queue")       # the scope of a list
    if not is_clinical(actor): return 0                               # counts that are simply empty
    require_role(actor, Role.ADMIN, what="mail")                      # role-only pages

Forbidden and unknown objects both raise NotFound, so ids reveal nothing. The actor's teams are
looked up once per database session (one request) and kept in `session.info`.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..db import parse_id
from ..models import Episode, Role, Team, TeamMembership, User
from .errors import NotFound

#: Staff roles that work with residents' data (admins manage accounts, not care).
CLINICAL_ROLES = (Role.THERAPIST.value, Role.TEAM_LEAD.value)

_TEAMS_KEY = "access.team_ids"

#: A mapped class whose rows belong to a team (a `team_id` column).
T = TypeVar("T")


def is_clinical(actor: User) -> bool:
    """Whether the actor is staff who works with residents' data (therapist or team lead)."""
    return actor.role in CLINICAL_ROLES


def has_role(actor: User, *roles: Role) -> bool:
    """Whether the actor has one of `roles`."""
    return actor.role in {role.value for role in roles}


def require_role(actor: User, *roles: Role, what: str = "page") -> None:
    """Raise NotFound(what) unless the actor has one of `roles`."""
    if not has_role(actor, *roles):
        raise NotFound(what)


def require_clinical(actor: User, *, what: str = "page") -> None:
    """Raise NotFound(what) unless the actor is a therapist or team lead."""
    if not is_clinical(actor):
        raise NotFound(what)


def staff_team_ids(session: Session, actor: User) -> list[int]:
    """The ids of the teams a staff member belongs to, looked up once per database session."""
    cache = session.info.setdefault(_TEAMS_KEY, {})
    if actor.id not in cache:
        cache[actor.id] = list(session.scalars(
            select(TeamMembership.team_id).where(TeamMembership.user_id == actor.id).order_by(TeamMembership.team_id)))
    return list(cache[actor.id])


def forget_team_ids(session: Session) -> None:
    """Drop the cached team ids (after changing memberships in the same session)."""
    session.info.pop(_TEAMS_KEY, None)


def clinical_team_ids(session: Session, actor: User, *, what: str = "page") -> list[int]:
    """The teams whose residents the actor may see; raises NotFound(what) for non-clinical staff."""
    require_clinical(actor, what=what)
    return staff_team_ids(session, actor)


def in_my_teams(session: Session, actor: User, team_id: int | None) -> bool:
    """Whether the actor is clinical staff on team `team_id`."""
    return is_clinical(actor) and team_id is not None and team_id in staff_team_ids(session, actor)


def require_team(session: Session, actor: User, team_id: int | None, *, what: str = "object") -> None:
    """Raise NotFound(what) unless the actor is clinical staff on team `team_id` (None: the object
    does not exist)."""
    if not in_my_teams(session, actor, team_id):
        raise NotFound(what)


def team_object(session: Session, actor: User, model: type[T], object_id: int, *, what: str) -> T:
    """The `model` row with this id (a referral, episode, flag, onward service: anything with a
    `team_id`) if it belongs to one of the actor's teams; NotFound(what) otherwise, for unknown and
    foreign ids alike."""
    row = session.get(model, object_id) if parse_id(object_id) is not None else None  # no id beyond the column
    require_team(session, actor, row.team_id if row is not None else None, what=what)
    return row


def require_teams(session: Session, actor: User, team_ids: Iterable[int], *, what: str = "object") -> None:
    """Raise NotFound(what) unless the actor is clinical staff on every team in `team_ids`."""
    mine = set(clinical_team_ids(session, actor, what=what))
    if not set(team_ids) <= mine:
        raise NotFound(what)


def staff_teams(session: Session, actor: User) -> list[Team]:
    """The teams a staff member belongs to, by name."""
    ids = staff_team_ids(session, actor)
    if not ids:
        return []
    return list(session.scalars(select(Team).where(Team.id.in_(ids)).order_by(Team.name)))


def served_by(team_ids):
    """A condition on `User`: the resident's team is one of `team_ids`, or one of those teams has an
    open (not discharged) episode of the resident. A team the resident moved away from keeps access
    while its episode is open. `team_ids` may be a list or a subquery."""
    open_episode = (select(Episode.id)
                    .where(Episode.resident_id == User.id, Episode.team_id.in_(team_ids),
                           Episode.discharged_at.is_(None))
                    .exists())
    return or_(User.team_id.in_(team_ids), open_episode)


def residents_only():
    """A condition on `User`: resident accounts only."""
    return User.role == Role.RESIDENT.value


def staff_only():
    """A condition on `User`: staff accounts only (every role but resident)."""
    return User.role != Role.RESIDENT.value


def clinical_only():
    """A condition on `User`: therapists and team leads (the staff who work with residents)."""
    return User.role.in_(CLINICAL_ROLES)


def resident_for_staff(session: Session, *, actor: User, resident_id: int) -> User:
    """The resident, if the actor is clinical staff on a team that serves them: the resident's own
    team, or a team with an open episode of theirs (one query).

    Raises NotFound otherwise, for unknown and forbidden ids alike, so ids reveal nothing.
    """
    require_clinical(actor, what="resident")
    team_ids = session.info.get(_TEAMS_KEY, {}).get(actor.id)  # one query: a subquery if not looked up yet
    if team_ids is None:
        team_ids = select(TeamMembership.team_id).where(TeamMembership.user_id == actor.id).scalar_subquery()
    resident = session.scalars(
        select(User).where(User.id == resident_id, residents_only(), served_by(team_ids))
    ).first()
    if resident is None:
        raise NotFound("resident")
    return resident
