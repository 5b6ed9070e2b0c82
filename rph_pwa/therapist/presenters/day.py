"""I dag: my appointments with their labels, one-tap call links, forms and score changes; the
urgent flags; and the due tasks as rows of what to do and where to go."""
from __future__ import annotations

from typing import Any

from flask_babel import format_date, format_decimal
from flask_babel import gettext as _

from ...codes import AppointmentKind, AppointmentStatus, MeetingMode, RequestKind, label
from ...services.caseload import ScoreTrend
from ...services.today import Day, DayAppointment
from .common import URGENT_REASONS
from .reminders import UNREACHABLE


def change_text(score: ScoreTrend) -> str:
    """How a score moved since the one before, in words (empty with one answer only)."""
    if score.change is None:
        return ""
    if score.change > 0:
        return _("up %(num)d since last time", num=score.change)
    if score.change < 0:
        return _("down %(num)d since last time", num=-score.change)
    return _("same as last time")


def score_views(scores: list[ScoreTrend]) -> list[dict[str, Any]]:
    """Each newest score with its change in words and its direction (for an arrow)."""
    return [{"code": s.code, "total": s.total, "change": change_text(s), "trend": s.trend or ""} for s in scores]


def forms_text(appointment: DayAppointment) -> str:
    """Whether the forms planned before the contact are answered."""
    if not appointment.forms_planned:
        return _("No forms")
    if appointment.forms_done:
        return _("All answered")
    return _("%(answered)d of %(planned)d answered", answered=appointment.forms_answered,
             planned=appointment.forms_planned)


def appointment_row(appointment: DayAppointment) -> dict[str, Any]:
    """One appointment of today, ready for the table."""
    return {
        "id": appointment.id, "episode_id": appointment.episode_id, "starts_at": appointment.starts_at,
        "name": appointment.name, "kind": label(AppointmentKind, appointment.kind),
        "mode": label(MeetingMode, appointment.mode),
        "status": label(AppointmentStatus, appointment.status) if appointment.status != "booked" else "",
        "phone": appointment.phone, "tel": f"tel:{appointment.phone_e164}" if appointment.phone_e164 else None,
        "forms": forms_text(appointment), "forms_done": appointment.forms_done,
        "scores": score_views(appointment.scores),
        "coming": _("Coming") if appointment.coming else "",
        "unreachable": str(UNREACHABLE) if appointment.unreachable else "",
    }


def _more(shown: int, total: int) -> str:
    """"The first 10 of 24." when a task list is cut short (empty when all are shown)."""
    return _("The first %(shown)d of %(total)d.", shown=shown, total=total) if total > shown else ""


def day_view(day: Day) -> dict[str, Any]:
    """Everything on I dag with its labels."""
    tasks = day.tasks
    return {
        "day": day.day,
        "appointments": [appointment_row(a) for a in day.appointments],
        "flags": [{"id": f.id, "name": f.resident_name, "reason": label(URGENT_REASONS, f.reason),
                   "raised_at": f.raised_at} for f in day.flags],
        "requests": [{"id": r.id, "name": r.resident.display_name or f"#{r.resident_id}",
                      "kind": label(RequestKind, r.kind), "starts_at": r.appointment.starts_at,
                      "asked_at": r.created_at} for r in tasks.requests],
        "overdue": tasks.overdue,
        "follow_ups_due": tasks.follow_ups_due,
        "near_budget": [{"episode_id": t.episode_id, "name": t.name,
                         "hours": _("%(hours)s of 15 hours used", hours=format_decimal(round(t.minutes / 60, 1)))}
                        for t in tasks.near_budget],
        "unanswered": [{"episode_id": t.episode_id, "name": t.name, "at": t.at, "missing": t.missing}
                       for t in tasks.unanswered_tomorrow],
        "no_shows": [{"episode_id": t.episode_id, "name": t.name, "at": t.at} for t in tasks.no_shows],
        "near_budget_more": _more(len(tasks.near_budget), tasks.near_budget_total),
        "no_shows_more": _more(len(tasks.no_shows), tasks.no_shows_total),
        "dropout_notices": [{"episode_id": t.episode_id, "name": t.name, "missed_at": t.routine.missed_at,
                             "attempts": _("%(num)d failed contact attempts since %(date)s", num=t.routine.failed,
                                           date=format_date(t.routine.first_failed_at, "short"))}
                            for t in tasks.dropout_notices],
        "dropout_closes": [{"episode_id": t.episode_id, "name": t.name, "deadline": t.routine.deadline}
                           for t in tasks.dropout_closes],
        "task_count": tasks.count,
        "course_meetings": day.course_meetings,
    }
