"""Stored questionnaire responses: the one place a scored form becomes a `MeasureResponse` row.

Scoring is `measures.score` (pure, and callers need its flags first: the item-9 rule); storing is
`store_response`, so every response keeps its instrument version, answers, total, band and flags
the same way, whether it came with a referral, an enquiry or a form before a contact.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from .. import measures
from ..models import MeasureResponse


def store_response(session: Session, *, result: measures.Result, resident_id: int, submitted_at: datetime,
                   episode_id: int | None = None, referral_id: int | None = None,
                   form_request_id: int | None = None, functioning: int | None = None) -> MeasureResponse:
    """Add a scored questionnaire to the session (the caller flushes)."""
    response = MeasureResponse(
        resident_id=resident_id, episode_id=episode_id, referral_id=referral_id, form_request_id=form_request_id,
        instrument_code=result.code, instrument_version=str(result.version), answers=list(result.answers),
        functioning=functioning, total=result.total, band=result.band, flags=",".join(sorted(result.flags)),
        submitted_at=submitted_at)
    session.add(response)
    return response


def stored_result(response: MeasureResponse) -> measures.Result:
    """A stored response scored again with its own instrument version (to read an item by key)."""
    return measures.score(response.instrument_code, response.answers, version=int(response.instrument_version))
