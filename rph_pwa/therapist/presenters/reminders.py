"""The reminders of one appointment as the therapist checks them: which reminder, when it was
due, and per channel whether it was sent, shown on the phone or failed (with the kind of error);
the resident's answer and open request; and plainly when no channel can reach the resident."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...codes import (
    AppointmentKind,
    DeliveryState,
    MeetingMode,
    ReminderChannel,
    ReminderKind,
    ReminderOutcome,
    RequestKind,
    label,
)
from ...models import Reminder, ReminderDelivery
from ...services.staff_reminders import AppointmentReminderPage

#: What the page says when no reminder channel can reach the resident (also on I dag and the
#: episode page).
UNREACHABLE = _l("No reminder can reach this person: call")


def which(reminder: Reminder) -> str:
    """Which reminder: its kind, and for an appointment how long before the start it was due."""
    name = label(ReminderKind, reminder.kind)
    if reminder.starts_at is None or reminder.kind not in (ReminderKind.APPOINTMENT, ReminderKind.APPOINTMENT_SOON):
        return name
    hours = max(0, round((reminder.starts_at - reminder.due_at).total_seconds() / 3600))
    return _("%(name)s, %(hours)d hours before", name=name, hours=hours)


def delivery_row(delivery: ReminderDelivery) -> dict[str, Any]:
    """One channel's try: the state, its times, the kind of error and the attempts."""
    return {"channel": label(ReminderChannel, delivery.channel), "state": label(DeliveryState, delivery.state),
            "sent_at": delivery.sent_at, "shown_at": delivery.shown_at, "failed_at": delivery.failed_at,
            "error": delivery.last_error or "", "attempts": delivery.attempts,
            "shown_applies": delivery.channel == ReminderChannel.PUSH}


def reminder_page_view(page: AppointmentReminderPage) -> dict[str, Any]:
    """Everything on the page, labelled."""
    status = page.status
    appointment, resident = status.appointment, status.resident
    request = page.open_request
    return {
        "name": resident.display_name or f"#{resident.id}",
        "episode_id": appointment.episode_id,
        "starts_at": appointment.starts_at,
        "kind": label(AppointmentKind, appointment.kind), "mode": label(MeetingMode, appointment.mode),
        "coming_at": appointment.resident_answered_at if appointment.resident_answer == "coming" else None,
        "request": {"kind": label(RequestKind, request.kind), "at": request.created_at, "id": request.id}
        if request is not None else None,
        "usable": [label(ReminderChannel, c) for c in status.usable],
        "unreachable": str(UNREACHABLE) if not status.usable else "",
        "reminders": [{"id": r.id, "which": which(r), "due_at": r.due_at,
                       "outcome": label(ReminderOutcome, r.outcome) if r.outcome else _("Not finished yet"),
                       "deliveries": [delivery_row(d) for d in r.deliveries]} for r in status.reminders],
    }
