"""The sleep window of an assignment: the app's suggestion from the resident's last week of sleep
diary (`rph_pwa.selfhelp.sleep_window`), the therapist's approval, and the approved window the
resident sees. The therapist decides; only an approved window is shown to the resident.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..localtime import local_today
from ..models import SelfHelpAssignment, SleepWindow, User, Worksheet
from ..selfhelp import sleep_window
from ..selfhelp.sleep_window import NIGHTS, Night, NoSuggestion, Suggestion
from . import audit
from .access import team_object
from .errors import Conflict

DIARY = "sleep_diary"


@dataclass(frozen=True)
class SleepWindowPage:
    """What the therapist's page shows: the diary's last nights, the suggestion (or why there is
    none) and the approved window now."""

    assignment: SelfHelpAssignment
    nights: list[Night]
    suggestion: Suggestion | NoSuggestion
    current: SleepWindow | None


def diary_entries(session: Session, *, resident_id: int) -> list[dict]:
    """The resident's sleep-diary answers for the last week's nights, decrypted, oldest first (one query)."""
    today = local_today()
    rows = session.scalars(select(Worksheet)
                           .where(Worksheet.resident_id == resident_id, Worksheet.kind == DIARY,
                                  Worksheet.for_date >= today - timedelta(days=NIGHTS), Worksheet.for_date <= today)
                           .order_by(Worksheet.for_date, Worksheet.updated_at, Worksheet.id))
    return [dict(row.content or {}) for row in rows]


def approved_window(session: Session, *, assignment_id: int) -> SleepWindow | None:
    """The latest approved window of an assignment, or None (the caller has checked access: the
    resident's own assignment, or staff through `suggestion_for`)."""
    return session.scalars(select(SleepWindow).where(SleepWindow.assignment_id == assignment_id)
                           .order_by(SleepWindow.approved_at.desc(), SleepWindow.id.desc()).limit(1)).first()


def _assignment(session: Session, actor: User, assignment_id: int) -> SelfHelpAssignment:
    return team_object(session, actor, SelfHelpAssignment, assignment_id, what="assignment")


def _suggest(session: Session, assignment: SelfHelpAssignment) -> tuple[list[dict], SleepWindow | None,
                                                                        Suggestion | NoSuggestion]:
    entries = diary_entries(session, resident_id=assignment.resident_id)
    current = approved_window(session, assignment_id=assignment.id)
    return entries, current, sleep_window.suggest(entries, current.window if current is not None else None)


def suggestion_for(session: Session, *, actor: User, assignment_id: int) -> SleepWindowPage:
    """The diary's last nights, the suggestion and the approved window (access-checked, audited)."""
    assignment = _assignment(session, actor, assignment_id)
    entries, current, suggestion = _suggest(session, assignment)
    audit.record(session, actor=actor, subject=session.get(User, assignment.resident_id), action="view_sleep_diary",
                 object_type="sleep_diary", object_id=assignment.id, team_id=assignment.team_id)
    return SleepWindowPage(assignment=assignment, nights=sleep_window.last_nights(entries), suggestion=suggestion,
                           current=current)


def approve(session: Session, *, actor: User, assignment_id: int, bedtime: time | str,
            rise: time | str) -> SleepWindow:
    """The therapist approves a window (the suggestion's times or their own), kept with the
    suggestion it was based on. Never under five hours (ValueError); the programme must be open
    (Conflict). Access-checked and audited."""
    assignment = _assignment(session, actor, assignment_id)
    if assignment.ended_at is not None:
        raise Conflict("programme ended")
    bedtime, rise = (t.strftime("%H:%M") if isinstance(t, time) else str(t) for t in (bedtime, rise))
    minutes = sleep_window.window_minutes(bedtime, rise)  # ValueError for a time that is not one
    if minutes < sleep_window.MINIMUM_MINUTES:
        raise ValueError("under five hours")
    _entries, _current, suggestion = _suggest(session, assignment)
    window = {"bedtime": bedtime, "rise": rise, "minutes": minutes,
              "efficiency": suggestion.efficiency if suggestion else None,
              "nights": suggestion.nights,
              "suggested": suggestion.as_dict() if suggestion else None}
    row = SleepWindow(assignment_id=assignment.id, window=window, approved_by_id=actor.id)
    session.add(row)
    audit.record(session, actor=actor, subject=session.get(User, assignment.resident_id),
                 action="approve_sleep_window", object_type="sleep_window", object_id=assignment.id,
                 team_id=assignment.team_id)
    return row
