"""All models, re-exported so Alembic and services can import them from one place."""
from .audit import AuditEvent
from .auth import EmailCode, LoginSession, Passkey, WebAuthnChallenge
from .referrals import (
    Appointment, ContactAttempt, Episode, FormRequest, IntakeChecklist, MeasureResponse, OnwardService, Referral,
    ReferralDraft,
)
from .people import Municipality, Role, Team, TeamMembership, User, team_municipality

__all__ = [
    "Appointment",
    "ContactAttempt",
    "Episode",
    "FormRequest",
    "IntakeChecklist",
    "MeasureResponse",
    "OnwardService",
    "Referral",
    "ReferralDraft",
    "AuditEvent",
    "EmailCode",
    "LoginSession",
    "Municipality",
    "Passkey",
    "Role",
    "Team",
    "TeamMembership",
    "User",
    "WebAuthnChallenge",
    "team_municipality",
]
