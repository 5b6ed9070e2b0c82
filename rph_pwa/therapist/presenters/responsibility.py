"""The responsible therapist on the referral and episode pages: who it is now, and on the
episode page each choice and hand-over with its note."""
from __future__ import annotations

from typing import Any

from ...models import Episode, ResponsibleChange
from .common import staff_name


def responsible_view(episode: Episode, changes: list[ResponsibleChange] = ()) -> dict[str, Any]:
    """The name of the responsible therapist (None: not chosen yet), whether it can still be
    changed (not once the episode has ended), and the history, oldest first."""
    return {
        "name": staff_name(episode.responsible) if episode.responsible is not None else None,
        "can_change": episode.discharged_at is None,
        "changes": [{"at": c.at, "staff": staff_name(c.staff), "to": staff_name(c.to_staff),
                     "from": staff_name(c.from_staff) if c.from_staff is not None else None, "note": c.note or ""}
                    for c in changes],
    }
