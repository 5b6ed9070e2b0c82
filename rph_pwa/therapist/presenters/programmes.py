"""Guided self-help pages for staff: the programme library (every module with its sign-off status
and the team's ratings), the choice of programme, the open programme's modules and their states,
and the sleep window's diary and suggestion."""
from __future__ import annotations

from typing import Any

from flask_babel import format_date, format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from ...selfhelp import content
from ...selfhelp.worksheets import WORKSHEETS
from ...services.external_programmes import TeamProgramme, is_link
from ...services.selfhelp import ModuleState, programme_modules, programme_title
from ...services.selfhelp_library import Rating
from ..selfhelp_forms import PACE_CHOICES, programme_value, weekday_choices

#: What the suggestion proposes, in words.
CHANGES = {"start": _l("A first window from the mean time asleep"),
           "widen": _l("Widen: the person sleeps most of the time in bed"),
           "keep": _l("Keep the window as it is"),
           "narrow": _l("Narrow: much of the time in bed is spent awake")}


def status_label(module: content.Module) -> str:
    if module.review is None:
        return _("Draft: not yet reviewed by a clinician")
    return _("Reviewed by %(name)s on %(date)s", name=module.review.by, date=format_date(module.review.on))


def rating_label(rating: Rating | None) -> str:
    if rating is None or not rating.count:
        return _("No ratings yet")
    return ngettext("%(num)d rating, mean %(mean)s of 5", "%(num)d ratings, mean %(mean)s of 5", rating.count,
                    mean=format_decimal(round(rating.mean, 1), format="0.0"))


def shipped_programme(programme: content.Programme, locale: str, ratings: dict[tuple[str, str], Rating],
                      *, with_text: bool = False) -> dict[str, Any]:
    """A shipped programme for the library: title, for whom, weeks and its modules."""
    modules = []
    for number, module in enumerate(programme.modules, start=1):
        modules.append({
            "number": number, "key": module.key, "title": content.localized(module.titles, locale),
            "minutes": module.minutes, "exercise": content.localized(module.exercises, locale),
            "worksheet": str(WORKSHEETS[module.worksheet].title), "draft": module.is_draft,
            "status": status_label(module), "rating": rating_label(ratings.get((programme.slug, module.key))),
            "html": content.localized(module.html, locale) if with_text else None,
            "id": f"module-{number}",
        })
    return {"slug": programme.slug, "title": content.localized(programme.titles, locale),
            "for_whom": content.localized(programme.for_whoms, locale), "weeks": programme.weeks, "modules": modules}


def team_programme(row: TeamProgramme, ratings: dict[tuple[str, str], Rating]) -> dict[str, Any]:
    """A team's own programme for the lists: its chapters with link or pages."""
    programme = row.programme
    modules = [{"number": number, "title": m.get("title", ""), "where": m.get("where", ""),
                "link": is_link(m.get("where")),
                "rating": rating_label(ratings.get((f"external:{programme.id}", f"{number:02d}")))}
               for number, m in enumerate(programme.modules, start=1)]
    return {"id": programme.id, "title": programme.title, "team": row.team_name, "weeks": programme.weeks,
            "retired": programme.retired_at is not None, "modules": modules}


def programme_choices(locale: str, team_rows: list[TeamProgramme], *, team_id: int | None = None
                      ) -> dict[str, list[SelectChoice]]:
    """The programme select's groups: the app's programmes, then each team's own (only `team_id`'s
    when given). Retired programmes are left out."""
    groups: dict[str, list[SelectChoice]] = {
        _("Programmes in the app"): [SelectChoice(programme_value(p.slug), content.localized(p.titles, locale))
                                     for p in content.programmes().values()]}
    for row in team_rows:
        if row.programme.retired_at is None and (team_id is None or row.programme.team_id == team_id):
            label = _("The team's own programmes: %(team)s", team=row.team_name)
            groups.setdefault(label, []).append(SelectChoice(programme_value(external_id=row.programme.id),
                                                             row.programme.title))
    return groups


def state_label(state: ModuleState) -> str:
    if state.finished_at is not None:
        return _("Finished")
    if state.first_read_at is not None:
        return _("Read, not finished")
    if state.opened_early:
        return _("Opened early")
    return _("Open") if state.available else _("Not open yet")


def open_programme(assignment, states: list[ModuleState], locale: str) -> dict[str, Any]:
    """The episode's open programme: title, pace, check-in day and each module's state."""
    days = {c.value: c.label for c in weekday_choices()}
    paces = {c.value: c.label for c in PACE_CHOICES}
    return {
        "id": assignment.id, "title": programme_title(assignment, locale), "slug": assignment.programme,
        "pace": str(paces.get(assignment.pace, assignment.pace)),
        "weekday": days.get(str(assignment.checkin_weekday), ""),
        "starts_on": assignment.starts_on, "count": len(programme_modules(assignment)),
        "modules": [{"number": s.item.number, "title": s.item.title, "state": state_label(s),
                     "rating": str(s.rating) if s.rating else "", "where": s.item.where,
                     "link": is_link(s.item.where)} for s in states],
    }


def hours(minutes: int) -> str:
    """Minutes as "6 h 15 min"."""
    return _("%(hours)d h %(minutes)02d min", hours=minutes // 60, minutes=minutes % 60)


def change_label(change: str) -> str:
    return str(CHANGES.get(change, change))
