"""A resident's request to change or cancel an appointment, with its labels, for the page where
the team answers it."""
from __future__ import annotations

from typing import Any

from ...codes import AppointmentKind, AppointmentStatus, MeetingMode, RequestAnswer, RequestKind, label
from ...models import AppointmentRequest
from .common import tel_link


def request_view(request: AppointmentRequest) -> dict[str, Any]:
    """The request, its appointment and, once answered, the answer."""
    appointment, resident = request.appointment, request.resident
    return {
        "id": request.id, "name": resident.display_name or f"#{resident.id}", "resident_id": resident.id,
        "phone": resident.phone, "tel": tel_link(resident.phone),
        "kind": label(RequestKind, request.kind), "reason": request.reason or "", "asked_at": request.created_at,
        "starts_at": appointment.starts_at, "episode_id": appointment.episode_id,
        "appointment_kind": label(AppointmentKind, appointment.kind), "mode": label(MeetingMode, appointment.mode),
        "status": label(AppointmentStatus, appointment.status),
        "answered": request.answered_at is not None, "answer": label(RequestAnswer, request.answer)
        if request.answer else "", "answered_at": request.answered_at, "answer_note": request.answer_note or "",
    }
