"""The triage queue: each referral as a card with its labels, and the page links."""
from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import format_number
from flask_babel import gettext as _

from ...codes import Channel, Problem, SickLeave, WorkStatus, label
from ...services.triage import QueueItem, QueuePage
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


def queue_pager(queue: QueuePage) -> dict[str, Any]:
    """"Showing 51–100 of 2,000", "Page 2 of 40" and the links to the pages before and after (the
    page number is the only thing in the address)."""

    def page_url(page: int) -> str:
        return url_for("therapist.triage", page=page)

    return {"showing": _("Showing %(first)s–%(last)s of %(total)s", first=format_number(queue.first),
                         last=format_number(queue.last), total=format_number(queue.total)) if queue.items else "",
            "text": _("Page %(page)d of %(pages)d", page=queue.page, pages=queue.pages) if queue.pages > 1 else "",
            "previous": page_url(queue.page - 1) if queue.page > 1 else None,
            "next": page_url(queue.page + 1) if queue.page < queue.pages else None}
