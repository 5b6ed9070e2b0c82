"""Urgent flags: raised automatically when a resident may be at risk (PHQ-9 item 9 above 0, or
"in crisis now"), followed up by the team with recorded actions, and closed only with a note.

A flag is never deleted, and never closed silently: the database refuses a closed flag without a
note (`closed_with_note`), and `close_flag` refuses a blank one. Every staff read is audited.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, selectinload

from ..db import utcnow
from ..models import AuditEvent, Episode, UrgentFlag, UrgentFlagAction, UrgentFlagAnswer, User
from ..models.safety import FLAG_ACTIONS, FLAG_REASONS, open_flag_key
from . import audit
from .access import clinical_team_ids, is_clinical, staff_team_ids, team_object
from .errors import Conflict

#: How many closed flags the history list shows (newest closed first).
CLOSED_LIMIT = 100
#: A bound on the open list, like the triage queue's (a team with more has bigger problems).
OPEN_LIMIT = 300


@dataclass(frozen=True)
class ActionView:
    """One thing done about a flag, ready for display (`kind` is a stable key)."""

    kind: str
    note: str | None
    staff_name: str
    at: datetime


@dataclass(frozen=True)
class FlagView:
    """One flag with its actions and, once closed, who closed it and why."""

    id: int
    team_id: int
    resident_id: int
    resident_name: str
    reason: str
    raised_at: datetime
    referral_id: int | None
    episode_id: int | None
    actions: list[ActionView]
    closed_at: datetime | None = None
    closed_by_name: str | None = None
    closing_note: str | None = None
    #: Every item-9 answer that raised or was added to the flag: (answer, when), oldest first.
    item9_answers: tuple[tuple[int, datetime], ...] = ()
    #: The number to call (the account's; the page makes it a one-tap link).
    resident_phone: str | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


def _name(user: User | None) -> str:
    if user is None:
        return "?"
    return user.display_name or user.username or f"#{user.id}"


def _view(flag: UrgentFlag, closed_by_name: str | None) -> FlagView:
    return FlagView(
        id=flag.id, team_id=flag.team_id, resident_id=flag.resident_id,
        resident_name=flag.resident.display_name or f"#{flag.resident_id}", reason=flag.reason,
        raised_at=flag.raised_at, referral_id=flag.referral_id, episode_id=flag.episode_id,
        actions=[ActionView(a.kind, a.note, _name(a.staff), a.at) for a in flag.actions],
        closed_at=flag.closed_at, closed_by_name=closed_by_name, closing_note=flag.closing_note,
        item9_answers=tuple((int(a.value), a.at) for a in flag.answers),
        resident_phone=flag.resident.phone,
    )


def _loaded():
    """Flags with resident, actions and their staff eagerly loaded, plus the closer's names."""
    closer = aliased(User)
    query = (
        select(UrgentFlag, closer.display_name, closer.username)
        .outerjoin(closer, closer.id == UrgentFlag.closed_by_id)
        .options(selectinload(UrgentFlag.resident),
                 selectinload(UrgentFlag.actions).selectinload(UrgentFlagAction.staff),
                 selectinload(UrgentFlag.answers))
    )
    return query


def _views(session: Session, query) -> list[FlagView]:
    rows = session.execute(query).all()
    return [_view(flag, (display or username) if flag.closed_by_id else None) for flag, display, username in rows]


def _audit_rows(session: Session, *, actor: User, flags: list[FlagView], now: datetime) -> None:
    """One `view_urgent_flag` event per row shown, in one insert (as the triage queue does)."""
    if flags:
        session.execute(insert(AuditEvent), [
            {"actor_id": actor.id, "subject_id": f.resident_id, "team_id": f.team_id, "action": "view_urgent_flag",
             "object_type": "urgent_flag_summary", "object_id": f.id, "at": now}
            for f in flags
        ])


# --- Raising ------------------------------------------------------------------------------------

def raise_flag(session: Session, *, resident_id: int, team_id: int, reason: str, referral_id: int | None = None,
               episode_id: int | None = None, now: datetime | None = None,
               item9_answer: int | None = None) -> UrgentFlag:
    """Raise an urgent flag, or reuse the resident's open flag for the same reason.

    A reused flag gains the referral or episode it was missing, so closing it also ends the
    episode's urgent mark. With an episode, `Episode.urgent_since` is set (kept if already set).
    `item9_answer` (0–3) is recorded on the flag, new or reused, so a repeat while it is open
    (1, then 3) is kept and shown, never silently absorbed.
    """
    if reason not in FLAG_REASONS:
        raise ValueError("unknown reason")
    now = now or utcnow()
    flag = _open_flag(session, resident_id=resident_id, reason=reason)
    if flag is None:
        # No lock on the resident's row (two raises that both held a foreign-key share lock on it
        # and then asked for the row deadlocked): the unique `open_key` (resident and reason, while
        # open) lets one insert win; a parallel raise waits for it, fails, and reuses the winner's flag.
        new = UrgentFlag(resident_id=resident_id, team_id=team_id, reason=reason, referral_id=referral_id,
                         episode_id=episode_id, raised_at=now)
        try:
            with session.begin_nested():
                session.add(new)
                session.flush()
            flag = new
        except IntegrityError:
            flag = _open_flag(session, resident_id=resident_id, reason=reason)
            if flag is None:  # not the unique index: some other constraint refused the row
                raise
    # A reused flag gains what it was missing (no UPDATE when nothing changes).
    flag.referral_id = flag.referral_id or referral_id
    flag.episode_id = flag.episode_id or episode_id
    if episode_id is not None:
        episode = session.get(Episode, episode_id)
        episode.urgent_since = episode.urgent_since or now
    if item9_answer is not None:
        session.add(UrgentFlagAnswer(flag_id=flag.id, value=str(int(item9_answer)), at=now))
    session.flush()
    return flag


def _open_flag(session: Session, *, resident_id: int, reason: str) -> UrgentFlag | None:
    return session.scalars(
        select(UrgentFlag)
        .where(UrgentFlag.open_key == open_flag_key(resident_id, reason))
    ).first()


def flag_id_for_episode(session: Session, *, actor: User, episode_id: int) -> int | None:
    """The oldest open flag of one of the actor's episodes, for the episode page's link.

    An episode marked urgent before flags existed gets its flag now (raised at `urgent_since`),
    so every urgent mark can be followed up and closed with a note. None if nothing is open.
    """
    episode = team_object(session, actor, Episode, episode_id, what="episode")
    flag_id = session.scalar(
        select(UrgentFlag.id).where(UrgentFlag.episode_id == episode.id, UrgentFlag.closed_at.is_(None))
        .order_by(UrgentFlag.id).limit(1))
    if flag_id is None and episode.urgent_since is not None:
        flag_id = raise_flag(session, resident_id=episode.resident_id, team_id=episode.team_id, reason="item9",
                             episode_id=episode.id, now=episode.urgent_since).id
    return flag_id


def open_flag_ids_for_episode(session: Session, *, episode_id: int) -> list[int]:
    """Ids of the episode's open flags, oldest first (no access check: callers have done it)."""
    return list(session.scalars(
        select(UrgentFlag.id).where(UrgentFlag.episode_id == episode_id, UrgentFlag.closed_at.is_(None))
        .order_by(UrgentFlag.id)))


# --- Reading ------------------------------------------------------------------------------------

def count_open(session: Session, *, actor: User) -> int:
    """How many flags of the actor's teams are open. A number only, so not audited."""
    if not is_clinical(actor):
        return 0
    return session.scalar(
        select(func.count()).select_from(UrgentFlag)
        .where(UrgentFlag.team_id.in_(staff_team_ids(session, actor)), UrgentFlag.closed_at.is_(None))
    ) or 0


def open_flags(session: Session, *, actor: User, now: datetime | None = None) -> list[FlagView]:
    """Open flags of the actor's teams, oldest first. Every row shown is audited."""
    team_ids = clinical_team_ids(session, actor, what="flags")
    flags = _views(session, _loaded()
                   .where(UrgentFlag.team_id.in_(team_ids), UrgentFlag.closed_at.is_(None))
                   .order_by(UrgentFlag.raised_at, UrgentFlag.id).limit(OPEN_LIMIT))
    _audit_rows(session, actor=actor, flags=flags, now=now or utcnow())
    return flags


def closed_flags(session: Session, *, actor: User, limit: int = CLOSED_LIMIT,
                 now: datetime | None = None) -> list[FlagView]:
    """Closed flags of the actor's teams with their notes, newest closed first. Audited per row."""
    team_ids = clinical_team_ids(session, actor, what="flags")
    flags = _views(session, _loaded()
                   .where(UrgentFlag.team_id.in_(team_ids), UrgentFlag.closed_at.is_not(None))
                   .order_by(UrgentFlag.closed_at.desc(), UrgentFlag.id.desc()).limit(limit))
    _audit_rows(session, actor=actor, flags=flags, now=now or utcnow())
    return flags


def flag_for_staff(session: Session, *, actor: User, flag_id: int) -> UrgentFlag:
    """A flag of one of the actor's teams (NotFound otherwise, for unknown and foreign alike)."""
    return team_object(session, actor, UrgentFlag, flag_id, what="flag")


def view_flag(session: Session, *, actor: User, flag_id: int) -> FlagView:
    """Open one flag for its page: access-checked and written to the audit log."""
    flag = flag_for_staff(session, actor=actor, flag_id=flag_id)
    view = _views(session, _loaded().where(UrgentFlag.id == flag.id))[0]
    audit.record(session, actor=actor, subject=flag.resident, action="view_urgent_flag", object_type="urgent_flag",
                 object_id=flag.id, team_id=flag.team_id)
    return view


# --- Following up -------------------------------------------------------------------------------

def add_action(session: Session, *, actor: User, flag_id: int, kind: str, note: str | None,
               now: datetime | None = None) -> UrgentFlagAction:
    """Record what was done about an open flag (Conflict once it is closed)."""
    if kind not in FLAG_ACTIONS:
        raise ValueError("unknown kind of action")
    flag = flag_for_staff(session, actor=actor, flag_id=flag_id)
    if flag.closed_at is not None:
        raise Conflict("flag closed")
    action = UrgentFlagAction(flag_id=flag.id, staff_id=actor.id, kind=kind, note=(note or "").strip() or None,
                              at=now or utcnow())
    session.add(action)
    session.flush()
    return action


def close_flag(session: Session, *, actor: User, flag_id: int, note: str, now: datetime | None = None) -> UrgentFlag:
    """Close a flag with a note (ValueError without one; Conflict if already closed).

    The episode's urgent mark ends with its last open flag.
    """
    note = (note or "").strip()
    flag = flag_for_staff(session, actor=actor, flag_id=flag_id)
    if not note:
        raise ValueError("a note is required to close an urgent flag")
    if flag.closed_at is not None:
        raise Conflict("flag closed")
    flag.closed_at, flag.closed_by_id, flag.closing_note = now or utcnow(), actor.id, note
    session.flush()
    if flag.episode_id is not None and not open_flag_ids_for_episode(session, episode_id=flag.episode_id):
        session.get(Episode, flag.episode_id).urgent_since = None
        session.flush()
    return flag
