"""Staff views: a resident's record (every read audited), the audit log for team leads, and the
self-referral work: triage queue, referral page and its actions, onward directory and reach."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from functools import partial

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from ..auth.forms import EmptyForm
from ..db import get_session, parse_id, utcnow
from ..forms import Refusal, run_form_action, run_page_form_action
from ..localtime import local_date, local_to_utc, local_today, start_of_local_day
from ..models import Role
from ..services import audit, enquiries, onward, outcomes, referrals, responsibility, statistics
from ..services import triage as svc
from ..services.access import has_role, require_clinical, staff_teams
from ..services.errors import Conflict
from ..services.referrals import AGE_BANDS
from ..services.residents import open_resident
from ..web import render_audited
from . import bp
from .episode_forms import RESPONSIBLE_SAVED, ResponsibleForm
from .forms import (
    BookAssessmentForm,
    CloseOnwardForm,
    ContactAttemptForm,
    EnquiryForm,
    FirstTreatmentForm,
    GuideOnwardForm,
    IntakeChecklistForm,
    OfferingsForm,
    OnwardServiceForm,
    ReachForm,
)
from .presenters.reach import reach_tables
from .presenters.referral import attempts_view, referral_view
from .presenters.responsibility import responsible_view
from .presenters.triage import queue_cards, queue_pager

REACH_DEFAULT_DAYS = 365


@bp.route("/residents/<int:resident_id>")
def resident(resident_id: int):
    """One resident's record. Access is checked and the read is written to the audit log."""
    return render_audited("therapist/resident.html",
                          person=open_resident(get_session(), actor=current_user, resident_id=resident_id))


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
    if has_role(current_user, Role.ADMIN):
        since = utcnow() - timedelta(days=AUDIT_ADMIN_DAYS)
        return render_template("therapist/audit_admin.html", days=AUDIT_ADMIN_DAYS,
                               activity=audit.staff_activity(db, actor=current_user, since=since),
                               sign_ins=audit.staff_sign_ins(db, actor=current_user),
                               methods=SIGN_IN_METHODS, roles=ROLE_LABELS)
    if not has_role(current_user, Role.TEAM_LEAD):
        abort(403)
    before = parse_id(request.args.get("before"))
    rows = audit.events_for_team_lead(db, actor=current_user, before_id=before)
    return render_template("therapist/audit.html", rows=rows)


# --- Triage ------------------------------------------------------------------------------------

@bp.route("/triage")
def triage():
    """Open self-referrals of my teams, 50 to a page (`?page=2`; a page that does not exist shows
    the first or the last), urgent first, then the longest waiting. The first page also shows the
    urgent episodes and the follow-ups. One audit event per page view names the referrals shown."""
    db = get_session()
    queue = svc.triage_queue(db, actor=current_user, page=request.args.get("page", 1, type=int))
    return render_audited("therapist/triage.html", queue=queue, pager=queue_pager(queue),
                          items=queue_cards(queue.items), follow_ups=queue.follow_ups,
                          urgent_episodes=outcomes.urgent_episodes(db, actor=current_user) if queue.page == 1 else [])


@bp.route("/referrals/<int:referral_id>")
def referral(referral_id: int):
    """One referral with all its answers, scores, history and the team's actions (audited)."""
    return _referral_page(referral_id)


@bp.route("/referrals/<int:referral_id>/earlier-attempts")
def referral_attempts(referral_id: int):
    """The referral's contact attempts older than those on its page, a chunk per page (audited)."""
    db = get_session()
    page = svc.older_attempts(db, actor=current_user, referral_id=referral_id,
                              page=request.args.get("page", 1, type=int))
    db.commit()  # the audit event of this read
    return render_template("therapist/referral_attempts.html", view=attempts_view(page))


@bp.post("/referrals/<int:referral_id>/assessment")
def book_assessment(referral_id: int):
    """Book the information and assessment conversation."""
    return _act(referral_id, "book", BookAssessmentForm, lambda db, form: svc.book_assessment(
        db, actor=current_user, referral_id=referral_id, starts_at=local_to_utc(form.day.data, form.time.data),
        mode=form.mode.data, place=(form.place.data or "").strip() or None,
        video_link=(form.video_link.data or "").strip() or None,
    ), _l("The conversation is booked."))


@bp.post("/referrals/<int:referral_id>/responsible")
def referral_responsible(referral_id: int):
    """Choose the therapist responsible for the episode at triage, or hand it over with a note."""
    db = get_session()
    episode = referrals.referral_for_staff(db, actor=current_user, referral_id=referral_id).episode
    form = ResponsibleForm(prefix="responsible").offer(
        responsibility.therapists_for_episode(db, actor=current_user, episode_id=episode.id))
    return _act(referral_id, "responsible", form, lambda db, form: responsibility.set_responsible(
        db, actor=current_user, episode_id=episode.id, therapist_id=form.therapist.data, note=form.note.data,
    ), RESPONSIBLE_SAVED, form.refusals())


@bp.post("/referrals/<int:referral_id>/contact-attempts")
def contact_attempt(referral_id: int):
    """Log a try to reach the person."""
    return _act(referral_id, "contact", ContactAttemptForm, lambda db, form: svc.log_contact_attempt(
        db, actor=current_user, referral_id=referral_id, method=form.method.data, outcome=form.outcome.data,
        note=(form.note.data or "").strip() or None,
    ), _l("The contact attempt is logged."))


@bp.post("/referrals/<int:referral_id>/intake-checklist")
def intake_checklist(referral_id: int):
    """Save the intake checklist."""
    return _act(referral_id, "checklist", IntakeChecklistForm, lambda db, form: svc.save_intake_checklist(
        db, actor=current_user, referral_id=referral_id, data=svc.ChecklistInput(
            **{name: bool(form[name].data) for name in svc.CHECKLIST_POINTS},
            notes=(form.notes.data or "").strip() or None),
    ), _l("The checklist is saved."))


@bp.post("/referrals/<int:referral_id>/offerings")
def offerings(referral_id: int):
    """Record the offerings agreed with the person."""
    return _act(referral_id, "offerings", OfferingsForm, lambda db, form: svc.agree_offerings(
        db, actor=current_user, referral_id=referral_id, offerings=list(form.offerings.data),
    ), _l("The agreed offerings are saved."))


@bp.post("/referrals/<int:referral_id>/first-treatment")
def first_treatment(referral_id: int):
    """Record the date of the first treatment contact."""
    return _act(referral_id, "treatment", FirstTreatmentForm, lambda db, form: svc.record_first_treatment(
        db, actor=current_user, referral_id=referral_id, when=start_of_local_day(form.day.data),
    ), _l("The date of the first treatment is saved."))


@bp.post("/referrals/<int:referral_id>/onward")
def guide_onward(referral_id: int):
    """Close the referral kindly with where to go instead."""
    form = GuideOnwardForm(prefix="onward")
    team_id = referrals.referral_for_staff(get_session(), actor=current_user, referral_id=referral_id).team_id
    form.service.choices = _onward_choices(onward.onward_services(get_session(), team_ids=[team_id]))
    return _act(referral_id, "onward", form, lambda db, form: onward.guide_onward(
        db, actor=current_user, referral_id=referral_id, service_id=form.service.data or None,
        message=form.message.data.strip(),
        follow_up_at=start_of_local_day(form.follow_up.data) if form.follow_up.data else None,
    ), _l("The person is guided onward. The team keeps in touch until they have help there."),
        [Refusal(Conflict, _l("The episode has ended, so the person cannot be guided onward from it."))])


@bp.post("/referrals/<int:referral_id>/onward/close")
def close_onward(referral_id: int):
    """End the follow-up of a person guided onward: help started elsewhere, or why not."""
    return _act(referral_id, "close", CloseOnwardForm, lambda db, form: onward.close_onward(
        db, actor=current_user, referral_id=referral_id, help_started=form.outcome.data == "started",
        note=form.note.data,
    ), _l("The follow-up is closed and the episode is ended."),
        [Refusal(Conflict, _l("This person is not being followed up after being guided onward."))])


def _act(referral_id: int, name: str, form: FlaskForm | type[FlaskForm], action: Callable, done: str,
         refusals: Sequence[Refusal] = ()):
    """Run one referral action with its form, named `name` on the page (`forms.run_page_form_action`):
    the referral page again with the form's errors (400), or saved, said and back to the page. A
    refusal (the action no longer fits the episode) is said plainly, and nothing is saved."""
    return run_page_form_action(name, form, action, page=partial(_referral_page, referral_id),
                                back=url_for(".referral", referral_id=referral_id), done=done, refusals=refusals)


def _onward_choices(entries) -> list[SelectChoice]:
    """The choices of the onward form: none, or one of the team's onward services `entries`."""
    return [SelectChoice(0, _("None of these (the message says where to go)"))] + [
        SelectChoice(s.id, s.name) for s in entries]


def _referral_page(referral_id: int, *, bound: tuple[str, FlaskForm] | None = None) -> str:
    db = get_session()
    detail = svc.referral_detail(db, actor=current_user, referral_id=referral_id)
    forms = _referral_forms(detail, bound)
    db.commit()  # the audit event of this read, once everything is read: no transaction open while rendering
    return render_template("therapist/referral.html", d=detail, forms=forms, view=referral_view(detail),
                           responsible=responsible_view(detail.episode))


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
        "responsible": ResponsibleForm(formdata=None, prefix="responsible", therapist=episode.responsible_id or 0),
    }
    if bound is not None:
        forms[bound[0]] = bound[1]
    forms["onward"].service.choices = _onward_choices(detail.onward_services)  # the team's, read with the page
    forms["responsible"].offer(responsibility.team_therapists(get_session(), actor=current_user,
                                                              team_id=episode.team_id))
    return forms


def _local_date(moment) -> date | None:
    """The local day of a stored time, for a date field (None stays empty)."""
    return local_date(moment) if moment else None


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
    return run_form_action(form, lambda db: enquiries.register_enquiry(
        db, actor=current_user, data=enquiries.EnquiryInput(
            channel=form.channel.data, name=form.name.data.strip(), phone=form.phone.data or None,
            municipality_id=form.municipality.data, age_band=form.age_band.data, gender=form.gender.data,
            problems=list(form.problems.data or []), own_words=(form.own_words.data or "").strip() or None,
            urgent=form.urgent.data == "yes", instruments=form.instruments())),
        show=lambda: render_template("therapist/enquiry.html", form=form), back=url_for(".enquiry_new"),
        done=_l("The enquiry is registered and is in the triage queue."),
        then=lambda referral: url_for(".referral", referral_id=referral.id))


# --- Onward directory --------------------------------------------------------------------------

@bp.route("/directory", methods=["GET", "POST"])
def directory():
    """The team's directory of onward services: the list, and a form to add one."""
    teams = _clinical_teams()
    form = OnwardServiceForm(prefix="service")
    form.team.choices = [SelectChoice(t.id, t.name) for t in teams]

    def page() -> str:
        entries = onward.onward_services(get_session(), team_ids=[t.id for t in teams])
        return render_template("therapist/directory.html", form=form, entries=entries,
                               team_names={t.id: t.name for t in teams})

    return _save_service(form, service_id=None, show=page, done=_l("The service is added to the directory."))


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

    def page() -> str:
        return render_template("therapist/directory_edit.html", form=form, entry=entry)

    return _save_service(form, service_id=entry.id, show=page, done=_l("The entry is saved."))


@bp.post("/directory/<int:service_id>/delete")
def directory_delete(service_id: int):
    """Remove an entry from my teams' directory (the button's form holds only its CSRF token)."""
    return run_form_action(EmptyForm(), lambda db: onward.delete_onward_service(
        db, actor=current_user, service_id=service_id,
    ), show=lambda: abort(400), back=url_for(".directory"), done=_l("The entry is removed from the directory."),
        refusals=[Refusal(Conflict, _l("Someone has been guided to this service, so it stays in the directory. "
                                       "You can edit it instead."))])


def _clinical_teams():
    """My teams, for pages only clinical staff use (others get 404, as for residents)."""
    require_clinical(current_user)
    return staff_teams(get_session(), current_user)


def _save_service(form: OnwardServiceForm, *, service_id: int | None, show: Callable[[], str], done: str):
    """Save the entry and go back to the directory; a name the team already uses becomes an error
    on the name field."""
    return run_form_action(form, lambda db: onward.save_onward_service(
        db, actor=current_user, team_id=form.team.data, name=form.name.data.strip(),
        description=(form.description.data or "").strip(), phone=(form.phone.data or "").strip() or None,
        url=(form.url.data or "").strip() or None, service_id=service_id,
    ), show=show, back=url_for(".directory"), done=done,
        refusals=[Refusal(Conflict, _l("The directory already has a service with this name."), field=form.name)])


# --- Reach -------------------------------------------------------------------------------------

@bp.route("/reach")
def reach():
    """Anonymised counts of referrals in a period, to see whom the team does not reach."""
    require_clinical(current_user)
    form = ReachForm(formdata=request.args)
    period = _reach_period(form)
    if period is None:
        return render_template("therapist/reach.html", form=form, counts=None), 400
    since, until = period
    counts = statistics.reach(get_session(), actor=current_user, since=start_of_local_day(since),
                       until=start_of_local_day(until + timedelta(days=1)))
    return render_template("therapist/reach.html", form=form, counts=counts, since=since, until=until,
                           tables=reach_tables(counts))


def _reach_period(form: ReachForm) -> tuple[date, date] | None:
    """The chosen period, both days included (default: the last 365 days); None if it is not valid."""
    if not form.validate():
        return None
    until = form.until.data or local_today()
    since = form.since.data or until - timedelta(days=REACH_DEFAULT_DAYS)
    if since > until:  # only a start date, after today
        form.until.errors = [*form.until.errors, _("The end date must be on or after the start date.")]
        return None
    form.since.data, form.until.data = since, until
    return since, until

