"""The triage queue: each referral as a card with its labels, and the page links."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import url_for
from flask_babel import format_number, ngettext
from flask_babel import gettext as _

from ...codes import Channel, Problem, SickLeave, WorkStatus, label
from ...services.triage import QueueItem, QueuePage
from .common import PHASES, URGENT_REASONS, page_links, score_view


def queue_cards(items: list[QueueItem]) -> list[dict[str, Any]]:
    """Each queue item as a card, every stable key turned into a label. A page repeats the same
    few labels, scores and waiting times: each is translated once per page."""
    memo: dict[tuple[Any, ...], Any] = {}

    def once(key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        if key not in memo:
            memo[key] = make()
        return memo[key]

    opened_from = _("from %(name)s")  # the words only: each card's name is put in below
    link = url_for("therapist.referral", referral_id=0)  # the referral page's URL with "0" for its id

    def card(item: QueueItem) -> dict[str, Any]:
        return {
            "id": item.id, "url": link.replace("/0", f"/{item.id}", 1), "name": item.name, "urgent": item.urgent,
            "municipality": item.municipality,
            "reasons": [once(("reason", r), lambda r=r: label(URGENT_REASONS, r))
                        for r in item.urgent_reason.split(",") if r],
            "waited": once(("waited", item.days_waited),
                           lambda: ngettext("%(num)d day", "%(num)d days", item.days_waited)),
            "status": once(("phase", item.phase), lambda: label(PHASES, item.phase)),
            "channel": once(("channel", item.channel), lambda: label(Channel, item.channel))
            if item.channel != Channel.APP else "",
            "scores": [once(("score", s.code, s.total, s.band, s.flagged),
                            lambda s=s: score_view(s.code, s.total, s.band, s.flagged)) for s in item.scores],
            "item9": item.item9, "item9_raised": bool(item.item9),
            "work_status": once(("work", item.work_status), lambda: label(WorkStatus, item.work_status)),
            "sick_leave": once(("leave", item.sick_leave), lambda: label(SickLeave, item.sick_leave)),
            "problems": [once(("problem", p), lambda p=p: label(Problem, p)) for p in item.problems],
            "goals": item.goals, "own_words": item.own_words,
            "opened_from": opened_from % {"name": item.name},
        }

    return [card(item) for item in items]


def queue_pager(queue: QueuePage) -> dict[str, Any]:
    """"Showing 51–100 of 2,000", "Page 2 of 40" and the links to the pages before and after (the
    page number is the only thing in the address)."""

    return {"showing": _("Showing %(first)s–%(last)s of %(total)s", first=format_number(queue.first),
                         last=format_number(queue.last), total=format_number(queue.total)) if queue.items else "",
            **(page_links("therapist.triage", queue.page, queue.pages) or {"text": "", "previous": None, "next": None})}
