"""Norwegian wording of coded values in texts copied into the municipal patient record and sent
to the GP.

The record is kept in bokmål whatever language the staff member reads the app in, so a coded
value is worded with its label (rph_pwa/codes.py) from the bokmål catalog, lower-cased to sit
inside a sentence ("Arbeid: i arbeid, sykmelding: nei").
"""
from __future__ import annotations

from typing import Optional

from flask_babel import force_locale

from ..codes import AppointmentKind, Coded, EndReason, Offering, Problem, SickLeave, WorkStatus

#: The language of the patient record.
RECORD_LOCALE = "nb"

#: The coded values the record texts word (the names the note builders use).
WORK = WorkStatus
SICK_LEAVE = SickLeave
OFFERINGS = Offering
#: Reasons for ending an episode (`Episode.end_reason`, handbook L4989–4993).
END_REASONS = EndReason
#: What the person told the team they want help with (the referral's `problems` keys).
PROBLEMS = Problem
#: Kinds of contact, as the record counts them ("behandling: 3").
CONTACTS = AppointmentKind


def label(enum: type[Coded], key: Optional[str]) -> str:
    """The record wording of a coded value: its bokmål label starting in lower case (the key
    itself if unknown, empty if missing)."""
    if not key:
        return ""
    try:
        member = enum(key)
    except ValueError:
        return key
    with force_locale(RECORD_LOCALE):
        text = str(member.label)
    return text[:1].lower() + text[1:]
