"""Self-referral without a GP, before it is sent: eligibility, and the server-side draft that
keeps the person's answers (encrypted) step by step until they submit (`referral_submission`).
"""
from __future__ import annotations

import copy
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .. import measures
from ..crypto import secret_digest
from ..db import utcnow
from ..measures.registry import asked
from ..models import Municipality, ReferralDraft, Team
from . import email_codes
from .accounts import normalise_email, team_for_municipality
from .errors import Conflict, NotFound

DRAFT_LIFETIME = timedelta(days=30)
#: The most a draft may hold (its JSON, in characters). The steps' own field limits keep a draft
#: far below it; this bounds what an anonymous visitor can make the database keep.
MAX_DRAFT_CHARS = 64 * 1024
MINIMUM_AGE = 16
#: Instruments in the referral, in the order they are asked.
REFERRAL_INSTRUMENTS = ("PHQ-9", "GAD-7", "WSAS", "AUDIT-C", "DUDIT-C")
#: Steps whose answers must be present before a referral can be submitted. An instrument whose
#: wording is not verified (AUDIT-C, DUDIT-C) is never required (and only asked if the deployment
#: turns it on, see config UNVERIFIED_INSTRUMENTS).
REQUIRED_SECTIONS = ("eligibility", "troubles", "work",
                     *[code for code in REFERRAL_INSTRUMENTS if measures.get(code).verified_wording], "contact")


def asked_instruments(enabled_unverified) -> tuple[str, ...]:
    """The referral's instruments that are asked: every verified one, and an unverified one only
    if its code is in `enabled_unverified` (the deployment's UNVERIFIED_INSTRUMENTS setting)."""
    return asked(REFERRAL_INSTRUMENTS, enabled_unverified)


# --- Eligibility ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Eligibility:
    """The answer to step 1. `outcome` is "ok", "under_16" or "unserved"."""

    outcome: str
    team: Team | None = None
    municipality: Municipality | None = None


def check_eligibility(session: Session, *, age: int, municipality_id: int) -> Eligibility:
    """Who may refer themselves: 16 or older, living in a municipality a team serves."""
    municipality = session.get(Municipality, municipality_id)
    if municipality is None:
        raise NotFound("municipality")
    if age < MINIMUM_AGE:
        return Eligibility("under_16", municipality=municipality)
    team = team_for_municipality(session, municipality.id)
    if team is None:
        return Eligibility("unserved", municipality=municipality)
    return Eligibility("ok", team=team, municipality=municipality)


# --- Drafts -----------------------------------------------------------------------------------

class DraftTooLarge(Conflict):
    """The draft would hold more than MAX_DRAFT_CHARS."""


def _storable(data: dict[str, Any]) -> dict[str, Any]:
    """`data` as it will be stored (JSON types, a new object for the session to notice);
    DraftTooLarge when its JSON is longer than MAX_DRAFT_CHARS."""
    text = json.dumps(data)
    if len(text) > MAX_DRAFT_CHARS:
        raise DraftTooLarge("draft too large")
    return json.loads(text)


def start_draft(session: Session, *, eligibility: dict[str, Any]) -> tuple[ReferralDraft, str]:
    """A new draft holding the (already checked) eligibility answers; returns (draft, key)."""
    key = secrets.token_urlsafe(32)
    draft = ReferralDraft(key_hash=secret_digest(key), data=_storable({"eligibility": eligibility}),
                          urgent=eligibility.get("crisis") == "yes", expires_at=utcnow() + DRAFT_LIFETIME)
    session.add(draft)
    session.flush()
    return draft, key


def load_draft(session: Session, key: str | None) -> ReferralDraft | None:
    """The unexpired draft for a key, or None."""
    if not key:
        return None
    draft = session.scalars(select(ReferralDraft).where(ReferralDraft.key_hash == secret_digest(key))).first()
    if draft is None or draft.expires_at < utcnow():
        return None
    return draft


def draft_data(draft: ReferralDraft) -> dict[str, Any]:
    """A copy of the draft's answers (change the draft through `save_section`)."""
    return copy.deepcopy(draft.data or {})


def save_section(session: Session, *, draft: ReferralDraft, section: str, values: dict[str, Any]) -> dict[str, Any]:
    """Store one step's answers (also partial ones, so nothing typed is lost); DraftTooLarge
    when the draft would hold more than MAX_DRAFT_CHARS."""
    data = draft_data(draft)
    if section == "contact" and _contact_email(data.get(section)) != _contact_email(values):
        email_codes.void_draft_codes(session, draft_id=draft.id)  # a code proves only the address it went to
    data[section] = values
    draft.data = _storable(data)
    draft.urgent = bool(urgent_reasons(data))
    draft.expires_at = utcnow() + DRAFT_LIFETIME
    session.flush()
    return data


#: The draft key holding the step the person reached last (not an answer; never submitted).
POSITION_KEY = "_position"


def record_position(session: Session, *, draft: ReferralDraft, step: int) -> None:
    """Remember the step the person is on (a number; one past the last step is the review), so
    coming back continues there."""
    data = draft_data(draft)
    if data.get(POSITION_KEY) == step:
        return
    data[POSITION_KEY] = step
    draft.data = _storable(data)
    session.flush()


def resume_position(draft: ReferralDraft) -> int | None:
    """The step to continue at, as recorded by `record_position` (None if none was)."""
    step = draft_data(draft).get(POSITION_KEY)
    return step if isinstance(step, int) and not isinstance(step, bool) else None


def _contact_email(section: dict[str, Any] | None) -> str:
    """The address in a contact step's answers (also a failed step's raw text), normalised."""
    section = section or {}
    raw = (section.get("raw") or {}).get("email") or [""]
    return normalise_email(str(section.get("email") or raw[0] or ""))


def discard_draft(session: Session, key: str | None) -> None:
    """Delete a draft (the person chose to start over, or is not eligible)."""
    if key:
        session.execute(delete(ReferralDraft).where(ReferralDraft.key_hash == secret_digest(key)))


def purge_expired_drafts(session: Session) -> int:
    """Remove drafts nobody came back to (run by the scheduler later; safe to call any time)."""
    return session.execute(delete(ReferralDraft).where(ReferralDraft.expires_at < utcnow())).rowcount


def draft_phq9(data: dict[str, Any]) -> measures.Result | None:
    """The draft's scored PHQ-9, or None while it is not answered (the item-9 rule is the
    instrument's flag, never a list position)."""
    answers = (data.get("PHQ-9") or {}).get("answers")
    if not answers:
        return None
    try:
        return measures.score("PHQ-9", answers)
    except ValueError:
        return None


def urgent_reasons(data: dict[str, Any]) -> list[str]:
    """Why this referral must reach a clinician quickly: PHQ-9 item 9 above 0, or "in crisis now"."""
    reasons = []
    phq9 = draft_phq9(data)
    if phq9 is not None and "item9" in phq9.flags:
        reasons.append("item9")
    if (data.get("eligibility") or {}).get("crisis") == "yes":
        reasons.append("crisis")
    return reasons


def missing_sections(data: dict[str, Any]) -> list[str]:
    """Required steps that are not complete yet."""
    return [name for name in REQUIRED_SECTIONS if not (data.get(name) or {}).get("complete")]


