"""Finishing a self-referral: submit the draft for a signed-in resident and notify the team."""
from __future__ import annotations

from flask import current_app, session, url_for
from flask_babel import force_locale, gettext as _

from ..db import get_session
from ..models import User
from ..services.mail import queue_mail
from ..services.errors import DomainError
from ..services.referral_submission import submit_referral
from ..urls import external_url

DRAFT_SESSION_KEY = "referral_draft"


def complete_referral(user: User, *, update_details: bool = False) -> str | None:
    """Submit the draft in this browser's session for `user`; returns the receipt URL, or None
    when there is no draft. `update_details`: the resident said yes to changing their name, phone
    and team to the referral's (see `referral_submission.detail_changes`). The caller commits."""
    key = session.get(DRAFT_SESSION_KEY)
    if not key:
        return None
    db = get_session()
    try:
        submission = submit_referral(db, draft_key=key, resident=user, update_details=update_details,
                                     auditc_cutoffs=(current_app.config["AUDITC_CUTOFF_WOMEN"],
                                                     current_app.config["AUDITC_CUTOFF_MEN"]))
    except DomainError:
        # The draft expired or is no longer complete: the account is kept, the resident can
        # finish the referral from its start page.
        return None
    db.flush()
    session.pop(DRAFT_SESSION_KEY, None)
    session["referral_sent"] = submission.referral.id
    if submission.created and submission.referral.urgent and submission.referral.team.inbox_email:
        notify_team_urgent(submission.referral.team.inbox_email)
    return url_for("referral.sent")


def notify_team_urgent(inbox: str) -> None:
    """A content-free notice to the team inbox: no name, no score, no service name in the subject."""
    with force_locale("nb"):
        subject = _("New enquiry needs follow-up")
        body = _("A new enquiry needs follow-up soon. Sign in to the workspace to see it:\n%(url)s",
                 url=external_url("therapist.triage"))
    queue_mail(get_session(), to=inbox, subject=subject, body=body)
