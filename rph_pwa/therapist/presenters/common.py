"""What several staff pages show: labels of scores, phases and answers, a questionnaire's item
wording, dates of an episode, and the resident's phone number as a link."""
from __future__ import annotations

from typing import Any

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from flask import url_for
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ... import measures
from ...codes import Offering, Problem, SickLeave, WorkStatus, label, labels

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
#: Forms known by their short name among staff; others (our own session feedback) by a plain label.
NAMED_BY_CODE = ("PHQ-9", "GAD-7", "WSAS", "AUDIT-C", "DUDIT-C")
#: Labels of an episode's phase, keyed by `services.referrals.PHASES`.
PHASES = {"waiting_assessment": _l("Waiting for assessment"), "assessment_booked": _l("Assessment booked"),
          "assessed": _l("Assessed, treatment not started"), "in_treatment": _l("In treatment"),
          "following_up": _l("Guided onward, following up"), "ended": _l("Ended")}
URGENT_REASONS = {"item9": _l("PHQ-9 item 9 above 0"), "crisis": _l("Said they are in crisis now"),
                  "talk_sooner": _l("Asked to talk to someone sooner (weekly check-in)")}
GENDERS = {"female": _l("Woman"), "woman": _l("Woman"), "male": _l("Man"), "man": _l("Man"),
           "other": _l("Other"), "unspecified": _l("Not given")}
YES_NO_UNSURE = {"yes": _l("Yes"), "no": _l("No"), "unsure": _l("Unsure"), "not_relevant": _l("Not relevant")}
#: Labels of the self-referral's answer options, by question.
ANSWER_LABELS = {
    "problems": labels(Problem),
    "duration": {"lt_3m": _l("Less than 3 months"), "3_12m": _l("3 to 12 months"), "gt_1y": _l("More than a year")},
    "work_status": labels(WorkStatus),
    "sick_leave": labels(SickLeave),
    "return_to_work": YES_NO_UNSURE,
    "crisis": YES_NO_UNSURE,
    "gender": GENDERS,
}


def staff_name(user) -> str:
    """A staff member as colleagues know them: their name, else their username."""
    return user.display_name or user.username or f"#{user.id}"


def score_view(code: str, total: int, band: str, flagged: bool) -> dict[str, Any]:
    """A score with its instrument's name and band as labels."""
    return {"code": code, "name": label(INSTRUMENTS, code), "total": total, "band": band_label(code, band),
            "flagged": flagged, "unverified": unverified(code)}


def band_label(code: str, band: str) -> str:
    """The label of a score's severity band on an instrument."""
    return str(INSTRUMENT_BANDS.get((code, band)) or label(BANDS, band))


def unverified(code: str) -> bool:
    """Whether the instrument's Norwegian wording is not verified (staff see a label)."""
    try:
        return not measures.get(code).verified_wording
    except KeyError:
        return False


def form_name(code: str) -> str:
    """A form as staff know it: "PHQ-9", or a plain label for our own forms (never a raw code)."""
    return code if code in NAMED_BY_CODE else label(INSTRUMENTS, code)


def answered_items(response, lang: str) -> list[dict[str, Any]]:
    """Every item of a response: number, value, wording and answer. An item is marked when the
    stored result flagged it (PHQ-9 item 9 above 0): by the instrument's item key, not position."""
    flagged = set(filter(None, response.flags.split(",")))
    try:
        keys = [item.key for item in measures.get(response.instrument_code, int(response.instrument_version)).items]
    except (KeyError, ValueError):
        keys = []
    return [{"number": n, "value": v, **item_wording(response, n - 1, v, lang),
             "raised": n <= len(keys) and keys[n - 1] in flagged}
            for n, v in enumerate(response.answers, start=1)]


def item_wording(response, index: int, value: int, lang: str) -> dict[str, str]:
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


def functioning_answer(response, lang: str) -> str:
    """The wording of the answer to the (unscored) functioning question, if there is one."""
    try:
        question = measures.get(response.instrument_code, int(response.instrument_version)).functioning_question
    except (KeyError, ValueError):
        return ""
    option = next((o for o in question.options if o.value == response.functioning), None) if question else None
    return measures.text(option.label, lang) if option else ""


def offering_labels(offerings: str) -> list[str]:
    """The labels of an episode's agreed offerings (comma-separated keys; unknown keys left out)."""
    known = labels(Offering)
    return [str(known[o]) for o in offerings.split(",") if o in known]


def episode_dates(episode) -> list[tuple[str, Any]]:
    """The episode's milestones, in order (None where not reached)."""
    return [(_("Referred"), episode.referred_at), (_("First contact"), episode.first_contact_at),
            (_("Assessed"), episode.assessed_at), (_("First treatment"), episode.first_treatment_at),
            (_("Discharged"), episode.discharged_at)]


def tel_link(number: str | None) -> str | None:
    """A one-tap `tel:` link for a stored phone number (None without a number)."""
    if not number:
        return None
    from ...services.phones import e164_or_none
    digits = e164_or_none(number) or "".join(c for c in number if c.isdigit() or c == "+")
    return "tel:" + digits if digits else None


def resident_phone(resident, answers: dict[str, Any] | None = None) -> str | None:
    """The number to call: the account's, else the one given in the referral."""
    return resident.phone or ((answers or {}).get("contact") or {}).get("phone") or None


def date_formatter(format: str = "short"):
    """A function formatting UTC datetimes as `flask_babel.format_date(value, format)` does (the
    local day), with the page's locale and time zone looked up once (for lists of rows)."""
    locale, zone = get_locale(), get_timezone()
    return lambda value: babel_format_date(value.astimezone(zone), format, locale=locale)


def datetime_formatter(format: str = "short"):
    """A function formatting UTC datetimes as `flask_babel.format_datetime(value, format)` does,
    with the page's locale and time zone looked up once (for lists of hundreds of rows)."""
    locale, zone = get_locale(), get_timezone()
    return lambda value: babel_format_datetime(value, format, tzinfo=zone, locale=locale)


def page_links(endpoint: str, page: int, pages: int, **args: Any) -> dict[str, Any] | None:
    """"Page 2 of 4" and the links to the pages before and after (`_macros/pager.html`), each the
    URL of `endpoint` with `args` and the page number; None when one page holds everything."""
    if pages <= 1:
        return None
    return {"text": _("Page %(page)d of %(pages)d", page=page, pages=pages),
            "previous": url_for(endpoint, page=page - 1, **args) if page > 1 else None,
            "next": url_for(endpoint, page=page + 1, **args) if page < pages else None}
