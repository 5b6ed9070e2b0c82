"""Presentation for the staff pages: stable keys (bands, statuses, answer options) turned into
translated labels, and referral data shaped for the templates, so templates decide nothing."""
from __future__ import annotations

from typing import Any

from flask import g
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import measures
from ..services import referrals, statistics
from ..services import triage as svc
from .forms import CONTACT_METHODS, CONTACT_OUTCOMES, MEETING_MODES, OFFERING_LABELS


def reach_tables(counts: statistics.Reach) -> list[dict[str, Any]]:
    return [
        {"id": "age", "title": _("By age"), "heading": _("Age"), "rows": counts.by_age_band},
        {"id": "gender", "title": _("By gender"), "heading": _("Gender"),
         "rows": [(_label(GENDERS, k), n) for k, n in counts.by_gender]},
        {"id": "municipality", "title": _("By municipality"), "heading": _("Municipality"),
         "rows": counts.by_municipality},
        {"id": "channel", "title": _("By channel"), "heading": _("Channel"),
         "rows": [(_label(CHANNELS, k), n) for k, n in counts.by_channel]},
    ]


# --- Presentation: stable keys to translated labels (templates make no clinical decisions) ------

BANDS = {
    "minimal": _l("Minimal"), "mild": _l("Mild"), "moderate": _l("Moderate"),
    "moderately_severe": _l("Moderately severe"), "severe": _l("Severe"),
    "subclinical": _l("Subclinical"), "significant": _l("Significant impairment"),
    "low": _l("Below the cut-off"), "elevated": _l("At or above the cut-off"),
    "none": _l("No drug use"), "some_use": _l("Some drug use"),
    "concern": _l("Worth talking about together"), "good": _l("Good"),
}
#: Where one band key means something else for one instrument.
INSTRUMENT_BANDS = {("WSAS", "severe"): _l("Moderately severe impairment or worse")}
INSTRUMENTS = {"PHQ-9": _l("Depression"), "GAD-7": _l("Anxiety"), "WSAS": _l("Work and social functioning"),
               "AUDIT-C": _l("Alcohol"), "DUDIT-C": _l("Drugs"), "SESSION-FEEDBACK": _l("Session feedback")}
STATUSES = {"new": _l("New"), "in_contact": _l("In contact"), "assessed": _l("Assessed"), "accepted": _l("Accepted"),
            "guided_onward": _l("Guided onward"), "closed": _l("Closed")}
#: Labels of an episode's phase, keyed by `services.triage.PHASES`.
PHASES = {"waiting_assessment": _l("Waiting for assessment"), "assessment_booked": _l("Assessment booked"),
          "assessed": _l("Assessed, treatment not started"), "in_treatment": _l("In treatment"),
          "following_up": _l("Guided onward, following up"), "ended": _l("Ended")}
URGENT_REASONS = {"item9": _l("PHQ-9 item 9 above 0"), "crisis": _l("Said they are in crisis now")}
GENDERS = {"female": _l("Woman"), "woman": _l("Woman"), "male": _l("Man"), "man": _l("Man"),
           "other": _l("Other"), "unspecified": _l("Not given")}
CHANNELS = {"app": _l("App"), "phone": _l("Phone"), "paper": _l("Paper form")}
YES_NO_UNSURE = {"yes": _l("Yes"), "no": _l("No"), "unsure": _l("Unsure"), "not_relevant": _l("Not relevant")}
#: Labels of the self-referral's answer options (the same wording the resident saw).
CHOICES = {
    "problems": {"anxiety": _l("Worry, fear or anxiety"), "low_mood": _l("Low mood or feeling down"),
                 "sleep": _l("Sleep problems"), "substances": _l("Alcohol, drugs or medicines"),
                 "stress": _l("Stress or feeling burnt out"), "other": _l("Something else")},
    "duration": {"lt_3m": _l("Less than 3 months"), "3_12m": _l("3 to 12 months"), "gt_1y": _l("More than a year")},
    "work_status": {"working": _l("Working"), "studying": _l("Studying or at school"),
                    "job_seeking": _l("Looking for work"), "benefits": _l("Receives benefits (for example from NAV)"),
                    "retired": _l("Retired"), "other": _l("Other")},
    "sick_leave": {"none": _l("No"), "graded": _l("Partly (graded)"), "full": _l("Fully")},
    "return_to_work": YES_NO_UNSURE,
    "crisis": YES_NO_UNSURE,
    "gender": GENDERS,
}
#: The referral form's sections and answers, in the order the page shows them. Answers a resident
#: gave that are not listed here are still shown (with a plain label), so nothing is hidden.
SECTIONS = (
    ("eligibility", _l("Who and where"), (("age", _l("Age")), ("municipality_id", _l("Lives in")),
                                          ("crisis", _l("In acute crisis or thinking about ending their life")))),
    ("troubles", _l("What they want help with"), (
        ("problems", _l("Troubled by")), ("own_words", _l("In their own words")), ("duration", _l("For how long")),
        ("goals", _l("Goals")), ("earlier_help", _l("Earlier help")))),
    ("work", _l("Work"), (
        ("work_status", _l("Work status")), ("sick_leave", _l("Sick leave")),
        ("sick_leave_percent", _l("Sick leave, per cent")),
        ("return_to_work", _l("Thinks they can go back to work within a few weeks")))),
    ("contact", _l("Contact"), (
        ("name", _l("Name")), ("phone", _l("Mobile number")), ("email", _l("E-mail")),
        ("contact_times", _l("Best time to call")), ("voicemail_ok", _l("Voicemail allowed")),
        ("sms_ok", _l("Text messages (SMS) allowed")), ("meeting_municipality_id", _l("Prefers to meet in")),
        ("gp_consent", _l("Consents to informing their GP")), ("gp_name", _l("GP")),
        ("interpreter", _l("Needs an interpreter")), ("language_needs", _l("Language and other needs")),
        ("gender", _l("Gender")))),
)
#: Questions shown even when unanswered, because the team acts on them.
ALWAYS_SHOWN = {"own_words", "goals", "work_status", "sick_leave", "voicemail_ok", "sms_ok",
                "meeting_municipality_id", "gp_consent", "gp_name", "interpreter", "language_needs"}
#: Bookkeeping keys of the form steps, not answers.
SKIP_KEYS = {"complete", "raw", "step", "answers", "functioning"}


def _label(mapping: dict[str, Any], key: str | None) -> str:
    """The translated label of a stable key; an unknown key is shown readably rather than hidden.

    Labels are cached for the request: a queue of hundreds of cards repeats the same few labels.
    """
    if key is None or key == "":
        return _("Not answered")
    if key not in mapping:
        return str(key).replace("_", " ").capitalize()
    cache = g.setdefault("label_cache", {})
    marker = (id(mapping), key)
    if marker not in cache:
        cache[marker] = str(mapping[key])
    return cache[marker]


def _value(key: str, value: Any, referral) -> str:
    if key == "municipality_id":
        return referral.municipality.name
    if key == "meeting_municipality_id":
        return referral.meeting_municipality.name if referral.meeting_municipality else _("No preference")
    if value is None or value == "" or value == []:
        return _("Not answered")
    if isinstance(value, bool) or value in ("yes", "no"):
        return _("Yes") if value in (True, "yes") else _("No")
    if isinstance(value, list):
        return ", ".join(_label(CHOICES.get(key, {}), str(v)) for v in value)
    if isinstance(value, str) and key in CHOICES:
        return _label(CHOICES[key], value)
    return str(value)


def _answer_sections(answers: dict[str, Any], referral) -> list[dict[str, Any]]:
    """The referral's answers as titled lists of (label, value), known questions first."""
    known = {name for name, _title, _fields in SECTIONS}
    sections = []
    for name, title, fields in SECTIONS:
        data = answers.get(name) or {}
        listed = {key for key, _lbl in fields}
        rows = [(str(lbl), _value(key, data.get(key), referral)) for key, lbl in fields
                if key in data or key in ALWAYS_SHOWN]
        rows += [(_label({}, key), _value(key, v, referral)) for key, v in data.items()
                 if key not in listed and key not in SKIP_KEYS]
        sections.append({"title": str(title), "rows": rows})
    for name, data in answers.items():
        if name not in known and name != referrals.DECLINED_KEY and isinstance(data, dict):
            rows = [(_label({}, k), _value(k, v, referral)) for k, v in data.items() if k not in SKIP_KEYS]
            if rows:
                sections.append({"title": _label({}, name), "rows": rows})
    return sections


def _score_view(code: str, total: int, band: str, flagged: bool) -> dict[str, Any]:
    label = INSTRUMENT_BANDS.get((code, band)) or _label(BANDS, band)
    return {"code": code, "name": _label(INSTRUMENTS, code), "total": total, "band": str(label), "flagged": flagged,
            "unverified": _unverified(code)}


def _unverified(code: str) -> bool:
    """Whether the instrument's Norwegian wording is not verified (staff see a label)."""
    try:
        return not measures.get(code).verified_wording
    except KeyError:
        return False


def queue_card(item: svc.QueueItem) -> dict[str, Any]:
    """A queue item with every stable key turned into a label for the card."""
    return {
        "id": item.id, "name": item.name, "urgent": item.urgent, "municipality": item.municipality,
        "reasons": [_label(URGENT_REASONS, r) for r in item.urgent_reason.split(",") if r],
        "days_waited": item.days_waited, "status": _label(PHASES, item.phase),
        "channel": _label(CHANNELS, item.channel) if item.channel != "app" else "",
        "scores": [_score_view(s.code, s.total, s.band, s.flagged) for s in item.scores],
        "item9": item.item9, "item9_raised": bool(item.item9),
        "work_status": _label(CHOICES["work_status"], item.work_status),
        "sick_leave": _label(CHOICES["sick_leave"], item.sick_leave),
        "problems": [_label(CHOICES["problems"], p) for p in item.problems],
        "goals": item.goals, "own_words": item.own_words,
    }


def _responses(referral) -> list[dict[str, Any]]:
    """Each questionnaire: total, band and the answer to every item (PHQ-9 item 9 above 0 marked)."""
    rows, lang = [], str(get_locale())
    for response in referral.responses:
        answers = response.answers
        flags = set(filter(None, response.flags.split(",")))
        items = [{"number": n, "value": v, **_item_wording(response, n - 1, v, lang),
                  "raised": response.instrument_code == "PHQ-9" and n == 9 and bool(v)}
                 for n, v in enumerate(answers, start=1)]
        rows.append({**_score_view(response.instrument_code, response.total, response.band, bool(flags)),
                     "items": items, "functioning": response.functioning, "version": response.instrument_version,
                     "functioning_answer": _functioning_answer(response, lang),
                     "attribution": _attribution(response, lang)})
    return rows


def _attribution(response, lang: str) -> str:
    """The instrument's citation and where its scoring guide is (for staff; residents do not see it)."""
    try:
        instrument = measures.get(response.instrument_code, int(response.instrument_version))
        return measures.text(instrument.attribution, lang) if instrument.attribution else ""
    except (KeyError, ValueError, LookupError):
        return ""


def _item_wording(response, index: int, value: int, lang: str) -> dict[str, str]:
    """The validated wording of one item and of the chosen answer, in the version the person
    answered (empty if the version is unknown, so the number still shows)."""
    try:
        instrument = measures.get(response.instrument_code, int(response.instrument_version))
        item = instrument.items[index]
        option = next((o for o in instrument.options_for(item) if o.value == value), None)
        return {"text": measures.text(item.text, lang),
                "answer": measures.text(option.label, lang) if option else ""}
    except (KeyError, ValueError, IndexError, LookupError):
        return {"text": "", "answer": ""}


def _functioning_answer(response, lang: str) -> str:
    """The wording of the answer to the (unscored) functioning question, if there is one."""
    try:
        question = measures.get(response.instrument_code, int(response.instrument_version)).functioning_question
    except (KeyError, ValueError):
        return ""
    option = next((o for o in question.options if o.value == response.functioning), None) if question else None
    return measures.text(option.label, lang) if option else ""


def referral_view(detail: svc.ReferralDetail) -> dict[str, Any]:
    """Everything on the referral page that needs a label or a decision made outside the template."""
    referral, episode, checklist = detail.referral, detail.episode, detail.checklist
    phase = svc.phase_of(episode, referral, detail.appointments)
    return {
        "name": referral.resident.display_name or f"#{referral.resident_id}",
        "status": _label(STATUSES, referral.status),
        "phase": _label(PHASES, phase), "phase_key": phase,
        "reasons": [_label(URGENT_REASONS, r) for r in (referral.urgent_reason or "").split(",") if r],
        "channel": _label(CHANNELS, referral.channel),
        "sections": _answer_sections(detail.answers, referral),
        "responses": _responses(referral),
        "declined": [{"code": code, "name": _label(INSTRUMENTS, code), "unverified": _unverified(code)}
                     for code in (detail.answers.get(referrals.DECLINED_KEY) or {})],
        "dates": [(_("Referred"), episode.referred_at), (_("First contact"), episode.first_contact_at),
                  (_("Assessed"), episode.assessed_at), (_("First treatment"), episode.first_treatment_at),
                  (_("Discharged"), episode.discharged_at)],
        "offerings": [str(OFFERING_LABELS[o]) for o in episode.offerings.split(",") if o in OFFERING_LABELS],
        "attempts": [{"at": a.at, "staff": a.staff.display_name or a.staff.username,
                      "method": _label(CONTACT_METHODS, a.method), "outcome": _label(CONTACT_OUTCOMES, a.outcome),
                      "note": a.note or ""} for a in detail.attempts],
        "appointments": [{"starts_at": a.starts_at, "mode": _label(MEETING_MODES, a.mode), "place": a.place or "",
                          "kind": _("Information and assessment conversation") if a.kind == "assessment"
                          else _("Treatment"), "staff": a.staff.display_name or a.staff.username}
                         for a in detail.appointments],
        "checklist_saved": checklist.updated_at if checklist else None,
        "checklist_points": svc.checklist_points(referral.age_band),
        "phone": resident_phone(referral.resident, detail.answers),
        "tel": tel_link(resident_phone(referral.resident, detail.answers)),
        "onward": detail.onward_service.name if detail.onward_service else None,
    }


# --- The episode of care: flags, trends, item answers and contacts ------------------------------
# Imported here, not at the top: this section was appended while others edited the module.
from datetime import datetime  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

from flask_babel import format_datetime, format_decimal  # noqa: E402

from .. import charts  # noqa: E402
from ..services import outcomes  # noqa: E402

#: Charts label their points with Norwegian calendar dates (the database keeps UTC).
LOCAL_ZONE = ZoneInfo("Europe/Oslo")
#: Labels of the kinds of contact, keyed by `models.referrals.APPOINTMENT_KINDS`.
CONTACT_KINDS = {"assessment": _l("Assessment"), "treatment": _l("Treatment"),
                 "check_in": _l("Guided self-help check-in"), "course_meeting": _l("Course meeting")}
#: Labels of a contact's status, keyed by `models.referrals.APPOINTMENT_STATUSES`.
CONTACT_STATUSES = {"booked": _l("Booked"), "attended": _l("Attended"), "no_show": _l("Did not attend"),
                    "cancelled": _l("Cancelled")}
#: The per-contact buttons, in the order shown.
ATTENDANCE_BUTTONS = (("attended", _l("Attended")), ("no_show", _l("Did not attend")),
                      ("cancelled", _l("Cancelled")))


def _local(moment: datetime, pattern: str) -> str:
    return moment.astimezone(LOCAL_ZONE).strftime(pattern)


def _trend(series: outcomes.Series, responses: list) -> dict[str, Any]:
    """One instrument's chart and table; the chart's description says first → last in words."""
    code, points = series.code, series.points
    first, last = points[0], points[-1]
    if len(points) > 1:
        description = _("%(code)s went from %(first)s on %(first_at)s to %(last)s on %(last_at)s "
                        "(%(count)s measurements).", code=code, first=first.total,
                        first_at=_local(first.at, "%d.%m.%Y"), last=last.total,
                        last_at=_local(last.at, "%d.%m.%Y"), count=len(points))
    else:
        description = _("%(code)s was %(total)s on %(at)s (one measurement).", code=code, total=first.total,
                        at=_local(first.at, "%d.%m.%Y"))
    chart_points = [charts.ChartPoint(p.at, p.total, _local(p.at, "%d.%m")) for p in points]
    name = _label(INSTRUMENTS, code)
    return {
        "code": code, "name": name, "id": "trend-" + code.lower().replace("-", ""), "description": description,
        "chart": charts.line_chart(chart_points, max_value=series.max_total,
                                   title=_("%(code)s (%(name)s) over time", code=code, name=name),
                                   description=description, chart_id="chart-" + code.lower().replace("-", "")),
        "rows": [{"at": r.submitted_at, "total": r.total,
                  "band": _score_view(r.instrument_code, r.total, r.band, False)["band"]}
                 for r in responses if r.instrument_code == code],
    }


def _answered_form(response, lang: str) -> dict[str, Any]:
    """One response with every item's validated wording and the chosen answer (item 9 above 0 marked)."""
    answers = response.answers
    items = [{"number": n, "value": v, **_item_wording(response, n - 1, v, lang),
              "raised": response.instrument_code == "PHQ-9" and n == 9 and bool(v)}
             for n, v in enumerate(answers, start=1)]
    return {**_score_view(response.instrument_code, response.total, response.band, False),
            "code": form_name(response.instrument_code),  # our own forms by a plain label, not a code
            "id": response.id, "at": response.submitted_at, "items": items,
            "raised": any(item["raised"] for item in items), "functioning": response.functioning,
            "functioning_answer": _functioning_answer(response, lang)}


def _form_state(request, appointment, responses_by_id: dict, now: datetime) -> dict[str, Any]:
    """Whether a form asked before a contact is answered (with its total), open, coming or missed."""
    response = responses_by_id.get(request.response_id) if request.response_id else None
    if request.response_id:
        state = (_("answered, total %(total)s", total=response.total) if response is not None
                 else _("answered"))
    elif appointment.status == "cancelled":
        state = _("not needed (contact cancelled)")
    elif now < request.opens_at:
        state = _("open from %(when)s", when=format_datetime(request.opens_at, "short"))
    elif now <= appointment.starts_at + outcomes.CLOSES_AFTER:
        state = _("not yet answered")
    else:
        state = _("not answered")
    return {"code": form_name(request.instrument_code), "state": state, "answered": bool(request.response_id)}


#: Forms known by their short name among staff; others (our own session feedback) by a plain label.
NAMED_BY_CODE = ("PHQ-9", "GAD-7", "WSAS", "AUDIT-C", "DUDIT-C")
#: Labels of the intake checklist's points, keyed by `services.triage.CHECKLIST_POINTS`.
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


def form_name(code: str) -> str:
    """A form as staff know it: "PHQ-9", or a plain label for our own forms (never a raw code)."""
    return code if code in NAMED_BY_CODE else _label(INSTRUMENTS, code)


def tel_link(number: str | None) -> str | None:
    """A one-tap `tel:` link for a stored phone number (None without a number)."""
    if not number:
        return None
    from ..services.phones import PhoneNumberError, parse_phone
    try:
        return "tel:" + parse_phone(number).e164
    except PhoneNumberError:
        digits = "".join(c for c in number if c.isdigit() or c == "+")
        return "tel:" + digits if digits else None


def resident_phone(resident, answers: dict[str, Any] | None = None) -> str | None:
    """The number to call: the account's, else the one given in the referral."""
    return resident.phone or ((answers or {}).get("contact") or {}).get("phone") or None


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


def episode_view(overview: outcomes.EpisodeOverview, *, now: datetime) -> dict[str, Any]:
    """Everything on the episode page that needs a label or a decision made outside the template.

    Uses only rows the overview already loaded, so the page's queries do not grow with the history.
    """
    episode, referral, lang = overview.episode, overview.referral, str(get_locale())
    responses_by_id = {r.id: r for r in overview.responses}
    phone = resident_phone(overview.resident, referral.answers)
    checklist = overview.checklist
    points = svc.checklist_points(referral.age_band)
    progress = [r for r in overview.responses if r.instrument_code in outcomes.PROGRESS_INSTRUMENTS]
    return {
        "name": overview.resident.display_name or f"#{overview.resident.id}",
        "status": _label(STATUSES, referral.status),
        "phase": _label(PHASES, svc.phase_of(episode, referral, overview.appointments)),
        "offerings": [str(OFFERING_LABELS[o]) for o in episode.offerings.split(",") if o in OFFERING_LABELS],
        "dates": [(_("Referred"), episode.referred_at), (_("First contact"), episode.first_contact_at),
                  (_("Assessed"), episode.assessed_at), (_("First treatment"), episode.first_treatment_at),
                  (_("Discharged"), episode.discharged_at)],
        "work_start": (_label(CHOICES["work_status"], episode.work_status_start),
                       _label(CHOICES["sick_leave"], episode.sick_leave_start)),
        "work_end": (_label(CHOICES["work_status"], episode.work_status_end),
                     _label(CHOICES["sick_leave"], episode.sick_leave_end)) if episode.work_status_end else None,
        "referral_item9": "item9" in (referral.urgent_reason or "").split(","),
        "flags": _episode_flags(overview),
        "trends": [_trend(s, progress) for s in overview.series],
        "forms": [_answered_form(r, lang) for r in overview.responses],
        "contacts": [{
            "id": a.id, "starts_at": a.starts_at, "kind": _label(CONTACT_KINDS, a.kind),
            "mode": _label(MEETING_MODES, a.mode), "place": a.place or "", "duration": a.duration_minutes,
            "status": _label(CONTACT_STATUSES, a.status), "is_last": a.is_last,
            "staff": a.staff.display_name or a.staff.username,
            "forms": [_form_state(r, a, responses_by_id, now) for r in a.form_requests],
            "buttons": [(value, str(label)) for value, label in ATTENDANCE_BUTTONS if value != a.status],
        } for a in overview.appointments],
        "discharged": episode.discharged_at is not None,
        "phone": phone, "tel": tel_link(phone),
        "instruments": [form_name(c) for c in episode.instruments.split(",") if c],
        "checklist": [{"label": str(CHECKLIST_LABELS[p]), "done": bool(checklist and getattr(checklist, p))}
                      for p in points],
        "checklist_saved": checklist.updated_at if checklist else None,
        "offering_changes": [{
            "at": c.at, "staff": c.staff.display_name or c.staff.username, "note": c.note,
            "from": ", ".join(_label(OFFERING_LABELS, o) for o in c.from_offerings.split(",") if o) or _("None"),
            "to": ", ".join(_label(OFFERING_LABELS, o) for o in c.to_offerings.split(",") if o),
        } for c in overview.offering_changes],
        "item9_answers": [(int(a.value), a.at) for a in overview.item9_answers],
    }
