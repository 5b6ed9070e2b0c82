"""The referral page: the resident's answers in sections, their questionnaires, the team's
contact attempts and appointments, each stable key turned into a label."""
from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ... import measures
from ...codes import AppointmentKind, Channel, ContactMethod, ContactOutcome, MeetingMode, ReferralStatus, label
from ...services import triage
from ...services.referrals import DECLINED_KEY
from .common import (
    ANSWER_LABELS,
    INSTRUMENTS,
    PHASES,
    URGENT_REASONS,
    answered_items,
    episode_dates,
    functioning_answer,
    offering_labels,
    page_links,
    resident_phone,
    score_view,
    tel_link,
    unverified,
)

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
        return ", ".join(label(ANSWER_LABELS.get(key, {}), str(v)) for v in value)
    if isinstance(value, str) and key in ANSWER_LABELS:
        return label(ANSWER_LABELS[key], value)
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
        rows += [(label({}, key), _value(key, v, referral)) for key, v in data.items()
                 if key not in listed and key not in SKIP_KEYS]
        sections.append({"title": str(title), "rows": rows})
    for name, data in answers.items():
        if name not in known and name != DECLINED_KEY and isinstance(data, dict):
            rows = [(label({}, k), _value(k, v, referral)) for k, v in data.items() if k not in SKIP_KEYS]
            if rows:
                sections.append({"title": label({}, name), "rows": rows})
    return sections


def _responses(referral) -> list[dict[str, Any]]:
    """Each questionnaire: total, band and the answer to every item (PHQ-9 item 9 above 0 marked)."""
    rows, lang = [], str(get_locale())
    for response in referral.responses:
        flags = set(filter(None, response.flags.split(",")))
        rows.append({**score_view(response.instrument_code, response.total, response.band, bool(flags)),
                     "items": answered_items(response, lang), "functioning": response.functioning,
                     "version": response.instrument_version,
                     "functioning_answer": functioning_answer(response, lang),
                     "attribution": _attribution(response, lang)})
    return rows


def _attribution(response, lang: str) -> str:
    """The instrument's citation and where its scoring guide is (for staff; residents do not see it)."""
    try:
        instrument = measures.get(response.instrument_code, int(response.instrument_version))
        return measures.text(instrument.attribution, lang) if instrument.attribution else ""
    except (KeyError, ValueError, LookupError):
        return ""


def referral_view(detail: triage.ReferralDetail) -> dict[str, Any]:
    """Everything on the referral page that needs a label or a decision made outside the template."""
    referral, episode, checklist = detail.referral, detail.episode, detail.checklist
    phase = triage.phase_of(episode, referral, detail.contact_counts)
    return {
        "name": referral.resident.display_name or f"#{referral.resident_id}",
        "status": label(ReferralStatus, referral.status),
        "phase": label(PHASES, phase), "phase_key": phase,
        "reasons": [label(URGENT_REASONS, r) for r in (referral.urgent_reason or "").split(",") if r],
        "channel": label(Channel, referral.channel),
        "sections": _answer_sections(detail.answers, referral),
        "responses": _responses(referral),
        "declined": [{"code": code, "name": label(INSTRUMENTS, code), "unverified": unverified(code)}
                     for code in (detail.answers.get(DECLINED_KEY) or {})],
        "dates": episode_dates(episode),
        "offerings": offering_labels(episode.offerings),
        "attempts": attempt_rows(detail.attempts),
        "older_attempts": max(0, detail.attempts_total - len(detail.attempts)),
        "older_contacts": max(0, detail.contacts_total - len(detail.appointments)),
        "appointments": [{"starts_at": a.starts_at, "mode": label(MeetingMode, a.mode), "place": a.place or "",
                          "kind": label(AppointmentKind, a.kind),
                          "staff": a.staff.display_name or a.staff.username}
                         for a in detail.appointments],
        "checklist_saved": checklist.updated_at if checklist else None,
        "checklist_points": triage.checklist_points(referral.age_band),
        "phone": resident_phone(referral.resident, detail.answers),
        "tel": tel_link(resident_phone(referral.resident, detail.answers)),
        "onward": detail.onward_service.name if detail.onward_service else None,
    }


def attempt_rows(attempts) -> list[dict[str, Any]]:
    """Contact attempts as table rows, for the referral page and its older attempts."""
    return [{"at": a.at, "staff": a.staff.display_name or a.staff.username,
             "method": label(ContactMethod, a.method), "outcome": label(ContactOutcome, a.outcome),
             "note": a.note or ""} for a in attempts]


def attempts_view(page: triage.AttemptsPage) -> dict[str, Any]:
    """The name, rows and page links of a page of older contact attempts."""
    referral = page.referral
    return {"name": referral.resident.display_name or f"#{referral.resident_id}", "referral_id": referral.id,
            "attempts": attempt_rows(page.rows), "page": page.page, "pages": page.pages, "total": page.total,
            "pager": page_links("therapist.referral_attempts", page.page, page.pages, referral_id=referral.id)}
