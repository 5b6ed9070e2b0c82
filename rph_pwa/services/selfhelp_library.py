"""What staff choose from and assign in guided self-help: whether a shipped programme may be
assigned, a programme given from an episode (with the deployment's sign-off rule), the same
programme given to several residents at once (guided self-help in a group), and the team's
usefulness ratings per module (aggregates only: no names).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db import utcnow
from ..models import Episode, ModuleProgress, SelfHelpAssignment, User
from ..selfhelp import content
from . import audit, selfhelp
from .access import clinical_team_ids, team_object
from .errors import Conflict, NotFound

#: At most this many residents in one group assignment.
GROUP_MAX = 30


class NotSignedOff(Conflict):
    """The deployment hides unsigned modules, and none of this programme's own modules is signed off."""


class GroupConflict(Conflict):
    """One of a group's episodes cannot get the programme (one is open already, or the episode
    ended): nobody got it."""

    def __init__(self, episode_id: int):
        super().__init__(f"episode {episode_id}")
        self.episode_id = episode_id


def signed_off(programme: content.Programme) -> bool:
    """Whether at least one of the programme's own modules (not the shared closing one) is reviewed."""
    return any(not m.is_draft for m in programme.modules if m.programme == programme.slug)


def assign(session: Session, *, actor: User, episode_id: int, programme: str | None = None,
           external_programme_id: int | None = None, checkin_weekday: int, pace: str, starts_on: date | None,
           hide_drafts: bool) -> SelfHelpAssignment:
    """`selfhelp.assign_programme`, refusing a shipped programme with no signed-off module when the
    deployment hides drafts (`hide_drafts`: SELFHELP_HIDE_DRAFTS) with NotSignedOff."""
    if programme is not None and hide_drafts:
        shipped = content.programme(programme)
        if shipped is None:
            raise NotFound("programme")
        if not signed_off(shipped):
            raise NotSignedOff(programme)
    return selfhelp.assign_programme(session, actor=actor, episode_id=episode_id, programme=programme,
                                     external_programme_id=external_programme_id, checkin_weekday=checkin_weekday,
                                     pace=pace, starts_on=starts_on)


@dataclass(frozen=True)
class GroupCandidate:
    """An episode a group programme can go to: the resident's name and when it started."""

    episode_id: int
    name: str
    team_id: int


def group_candidates(session: Session, *, actor: User) -> list[GroupCandidate]:
    """My open episodes (I am responsible, in my teams, not ended) without an open programme, by
    name, in one query; the names shown are audited (one insert)."""
    team_ids = clinical_team_ids(session, actor, what="episodes")
    if not team_ids:
        return []
    open_programme = select(SelfHelpAssignment.id).where(SelfHelpAssignment.open_episode_id == Episode.id).exists()
    rows = session.execute(select(Episode.id, Episode.team_id, User)
                           .join(User, User.id == Episode.resident_id)
                           .where(Episode.team_id.in_(team_ids), Episode.responsible_id == actor.id,
                                  Episode.discharged_at.is_(None), ~open_programme)
                           .order_by(Episode.id)).all()
    candidates = [GroupCandidate(episode_id=episode_id, name=resident.display_name or f"#{resident.id}",
                                 team_id=team_id) for episode_id, team_id, resident in rows]
    audit.record_shown(session, actor=actor, shown=[(resident.id, team_id, episode_id)
                                                    for episode_id, team_id, resident in rows],
                       action="view_episode", object_type="selfhelp_group", now=utcnow())
    return sorted(candidates, key=lambda c: (c.name.casefold(), c.episode_id))


def assign_group(session: Session, *, actor: User, episode_ids: list[int], programme: str | None = None,
                 external_programme_id: int | None = None, checkin_weekday: int, pace: str, starts_on: date | None,
                 hide_drafts: bool) -> list[SelfHelpAssignment]:
    """The same programme to every episode in `episode_ids`, all or nothing: the first that cannot
    have it raises GroupConflict (or NotFound for an episode not of my teams) and the caller rolls
    the whole transaction back. Each assignment books its own first check-in."""
    if not 1 <= len(set(episode_ids)) <= GROUP_MAX:
        raise ValueError("group size")
    assignments = []
    for episode_id in sorted(set(episode_ids)):
        try:
            assignments.append(assign(session, actor=actor, episode_id=episode_id, programme=programme,
                                      external_programme_id=external_programme_id, checkin_weekday=checkin_weekday,
                                      pace=pace, starts_on=starts_on, hide_drafts=hide_drafts))
        except NotSignedOff:
            raise
        except Conflict:
            raise GroupConflict(episode_id) from None
    return assignments


@dataclass(frozen=True)
class Rating:
    """How useful the team's residents found a module: how many rated it, and the mean (1-5)."""

    count: int
    mean: float


def module_ratings(session: Session, *, actor: User) -> dict[tuple[str, str], Rating]:
    """The ratings of every module in assignments of my teams, in one aggregate query, keyed by
    (programme, module key): a shipped programme's slug, or "external:<id>" for a team's own."""
    team_ids = clinical_team_ids(session, actor, what="ratings")
    if not team_ids:
        return {}
    rows = session.execute(
        select(SelfHelpAssignment.programme, SelfHelpAssignment.external_programme_id, ModuleProgress.module_key,
               func.count(ModuleProgress.rating), func.avg(ModuleProgress.rating))
        .join(SelfHelpAssignment, SelfHelpAssignment.id == ModuleProgress.assignment_id)
        .where(SelfHelpAssignment.team_id.in_(team_ids), ModuleProgress.rating.is_not(None))
        .group_by(SelfHelpAssignment.programme, SelfHelpAssignment.external_programme_id, ModuleProgress.module_key))
    return {(slug if slug is not None else f"external:{external_id}", key): Rating(count=count, mean=float(mean))
            for slug, external_id, key, count, mean in rows}


@dataclass(frozen=True)
class EpisodeProgramme:
    """An episode with its resident, its open programme (or None) and that programme's progress rows."""

    episode: Episode
    resident: User
    assignment: SelfHelpAssignment | None
    progress: list[ModuleProgress]


def episode_programme(session: Session, *, actor: User, episode_id: int, audited: bool = True) -> EpisodeProgramme:
    """The episode's open programme and its progress (access-checked; the read is audited unless
    the caller audits a fuller read itself)."""
    episode = team_object(session, actor, Episode, episode_id, what="episode")
    assignment = session.scalars(select(SelfHelpAssignment)
                                 .where(SelfHelpAssignment.open_episode_id == episode.id)).first()
    progress = selfhelp.progress_rows(session, assignment_id=assignment.id) if assignment is not None else []
    resident = session.get(User, episode.resident_id)
    if audited:
        audit.record(session, actor=actor, subject=resident, action="view_selfhelp", object_type="selfhelp",
                     object_id=episode.id, team_id=episode.team_id)
    return EpisodeProgramme(episode=episode, resident=resident, assignment=assignment, progress=progress)


def end_episode_programme(session: Session, *, actor: User, episode_id: int) -> SelfHelpAssignment:
    """End the episode's open programme (access-checked); Conflict when none is open (ended already)."""
    found = episode_programme(session, actor=actor, episode_id=episode_id, audited=False)
    if found.assignment is None:
        raise Conflict("no open programme")
    return selfhelp.end_assignment(session, actor=actor, assignment_id=found.assignment.id)
