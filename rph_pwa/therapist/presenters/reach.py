"""The reach page: who the service reached, as tables of counts."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from ...codes import Channel, label
from ...services.statistics import Reach
from .common import GENDERS


def reach_tables(counts: Reach) -> list[dict[str, Any]]:
    """One table per breakdown (age, gender, municipality, channel), rows as (label, count)."""
    return [
        {"id": "age", "title": _("By age"), "heading": _("Age"), "rows": counts.by_age_band},
        {"id": "gender", "title": _("By gender"), "heading": _("Gender"),
         "rows": [(label(GENDERS, k), n) for k, n in counts.by_gender]},
        {"id": "municipality", "title": _("By municipality"), "heading": _("Municipality"),
         "rows": counts.by_municipality},
        {"id": "channel", "title": _("By channel"), "heading": _("Channel"),
         "rows": [(label(Channel, k), n) for k, n in counts.by_channel]},
    ]
