"""The resident's worksheets: saved once however often a save is sent, listed, opened again.

A worksheet is named by the browser with a random key (`client_key`, a uuid4 made when the empty
form is rendered). Every save of it, from the form or from the device's offline copy
(static/js/worksheets.js), is an upsert on (resident, client_key): the first save inserts the row,
later ones update it. Parallel saves of one key (a retry racing the original, two tabs) are settled
by the unique constraint: each insert runs in a savepoint, and the loser updates the winner's row.
The self-help plan is one worksheet per resident with a fixed key (`PLAN_KEY`).

Answers are checked with `selfhelp.worksheets.clean_answers`; a save from the device while the
resident is still typing (`partial=True`) may leave required fields empty, so nothing typed is
refused for being unfinished.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Mapping

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import utcnow
from ..models import Episode, User, Worksheet
from ..selfhelp.worksheets import SELFHELP_PLAN, WORKSHEETS, WorksheetKind, by_number, clean_answers
from . import audit
from .errors import NotFound
from .record_text import RECORD_LOCALE

#: The self-help plan's key: one plan per resident (the unique constraint is per resident).
PLAN_KEY = "selfhelp-plan"
#: A key the browser made: a uuid4 in its usual text form.
CLIENT_KEY = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


class BadClientKey(ValueError):
    """A client key that is not one the app makes."""


@dataclass(frozen=True)
class Saved:
    """The stored worksheet and whether this save changed it (created or updated)."""

    worksheet: Worksheet
    changed: bool


def kind_by_number(number: int) -> WorksheetKind:
    """The worksheet kind at place `number` in URLs (NotFound for any other number)."""
    kind = by_number(number)
    if kind is None:
        raise NotFound("worksheet kind")
    return kind


def kind_of(worksheet: Worksheet) -> WorksheetKind:
    return WORKSHEETS[worksheet.kind]


def own_worksheet(session: Session, *, resident: User, worksheet_id: int) -> Worksheet:
    """One of the resident's own worksheets (NotFound for anyone else's or a kind no longer known)."""
    worksheet = session.get(Worksheet, worksheet_id)
    if worksheet is None or worksheet.resident_id != resident.id or worksheet.kind not in WORKSHEETS:
        raise NotFound("worksheet")
    return worksheet


def resident_worksheets(session: Session, *, resident: User) -> list[Worksheet]:
    """Every worksheet of the resident, newest first (one query), the self-help plan left out."""
    return list(session.scalars(
        select(Worksheet).where(Worksheet.resident_id == resident.id, Worksheet.kind != SELFHELP_PLAN)
        .order_by(Worksheet.updated_at.desc(), Worksheet.id.desc())))


def by_kind(worksheets: list[Worksheet]) -> list[tuple[WorksheetKind, list[Worksheet]]]:
    """The worksheets grouped by kind in the kinds' order, each group keeping its order."""
    groups: dict[str, list[Worksheet]] = {}
    for worksheet in worksheets:
        if worksheet.kind in WORKSHEETS:
            groups.setdefault(worksheet.kind, []).append(worksheet)
    return [(kind, groups[key]) for key, kind in WORKSHEETS.items() if key in groups]


def selfhelp_plan(session: Session, *, resident: User) -> Worksheet | None:
    """The resident's self-help plan, or None before it is first saved."""
    return _find(session, resident.id, PLAN_KEY)


def plan_for_record(session: Session, *, actor: User, resident: User, team_id: int | None) -> str | None:
    """The resident's self-help plan in bokmål for the closure note (None before it is written).
    The caller has checked that `actor` may see the episode; the read is audited."""
    plan = selfhelp_plan(session, resident=resident)
    if plan is None or not plan.content:
        return None
    audit.record(session, actor=actor, subject=resident, action="view_selfhelp", object_type="selfhelp_plan",
                 object_id=plan.id, team_id=team_id)
    kind = WORKSHEETS[SELFHELP_PLAN]
    with force_locale(RECORD_LOCALE):
        parts = [f"{field.label}: {plan.content[field.name]}" for field in kind.fields
                 if plan.content.get(field.name)]
    return " ".join(f"{part.rstrip('.')}." for part in parts) or None


def key_for(kind: WorksheetKind, client_key: str) -> str:
    """The key a save is stored under: the plan's fixed key, or the browser's checked key."""
    if kind.single:
        return PLAN_KEY
    if not isinstance(client_key, str) or not CLIENT_KEY.match(client_key):
        raise BadClientKey("client key")
    return client_key


def answers_for(kind: WorksheetKind, raw: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """The cleaned answers (WorksheetInvalid with a message per field). `partial`: required
    fields may still be empty (a save while the resident is typing)."""
    if partial:
        kind = replace(kind, fields=tuple(replace(f, required=False) for f in kind.fields))
    return clean_answers(kind, raw)


def date_of(kind: WorksheetKind, answers: Mapping[str, Any]) -> date | None:
    """The worksheet's date: its first date field's answer (None without one)."""
    field = next((f for f in kind.fields if f.type == "date"), None)
    value = answers.get(field.name) if field is not None else None
    return date.fromisoformat(value) if value else None


def latest_open_episode_id(session: Session, *, resident_id: int) -> int | None:
    return session.scalars(select(Episode.id).where(Episode.resident_id == resident_id,
                                                    Episode.discharged_at.is_(None))
                           .order_by(Episode.referred_at.desc(), Episode.id.desc()).limit(1)).first()


def _find(session: Session, resident_id: int, client_key: str) -> Worksheet | None:
    return session.scalars(select(Worksheet).where(Worksheet.resident_id == resident_id,
                                                   Worksheet.client_key == client_key)).first()


def worksheet_by_key(session: Session, *, resident: User, client_key: str) -> Worksheet | None:
    """The resident's own worksheet stored under `client_key`, or None (not stored yet)."""
    return _find(session, resident.id, client_key)


def save_worksheet(session: Session, *, resident: User, kind: WorksheetKind, client_key: str,
                   raw: Mapping[str, Any], partial: bool = False, now: datetime | None = None) -> Saved:
    """Store the resident's answers to one worksheet once: a new row for a new key, the same row
    updated (revision + 1) for a key seen before, nothing written when nothing changed.

    Raises WorksheetInvalid (answers), BadClientKey, or NotFound when the key already names a
    worksheet of another kind (a key belongs to one worksheet)."""
    key = key_for(kind, client_key)
    answers = answers_for(kind, raw, partial=partial)
    now = now or utcnow()
    worksheet = _find(session, resident.id, key)
    if worksheet is None:
        new = Worksheet(resident_id=resident.id, kind=kind.key, client_key=key, for_date=date_of(kind, answers),
                        content=answers, revision=1, created_at=now, updated_at=now,
                        episode_id=latest_open_episode_id(session, resident_id=resident.id))
        try:
            with session.begin_nested():
                session.add(new)
                session.flush()
            return Saved(new, True)
        except IntegrityError:
            # A parallel save of the same key won (on PostgreSQL this waited for its commit).
            worksheet = _find(session, resident.id, key)
            if worksheet is None:  # some other constraint refused the row
                raise
    if worksheet.kind != kind.key:
        raise NotFound("worksheet")
    if worksheet.content == answers:
        return Saved(worksheet, False)
    worksheet.content = answers
    worksheet.for_date = date_of(kind, answers)
    worksheet.revision += 1
    worksheet.updated_at = now
    session.flush()
    return Saved(worksheet, True)


def label_of(worksheet: Worksheet) -> str:
    """What names one worksheet in a list: its label field's answer (may be empty)."""
    kind = kind_of(worksheet)
    return str((worksheet.content or {}).get(kind.label_field, "")) if kind.label_field else ""
