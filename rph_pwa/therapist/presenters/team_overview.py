"""The team lead's view: caseload per therapist, the waiting list, requests and the expected wait
with how sure it is, in words."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from ...codes import label
from ...services.team_overview import TeamOverview

CONFIDENCE = {"low": _l("Not sure: few people have started lately"), "medium": _l("Fairly sure"),
              "high": _l("Sure")}


def team_view(team: TeamOverview, *, now: datetime) -> dict[str, Any]:
    """One team, with the longest wait in days and the estimate's certainty in words."""
    estimate = team.estimate
    return {
        "id": team.team_id, "name": team.name,
        "loads": [{"name": load.name, "responsible": load.staff_id is not None, "episodes": load.episodes}
                  for load in team.loads],
        "waiting": team.waiting,
        "longest_days": (now - team.longest_wait_since).days if team.longest_wait_since else None,
        "requests": team.open_requests,
        "estimate": None if estimate is None else {
            "low": estimate.low_days, "high": estimate.high_days, "starts": estimate.starts,
            "referrals": estimate.referrals, "growing": estimate.growing,
            "confidence": label(CONFIDENCE, estimate.confidence), "sure": estimate.confidence},
    }
