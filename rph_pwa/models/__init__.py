"""All models, re-exported so Alembic and services can import them from one place."""
from .audit import AuditEvent
from .auth import EmailCode, LoginSession, Passkey, WebAuthnChallenge
from .mail import OutboxMessage
from .people import Municipality, Role, Team, TeamMembership, User, team_municipality
from .referrals import (
    Appointment,
    ContactAttempt,
    Episode,
    FormRequest,
    IntakeChecklist,
    MeasureResponse,
    OfferingChange,
    OnwardService,
    Referral,
    ReferralDraft,
    ResponsibleChange,
)
from .reminders import PushSubscription, Reminder, ReminderDelivery
from .safety import SafetyPlan, SafetyPlanVersion, UrgentFlag, UrgentFlagAction, UrgentFlagAnswer
from .scheduling import AppointmentRequest, AssessmentSlot
from .selfhelp import (
    CheckInReport,
    ExternalProgramme,
    FeedbackPhrase,
    ModuleProgress,
    SelfHelpAssignment,
    SleepWindow,
    Worksheet,
)

__all__ = [
    "Appointment",
    "AppointmentRequest",
    "AssessmentSlot",
    "CheckInReport",
    "ContactAttempt",
    "ExternalProgramme",
    "FeedbackPhrase",
    "ModuleProgress",
    "SelfHelpAssignment",
    "SleepWindow",
    "Worksheet",
    "Episode",
    "FormRequest",
    "IntakeChecklist",
    "MeasureResponse",
    "OfferingChange",
    "OnwardService",
    "OutboxMessage",
    "Referral",
    "ReferralDraft",
    "PushSubscription",
    "Reminder",
    "ReminderDelivery",
    "ResponsibleChange",
    "AuditEvent",
    "EmailCode",
    "LoginSession",
    "Municipality",
    "Passkey",
    "Role",
    "SafetyPlan",
    "SafetyPlanVersion",
    "UrgentFlag",
    "UrgentFlagAction",
    "UrgentFlagAnswer",
    "Team",
    "TeamMembership",
    "User",
    "WebAuthnChallenge",
    "team_municipality",
]
