"""Staff views: residents of my teams (every read audited), the audit log for team leads, and the
self-referral work: triage queue, referral page and its actions, onward directory and reach."""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from .. import measures
from ..db import get_session
from ..models import Role
from ..services import audit
from ..services import referrals as svc
from ..services.access import CLINICAL_ROLES, staff_teams
from ..services.errors import Conflict, NotFound
from ..services.residents import open_resident, residents_for_staff
from .forms import (CONTACT_METHODS, CONTACT_OUTCOMES, MEETING_MODES, OFFERING_LABELS, BookAssessmentForm,
                    ContactAttemptForm, FirstTreatmentForm, GuideOnwardForm, IntakeChecklistForm, OfferingsForm,
                    OnwardServiceForm, ReachForm)

bp = Blueprint("therapist", __name__)

#: Times typed by staff are Norwegian local time; the database keeps UTC.
LOCAL_ZONE = ZoneInfo("Europe/Oslo")
REACH_DEFAULT_DAYS = 365


@bp.before_request
def staff_only():
    """Only staff who passed both factors reach this blueprint (sign-in enforces the second)."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.staff_login"))
    if not current_user.is_staff:
        abort(403)
    return None


@bp.route("/")
def index():
    """My teams, the residents they serve, and the way into the triage queue."""
    db = get_session()
    teams = staff_teams(db, current_user)
    residents = residents_for_staff(db, actor=current_user)
    return render_template("therapist/index.html", teams=teams, residents=residents,
                           is_lead=current_user.role in (Role.TEAM_LEAD.value, Role.ADMIN.value),
                           is_clinical=current_user.role in CLINICAL_ROLES,
                           urgent_count=svc.count_urgent(db, actor=current_user))


@bp.route("/residents/<int:resident_id>")
def resident(resident_id: int):
    """One resident's record. Access is checked and the read is written to the audit log."""
    db = get_session()
    try:
        person = open_resident(db, actor=current_user, resident_id=resident_id)
    except NotFound:
        abort(404)
    db.commit()
    return render_template("therapist/resident.html", person=person)


@bp.route("/audit")
def audit_log():
    """Team leads browse who opened which resident's record."""
    if current_user.role not in (Role.TEAM_LEAD.value, Role.ADMIN.value):
        abort(403)
    before = request.args.get("before", type=int)
    rows = audit.events_for_team_lead(get_session(), actor=current_user, before_id=before)
    return render_template("therapist/audit.html", rows=rows)


# --- Triage ------------------------------------------------------------------------------------

@bp.route("/triage")
def triage():
    """Open self-referrals of my teams, urgent first, then the longest waiting (every row audited)."""
    db = get_session()
    try:
        items = svc.triage_queue(db, actor=current_user)
    except NotFound:
        abort(404)
    db.commit()
    return render_template("therapist/triage.html", items=[_queue_card(item) for item in items])


@bp.route("/referrals/<int:referral_id>")
def referral(referral_id: int):
    """One referral with all its answers, scores, history and the team's actions (audited)."""
    return _referral_page(referral_id)


@bp.post("/referrals/<int:referral_id>/assessment")
def book_assessment(referral_id: int):
    """Book the information and assessment conversation."""
    form = BookAssessmentForm(prefix="book")
    return _act(referral_id, "book", form, lambda db: svc.book_assessment(
        db, actor=current_user, referral_id=referral_id, starts_at=_local_to_utc(form.day.data, form.time.data),
        mode=form.mode.data, place=(form.place.data or "").strip() or None,
    ), _l("The conversation is booked."))


@bp.post("/referrals/<int:referral_id>/contact-attempts")
def contact_attempt(referral_id: int):
    """Log a try to reach the person."""
    form = ContactAttemptForm(prefix="contact")
    return _act(referral_id, "contact", form, lambda db: svc.log_contact_attempt(
        db, actor=current_user, referral_id=referral_id, method=form.method.data, outcome=form.outcome.data,
        note=(form.note.data or "").strip() or None,
    ), _l("The contact attempt is logged."))


@bp.post("/referrals/<int:referral_id>/intake-checklist")
def intake_checklist(referral_id: int):
    """Save the intake checklist."""
    form = IntakeChecklistForm(prefix="checklist")
    return _act(referral_id, "checklist", form, lambda db: svc.save_intake_checklist(
        db, actor=current_user, referral_id=referral_id, data=svc.ChecklistInput(
            goals=form.goals.data, work=form.work.data, trauma=form.trauma.data,
            substance_use=form.substance_use.data, suicide_questions=form.suicide_questions.data,
            notes=(form.notes.data or "").strip() or None),
    ), _l("The checklist is saved."))


@bp.post("/referrals/<int:referral_id>/offerings")
def offerings(referral_id: int):
    """Record the offerings agreed with the person."""
    form = OfferingsForm(prefix="offerings")
    return _act(referral_id, "offerings", form, lambda db: svc.agree_offerings(
        db, actor=current_user, referral_id=referral_id, offerings=list(form.offerings.data),
    ), _l("The agreed offerings are saved."))


@bp.post("/referrals/<int:referral_id>/first-treatment")
def first_treatment(referral_id: int):
    """Record the date of the first treatment contact."""
    form = FirstTreatmentForm(prefix="treatment")
    return _act(referral_id, "treatment", form, lambda db: svc.record_first_treatment(
        db, actor=current_user, referral_id=referral_id, when=_local_to_utc(form.day.data, time(0)),
    ), _l("The date of the first treatment is saved."))


@bp.post("/referrals/<int:referral_id>/onward")
def guide_onward(referral_id: int):
    """Close the referral kindly with where to go instead."""
    form = GuideOnwardForm(prefix="onward")
    form.service.choices = _onward_choices(_referral_or_404(referral_id).team_id)
    return _act(referral_id, "onward", form, lambda db: svc.guide_onward(
        db, actor=current_user, referral_id=referral_id, service_id=form.service.data or None,
        message=form.message.data.strip(),
    ), _l("The person is guided onward. Remember to keep in touch until they have help there."))


def _act(referral_id: int, name: str, form: FlaskForm, action: Callable, done: str):
    """Run one referral action: re-show the page with the errors (400), or save, flash and go back."""
    if not form.validate():
        return _referral_page(referral_id, bound=(name, form), status=400)
    db = get_session()
    try:
        action(db)
    except NotFound:
        abort(404)
    db.commit()
    flash(str(done), "success")
    return redirect(url_for(".referral", referral_id=referral_id))


def _referral_or_404(referral_id: int):
    try:
        return svc.referral_for_staff(get_session(), actor=current_user, referral_id=referral_id)
    except NotFound:
        abort(404)


def _onward_choices(team_id: int) -> list[tuple[int, str]]:
    entries = svc.onward_services(get_session(), team_ids=[team_id])
    return [(0, _("None of these (the message says where to go)"))] + [(s.id, s.name) for s in entries]


def _referral_page(referral_id: int, *, bound: tuple[str, FlaskForm] | None = None, status: int = 200):
    db = get_session()
    try:
        detail = svc.referral_detail(db, actor=current_user, referral_id=referral_id)
    except NotFound:
        abort(404)
    db.commit()  # the audit event of this read
    forms = _referral_forms(detail, bound)
    return render_template("therapist/referral.html", d=detail, forms=forms, view=_referral_view(detail)), status


def _referral_forms(detail: svc.ReferralDetail, bound: tuple[str, FlaskForm] | None) -> dict[str, FlaskForm]:
    """Every action form, prefilled from what is saved; the submitted one keeps what was typed."""
    episode, checklist = detail.episode, detail.checklist
    forms: dict[str, FlaskForm] = {
        "book": BookAssessmentForm(formdata=None, prefix="book"),
        "contact": ContactAttemptForm(formdata=None, prefix="contact"),
        "checklist": IntakeChecklistForm(formdata=None, prefix="checklist", obj=checklist),
        "offerings": OfferingsForm(formdata=None, prefix="offerings",
                                   offerings=[o for o in episode.offerings.split(",") if o]),
        "treatment": FirstTreatmentForm(formdata=None, prefix="treatment", day=_local_date(episode.first_treatment_at)),
        "onward": GuideOnwardForm(formdata=None, prefix="onward", service=detail.referral.onward_service_id or 0,
                                  **({"message": detail.referral.onward_message} if detail.referral.onward_message else {})),
    }
    if bound is not None:
        forms[bound[0]] = bound[1]
    forms["onward"].service.choices = _onward_choices(detail.referral.team_id)
    return forms


def _local_to_utc(day: date, at: time) -> datetime:
    """A date and wall-clock time in Norway as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=LOCAL_ZONE).astimezone(timezone.utc)


def _local_date(moment: datetime | None) -> date | None:
    return moment.astimezone(LOCAL_ZONE).date() if moment else None


# --- Onward directory --------------------------------------------------------------------------

@bp.route("/directory", methods=["GET", "POST"])
def directory():
    """The team's directory of onward services: the list, and a form to add one."""
    teams = _clinical_teams()
    form = OnwardServiceForm(prefix="service")
    form.team.choices = [(t.id, t.name) for t in teams]
    if form.validate_on_submit() and _save_service(form, service_id=None):
        flash(_("The service is added to the directory."), "success")
        return redirect(url_for(".directory"))
    entries = svc.onward_services(get_session(), team_ids=[t.id for t in teams])
    return render_template("therapist/directory.html", form=form, entries=entries,
                           team_names={t.id: t.name for t in teams}), 400 if form.errors else 200


@bp.route("/directory/<int:service_id>", methods=["GET", "POST"])
def directory_edit(service_id: int):
    """Edit one entry of my teams' directory."""
    teams = _clinical_teams()
    entry = next((s for s in svc.onward_services(get_session(), team_ids=[t.id for t in teams])
                  if s.id == service_id), None)
    if entry is None:
        abort(404)
    form = OnwardServiceForm(prefix="service", obj=entry, team=entry.team_id)
    form.team.choices = [(t.id, t.name) for t in teams]
    if form.validate_on_submit() and _save_service(form, service_id=entry.id):
        flash(_("The entry is saved."), "success")
        return redirect(url_for(".directory"))
    return render_template("therapist/directory_edit.html", form=form, entry=entry), 400 if form.errors else 200


@bp.post("/directory/<int:service_id>/delete")
def directory_delete(service_id: int):
    """Remove an entry from my teams' directory."""
    db = get_session()
    try:
        svc.delete_onward_service(db, actor=current_user, service_id=service_id)
    except NotFound:
        abort(404)
    except Conflict:
        flash(_("Someone has been guided to this service, so it stays in the directory. You can edit it instead."),
              "error")
        return redirect(url_for(".directory"))
    db.commit()
    flash(_("The entry is removed from the directory."), "success")
    return redirect(url_for(".directory"))


def _clinical_teams():
    """My teams, for pages only clinical staff use (others get 404, as for residents)."""
    if current_user.role not in CLINICAL_ROLES:
        abort(404)
    return staff_teams(get_session(), current_user)


def _save_service(form: OnwardServiceForm, *, service_id: int | None) -> bool:
    """Save the entry; a name the team already uses becomes an error on the name field."""
    db = get_session()
    try:
        svc.save_onward_service(db, actor=current_user, team_id=form.team.data, name=form.name.data.strip(),
                                description=(form.description.data or "").strip(),
                                phone=(form.phone.data or "").strip() or None,
                                url=(form.url.data or "").strip() or None, service_id=service_id)
    except NotFound:
        abort(404)
    except Conflict:
        db.rollback()
        form.name.errors.append(_("The directory already has a service with this name."))
        return False
    db.commit()
    return True


# --- Reach -------------------------------------------------------------------------------------

@bp.route("/reach")
def reach():
    """Anonymised counts of referrals in a period, to see whom the team does not reach."""
    if current_user.role not in CLINICAL_ROLES:
        abort(404)
    form = ReachForm(formdata=request.args)
    since, until = _reach_period(form)
    if form.errors:
        return render_template("therapist/reach.html", form=form, counts=None), 400
    counts = svc.reach(get_session(), actor=current_user, since=_local_to_utc(since, time(0)),
                       until=_local_to_utc(until + timedelta(days=1), time(0)))
    return render_template("therapist/reach.html", form=form, counts=counts, since=since, until=until,
                           tables=_reach_tables(counts))


def _reach_period(form: ReachForm) -> tuple[date, date]:
    """The chosen period, both days included (default: the last 365 days)."""
    if not form.validate():
        return date.min, date.min
    until = form.until.data or datetime.now(LOCAL_ZONE).date()
    since = form.since.data or until - timedelta(days=REACH_DEFAULT_DAYS)
    if since > until:
        form.until.errors = [*form.until.errors, _("The end date must be on or after the start date.")]
    form.since.data, form.until.data = since, until
    return since, until


def _reach_tables(counts: svc.Reach) -> list[dict[str, Any]]:
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
}
#: Where one band key means something else for one instrument.
INSTRUMENT_BANDS = {("WSAS", "severe"): _l("Moderately severe impairment or worse")}
INSTRUMENTS = {"PHQ-9": _l("Depression"), "GAD-7": _l("Anxiety"), "WSAS": _l("Work and social functioning"),
               "AUDIT-C": _l("Alcohol"), "DUDIT-C": _l("Drugs")}
STATUSES = {"new": _l("New"), "in_contact": _l("In contact"), "assessed": _l("Assessed"), "accepted": _l("Accepted"),
            "guided_onward": _l("Guided onward"), "closed": _l("Closed")}
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
    """The translated label of a stable key; an unknown key is shown readably rather than hidden."""
    if key is None or key == "":
        return _("Not answered")
    return str(mapping[key]) if key in mapping else str(key).replace("_", " ").capitalize()


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
        if name not in known and isinstance(data, dict):
            rows = [(_label({}, k), _value(k, v, referral)) for k, v in data.items() if k not in SKIP_KEYS]
            if rows:
                sections.append({"title": _label({}, name), "rows": rows})
    return sections


def _score_view(code: str, total: int, band: str, flagged: bool) -> dict[str, Any]:
    label = INSTRUMENT_BANDS.get((code, band)) or _label(BANDS, band)
    return {"code": code, "name": _label(INSTRUMENTS, code), "total": total, "band": str(label), "flagged": flagged}


def _queue_card(item: svc.QueueItem) -> dict[str, Any]:
    """A queue item with every stable key turned into a label for the card."""
    return {
        "id": item.id, "name": item.name, "urgent": item.urgent, "municipality": item.municipality,
        "reasons": [_label(URGENT_REASONS, r) for r in item.urgent_reason.split(",") if r],
        "days_waited": item.days_waited, "status": _label(STATUSES, item.status),
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
        answers = json.loads(response.answers)
        flags = set(filter(None, response.flags.split(",")))
        items = [{"number": n, "value": v, "text": _item_text(response, n - 1, lang),
                  "raised": response.instrument_code == "PHQ-9" and n == 9 and bool(v)}
                 for n, v in enumerate(answers, start=1)]
        rows.append({**_score_view(response.instrument_code, response.total, response.band, bool(flags)),
                     "items": items, "functioning": response.functioning, "version": response.instrument_version})
    return rows


def _item_text(response, index: int, lang: str) -> str:
    """The validated wording of one item, in the version the person answered (empty if unknown)."""
    try:
        instrument = measures.get(response.instrument_code, int(response.instrument_version))
        return measures.text(instrument.items[index].text, lang)
    except (KeyError, ValueError, IndexError, LookupError):
        return ""


def _referral_view(detail: svc.ReferralDetail) -> dict[str, Any]:
    """Everything on the referral page that needs a label or a decision made outside the template."""
    referral, episode, checklist = detail.referral, detail.episode, detail.checklist
    return {
        "name": referral.resident.display_name or f"#{referral.resident_id}",
        "status": _label(STATUSES, referral.status),
        "reasons": [_label(URGENT_REASONS, r) for r in (referral.urgent_reason or "").split(",") if r],
        "channel": _label(CHANNELS, referral.channel),
        "sections": _answer_sections(detail.answers, referral),
        "responses": _responses(referral),
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
        "onward": detail.onward_service.name if detail.onward_service else None,
    }
