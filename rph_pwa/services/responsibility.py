"""The responsible therapist of an episode (the same therapist for weekly guidance): chosen at
triage or assessment from the clinical staff of the episode's team, changed with a note, every
choice kept in `responsible_change`.

Access through `access`: only the team's therapists and team leads set it. Reads of staff names
are not residents' data, so nothing here is audited (the pages that show it audit their own read).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, selectinload

from ..db import utcnow
from ..models import Episode, ResponsibleChange, TeamMembership, User
from .access import clinical_only, require_team, team_object
from .errors import Conflict

#: Longest note on a change of responsible therapist.
NOTE_MAX = 1000


class NotOnTeam(ValueError):
    """The chosen person is not an active therapist or team lead of the episode's team."""


class NoteRequired(ValueError):
    """A hand-over from one therapist to another needs a note."""


# Built once: the episode and referral pages ask every time they are opened.
#: The active therapists and team leads of a team.
_TEAM_THERAPISTS = (select(User).join(TeamMembership, TeamMembership.user_id == User.id)
                    .where(TeamMembership.team_id == bindparam("team_id"), clinical_only(), User.is_active.is_(True)))
#: An episode's choices and changes of responsible therapist, oldest first, with who made them.
_CHANGES = (select(ResponsibleChange)
            .options(selectinload(ResponsibleChange.from_staff), selectinload(ResponsibleChange.to_staff),
                     selectinload(ResponsibleChange.staff))
            .where(ResponsibleChange.episode_id == bindparam("episode_id"))
            .order_by(ResponsibleChange.at, ResponsibleChange.id))


def team_therapists(session: Session, *, actor: User, team_id: int) -> list[User]:
    """The active therapists and team leads of one of the actor's teams, by name (the choices
    for the responsible therapist). NotFound unless the actor is clinical staff on the team."""
    require_team(session, actor, team_id, what="team")
    staff = session.scalars(_TEAM_THERAPISTS, {"team_id": team_id})
    return sorted(staff, key=lambda u: ((u.display_name or u.username or "").casefold(), u.id))


def therapists_for_episode(session: Session, *, actor: User, episode_id: int) -> list[User]:
    """`team_therapists` of the episode's team (NotFound unless the episode is of one of the
    actor's teams)."""
    episode = team_object(session, actor, Episode, episode_id, what="episode")
    return team_therapists(session, actor=actor, team_id=episode.team_id)


def set_responsible(session: Session, *, actor: User, episode_id: int, therapist_id: int, note: str | None = None,
                    now: datetime | None = None) -> ResponsibleChange | None:
    """Make `therapist_id` responsible for the episode and keep the change in its history.

    The first choice may go without a note; a change from one therapist to another needs one
    (NoteRequired). The therapist must be an active therapist or team lead of the episode's team
    (NotOnTeam). Choosing the one already responsible changes nothing (None: a repeated post is
    harmless). NotFound for an episode outside the actor's teams; Conflict once it has ended.
    """
    episode = team_object(session, actor, Episode, episode_id, what="episode")
    # The episode's row is locked and read again, so parallel posts of one choice (a double tap,
    # two tabs) wait for each other and record one change (PostgreSQL; SQLite's BEGIN IMMEDIATE
    # already runs them one at a time).
    session.refresh(episode, with_for_update=True)
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise ValueError("note too long")
    if therapist_id not in {u.id for u in team_therapists(session, actor=actor, team_id=episode.team_id)}:
        raise NotOnTeam("not a therapist or team lead of the episode's team")
    if episode.discharged_at is not None:
        raise Conflict("episode ended")
    if episode.responsible_id == therapist_id:
        return None
    if episode.responsible_id is not None and note is None:
        raise NoteRequired("a change of responsible therapist needs a note")
    change = ResponsibleChange(episode_id=episode.id, from_id=episode.responsible_id, to_id=therapist_id,
                               staff_id=actor.id, note=note, at=now or utcnow())
    episode.responsible_id = therapist_id
    session.add(change)
    session.flush()
    return change


def responsible_changes(session: Session, *, actor: User, episode: Episode) -> list[ResponsibleChange]:
    """The episode's choices and changes of responsible therapist, oldest first (NotFound unless
    the episode is of one of the actor's teams)."""
    require_team(session, actor, episode.team_id, what="episode")
    return list(session.scalars(_CHANGES, {"episode_id": episode.id}))
