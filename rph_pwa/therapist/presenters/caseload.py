"""My caseload: each episode's phase, offerings, next contact, scores with trend and flags, as
ready-made text. A caseload holds up to a few hundred rows, so every label is translated once per
page and the dates are formatted with the locale and time zone looked up once."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from ...codes import Offering, labels
from ...services.caseload import CaseloadPage, CaseloadRow
from .common import PHASES, datetime_formatter, page_links
from .day import change_text

FLAG_LABELS = {"urgent": _l("Urgent"), "deterioration": _l("Reliable deterioration"),
               "not_on_track": _l("Not on track"), "over_budget": _l("Over 15 hours"),
               "near_budget": _l("Near 15 hours")}


def caseload_rows(rows: list[CaseloadRow]) -> list[dict[str, Any]]:
    """The caseload's rows, ready for the table."""
    phases = {key: str(text) for key, text in PHASES.items()}
    offerings = {key: str(text) for key, text in labels(Offering).items()}
    flags = {key: str(text) for key, text in FLAG_LABELS.items()}
    changes: dict[int | None, str] = {}
    times: dict[Any, str] = {}
    when = datetime_formatter("short")

    def score_text(score) -> str:
        if score.change not in changes:
            changes[score.change] = change_text(score)
        change = changes[score.change]
        return f"{score.code}: {score.total} ({change})" if change else f"{score.code}: {score.total}"

    def next_contact(at) -> str:
        if at not in times:  # many contacts share a time slot
            times[at] = when(at)
        return times[at]

    return [{
        "episode_id": row.episode_id, "name": row.name, "phase": phases.get(row.phase, row.phase),
        "offerings": ", ".join(offerings[o] for o in row.offerings if o in offerings),
        "next_contact": next_contact(row.next_contact) if row.next_contact else "",
        "scores": [{"text": score_text(s), "trend": s.trend or "first"} for s in row.scores],
        "flags": [{"key": key, "label": flags.get(key, key)} for key in row.flag_keys],
    } for row in rows]


def caseload_pager(found: CaseloadPage, form) -> dict[str, Any] | None:
    """"Page 2 of 4" with links to the pages before and after, keeping the sort and the filters
    (None when everything fits on one page)."""
    keep = {name: form[name].data for name in ("sort", "phase", "offering") if form[name].data}
    if form.flagged.data:
        keep["flagged"] = "y"
    return page_links("therapist.caseload", found.page, found.pages, **keep)
