"""The triage queue: each referral as a card with its labels."""
from __future__ import annotations

from typing import Any

from ...codes import Channel, Problem, SickLeave, WorkStatus, label
from ...services.triage import QueueItem
from .common import PHASES, URGENT_REASONS, score_view


def queue_card(item: QueueItem) -> dict[str, Any]:
    """A queue item with every stable key turned into a label for the card."""
    return {
        "id": item.id, "name": item.name, "urgent": item.urgent, "municipality": item.municipality,
        "reasons": [label(URGENT_REASONS, r) for r in item.urgent_reason.split(",") if r],
        "days_waited": item.days_waited, "status": label(PHASES, item.phase),
        "channel": label(Channel, item.channel) if item.channel != Channel.APP else "",
        "scores": [score_view(s.code, s.total, s.band, s.flagged) for s in item.scores],
        "item9": item.item9, "item9_raised": bool(item.item9),
        "work_status": label(WorkStatus, item.work_status),
        "sick_leave": label(SickLeave, item.sick_leave),
        "problems": [label(Problem, p) for p in item.problems],
        "goals": item.goals, "own_words": item.own_words,
    }
