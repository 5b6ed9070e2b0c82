"""Sending the self-referral draft held in this browser's session, for a signed-in resident.

Used by the referral pages (send, details, the e-mailed code) and by the passkey sign-up that ends
the flow (auth). It sits outside both packages so that each depends on it in one direction: the
referral pages use auth's sign-in and forms, and auth must not import the referral pages.
"""
from __future__ import annotations

from flask import current_app, session, url_for

from .db import get_session
from .models import User
from .notices import notify_team_urgent
from .services.errors import DomainError
from .services.referral_submission import submit_referral

#: The session key of the referral draft in progress in this browser.
DRAFT_SESSION_KEY = "referral_draft"


def complete_referral(user: User, *, otherwise: str, update_details: bool = False) -> str:
    """Submit the draft in this browser's session for `user`; returns where to go next: the
    receipt, or `otherwise` when there is no draft to send (so no caller redirects to None).
    `update_details`: the resident said yes to changing their name, phone and team to the
    referral's (see `referral_submission.detail_changes`). The caller commits."""
    key = session.get(DRAFT_SESSION_KEY)
    if not key:
        return otherwise
    db = get_session()
    try:
        submission = submit_referral(db, draft_key=key, resident=user, update_details=update_details,
                                     auditc_cutoffs=(current_app.config["AUDITC_CUTOFF_WOMEN"],
                                                     current_app.config["AUDITC_CUTOFF_MEN"]))
    except DomainError:
        # The draft expired or is no longer complete: the account is kept, the resident can
        # finish the referral from its start page.
        return otherwise
    db.flush()
    session.pop(DRAFT_SESSION_KEY, None)
    session["referral_sent"] = submission.referral.id
    if submission.created and submission.referral.urgent and submission.referral.team.inbox_email:
        notify_team_urgent(submission.referral.team.inbox_email)
    return url_for("referral.sent")
