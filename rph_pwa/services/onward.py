"""Guiding a person onward: the team's directory of onward services, guiding a referral to one
(the episode stays open while the team follows up), the follow-up list, and closing the episode
when the team knows whether help started elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..db import utcnow
from ..models import Episode, OnwardService, Referral, User
from .access import clinical_team_ids, is_clinical, require_team, staff_team_ids, team_object
from .errors import Conflict, NotFound
from .referrals import referral_for_staff

#: Guided onward: the team follows up after this long unless it sets another date.
FOLLOW_UP_AFTER = timedelta(days=14)


def count_follow_ups_due(session: Session, *, actor: User, now: datetime | None = None) -> int:
    """How many people guided onward by the actor's teams are due a follow-up (the date has come,
    or none is set). A number only, so not audited."""
    if not is_clinical(actor):
        return 0
    now = now or utcnow()
    return session.scalar(
        select(func.count()).select_from(Referral).join(Episode, Episode.referral_id == Referral.id)
        .where(Referral.team_id.in_(staff_team_ids(session, actor)), Referral.status == "guided_onward",
               Episode.discharged_at.is_(None), or_(Episode.follow_up_at.is_(None), Episode.follow_up_at <= now))
    ) or 0


@dataclass(frozen=True)
class FollowUp:
    """A person guided onward whom the team follows up until help has started elsewhere."""

    referral_id: int
    episode_id: int
    resident_id: int
    team_id: int
    name: str
    follow_up_at: datetime | None
    due: bool
    service: str | None


def onward_follow_ups(session: Session, *, actor: User, now: datetime | None = None) -> list[FollowUp]:
    """Open guided-onward episodes of the actor's teams, the earliest follow-up date first (a
    missing date counts as due). Not audited here: the page that shows them audits what it
    shows (the triage page, in its one event)."""
    team_ids = clinical_team_ids(session, actor, what="follow-ups")
    now = now or utcnow()
    rows = session.connection().execute(  # one query, plain rows: the list shows a few columns
        select(Referral.id, Episode.id, Referral.resident_id, Referral.team_id, User.display_name,
               Episode.follow_up_at, OnwardService.name)
        .join(Episode, Episode.referral_id == Referral.id)
        .join(User, User.id == Referral.resident_id)
        .outerjoin(OnwardService, OnwardService.id == Referral.onward_service_id)
        .where(Referral.team_id.in_(team_ids), Referral.status == "guided_onward",
               Episode.discharged_at.is_(None))
        .order_by(Episode.follow_up_at.is_(None).desc(), Episode.follow_up_at.asc(), Referral.id)
        .limit(300)
    )
    return [FollowUp(referral_id=referral_id, episode_id=episode_id, resident_id=resident_id, team_id=team_id,
                     name=name or f"#{resident_id}", follow_up_at=follow_up_at,
                     due=follow_up_at is None or follow_up_at <= now, service=service)
            for referral_id, episode_id, resident_id, team_id, name, follow_up_at, service in rows]


def guide_onward(session: Session, *, actor: User, referral_id: int, service_id: int | None, message: str,
                 follow_up_at: datetime | None = None, now: datetime | None = None) -> Referral:
    """Guide the person kindly to where to go instead. The episode stays open ("guided onward,
    following up"): the team keeps contact until help has started there, and follows up on
    `follow_up_at` (default FOLLOW_UP_AFTER from now); `close_onward` ends it.

    Conflict when the episode has already ended.
    """
    referral = referral_for_staff(session, actor=actor, referral_id=referral_id)
    if referral.episode.discharged_at is not None:
        raise Conflict("episode ended")
    if service_id is not None:
        service = session.get(OnwardService, service_id)
        if service is None or service.team_id != referral.team_id:
            raise NotFound("onward service")
    now = now or utcnow()
    referral.onward_service_id = service_id
    referral.onward_message = message
    referral.status = "guided_onward"
    referral.episode.follow_up_at = follow_up_at or now + FOLLOW_UP_AFTER
    session.flush()
    return referral


def close_onward(session: Session, *, actor: User, referral_id: int, help_started: bool, note: str | None,
                 now: datetime | None = None) -> Episode:
    """End a guided-onward episode when the team knows whether help started elsewhere.

    Sets the discharge with end reason "guided_onward". When help did not start, `note` (why not)
    is required (ValueError without it). Conflict when the person is not being followed up.
    """
    referral = referral_for_staff(session, actor=actor, referral_id=referral_id)
    episode = referral.episode
    if referral.status != "guided_onward" or episode.discharged_at is not None:
        raise Conflict("not following up")
    note = (note or "").strip() or None
    if not help_started and note is None:
        raise ValueError("say why help did not start")
    episode.discharged_at = now or utcnow()
    episode.end_reason = "guided_onward"
    episode.onward_help_started = help_started
    episode.onward_outcome_note = note
    session.flush()
    return episode


# --- The directory of onward services ---------------------------------------------------------

def onward_services(session: Session, *, team_ids: list[int]) -> list[OnwardService]:
    """The directory entries of the given teams, by name."""
    return list(session.scalars(select(OnwardService).where(OnwardService.team_id.in_(team_ids))
                                .order_by(OnwardService.name)))


def save_onward_service(session: Session, *, actor: User, team_id: int, name: str, description: str,
                        phone: str | None, url: str | None, service_id: int | None = None) -> OnwardService:
    """Add or edit an entry in one of the actor's teams' directories.

    Raises Conflict when the team already has an entry of that name (names are unique per team).
    """
    require_team(session, actor, team_id, what="team")
    taken = select(OnwardService.id).where(OnwardService.team_id == team_id,
                                           func.lower(OnwardService.name) == name.lower())
    if service_id is not None:
        taken = taken.where(OnwardService.id != service_id)
    if session.scalars(taken).first() is not None:
        raise Conflict("name taken")
    if service_id is None:
        service = OnwardService(team_id=team_id)
        session.add(service)
    else:
        service = team_object(session, actor, OnwardService, service_id, what="onward service")
        service.team_id = team_id
    service.name, service.description, service.phone, service.url = name, description, phone or None, url or None
    session.flush()
    return service


def delete_onward_service(session: Session, *, actor: User, service_id: int) -> None:
    """Remove an entry from one of the actor's teams' directories.

    Raises Conflict when a referral was guided to it: that history must stay (edit the entry instead).
    """
    service = team_object(session, actor, OnwardService, service_id, what="onward service")
    if session.scalars(select(Referral.id).where(Referral.onward_service_id == service.id)).first() is not None:
        raise Conflict("in use")
    session.delete(service)
    session.flush()
