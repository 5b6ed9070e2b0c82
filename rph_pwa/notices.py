"""Notices to a team's inbox, queued in the caller's transaction (the scheduler sends them).

Used by the referral pages and by the resident's questionnaires, so it belongs to neither.
"""
from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from .db import get_session
from .services.mail import queue_mail
from .urls import external_url


def notify_team_urgent(inbox: str) -> None:
    """A content-free notice to the team inbox: no name, no score, no service name in the subject."""
    with force_locale("nb"):
        subject = _("New enquiry needs follow-up")
        body = _("A new enquiry needs follow-up soon. Sign in to the workspace to see it:\n%(url)s",
                 url=external_url("therapist.triage"))
    queue_mail(get_session(), to=inbox, subject=subject, body=body)
