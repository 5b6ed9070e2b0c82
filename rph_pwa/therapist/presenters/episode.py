"""The episode of care page: flags, trends, item answers and contacts."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ... import charts
from ...codes import (
    ATTENDANCE,
    AppointmentKind,
    AppointmentStatus,
    MeetingMode,
    Offering,
    ReferralStatus,
    SickLeave,
    WorkStatus,
    label,
)
from ...localtime import to_local
from ...services import outcomes, triage
from .common import (
    INSTRUMENTS,
    PHASES,
    answered_items,
    band_label,
    date_formatter,
    datetime_formatter,
    episode_dates,
    form_name,
    functioning_answer,
    offering_labels,
    page_links,
    resident_phone,
    score_view,
    tel_link,
)

#: Labels of the intake checklist's points, keyed by `services.referrals.CHECKLIST_POINTS`.
CHECKLIST_LABELS = {
    "why_now": _l("Why they seek help now"), "expectations": _l("What they expect from us"), "goals": _l("Goals"),
    "development": _l("How the problems developed and what keeps them going"),
    "functioning": _l("Day-to-day functioning"), "family": _l("Family and network"),
    "work": _l("Work and sick leave"), "earlier_help": _l("Earlier help and treatment"),
    "resources": _l("Resources and values"), "trauma": _l("Trauma"), "substance_use": _l("Alcohol and drug use"),
    "suicide_questions": _l("Questions about suicidal thoughts"),
    "change_information": _l("Information about what change takes (effort between sessions)"),
    "children": _l("Children under 18 as relatives (a legal duty to ask)"),
    "minor_confidentiality": _l("Ages 16–17: the confidentiality rules that apply were explained"),
}
#: Calendar dates in chart descriptions (local time, BABEL_DEFAULT_TIMEZONE).
DATE_PATTERN = "dd.MM.yyyy"


def _trend(series: outcomes.Series, day) -> dict[str, Any]:
    """One instrument's chart and table (`outcomes.sampled_series`: the points the chart draws and
    the newest scores); the chart's description says first → last in words. `day` formats a date."""
    code, points = series.code, series.points
    bands = {band: band_label(code, band) for band in {p.band for p in series.latest}}
    first, last = points[0], points[-1]
    if series.count > 1:
        description = _("%(code)s went from %(first)s on %(first_at)s to %(last)s on %(last_at)s "
                        "(%(count)s measurements).", code=code, first=first.total,
                        first_at=format_date(first.at, DATE_PATTERN), last=last.total,
                        last_at=format_date(last.at, DATE_PATTERN), count=series.count)
    else:
        description = _("%(code)s was %(total)s on %(at)s (one measurement).", code=code, total=first.total,
                        at=format_date(first.at, DATE_PATTERN))
    # Labels as dd.MM in the local zone, written directly: Flask-Babel's format_date per point
    # cost more than the rest of the chart.
    chart_points = [charts.ChartPoint(p.at, p.total, f"{to_local(p.at):%d.%m}") for p in points]
    name = label(INSTRUMENTS, code)
    return {
        "code": code, "name": name, "id": "trend-" + code.lower().replace("-", ""), "description": description,
        "chart": charts.line_chart(chart_points, max_value=series.max_total,
                                   title=_("%(code)s (%(name)s) over time", code=code, name=name),
                                   description=description, chart_id="chart-" + code.lower().replace("-", "")),
        "rows": [{"day": day(p.at), "total": p.total, "band": bands[p.band]} for p in series.latest],
        "count": series.count, "older": series.count - len(series.latest),
    }


def _answered_form(response, lang: str) -> dict[str, Any]:
    """One response with every item's validated wording and the chosen answer (item 9 above 0 marked)."""
    items = answered_items(response, lang)
    return {**score_view(response.instrument_code, response.total, response.band, False),
            "code": form_name(response.instrument_code),  # our own forms by a plain label, not a code
            "id": response.id, "at": response.submitted_at, "items": items,
            "raised": any(item["raised"] for item in items), "functioning": response.functioning,
            "functioning_answer": functioning_answer(response, lang)}


def _form_states() -> dict[str, str]:
    """The wordings of a form's state before a contact, translated once for a list of contacts."""
    return {"answered_total": _("answered, total %(total)s"), "answered": _("answered"),
            "cancelled": _("not needed (contact cancelled)"), "opens": _("open from %(when)s"),
            "waiting": _("not yet answered"), "missed": _("not answered")}


def _form_state(request, appointment, totals: dict[int, int], now: datetime, words: dict[str, str],
                when) -> dict[str, Any]:
    """Whether a form asked before a contact is answered (with its total), open, coming or missed
    (`words`: `_form_states()`; `when`: a datetime formatter)."""
    total = totals.get(request.response_id) if request.response_id else None
    if request.response_id:
        state = words["answered_total"] % {"total": total} if total is not None else words["answered"]
    elif appointment.status == AppointmentStatus.CANCELLED:
        state = words["cancelled"]
    elif now < request.opens_at:
        state = words["opens"] % {"when": when(request.opens_at)}
    elif now <= appointment.starts_at + outcomes.CLOSES_AFTER:
        state = words["waiting"]
    else:
        state = words["missed"]
    return {"code": form_name(request.instrument_code), "state": state, "answered": bool(request.response_id)}


def _episode_flags(overview: outcomes.EpisodeOverview) -> list[dict[str, Any]]:
    """Each flag as a sentence; `serious` ones get the urgent badge, `action` names a button."""
    flags, episode, found = overview.flags, overview.episode, []
    if flags.urgent:
        found.append({"id": "urgent", "badge": _("Urgent"), "serious": True, "action": "followed_up",
                      "text": _("PHQ-9 item 9 (thoughts of being better off dead or of hurting oneself) was "
                                "answered above 0 on %(when)s. Contact the person, then mark it followed up.",
                                when=format_datetime(episode.urgent_since, "short"))})
    if flags.reliable_deterioration:
        changes = ", ".join(f"{s.code} {s.first} → {s.last}" for s in overview.series
                            if s.code in ("PHQ-9", "GAD-7"))
        found.append({"id": "deterioration", "badge": _("Clearly worse"), "serious": True,
                      "text": _("Scores are worse than at the first measurement by more than measurement error "
                                "(%(changes)s). Review the plan with the person.", changes=changes)})
    if flags.not_on_track:
        found.append({"id": "not-on-track", "badge": _("Not on track"), "serious": False,
                      "text": _("Not clearly better after %(count)s scored contacts (no change beyond "
                                "measurement error). Consider changing the plan or guiding the person onward.",
                                count=flags.scored_contacts)})
    found.append({"id": "budget", "badge": _("Over budget") if flags.over_budget else None,
                  "serious": flags.over_budget,
                  "text": _("%(used)s of %(budget)s hours used (attended contacts).",
                            used=format_decimal(flags.hours_used), budget=outcomes.BUDGET_HOURS)
                  + " " + _("The assessment conversation does not count.")})
    return found


def _offering_list(offerings: str) -> str:
    return ", ".join(label(Offering, o) for o in offerings.split(",") if o)


def answered_forms(responses) -> list[dict[str, Any]]:
    """Each response with its items, for the episode page and the older answers."""
    lang = str(get_locale())
    return [_answered_form(r, lang) for r in responses]


def contact_rows(appointments, totals: dict[int, int], *, now: datetime) -> list[dict[str, Any]]:
    """Each contact with its forms and the attendance buttons, for the episode page and the older
    contacts. Every wording is translated once for the list, not once per contact."""
    words, when, coming = _form_states(), datetime_formatter("short"), _("Coming")
    buttons = [(status.value, str(status.label)) for status in ATTENDANCE]
    return [{
        "id": a.id, "starts_at": a.starts_at, "when": when(a.starts_at), "kind": label(AppointmentKind, a.kind),
        "mode": label(MeetingMode, a.mode), "place": a.place or "", "duration": a.duration_minutes,
        "status": label(AppointmentStatus, a.status), "is_last": a.is_last,
        "staff": a.staff.display_name or a.staff.username,
        "coming": coming if a.resident_answer == "coming" else "",
        "forms": [_form_state(r, a, totals, now, words, when) for r in a.form_requests],
        "buttons": [(value, text) for value, text in buttons if value != a.status],
    } for a in appointments]


def episode_view(overview: outcomes.EpisodeOverview, *, now: datetime) -> dict[str, Any]:
    """Everything on the episode page that needs a label or a decision made outside the template.

    Uses only rows the overview already loaded, so the page's queries do not grow with the history.
    """
    episode, referral = overview.episode, overview.referral
    phone = resident_phone(overview.resident, referral.answers)
    checklist = overview.checklist
    points = triage.checklist_points(referral.age_band)
    return {
        "name": overview.resident.display_name or f"#{overview.resident.id}",
        "status": label(ReferralStatus, referral.status),
        "phase": label(PHASES, triage.phase_of(episode, referral, overview.contact_counts)),
        "offerings": offering_labels(episode.offerings),
        "dates": episode_dates(episode),
        "work_start": (label(WorkStatus, episode.work_status_start), label(SickLeave, episode.sick_leave_start)),
        "work_end": (label(WorkStatus, episode.work_status_end),
                     label(SickLeave, episode.sick_leave_end)) if episode.work_status_end else None,
        "referral_item9": "item9" in (referral.urgent_reason or "").split(","),
        "flags": _episode_flags(overview),
        "trends": [_trend(s, date_formatter("short")) for s in overview.series],
        "forms": answered_forms(overview.responses),
        "older_answers": max(0, overview.answers_total - len(overview.responses)),
        "contacts": contact_rows(overview.appointments, overview.response_totals, now=now),
        "older_contacts": max(0, overview.contacts_total - len(overview.appointments)),
        "discharged": episode.discharged_at is not None,
        "phone": phone, "tel": tel_link(phone),
        "instruments": [form_name(c) for c in episode.instruments.split(",") if c],
        "checklist": [{"label": str(CHECKLIST_LABELS[p]), "done": bool(checklist and getattr(checklist, p))}
                      for p in points],
        "checklist_saved": checklist.updated_at if checklist else None,
        "offering_changes": [{
            "at": c.at, "staff": c.staff.display_name or c.staff.username, "note": c.note,
            "from": _offering_list(c.from_offerings) or _("None"),
            "to": _offering_list(c.to_offerings),
        } for c in overview.offering_changes],
        "item9_answers": [(int(a.value), a.at) for a in overview.item9_answers],
    }


def history_view(page: outcomes.HistoryPage, endpoint: str) -> dict[str, Any]:
    """The name and the page links of a page of older answers or contacts (the newer page of the
    first is the episode page itself)."""
    return {"name": page.resident.display_name or f"#{page.resident.id}", "episode_id": page.episode.id,
            "page": page.page, "pages": page.pages, "total": page.total, "empty": not page.rows,
            "pager": page_links(endpoint, page.page, page.pages, episode_id=page.episode.id)}
