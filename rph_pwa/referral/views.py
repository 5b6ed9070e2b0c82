"""The self-referral pages: the steps, the review, the account that receives the referral and
the receipt. Each step is saved as a server-side draft, also when it has errors, so nothing typed
is lost."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice, SelectMultipleField
from wtforms.validators import Length

from ..auth.forms import CodeForm
from ..auth.signin import sign_in
from ..client.instrument_forms import instrument_form
from ..client.referral_forms import ContactForm, EligibilityForm, EmptyReferralForm, TroublesForm, WorkForm
from ..crypto import field_crypto
from ..db import get_session, reads_only
from ..extensions import limiter, referral_step_limit, signin_limit
from ..forms import Refusal, run_form_action
from ..kept_pages import kept_page, public_page
from ..models import Municipality, Referral, Team
from ..pending_referral import DRAFT_SESSION_KEY, complete_referral
from ..services import email_codes, referral_account, referral_drafts, referral_submission, slots
from ..services.errors import InvalidCode
from ..services.mail import queue_mail
from ..services.residents import municipality_choices
from . import bp
from .review import ReviewPart, review_parts


@dataclass(frozen=True)
class Step:
    """One page of the flow: the draft section it fills and how to build its form."""

    section: str
    title: object


ALL_STEPS = (
    Step("eligibility", _l("About you")),
    Step("troubles", _l("What troubles you")),
    Step("work", _l("Work and daily life")),
    *[Step(code, code) for code in referral_drafts.REFERRAL_INSTRUMENTS],
    Step("contact", _l("How we can reach you")),
)


class _Steps(Sequence):
    """The steps of this deployment, read at each use: an instrument whose wording is not verified
    is a step only if the UNVERIFIED_INSTRUMENTS setting turns it on."""

    def _steps(self) -> list[Step]:
        asked = set(referral_drafts.asked_instruments(current_app.config.get("UNVERIFIED_INSTRUMENTS")))
        return [s for s in ALL_STEPS if s.section not in referral_drafts.REFERRAL_INSTRUMENTS or s.section in asked]

    def __getitem__(self, index):
        return self._steps()[index]

    def __len__(self) -> int:
        return len(self._steps())


STEPS = _Steps()


def _draft():
    """This browser's draft, or None (without a draft key, the database is not asked)."""
    key = session.get(DRAFT_SESSION_KEY)
    return referral_drafts.load_draft(get_session(), key) if key else None


def _make(form_class, formdata):
    """A form bound to `formdata`, or to the request (Flask-WTF's default) when it is None."""
    return form_class(formdata=formdata) if formdata is not None else form_class()


def _build_form(step: Step, formdata=None):
    db = get_session()
    lang = str(get_locale())
    if step.section == "eligibility":
        form = _make(EligibilityForm, formdata)
        form.municipality.choices = [SelectChoice("", _("Choose…"))] + [
            SelectChoice(c.id, c.name) for c in municipality_choices(db)]
    elif step.section == "troubles":
        form = _make(TroublesForm, formdata)
    elif step.section == "work":
        form = _make(WorkForm, formdata)
    elif step.section == "contact":
        form = _make(ContactForm, formdata)
        form.meeting_municipality.choices = _meeting_choices()
    else:
        form = instrument_form(step.section, lang, formdata=formdata, allow_decline=True)
    return form


def _meeting_choices() -> list[SelectChoice]:
    """Home municipality first, then the other municipalities the same team serves."""
    draft = _draft()
    data = referral_drafts.draft_data(draft) if draft else {}
    home_id = int((data.get("eligibility") or {}).get("municipality_id") or 0)
    home = get_session().get(Municipality, home_id)
    choices = [SelectChoice(0, _("Where I live") + (f" ({home.name})" if home else ""))]
    team = home.teams[0] if home and home.teams else None
    if team is not None:
        choices += [SelectChoice(m.id, m.name) for m in team.municipalities if m.id != home_id]
    return choices


def _values(step: Step, form) -> dict:
    """The cleaned answers of a valid step, in the shape the service stores."""
    if step.section in referral_drafts.REFERRAL_INSTRUMENTS:
        return form.scored_values()
    data = {k: v for k, v in form.data.items() if k != "csrf_token"}
    if step.section == "eligibility":
        return {"age": data["age"], "municipality_id": data["municipality"], "crisis": data["crisis"]}
    if step.section == "contact":
        data["meeting_municipality_id"] = data.pop("meeting_municipality") or None
        data["gp_consent"] = data["gp_consent"] == "yes"
        for key in ("name", "phone", "email", "contact_times", "gp_name", "language_needs"):
            data[key] = (data.get(key) or "").strip()
    return data


#: Raw text kept of a field without a Length limit (choices, numbers): longer is never valid.
CHOICE_LIMIT = 50


def _field_limit(field) -> int:
    """The most characters kept of one value of `field`: its Length validator's maximum."""
    limits = [v.max for v in field.validators if isinstance(v, Length) and v.max is not None and v.max >= 0]
    return min(limits) if limits else CHOICE_LIMIT


def _raw(form) -> dict[str, list[str]]:
    """What was posted to the step's own fields, as typed, so a failed step loses nothing: other
    keys are dropped, a field keeps as many values as it has choices (one if it has none), and
    each value is cut to the field's limit (its Length validator tells the person what is over)."""
    raw = {}
    for field in form:
        if field.type == "CSRFTokenField" or field.name not in request.form:
            continue
        most = len(field.choices or ()) if isinstance(field, SelectMultipleField) else 1
        raw[field.name] = [value[:_field_limit(field)] for value in request.form.getlist(field.name)[:most]]
    return raw


@bp.route("/")
@kept_page
@reads_only
def start():
    """What the referral is, that it can be paused, and the way in (or back in, where the person
    left). Without a draft it is the same for every visitor and has no form: kept rendered, and no
    session cookie for it."""
    draft = _draft()
    if draft is None:
        return public_page("referral/start.html", context=lambda: {"draft": None, "continue_url": None})
    return render_template("referral/start.html", draft=draft, form=EmptyReferralForm(),
                           continue_url=_resume_url(draft))


def _resume_url(draft) -> str:
    """Where "continue" goes: the step the person was on last (the review once they reached it)."""
    position = referral_drafts.resume_position(draft) or 2
    if position > len(STEPS):
        return url_for(".review")
    return url_for(".step", number=max(1, position))


def _record_position(draft, number: int) -> None:
    """Remember the step for resuming; a draft at its size limit simply keeps the old position."""
    db = get_session()
    try:
        referral_drafts.record_position(db, draft=draft, step=number)
    except referral_drafts.DraftTooLarge:
        db.rollback()
        return
    db.commit()


def _returns_to_review() -> bool:
    """Whether the step was opened from the review's edit link (then saving goes back there)."""
    return request.args.get("return") == "review"


@bp.post("/restart")
def restart():
    """Throw away the draft in this browser and start again."""
    if EmptyReferralForm().validate_on_submit():
        referral_drafts.discard_draft(get_session(), session.pop(DRAFT_SESSION_KEY, None))
        get_session().commit()
        flash(_("Your answers were deleted. You can start again."), "info")
    return redirect(url_for(".start"))


@bp.route("/step/<int:number>", methods=["GET", "POST"])
@limiter.limit(referral_step_limit, methods=["POST"])
def step(number: int):
    """One step of the flow."""
    if not 1 <= number <= len(STEPS):
        abort(404)
    current = STEPS[number - 1]
    db = get_session()
    draft = _draft()
    if current.section != "eligibility" and draft is None:
        return redirect(url_for(".step", number=1))
    saved = (referral_drafts.draft_data(draft).get(current.section) or {}) if draft else {}

    if request.method == "GET":
        form = _build_form(current, formdata=MultiDict(
            [(k, v) for k, values in saved.get("raw", {}).items() for v in values]) if saved.get("raw") else None)
        if saved.get("raw") and not saved.get("complete"):
            form.validate()  # show the errors the person left, with their text still there
        if draft is not None:
            _record_position(draft, number)
        return _render_step(number, current, form, draft)

    form = _build_form(current)
    if request.form.get("action") == "back" and number > 1:
        return _back(number, current, form, draft)
    crisis_now = current.section == "eligibility" and request.form.get("crisis") == "yes"
    if crisis_now and _under_16(request.form.get("age")):
        # A young person in crisis gets age-adapted crisis help before anything else, even if the
        # rest of the step is unfinished; nothing they typed is stored.
        referral_drafts.discard_draft(db, session.pop(DRAFT_SESSION_KEY, None))
        db.commit()
        return render_template("referral/under_16.html", crisis=True)
    if not form.validate_on_submit():
        if draft is not None and "csrf_token" not in form.errors:
            _save_section(draft, current.section, {"raw": _raw(form), "complete": False})
        return _render_step(number, current, form, draft, crisis_now=crisis_now), 400

    values = _values(current, form)
    if current.section == "eligibility":
        result = referral_drafts.check_eligibility(db, age=values["age"], municipality_id=values["municipality_id"])
        if result.outcome != "ok":
            # Not stored as a referral: any draft from this browser is deleted too.
            referral_drafts.discard_draft(db, session.pop(DRAFT_SESSION_KEY, None))
            db.commit()
            template = "referral/under_16.html" if result.outcome == "under_16" else "referral/unserved.html"
            return render_template(template, municipality=result.municipality, crisis=values["crisis"] == "yes")
        if draft is None:
            draft, key = referral_drafts.start_draft(db, eligibility={**values, "raw": _raw(form), "complete": True})
            session[DRAFT_SESSION_KEY] = key
            session.permanent = True  # the draft survives closing the browser
            db.commit()
            return redirect(url_for(".step", number=2))
    if not _save_section(draft, current.section, {**values, "raw": _raw(form), "complete": True}):
        return _render_step(number, current, form, draft), 400
    if number == len(STEPS) or _returns_to_review():
        return redirect(url_for(".review"))
    return redirect(url_for(".step", number=number + 1))


def _back(number: int, current: Step, form, draft):
    """"Back": keep what was typed on this step as a draft (complete if it is valid, as typed if
    not, without showing errors now), then go to the previous step (or the review it came from)."""
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            return _render_step(number, current, form, draft), 400
        values = {"raw": _raw(form), "complete": False}
    else:
        values = {**_values(current, form), "raw": _raw(form), "complete": True}
    if not _save_section(draft, current.section, values):
        return _render_step(number, current, form, draft), 400
    if _returns_to_review():
        return redirect(url_for(".review"))
    return redirect(url_for(".step", number=number - 1))


def _under_16(age: str | None) -> bool:
    """Whether a typed age (maybe not yet valid) is a whole number below 16."""
    try:
        return 0 <= int((age or "").strip()) < referral_drafts.MINIMUM_AGE
    except ValueError:
        return False


def _save_section(draft, section: str, values: dict) -> bool:
    """Save one step into the draft and commit; False, with a message, if the draft would grow
    beyond its limit (then nothing changes)."""
    db = get_session()
    try:
        referral_drafts.save_section(db, draft=draft, section=section, values=values)
    except referral_drafts.DraftTooLarge:
        db.rollback()
        flash(_("What you sent was too large. Please shorten it and try again."), "error")
        return False
    db.commit()
    return True


def _render_step(number: int, current: Step, form, draft, crisis_now: bool = False):
    urgent = bool(draft and draft.urgent) or crisis_now
    return render_template("referral/step.html", number=number, total=len(STEPS), step=current, form=form,
                           urgent=urgent, instrument=getattr(form, "instrument_view", None),
                           return_to_review=_returns_to_review())


def _review_parts(data: dict) -> list[ReviewPart]:
    """Every step's saved answers in words, each with the step number its edit link opens."""
    parts = []
    for number, step_ in enumerate(STEPS, start=1):
        saved = data.get(step_.section) or {}
        raw = saved.get("raw") or {}
        form = _build_form(step_, formdata=MultiDict([(k, v) for k, values in raw.items() for v in values]))
        view = getattr(form, "instrument_view", None)
        parts.append((number, view.title if view else step_.title, form, bool(saved.get("complete"))))
    return review_parts(parts)


@bp.route("/review", methods=["GET", "POST"])
def review():
    """Check the answers, then send (signed in) or create the account (not signed in)."""
    draft = _draft()
    if draft is None:
        if session.get("referral_sent"):
            return redirect(url_for(".sent"))
        return redirect(url_for(".start"))
    data = referral_drafts.draft_data(draft)
    missing = referral_drafts.missing_sections(data)
    form = EmptyReferralForm()
    if request.method == "POST" and form.validate_on_submit() and not missing:
        if current_user.is_authenticated and current_user.is_resident:
            target = _send_or_ask(current_user, draft)
            get_session().commit()
            return redirect(target)
        if current_user.is_authenticated:
            abort(403)
        eligibility = data["eligibility"]
        session["signup"] = {"municipality_id": int(eligibility["municipality_id"]),
                             "display_name": (data.get("contact") or {}).get("name", "")}
        return redirect(url_for(".account"))
    missing_steps = [(i + 1, s) for i, s in enumerate(STEPS) if s.section in missing]
    if request.method == "GET":
        _record_position(draft, len(STEPS) + 1)
    return render_template("referral/review.html", missing=missing_steps, form=form, urgent=draft.urgent,
                           parts=_review_parts(data)), 400 if request.method == "POST" else 200


@bp.route("/account")
def account():
    """Create the account that receives the referral: a passkey, or a code by e-mail."""
    draft = _draft()
    if draft is None or "signup" not in session:
        return redirect(url_for(".review"))
    contact = referral_drafts.draft_data(draft).get("contact") or {}
    return render_template("referral/account.html", email=contact.get("email", ""), form=EmptyReferralForm(),
                           urgent=draft.urgent, contact_step=len(STEPS))


@bp.post("/account/email")
@limiter.limit(signin_limit)
def account_email():
    """Fallback: send a code to the e-mail address given in the contact step."""
    db = get_session()
    draft = _draft()
    form = EmptyReferralForm()
    contact = (referral_drafts.draft_data(draft).get("contact") or {}) if draft else {}
    if draft is None or not form.validate_on_submit():
        return redirect(url_for(".review"))
    if not contact.get("email"):
        flash(_("Add your e-mail address in the contact step first."), "error")
        return redirect(url_for(".step", number=len(STEPS)))
    code = referral_account.issue_draft_code(db, draft=draft, crypto=field_crypto())
    if code is not None:  # None: the address has had its codes for this hour; the answer is the same
        queue_mail(db, to=contact["email"], subject=_("Your sign-in code"),
                   body=_("Your code is %(code)s. It is valid for 10 minutes.\n\n"
                          "If you did not ask for it, you can ignore this message.", code=code))
    db.commit()
    flash(_("We have sent a code to %(email)s.", email=contact["email"]), "info")
    return redirect(url_for(".account_code"))


@bp.route("/account/code", methods=["GET", "POST"])
@limiter.limit(signin_limit, methods=["POST"])
def account_code():
    """Enter the e-mailed code: the account is created (or found) and the referral is sent."""
    draft = _draft()
    if draft is None or "signup" not in session:
        return redirect(url_for(".review"))
    form = CodeForm()

    def page() -> str:
        return render_template("referral/account_code.html", form=form, contact_step=len(STEPS))

    def sign_in_and_send(db) -> str:
        user = referral_account.account_from_draft_code(db, draft=draft, code=form.code.data, crypto=field_crypto(),
                                                 locale=request.cookies.get("lang"))
        sign_in(user, method="email_code", keep=(DRAFT_SESSION_KEY,))
        return _send_or_ask(user, draft)

    return run_form_action(form, sign_in_and_send, show=page, back=url_for(".review"), done=None,
                           then=lambda target: target, refusals=[Refusal(InvalidCode, _l(
                               "The code is wrong or has expired. Check the e-mail, or ask for a new code."),
                               field=form.code, commit=True)])


def _send_or_ask(user, draft) -> str:
    """Send the referral, unless it would change the resident's details: then ask first. Returns
    where to go (the receipt, the details question, or the review if it could not be sent); the
    caller commits."""
    if referral_submission.detail_changes(get_session(), resident=user, draft=draft):
        return url_for(".details")
    return complete_referral(user, otherwise=url_for(".review"))


@bp.route("/details", methods=["GET", "POST"])
def details():
    """A signed-in resident whose referral has other details than their account: update them, or
    keep the current ones. Nothing changes, and nothing is sent, without an answer."""
    db = get_session()
    draft = _draft()
    if draft is None or not current_user.is_authenticated or not current_user.is_resident:
        return redirect(url_for(".review"))
    if referral_drafts.missing_sections(referral_drafts.draft_data(draft)):
        return redirect(url_for(".review"))
    form = EmptyReferralForm()
    choice = request.form.get("choice")
    error = None
    if request.method == "POST" and form.validate_on_submit():
        if choice in ("update", "keep"):
            target = complete_referral(current_user, otherwise=url_for(".review"), update_details=choice == "update")
            db.commit()
            return redirect(target)
        error = _("Choose whether to update your details or keep them.")
    changes = referral_submission.detail_changes(db, resident=current_user, draft=draft)
    if not changes and request.method == "GET":
        return redirect(url_for(".review"))
    labels = {"name": _("Name"), "phone": _("Phone number"), "municipality": _("Municipality"),
              "team": _("Team")}
    return render_template("referral/details.html", changes=changes, labels=labels, form=form, error=error,
                           urgent=draft.urgent), 400 if request.method == "POST" else 200


@bp.route("/sent")
def sent():
    """The receipt: what happens next, and when."""
    referral_id = session.get("referral_sent")
    if not referral_id or not current_user.is_authenticated:
        return redirect(url_for(".start"))
    referral = get_session().get(Referral, referral_id)
    if referral is None or referral.resident_id != current_user.id:
        abort(404)
    team: Team = referral.team
    address = referral_account.email_to_confirm(get_session(), referral=referral, user=current_user,
                                                crypto=field_crypto())
    can_book = slots.booking_offer(get_session(), resident=current_user).can_book
    return render_template("referral/sent.html", team=team, urgent=referral.urgent, confirm_email=address,
                           form=EmptyReferralForm(), can_book=can_book)


@bp.post("/sent/confirm-email")
@limiter.limit(signin_limit)
def confirm_email():
    """From the receipt: send a code to the referral's address; once confirmed on the account's
    confirm page, it is the account's sign-in address."""
    referral_id = session.get("referral_sent")
    if not referral_id or not current_user.is_authenticated or not EmptyReferralForm().validate_on_submit():
        return redirect(url_for(".start"))
    db = get_session()
    referral = db.get(Referral, referral_id)
    if referral is None or referral.resident_id != current_user.id:
        abort(404)
    address = referral_account.email_to_confirm(db, referral=referral, user=current_user, crypto=field_crypto())
    if address is None:
        return redirect(url_for(".sent"))
    code = email_codes.request_email_confirmation(db, user=current_user, email=address, crypto=field_crypto())
    if code is not None:  # None: the address has had its codes for this hour
        queue_mail(db, to=address, subject=_("Confirm your e-mail address"),
                   body=_("Your code is %(code)s. It is valid for 10 minutes.", code=code))
    db.commit()
    flash(_("We have sent a code to %(email)s.", email=address), "info")
    return redirect(url_for("auth.email_confirm"))
