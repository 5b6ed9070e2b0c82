"""Staff views: residents of my teams (every read audited), the audit log for team leads, and the
self-referral work: triage queue, referral page and its actions, onward directory and reach."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from ..db import get_session, parse_id, utcnow
from ..models import Role
from ..services import audit, outcomes
from ..services import onward, referrals, statistics
from ..services import triage as svc
from ..services.access import CLINICAL_ROLES, staff_teams
from ..services.errors import Conflict, NotFound
from ..services.mail import outbox_status
from ..services.residents import open_resident, residents_for_staff
from . import episode_views, presenters
from ..services import enquiries
from ..services.referrals import AGE_BANDS
from .forms import (BookAssessmentForm, CloseOnwardForm,
                    ContactAttemptForm, EnquiryForm, FirstTreatmentForm, GuideOnwardForm, IntakeChecklistForm,
                    OfferingsForm, OnwardServiceForm, ReachForm)

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
    # The admin sees whether mail leaves: sign-in codes and urgent notices depend on it.
    mail = outbox_status(db, now=utcnow()) if current_user.role == Role.ADMIN.value else None
    mail_delayed = mail is not None and (mail.oldest_age_seconds or 0) > current_app.config["MAIL_OUTBOX_MAX_AGE_SECONDS"]
    return render_template("therapist/index.html", teams=teams, residents=residents,
                           is_lead=current_user.role in (Role.TEAM_LEAD.value, Role.ADMIN.value),
                           is_clinical=current_user.role in CLINICAL_ROLES,
                           urgent_count=svc.count_urgent(db, actor=current_user),
                           follow_ups_due=onward.count_follow_ups_due(db, actor=current_user),
                           mail=mail, mail_delayed=mail_delayed)


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


#: The period of the admin's staff overview.
AUDIT_ADMIN_DAYS = 30
#: How staff signed in, in words (residents' sign-ins are not listed to admins).
SIGN_IN_METHODS = {"password_totp": _l("Password and code from the app"),
                   "password_passkey": _l("Password and passkey")}
ROLE_LABELS = {Role.THERAPIST.value: _l("Therapist"), Role.TEAM_LEAD.value: _l("Team lead"),
               Role.ADMIN.value: _l("Administrator")}


@bp.route("/audit")
def audit_log():
    """Team leads browse who opened which resident's record; admins see per staff member how much
    was read, and the staff sign-ins, but no resident (see services.audit)."""
    db = get_session()
    if current_user.role == Role.ADMIN.value:
        since = datetime.now(timezone.utc) - timedelta(days=AUDIT_ADMIN_DAYS)
        return render_template("therapist/audit_admin.html", days=AUDIT_ADMIN_DAYS,
                               activity=audit.staff_activity(db, actor=current_user, since=since),
                               sign_ins=audit.staff_sign_ins(db, actor=current_user),
                               methods=SIGN_IN_METHODS, roles=ROLE_LABELS)
    if current_user.role != Role.TEAM_LEAD.value:
        abort(403)
    before = parse_id(request.args.get("before"))
    rows = audit.events_for_team_lead(db, actor=current_user, before_id=before)
    return render_template("therapist/audit.html", rows=rows)


# --- Triage ------------------------------------------------------------------------------------

@bp.route("/triage")
def triage():
    """Open self-referrals of my teams, urgent first, then the longest waiting (every row audited)."""
    db = get_session()
    try:
        items = svc.triage_queue(db, actor=current_user)
        urgent = outcomes.urgent_episodes(db, actor=current_user)
        follow_ups = onward.onward_follow_ups(db, actor=current_user)
    except NotFound:
        abort(404)
    db.commit()
    return render_template("therapist/triage.html", items=[presenters.queue_card(item) for item in items],
                           urgent_episodes=urgent, follow_ups=follow_ups)


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
            **{name: bool(form[name].data) for name in svc.CHECKLIST_POINTS},
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
    return _act(referral_id, "onward", form, lambda db: onward.guide_onward(
        db, actor=current_user, referral_id=referral_id, service_id=form.service.data or None,
        message=form.message.data.strip(), follow_up_at=_local_to_utc(form.follow_up.data, time(0)) if form.follow_up.data else None,
    ), _l("The person is guided onward. The team keeps in touch until they have help there."),
        conflict=_l("The episode has ended, so the person cannot be guided onward from it."))


@bp.post("/referrals/<int:referral_id>/onward/close")
def close_onward(referral_id: int):
    """End the follow-up of a person guided onward: help started elsewhere, or why not."""
    form = CloseOnwardForm(prefix="close")
    return _act(referral_id, "close", form, lambda db: onward.close_onward(
        db, actor=current_user, referral_id=referral_id, help_started=form.outcome.data == "started",
        note=form.note.data,
    ), _l("The follow-up is closed and the episode is ended."),
        conflict=_l("This person is not being followed up after being guided onward."))


def _act(referral_id: int, name: str, form: FlaskForm, action: Callable, done: str, conflict: str | None = None):
    """Run one referral action: re-show the page with the errors (400), or save, flash and go back.
    A Conflict (the action no longer fits the episode) is said plainly, and nothing is saved."""
    if not form.validate():
        return _referral_page(referral_id, bound=(name, form), status=400)
    db = get_session()
    try:
        action(db)
    except NotFound:
        abort(404)
    except Conflict:
        if conflict is None:
            raise
        db.rollback()
        flash(str(conflict), "error")
        return redirect(url_for(".referral", referral_id=referral_id))
    db.commit()
    flash(str(done), "success")
    return redirect(url_for(".referral", referral_id=referral_id))


def _referral_or_404(referral_id: int):
    try:
        return referrals.referral_for_staff(get_session(), actor=current_user, referral_id=referral_id)
    except NotFound:
        abort(404)


def _onward_choices(team_id: int) -> list[SelectChoice]:
    entries = onward.onward_services(get_session(), team_ids=[team_id])
    return [SelectChoice(0, _("None of these (the message says where to go)"))] + [
        SelectChoice(s.id, s.name) for s in entries]


def _referral_page(referral_id: int, *, bound: tuple[str, FlaskForm] | None = None, status: int = 200):
    db = get_session()
    try:
        detail = svc.referral_detail(db, actor=current_user, referral_id=referral_id)
    except NotFound:
        abort(404)
    db.commit()  # the audit event of this read
    forms = _referral_forms(detail, bound)
    return render_template("therapist/referral.html", d=detail, forms=forms, view=presenters.referral_view(detail)), status


def _referral_forms(detail: svc.ReferralDetail, bound: tuple[str, FlaskForm] | None) -> dict[str, FlaskForm]:
    """Every action form, prefilled from what is saved; the submitted one keeps what was typed."""
    episode, checklist, referral = detail.episode, detail.checklist, detail.referral
    # Only a message that was sent replaces the kind default text.
    onward_message = {"message": referral.onward_message} if referral.onward_message else {}
    forms: dict[str, FlaskForm] = {
        "book": BookAssessmentForm(formdata=None, prefix="book"),
        "contact": ContactAttemptForm(formdata=None, prefix="contact"),
        "checklist": IntakeChecklistForm(formdata=None, prefix="checklist", obj=checklist),
        "offerings": OfferingsForm(formdata=None, prefix="offerings",
                                   offerings=[o for o in episode.offerings.split(",") if o]),
        "treatment": FirstTreatmentForm(formdata=None, prefix="treatment",
                                        day=_local_date(episode.first_treatment_at)),
        "onward": GuideOnwardForm(formdata=None, prefix="onward", service=referral.onward_service_id or 0,
                                  **onward_message, **({"follow_up": _local_date(episode.follow_up_at)}
                                                       if episode.follow_up_at else {})),
        "close": CloseOnwardForm(formdata=None, prefix="close"),
    }
    if bound is not None:
        forms[bound[0]] = bound[1]
    forms["onward"].service.choices = _onward_choices(referral.team_id)
    return forms


def _local_to_utc(day: date, at: time) -> datetime:
    """A date and wall-clock time in Norway as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=LOCAL_ZONE).astimezone(timezone.utc)


def _local_date(moment: datetime | None) -> date | None:
    return moment.astimezone(LOCAL_ZONE).date() if moment else None


# --- Phone and paper enquiries -----------------------------------------------------------------

@bp.route("/enquiries/new", methods=["GET", "POST"])
def enquiry_new():
    """Register an enquiry that came by phone or on paper; it joins the triage queue."""
    teams = _clinical_teams()
    municipalities = sorted({m for t in teams for m in t.municipalities}, key=lambda m: m.name)
    form = EnquiryForm(prefix="enquiry")
    # Several municipalities: none preselected, so nobody registers an enquiry in the wrong one.
    form.municipality.choices = ([SelectChoice(0, _("Choose"))] if len(municipalities) > 1 else []) + [
        SelectChoice(m.id, m.name) for m in municipalities]
    form.age_band.choices = [SelectChoice("", _("Choose"))] + [
        SelectChoice(label, label) for _low, _high, label in AGE_BANDS]
    if form.validate_on_submit():
        db = get_session()
        try:
            referral = enquiries.register_enquiry(db, actor=current_user, data=enquiries.EnquiryInput(
                channel=form.channel.data, name=form.name.data.strip(), phone=form.phone.data or None,
                municipality_id=form.municipality.data, age_band=form.age_band.data, gender=form.gender.data,
                problems=list(form.problems.data or []), own_words=(form.own_words.data or "").strip() or None,
                urgent=form.urgent.data == "yes", instruments=form.instruments()))
        except NotFound:
            abort(404)
        db.commit()
        flash(_("The enquiry is registered and is in the triage queue."), "success")
        return redirect(url_for(".referral", referral_id=referral.id))
    return render_template("therapist/enquiry.html", form=form), 400 if form.errors else 200


# --- Onward directory --------------------------------------------------------------------------

@bp.route("/directory", methods=["GET", "POST"])
def directory():
    """The team's directory of onward services: the list, and a form to add one."""
    teams = _clinical_teams()
    form = OnwardServiceForm(prefix="service")
    form.team.choices = [SelectChoice(t.id, t.name) for t in teams]
    if form.validate_on_submit() and _save_service(form, service_id=None):
        flash(_("The service is added to the directory."), "success")
        return redirect(url_for(".directory"))
    entries = onward.onward_services(get_session(), team_ids=[t.id for t in teams])
    return render_template("therapist/directory.html", form=form, entries=entries,
                           team_names={t.id: t.name for t in teams}), 400 if form.errors else 200


@bp.route("/directory/<int:service_id>", methods=["GET", "POST"])
def directory_edit(service_id: int):
    """Edit one entry of my teams' directory."""
    teams = _clinical_teams()
    entry = next((s for s in onward.onward_services(get_session(), team_ids=[t.id for t in teams])
                  if s.id == service_id), None)
    if entry is None:
        abort(404)
    form = OnwardServiceForm(prefix="service", obj=entry, team=entry.team_id)
    form.team.choices = [SelectChoice(t.id, t.name) for t in teams]
    if form.validate_on_submit() and _save_service(form, service_id=entry.id):
        flash(_("The entry is saved."), "success")
        return redirect(url_for(".directory"))
    return render_template("therapist/directory_edit.html", form=form, entry=entry), 400 if form.errors else 200


@bp.post("/directory/<int:service_id>/delete")
def directory_delete(service_id: int):
    """Remove an entry from my teams' directory."""
    db = get_session()
    try:
        onward.delete_onward_service(db, actor=current_user, service_id=service_id)
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
        onward.save_onward_service(db, actor=current_user, team_id=form.team.data, name=form.name.data.strip(),
                                description=(form.description.data or "").strip(),
                                phone=(form.phone.data or "").strip() or None,
                                url=(form.url.data or "").strip() or None, service_id=service_id)
    except NotFound:
        abort(404)
    except Conflict:
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
    period = _reach_period(form)
    if period is None:
        return render_template("therapist/reach.html", form=form, counts=None), 400
    since, until = period
    counts = statistics.reach(get_session(), actor=current_user, since=_local_to_utc(since, time(0)),
                       until=_local_to_utc(until + timedelta(days=1), time(0)))
    return render_template("therapist/reach.html", form=form, counts=counts, since=since, until=until,
                           tables=presenters.reach_tables(counts))


def _reach_period(form: ReachForm) -> tuple[date, date] | None:
    """The chosen period, both days included (default: the last 365 days); None if it is not valid."""
    if not form.validate():
        return None
    until = form.until.data or datetime.now(LOCAL_ZONE).date()
    since = form.since.data or until - timedelta(days=REACH_DEFAULT_DAYS)
    if since > until:  # only a start date, after today
        form.until.errors = [*form.until.errors, _("The end date must be on or after the start date.")]
        return None
    form.since.data, form.until.data = since, until
    return since, until


episode_views.register(bp)
from . import statistics_views; statistics_views.register(bp)  # noqa: E402,E702 - adds the statistics routes to bp
from . import urgent_views; urgent_views.register(bp)  # noqa: E402,E702 - adds the urgent-flag routes to bp
from . import safety_views; safety_views.register(bp)  # noqa: E402,E702 - adds the safety plan routes to bp
