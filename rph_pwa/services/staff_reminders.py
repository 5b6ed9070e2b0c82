"""The staff side of reminders: one appointment's reminders as the therapist checks them (with the
resident's answer and any open request to change it), and the team lead's lead time.

What each reminder did is `reminders.appointment_reminders` (access-checked and audited); this
module adds what the page shows next to it.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import AppointmentRequest, Role, Team, User
from . import reminders
from .access import require_role, require_team


@dataclass(frozen=True)
class AppointmentReminderPage:
    """One appointment's reminders, and the open request to change or cancel it (if any)."""

    status: reminders.AppointmentReminders
    open_request: AppointmentRequest | None


def appointment_reminder_page(session: Session, *, actor: User, appointment_id: int,
                              setup: reminders.ChannelSetup) -> AppointmentReminderPage:
    """The reminders of an appointment of one of my teams (NotFound otherwise; audited) and its
    open request."""
    status = reminders.appointment_reminders(session, actor=actor, appointment_id=appointment_id, setup=setup)
    request = session.scalars(select(AppointmentRequest)
                              .where(AppointmentRequest.open_appointment_id == status.appointment.id)).first()
    return AppointmentReminderPage(status, request)


def set_lead_hours(session: Session, *, actor: User, team_id: int, hours: int) -> Team:
    """How long before an appointment the team's residents are reminded (team leads of the team
    only, NotFound for anyone else): between reminders.LEAD_HOURS_MIN and LEAD_HOURS_MAX hours
    (ValueError otherwise; H L2666-2686: 1-2 days)."""
    require_role(actor, Role.TEAM_LEAD, what="team")
    require_team(session, actor, team_id, what="team")
    if not isinstance(hours, int) or not reminders.LEAD_HOURS_MIN <= hours <= reminders.LEAD_HOURS_MAX:
        raise ValueError("hours")
    team = session.get(Team, team_id)
    team.reminder_hours_before = hours
    session.flush()
    return team
