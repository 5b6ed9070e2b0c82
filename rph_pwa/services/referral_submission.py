"""Sending a self-referral: a complete draft becomes a referral, its questionnaire responses and
an episode of care; and what it would change about an existing resident's details.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import measures
from ..crypto import secret_digest
from ..db import utcnow
from ..measures.instruments import auditc
from ..models import Episode, Municipality, Referral, ReferralDraft, Team, User
from . import urgent_flags
from .accounts import team_for_municipality
from .errors import Conflict, NotFound
from .measure_responses import store_response
from .referral_drafts import (
    MINIMUM_AGE,
    POSITION_KEY,
    REFERRAL_INSTRUMENTS,
    draft_data,
    draft_phq9,
    load_draft,
    missing_sections,
    urgent_reasons,
)
from .referrals import DECLINED_KEY, age_band


@dataclass(frozen=True)
class Submission:
    """The stored referral, and whether this call created it (False for a repeated submit)."""

    referral: Referral
    created: bool


def submit_referral(session: Session, *, draft_key: str, resident: User, update_details: bool = False,
                    auditc_cutoffs: tuple[int, int] | None = None) -> Submission:
    """Turn a complete draft into a referral, its questionnaire responses and an episode of care.

    Idempotent: submitting the same draft twice returns the first referral. The resident's name,
    phone, municipality and team are only filled where empty, unless `update_details` (the resident
    said yes to the changes `detail_changes` listed). The referral goes to the team serving the
    chosen municipality either way.
    """
    existing = session.scalars(select(Referral).where(Referral.submission_key == secret_digest(draft_key))).first()
    if existing is not None:
        return Submission(existing, False)
    draft = load_draft(session, draft_key)
    if draft is None:
        raise NotFound("draft")
    data = draft_data(draft)
    if missing_sections(data):
        raise Conflict("incomplete")
    eligibility = data["eligibility"]
    municipality_id = int(eligibility["municipality_id"])
    team = team_for_municipality(session, municipality_id)
    if team is None or int(eligibility["age"]) < MINIMUM_AGE:
        raise Conflict("not eligible")
    contact = data["contact"]
    reasons = urgent_reasons(data)
    now = utcnow()
    referral = Referral(
        submission_key=secret_digest(draft_key), resident_id=resident.id, team_id=team.id,
        municipality_id=municipality_id, meeting_municipality_id=contact.get("meeting_municipality_id") or None,
        urgent=bool(reasons), urgent_reason=",".join(reasons) or None, channel="app",
        age_band=age_band(int(eligibility["age"])), gender=contact.get("gender") or "unspecified",
        submitted_at=now,
        answers={**{k: _clean(v) for k, v in data.items()
                    if k not in REFERRAL_INSTRUMENTS and k != POSITION_KEY}, **_declined(data)},
    )
    try:
        with session.begin_nested():  # two submits at the same moment: the unique key decides
            session.add(referral)
            session.flush()
    except IntegrityError:
        winner = session.scalars(select(Referral).where(Referral.submission_key == secret_digest(draft_key))).one()
        return Submission(winner, False)
    work = data.get("work") or {}
    episode = Episode(referral_id=referral.id, resident_id=resident.id, team_id=team.id, referred_at=now,
                      work_status_start=work.get("work_status"), sick_leave_start=work.get("sick_leave"))
    session.add(episode)
    session.flush()
    phq9 = draft_phq9(data)
    for reason in reasons:  # each reason is followed up and closed with a note by the team
        item9 = phq9.value_of("item9") if reason == "item9" and phq9 is not None else None
        urgent_flags.raise_flag(session, resident_id=resident.id, team_id=team.id, reason=reason,
                                referral_id=referral.id, now=now, item9_answer=item9)
    for code in REFERRAL_INSTRUMENTS:
        section = data.get(code) or {}
        if not section.get("complete") or section.get("answers") is None:
            continue  # not asked, skipped (never required), or "I would rather talk about it"
        result = measures.score(code, section["answers"], bands=_bands(code, contact, auditc_cutoffs))
        store_response(session, result=result, resident_id=resident.id, submitted_at=now, episode_id=episode.id,
                       referral_id=referral.id, functioning=section.get("functioning"))
    _fill_resident_contact(resident, contact, team=team, municipality_id=municipality_id, update=update_details)
    session.delete(draft)
    session.flush()
    return Submission(referral, True)


def _declined(data: dict[str, Any]) -> dict[str, Any]:
    """{DECLINED_KEY: {code: "would_rather_talk"}} for the instruments the person chose to talk
    about instead of answering (stored as such, never scored); {} if none."""
    declined = {code: "would_rather_talk" for code in REFERRAL_INSTRUMENTS
                if (data.get(code) or {}).get("complete") and (data.get(code) or {}).get("declined")}
    return {DECLINED_KEY: declined} if declined else {}


def _bands(code: str, contact: dict[str, Any], auditc_cutoffs: tuple[int, int] | None):
    """AUDIT-C is banded with the sex-specific cut-offs (women, men; the referral's gender, the
    lower cut-off when unknown); other instruments use their own bands."""
    if code != "AUDIT-C":
        return None
    women, men = auditc_cutoffs or (auditc.DEFAULT_CUTOFF_WOMEN, auditc.DEFAULT_CUTOFF_MEN)
    return auditc.bands_for(contact.get("gender"), women=women, men=men)


def _clean(section: dict[str, Any]) -> dict[str, Any]:
    """A section without the draft's bookkeeping (raw form text, completeness)."""
    return {k: v for k, v in section.items() if k not in ("raw", "complete")}


def _fill_resident_contact(resident: User, contact: dict[str, Any], *, team: Team, municipality_id: int,
                           update: bool) -> None:
    """Fill the resident's empty details from the referral; overwrite only when they said yes."""
    if contact.get("name") and (update or not resident.display_name):
        resident.display_name = contact["name"]
    if contact.get("phone") and (update or not resident.phone):
        resident.phone = contact["phone"]
    if update or resident.team_id is None:
        resident.team_id = team.id
    if update or resident.home_municipality_id is None:
        resident.home_municipality_id = municipality_id


@dataclass(frozen=True)
class DetailChange:
    """One of a resident's details that a referral would change: a stable key ("name", "phone",
    "municipality", "team"), the current value and the value from the referral."""

    field: str
    old: str
    new: str


def _digits_of(phone: str | None) -> str:
    return "".join(ch for ch in phone or "" if ch.isdigit())


def detail_changes(session: Session, *, resident: User, draft: ReferralDraft) -> list[DetailChange]:
    """What submitting this draft would change about an existing resident, if they say yes.

    Only values that are set on both sides and differ are listed: an empty detail is simply filled.
    """
    data = draft_data(draft)
    contact = data.get("contact") or {}
    changes = []
    name = (contact.get("name") or "").strip()
    if name and resident.display_name and name != resident.display_name:
        changes.append(DetailChange("name", resident.display_name, name))
    phone = (contact.get("phone") or "").strip()
    if phone and resident.phone and _digits_of(phone) != _digits_of(resident.phone):
        changes.append(DetailChange("phone", resident.phone, phone))
    municipality_id = int((data.get("eligibility") or {}).get("municipality_id") or 0)
    municipality = session.get(Municipality, municipality_id) if municipality_id else None
    if municipality is not None and resident.home_municipality_id not in (None, municipality.id):
        old = session.get(Municipality, resident.home_municipality_id)
        changes.append(DetailChange("municipality", old.name if old else "", municipality.name))
    team = team_for_municipality(session, municipality_id) if municipality is not None else None
    if team is not None and resident.team_id not in (None, team.id):
        old_team = session.get(Team, resident.team_id)
        changes.append(DetailChange("team", old_team.name if old_team else "", team.name))
    return changes


