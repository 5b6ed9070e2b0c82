"""My caseload: each episode's phase, offerings, scores with trend and flags as labels."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from ...codes import label
from ...services.caseload import CaseloadRow
from .common import PHASES, offering_labels
from .day import score_views

FLAG_LABELS = {"urgent": _l("Urgent"), "deterioration": _l("Reliable deterioration"),
               "not_on_track": _l("Not on track"), "over_budget": _l("Over 15 hours"),
               "near_budget": _l("Near 15 hours")}


def caseload_row(row: CaseloadRow) -> dict[str, Any]:
    """One episode of the caseload, ready for the table."""
    return {
        "episode_id": row.episode_id, "name": row.name, "phase": label(PHASES, row.phase),
        "offerings": ", ".join(offering_labels(",".join(row.offerings))), "next_contact": row.next_contact,
        "scores": score_views(row.scores),
        "flags": [{"key": key, "label": label(FLAG_LABELS, key)} for key in row.flag_keys],
    }
