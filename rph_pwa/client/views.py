"""Resident views: home, own profile, and who has opened my record."""
from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_time, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..auth.forms import ProfileForm
from ..db import get_session, reads_only
from ..notices import notify_team_urgent
from ..services import audit, outcomes, resident_home, slots
from ..services.errors import NotFound
from ..services.progress import resident_episode_progress
from ..services.residents import ProfileInput, update_profile
from ..web import leave_session_cookie
from . import bp
from . import progress as progress_view
from .instrument_forms import instrument_form


@bp.route("/me")
@reads_only
def home():
    """The resident's start page: where I am, my next appointments, what to do before the next
    contact, and what is always one tap away."""
    db = get_session()
    page = resident_home.home(db, resident=current_user, locale=str(get_locale()),
                              hide_drafts=current_app.config["SELFHELP_HIDE_DRAFTS"])
    team = current_user.team
    # The municipality is named only when it has no team yet (one query fewer for everyone else).
    return render_template("client/home.html", home=page, team=team,
                           municipality=current_user.home_municipality if team is None else None,
                           booking=slots.booking_offer(db, resident=current_user, latest=page.latest))


@bp.app_template_filter("said")
def said(sentence: resident_home.Sentence) -> str:
    """A `resident_home.Sentence` in the reader's language, its times in the team's zone: a date
    as a full day ("tirsdag 3. mars 2026"), a time as a time of day, a list joined by commas."""
    return str(sentence.text) % {name: _spoken(value) for name, value in sentence.values.items()}


def _spoken(value) -> str:
    if isinstance(value, datetime):
        return format_time(value, "short")
    if isinstance(value, date):
        return format_date(value, "full")
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


@bp.route("/me/contact-card")
def contact_card():
    """My team's name and phone number, which the service worker keeps on this device (until
    sign-out) for the offline page. Nothing else: no health information, no name of mine."""
    leave_session_cookie()  # fetched beside a page: must not overwrite the page's cookie
    team = current_user.team
    phone = team.phone if team is not None else None
    return {"team": team.name if team is not None else None, "phone": phone,
            "tel": phone.replace(" ", "") if phone else None}


@bp.route("/me/profile", methods=["GET", "POST"])
def profile():
    """Edit your own contact details."""
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        data = ProfileInput(
            display_name=(form.display_name.data or "").strip() or None,
            phone=" ".join((form.phone.data or "").split()) or None,
            contact_note=(form.contact_note.data or "").strip() or None,
        )
        update_profile(get_session(), resident=current_user, data=data)
        get_session().commit()
        flash(_("Saved."), "success")
        return redirect(url_for(".profile"))
    return render_template("client/profile.html", form=form), 400 if form.errors else 200


@bp.route("/me/access-log")
def access_log():
    """Who among the staff has opened your record, and when."""
    rows = audit.events_about(get_session(), resident=current_user)
    return render_template("client/access_log.html", rows=rows,
                           actions={key: str(label) for key, label in ACCESS_ACTIONS.items()},
                           unknown_action=str(ACCESS_ACTION_UNKNOWN))


#: What each audited action means, in the resident's words: what the staff member did, no more.
#: Every event is a staff member opening or changing something; none of them means the team acted on it.
ACCESS_ACTIONS = {
    "view_resident": _l("Opened your contact details"),
    "view_referral": _l("Opened your referral"),
    "view_episode": _l("Opened your course of care: appointments and your answers to questionnaires"),
    "view_safety_plan": _l("Opened your safety plan"),
    "edit_safety_plan": _l("Saved a change to your safety plan"),
    "view_urgent_flag": _l("Opened the notice that you may need quick contact"),
    "register_enquiry": _l("Registered your enquiry by phone or letter"),
    "view_selfhelp": _l("Opened your self-help programme and how far you have come"),
    "view_sleep_diary": _l("Opened your sleep diary"),
    "approve_sleep_window": _l("Saved a sleep window for you"),
    "view_course_results": _l("Opened the evaluation results of a course you are in"),
    "view_course_links": _l("Opened the list of evaluation links of a course you are in"),
    "view_course_run": _l("Opened the list of people taking part in your course or group"),
    "view_course_meeting": _l("Opened a course meeting: whether you came and your answers before it"),
}
#: An action without its own sentence (never a raw code on the resident's page).
ACCESS_ACTION_UNKNOWN = _l("Opened your information")


@bp.route("/me/forms/<int:request_id>", methods=["GET", "POST"])
def form(request_id: int):
    """A questionnaire before a contact. A partly filled form is kept as a draft."""
    db = get_session()
    form_request = outcomes.form_for_resident(db, resident=current_user, request_id=request_id)
    if form_request.response_id is not None:
        if request.method == "POST" and "item9" in form_request.response.flags:
            # A repeated post (a double tap, a second tab) gets the first post's page: crisis help.
            return render_template("client/form_sent_urgent.html")
        flash(_("You have already sent this form. Thank you."), "info")
        return redirect(url_for(".progress"))
    lang = str(get_locale())
    if request.method == "GET":
        saved = outcomes.form_draft(form_request)
        formdata = MultiDict([(k, v) for k, values in saved.items() for v in values]) if saved else None
        questionnaire = instrument_form(form_request.instrument_code, lang, formdata=formdata)
        return _form_page(questionnaire, form_request)
    questionnaire = instrument_form(form_request.instrument_code, lang)
    if not questionnaire.validate_on_submit():
        if "csrf_token" not in questionnaire.errors:
            outcomes.save_form_draft(db, request=form_request,
                                     raw={k: v for k, v in request.form.lists() if k != "csrf_token"})
            db.commit()
        return _form_page(questionnaire, form_request), 400
    values = questionnaire.scored_values()
    submission = outcomes.submit_form(db, resident=current_user, request_id=request_id, answers=values["answers"],
                                      functioning=values["functioning"])
    inbox = current_user.team.inbox_email if current_user.team else None
    if submission.created and submission.urgent and inbox:
        notify_team_urgent(inbox)  # queued in this transaction: the notice and the answers commit together
    db.commit()
    if submission.urgent:
        return render_template("client/form_sent_urgent.html")
    flash(_("Thank you. Your answers have been sent to your therapist."), "success")
    remaining = outcomes.open_forms(db, resident=current_user)
    return redirect(url_for(".form", request_id=remaining[0].id) if remaining else url_for(".progress"))


def _form_page(questionnaire, form_request):
    return render_template("client/form.html", form=questionnaire, instrument=questionnaire.instrument_view,
                           contact_at=form_request.appointment.starts_at,
                           draft_key=opaque_key("form-draft", current_user.id, form_request.id))


def opaque_key(*parts) -> str:
    """A key for the browser's storage that names nobody and nothing: an HMAC under the app's secret."""
    message = ":".join(str(p) for p in parts).encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), message, hashlib.sha256).hexdigest()[:32]


@bp.app_context_processor
def form_draft_owner():
    """`draft_owner()` in templates: the signed-in resident's opaque key for answers kept on the device.
    static/js/form-drafts.js restores and sends only drafts carrying this key and removes any other."""
    return {"draft_owner": draft_owner_key}


def draft_owner_key() -> str | None:
    """The signed-in resident's opaque owner key for what is kept on the device (None for anyone else)."""
    if current_user.is_authenticated and current_user.is_resident:
        return opaque_key("form-draft-owner", current_user.id)
    return None


#: Longest value kept of one answer in a draft (answers are option values; this only bounds junk).
DRAFT_VALUE_MAX = 40


@bp.post("/me/forms/<int:request_id>/draft")
def save_draft(request_id: int):
    """Keep a partly filled form as the person answers (posted by static/js/form-drafts.js, also
    with navigator.sendBeacon when the page is left). Only the form's own questions are kept.

    200 saved; 409 the form was sent already; 404 the form is not open (then the draft is moot).
    """
    db = get_session()
    try:
        form_request = outcomes.form_for_resident(db, resident=current_user, request_id=request_id)
    except NotFound:
        return {"status": "closed"}, 404
    if form_request.response_id is not None:
        return {"status": "sent"}, 409
    names = {name for name in instrument_form(form_request.instrument_code, str(get_locale()))._fields
             if name != "csrf_token"}
    raw = {key: [v[:DRAFT_VALUE_MAX] for v in values[:4]]
           for key, values in request.form.lists() if key in names}
    outcomes.save_form_draft(db, request=form_request, raw=raw)
    db.commit()
    return {"status": "saved"}, 200


@bp.route("/me/progress")
def progress():
    """Min fremgang: scores over time as charts, tables and plain sentences."""
    progress = resident_episode_progress(get_session(), resident=current_user)
    return render_template("client/progress.html", charts=progress_view.charts(progress.series),
                           started_at=progress.started_at, risen=progress_view.any_risen(progress.series))
