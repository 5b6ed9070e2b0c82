"""Enquiries by phone or on paper (report L961-963, L1045-1053): staff register them with a short
form, and they join the same triage queue, episode and statistics as referrals made in the app.

The person gets a resident account without a sign-in method (they can get e-mail sign-in later).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from .. import measures
from ..db import utcnow
from ..models import Episode, Referral, User
from . import audit, urgent_flags
from .access import require_team
from .accounts import create_resident, team_for_municipality
from .measure_responses import store_response
from .referral_drafts import REFERRAL_INSTRUMENTS
from .referrals import AGE_BANDS

#: Channels staff register (the app registers its own referrals).
STAFF_CHANNELS = ("phone", "paper")
GENDERS = ("woman", "man", "other", "unspecified")
PROBLEMS = ("anxiety", "low_mood", "sleep", "substances", "stress", "other")


@dataclass(frozen=True)
class EnquiryInput:
    """What staff note from a phone call or a paper form. `instruments` maps an instrument code
    (REFERRAL_INSTRUMENTS) to its item answers, for the questionnaires the person answered."""

    channel: str
    name: str
    phone: str | None
    municipality_id: int
    age_band: str
    gender: str
    problems: list[str]
    own_words: str | None
    urgent: bool
    instruments: dict[str, list[int]] = field(default_factory=dict)


def register_enquiry(session: Session, *, actor: User, data: EnquiryInput, now: datetime | None = None) -> Referral:
    """Register a phone or paper enquiry as a referral with its episode (and any questionnaires).

    Only clinical staff of the team serving the person's municipality may (NotFound otherwise).
    ValueError for a value outside the known choices or an instrument's answers that do not score.
    As in the app, each urgent reason raises an urgent flag the team follows up and closes with a
    note: staff marking it urgent (reason "crisis", like "in crisis now") and PHQ-9 item 9 above 0
    ("item9"). Audited ("register_enquiry").
    """
    team = team_for_municipality(session, data.municipality_id)
    require_team(session, actor, team.id if team is not None else None, what="team")
    if data.channel not in STAFF_CHANNELS:
        raise ValueError("unknown channel")
    if data.age_band not in {label for _low, _high, label in AGE_BANDS}:
        raise ValueError("unknown age band")
    if data.gender not in GENDERS or any(p not in PROBLEMS for p in data.problems):
        raise ValueError("unknown choice")
    unknown = set(data.instruments) - set(REFERRAL_INSTRUMENTS)
    if unknown:
        raise ValueError(f"unknown instrument {sorted(unknown)[0]}")
    results = {code: measures.score(code, answers) for code, answers in data.instruments.items()}
    now = now or utcnow()
    resident = create_resident(session, municipality_id=data.municipality_id, display_name=data.name)
    resident.phone = data.phone or None
    # As in the app: item 9 above 0, or (staff's judgement, like the app's "in crisis now") urgent.
    reasons = (["item9"] if "PHQ-9" in results and "item9" in results["PHQ-9"].flags else []) + (
        ["crisis"] if data.urgent else [])
    referral = Referral(
        submission_key=hashlib.sha256(secrets.token_bytes(32)).hexdigest(), resident_id=resident.id,
        team_id=team.id, municipality_id=data.municipality_id, urgent=bool(reasons),
        urgent_reason=",".join(reasons) or None, channel=data.channel, age_band=data.age_band,
        gender=data.gender, submitted_at=now,
        answers={
            "troubles": {"problems": list(data.problems), "own_words": data.own_words or ""},
            "contact": {"name": data.name, "phone": data.phone or "", "gender": data.gender},
        },
    )
    session.add(referral)
    session.flush()
    episode = Episode(referral_id=referral.id, resident_id=resident.id, team_id=team.id, referred_at=now)
    session.add(episode)
    session.flush()
    for result in results.values():
        store_response(session, result=result, resident_id=resident.id, submitted_at=now, episode_id=episode.id,
                       referral_id=referral.id)
    phq9 = results.get("PHQ-9")
    for reason in reasons:
        item9 = phq9.value_of("item9") if reason == "item9" and phq9 is not None else None
        urgent_flags.raise_flag(session, resident_id=resident.id, team_id=team.id, reason=reason,
                                referral_id=referral.id, now=now, item9_answer=item9)
    audit.record(session, actor=actor, subject=resident, action="register_enquiry", object_type="referral",
                 object_id=referral.id, team_id=team.id)
    session.flush()
    return referral
