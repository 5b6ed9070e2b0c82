"""Sign-in views: residents (passkeys, e-mail code), staff (password + TOTP or passkey), accounts."""
from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import SelectChoice

from ..crypto import field_crypto as crypto
from ..db import get_session
from ..extensions import limiter, signin_limit
from ..forms import Refusal, run_form_action
from ..kept_pages import csrf_token, kept_page, public_page
from ..models import User
from ..pending_referral import DRAFT_SESSION_KEY, complete_referral
from ..services import email_codes, passkeys
from ..services.accounts import TOTP_LOCK, check_staff_password, check_totp, create_resident, normalise_email
from ..services.errors import Conflict, InvalidCode, NotFound, PasskeyError, SecondFactorLocked
from ..services.mail import queue_mail, queue_no_mail
from ..services.residents import municipality_choices
from ..web import from_another_site, session_cookie_for_script
from . import bp
from .forms import CodeForm, EmailForm, EmptyForm, PasskeyNameForm, RegisterForm, StaffLoginForm, TotpForm
from .signin import after_sign_in, relying_party, remember_next, sign_in, sign_out

#: How long a right staff password counts: the second factor must follow within this time.
STAFF_PENDING_LIFETIME = timedelta(minutes=5)
#: A sign-in or confirmation code from an e-mail that is wrong, used up or too old.
WRONG_EMAIL_CODE = _l("The code is wrong or has expired. Check the e-mail, or ask for a new code.")


def _home_for(user: User) -> str:
    """The page the guard sent the person away from (their own area only), else their start page."""
    if user.is_staff:
        return after_sign_in(url_for("therapist.index"), area=url_for("therapist.index"))
    return after_sign_in(url_for("client.home"), area="/me/")


def _ceremony_options(ceremony: passkeys.Ceremony, session_key: str):
    """Answer a passkey ceremony's options: its challenge is saved (commit) and the key to it kept
    in the browser's session under `session_key`, for the verify step to take."""
    get_session().commit()
    session[session_key] = ceremony.key
    return current_app.response_class(ceremony.options_json, mimetype="application/json")


def _finish_ceremony(finish: Callable[..., Any], session_key: str, credential: dict[str, Any]) -> Any:
    """Verify the browser's answer to the ceremony whose key `_ceremony_options` kept under
    `session_key` (taken from the session: a challenge is answered once). Raises PasskeyError."""
    return finish(get_session(), rp=relying_party(), key=session.pop(session_key, None), credential=credential)


def _json_error(message: str, status: int = 400):
    return jsonify({"error": message}), status


# --- Residents: passkey sign-in ----------------------------------------------------------------

@bp.route("/login")
@kept_page
def login():
    """The resident sign-in page: passkey first, e-mail code (a page of its own) as the fallback.
    It has no form, so a first visitor gets the same kept bytes as everyone and no cookie; the
    passkey script asks `csrf_token_for_script` for a token when the page carries none."""
    remember_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    return public_page("auth/login.html")


@bp.get("/auth/token")
def csrf_token_for_script():
    """This visitor's CSRF token for a script on a page that carries none (the kept sign-in page),
    fetched just before it posts; the first one starts the visitor's session cookie. Only our own
    pages can read the answer (no CORS), so another site gets nothing to post with from it; and a
    request a browser says came from another site (`Sec-Fetch-Site`, or an `Origin` not ours) is
    refused outright."""
    if from_another_site():
        abort(403)
    session_cookie_for_script()
    response = jsonify({"token": csrf_token()})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/auth/passkey/authenticate/options")
@limiter.limit(signin_limit)
def passkey_authenticate_options():
    """Options for a usernameless passkey sign-in (or the staff second factor)."""
    user = None
    pending = _pending_staff_id()
    if request.args.get("purpose") == "staff" and pending:
        user = get_session().get(User, pending)
    return _ceremony_options(passkeys.begin_authentication(get_session(), rp=relying_party(), user=user),
                             "webauthn_auth")


@bp.post("/auth/passkey/authenticate/verify")
@limiter.limit(signin_limit)
def passkey_authenticate_verify():
    """Verify the assertion and sign in (residents), or complete the staff second factor."""
    db = get_session()
    try:
        passkey = _finish_ceremony(passkeys.finish_authentication, "webauthn_auth",
                                   passkeys.parse_credential(request.get_data()))
    except PasskeyError:
        db.commit()  # the challenge is used up either way
        return _json_error(_("Sign-in with the passkey did not work. Try again, or use a code by e-mail."))
    user = passkey.user
    pending = _pending_staff_id()
    if user.is_staff:
        if pending != user.id:
            db.commit()
            return _json_error(_("Staff sign in with a password first."), 403)
        sign_in(user, method="password_passkey")
    else:
        sign_in(user, method="passkey")
    db.commit()
    return jsonify({"redirect": _home_for(user)})


# --- Residents: create an account with a passkey ----------------------------------------------

@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(signin_limit, methods=["POST"])
def register():
    """Step 1 of a new account: municipality, name, consent. Step 2 creates the passkey."""
    remember_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    choices = municipality_choices(get_session())
    form = RegisterForm()
    form.municipality.choices = [SelectChoice(0, _("Choose…"))] + [SelectChoice(c.id, c.name) for c in choices]
    if form.validate_on_submit():
        if form.municipality.data == 0:
            form.municipality.errors.append(_("Choose your municipality."))
        else:
            session["signup"] = {"municipality_id": form.municipality.data,
                                 "display_name": (form.display_name.data or "").strip()}
            return redirect(url_for(".register_passkey"))
    elif request.method == "GET" and "signup" in session:
        form.municipality.data = session["signup"]["municipality_id"]
        form.display_name.data = session["signup"]["display_name"]
    unserved = [c.name for c in choices if c.team_name is None]
    return render_template("auth/register.html", form=form, unserved=unserved), 400 if form.errors else 200


@bp.route("/register/passkey")
def register_passkey():
    """Step 2: create the passkey that is the way in to the new account."""
    if current_user.is_authenticated:
        return redirect(url_for(".passkey_list"))
    if "signup" not in session:
        return redirect(url_for(".register"))
    return render_template("auth/register_passkey.html")


@bp.post("/auth/passkey/register/options")
@limiter.limit(signin_limit)
def passkey_register_options():
    """Options for creating a passkey: for the signed-in user, or for a sign-up in progress."""
    db = get_session()
    if current_user.is_authenticated:
        user, label = current_user, current_user.display_name or current_user.username or _("My account")
    elif "signup" in session:
        user, label = None, session["signup"].get("display_name") or _("My account")
    else:
        return _json_error(_("Start by creating an account."), 403)
    return _ceremony_options(passkeys.begin_registration(db, rp=relying_party(), user=user, user_label=label),
                             "webauthn_reg")


@bp.post("/auth/passkey/register/verify")
@limiter.limit(signin_limit)
def passkey_register_verify():
    """Verify the new passkey; create the account first if this is a sign-up."""
    db = get_session()
    try:
        body = passkeys.parse_credential(request.get_data())
        credential = body.get("credential")
        if not isinstance(credential, dict):
            raise PasskeyError("missing credential")
        new = _finish_ceremony(passkeys.finish_registration, "webauthn_reg", credential)
    except PasskeyError:
        db.commit()
        return _json_error(_("The passkey could not be created. Please try again."))
    name = str(body.get("name") or _("My phone"))
    if current_user.is_authenticated:
        passkeys.add_passkey(db, user=current_user, new=new, name=name)
        db.commit()
        flash(_("The passkey was added."), "success")
        return jsonify({"redirect": url_for(".passkey_list")})
    signup = session.get("signup")
    if not signup or new.user_handle is None:
        db.rollback()
        return _json_error(_("Start by creating an account."), 403)
    try:
        user = create_resident(db, municipality_id=signup["municipality_id"], user_handle=new.user_handle,
                               display_name=signup.get("display_name"), locale=request.cookies.get("lang"))
    except NotFound:
        db.rollback()
        return _json_error(_("Choose your municipality again."))
    passkeys.add_passkey(db, user=user, new=new, name=name)
    sign_in(user, method="passkey", keep=(DRAFT_SESSION_KEY,))  # the referral draft goes along
    target = complete_referral(user, otherwise=after_sign_in(url_for("client.home"), area="/me/"))
    db.commit()
    flash(_("Your account is ready. Next time, sign in with your passkey."), "success")
    return jsonify({"redirect": target})


# --- Residents: one-time code by e-mail -------------------------------------------------------

def _signin_code_body(code: str) -> str:
    return _("Your code is %(code)s. It is valid for 10 minutes.\n\n"
             "If you did not ask for it, you can ignore this message.", code=code)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(signin_limit, methods=["POST"])
def code_request():
    """Ask for a sign-in code. The answer is the same whether or not the address has an account.
    The empty form is the same for every visitor but their CSRF token, so kept rendered."""
    form = EmailForm()
    if form.validate_on_submit():
        db = get_session()
        found = email_codes.request_signin_code(db, email=form.email.data, crypto=crypto())
        session["code_lookup"] = crypto().lookup_hash(normalise_email(form.email.data))
        subject = _("Your sign-in code")
        if found is not None:
            _user, code = found
            queue_mail(db, to=form.email.data.strip(), subject=subject, body=_signin_code_body(code))
        else:
            # The same database work without a message: the answer must not take less time.
            queue_no_mail(db, subject=subject, body=_signin_code_body(f"{secrets.randbelow(10**6):06d}"))
        db.commit()
        flash(_("If the address belongs to an account, we have sent a code to it. It can take a minute."), "info")
        return redirect(url_for(".code_verify"))
    if form.errors:
        return render_template("auth/code_request.html", form=form), 400
    return public_page("auth/code_request.html", form=True, context=lambda: {"form": form})


@bp.route("/login/code/verify", methods=["GET", "POST"])
@limiter.limit(signin_limit, methods=["POST"])
def code_verify():
    """Enter the code; on success you are signed in and asked to make a new passkey."""
    if "code_lookup" not in session:
        return redirect(url_for(".code_request"))
    form = CodeForm()

    def page() -> str:
        return render_template("auth/code_verify.html", form=form)

    return run_form_action(form, lambda db: sign_in(email_codes.verify_signin_code(
        db, email_lookup=session["code_lookup"], code=form.code.data, crypto=crypto()), method="email_code"),
        show=page, back=url_for(".passkey_list"),
        then=lambda _signed_in: after_sign_in(url_for(".passkey_list"), area="/me/"),
        done=_l("You are signed in. Make a passkey on this device so you can sign in quickly next time."),
        refusals=[Refusal(InvalidCode, WRONG_EMAIL_CODE, field=form.code, commit=True)])


# --- Staff: password, then TOTP or passkey ----------------------------------------------------

@bp.route("/staff/login", methods=["GET", "POST"])
@limiter.limit(signin_limit, methods=["POST"])
def staff_login():
    """Staff step 1: username and password."""
    if current_user.is_authenticated and current_user.is_staff:
        return redirect(url_for("therapist.index"))
    form = StaffLoginForm()
    if form.validate_on_submit():
        db = get_session()
        user = check_staff_password(db, username=form.username.data, password=form.password.data)
        db.commit()
        if user is not None:
            session.clear()
            session["staff_pending"] = user.id
            session["staff_pending_at"] = time.time()
            return redirect(url_for(".staff_second_factor"))
        form.password.errors.append(_("The username or password is wrong."))
    return render_template("auth/staff_login.html", form=form), 400 if form.errors else 200


@bp.route("/staff/login/second-factor", methods=["GET", "POST"])
@limiter.limit(signin_limit, methods=["POST"])
def staff_second_factor():
    """Staff step 2: a TOTP code (or a passkey, through the passkey endpoints)."""
    db = get_session()
    expired = "staff_pending" in session and _pending_staff_id() is None
    pending = _pending_staff_id()
    user = db.get(User, pending) if pending else None
    if user is None:
        if expired:
            flash(_("The sign-in took too long. Enter your username and password again."), "info")
        return redirect(url_for(".staff_login"))
    form = TotpForm()

    def page() -> str:
        has_passkey = bool(passkeys.list_passkeys(db, user=user))
        return render_template("auth/staff_second_factor.html", form=form, has_passkey=has_passkey)

    def check_and_sign_in(db) -> None:
        check_totp(db, user=user, code=form.code.data)
        sign_in(user, method="password_totp")

    locked = _("Too many wrong codes. Codes are refused for %(minutes)s minutes: wait, then try again, or sign in "
               "with your passkey.", minutes=int(TOTP_LOCK.total_seconds() // 60))
    return run_form_action(form, check_and_sign_in, show=page, back=url_for("therapist.index"), done=None, refusals=[
        Refusal(SecondFactorLocked, locked, field=form.code, commit=True),  # before InvalidCode, its base class
        Refusal(InvalidCode, _l("The code is wrong or has already been used. Wait for a new code and try again."),
                field=form.code, commit=True)])


def _pending_staff_id() -> int | None:
    """The staff user who gave a right password in this browser less than STAFF_PENDING_LIFETIME
    ago, or None (an older password step is forgotten, so it must be given again)."""
    pending, started = session.get("staff_pending"), session.get("staff_pending_at")
    if pending is None:
        return None
    if not isinstance(started, (int, float)) or time.time() - started > STAFF_PENDING_LIFETIME.total_seconds():
        session.pop("staff_pending", None)
        session.pop("staff_pending_at", None)
        return None
    return pending


@bp.post("/logout")
def logout():
    """Sign out of this browser."""
    form = EmptyForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        was_staff = current_user.is_staff
        sign_out()
        get_session().commit()
        flash(_("You are signed out."), "info")
        return redirect(url_for(".staff_login" if was_staff else ".signed_out"))
    return redirect(url_for("public.index"))


@bp.route("/signed-out")
def signed_out():
    """After sign-out: tells the service worker to remove personal offline data."""
    return render_template("auth/signed_out.html")


# --- Account: passkeys and fallback e-mail ----------------------------------------------------

@bp.route("/account/passkeys")
@login_required
def passkey_list():
    """The user's passkeys: add, rename, remove."""
    items = passkeys.list_passkeys(get_session(), user=current_user)
    return render_template("auth/passkeys.html", passkeys=items, rename_form=PasskeyNameForm(), form=EmptyForm())


@bp.post("/account/passkeys/<int:passkey_id>/rename")
@login_required
def passkey_rename(passkey_id: int):
    """Rename one of your passkeys."""
    form = PasskeyNameForm()
    db = get_session()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for e in form.name.errors) or _("Please try again."), "error")
        return redirect(url_for(".passkey_list"))
    passkeys.rename_passkey(db, user=current_user, passkey_id=passkey_id, name=form.name.data)
    db.commit()
    flash(_("The passkey was renamed."), "success")
    return redirect(url_for(".passkey_list"))


@bp.post("/account/passkeys/<int:passkey_id>/remove")
@login_required
def passkey_remove(passkey_id: int):
    """Remove one of your passkeys (not the last way in)."""
    form = EmptyForm()
    db = get_session()
    if not form.validate_on_submit():
        abort(400)
    try:
        passkeys.remove_passkey(db, user=current_user, passkey_id=passkey_id)
    except PasskeyError:
        flash(_("Add an e-mail address or another passkey first, so you can still sign in."), "error")
        return redirect(url_for(".passkey_list"))
    db.commit()
    flash(_("The passkey was removed."), "success")
    return redirect(url_for(".passkey_list"))


@bp.route("/account/email", methods=["GET", "POST"])
@login_required
@limiter.limit(signin_limit, methods=["POST"])
def email_add():
    """Add or change the e-mail address used for sign-in codes: we send a code to confirm it."""
    form = EmailForm()
    if form.validate_on_submit():
        db = get_session()
        code = email_codes.request_email_confirmation(db, user=current_user, email=form.email.data, crypto=crypto())
        if code is not None:  # None: the address has had its codes for this hour
            queue_mail(db, to=form.email.data.strip(), subject=_("Confirm your e-mail address"),
                       body=_("Your code is %(code)s. It is valid for 10 minutes.", code=code))
        db.commit()
        flash(_("We have sent a code to the address. Enter it below."), "info")
        return redirect(url_for(".email_confirm"))
    return render_template("auth/email_add.html", form=form), 400 if form.errors else 200


@bp.route("/account/email/confirm", methods=["GET", "POST"])
@login_required
@limiter.limit(signin_limit, methods=["POST"])
def email_confirm():
    """Enter the code that confirms the new address."""
    form = CodeForm()

    def page() -> str:
        return render_template("auth/email_confirm.html", form=form)

    return run_form_action(form, lambda db: email_codes.confirm_email(
        db, user=current_user, code=form.code.data, crypto=crypto()),
        show=page, back=url_for(".passkey_list"),
        done=_l("The e-mail address is saved. You can use it to sign in if you lose your passkey."),
        refusals=[Refusal(InvalidCode, WRONG_EMAIL_CODE, field=form.code, commit=True),
                  Refusal(Conflict, _l("This address cannot be used. Choose another address."), field=form.code)])
