"""A submitted referral, as the team finds it: access-checked, audited, and its stored answers.

The steps before it are in `referral_drafts` and `referral_submission`; the team's work on it in
`triage` and `onward`.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ..models import Referral, User
from . import audit
from .access import team_object

#: Key in a referral's answers: instruments the person chose to talk about rather than answer.
DECLINED_KEY = "questionnaires_declined"
#: Referral statuses that still wait for triage.
OPEN_STATUSES = ("new", "in_contact")
#: The reporting bands of a referral's age (its reach dimension, kept in clear).
AGE_BANDS = ((16, 17, "16-17"), (18, 24, "18-24"), (25, 34, "25-34"), (35, 44, "35-44"),
             (45, 54, "45-54"), (55, 66, "55-66"), (67, 200, "67+"))


def age_band(age: int) -> str:
    """The reporting band of an age (16 and over)."""
    for low, high, label in AGE_BANDS:
        if low <= age <= high:
            return label
    raise ValueError("age below 16 has no band")


def referral_for_staff(session: Session, *, actor: User, referral_id: int) -> Referral:
    """A referral of one of the actor's teams (NotFound otherwise, for unknown and foreign alike)."""
    return team_object(session, actor, Referral, referral_id, what="referral")


def open_referral(session: Session, *, actor: User, referral_id: int) -> Referral:
    """Open one referral: access-checked and written to the audit log."""
    referral = referral_for_staff(session, actor=actor, referral_id=referral_id)
    audit.record(session, actor=actor, subject=referral.resident, action="view_referral",
                 object_type="referral", object_id=referral.id, team_id=referral.team_id)
    return referral


def referral_answers(referral: Referral) -> dict[str, Any]:
    """The decrypted form answers of a referral (read only: the column is replaced, never changed)."""
    return referral.answers
