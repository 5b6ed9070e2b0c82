"""Starting and ending a signed-in session in the browser, and the guard that keeps a blueprint to
the signed-in users it is for."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from flask import Blueprint, abort, current_app, redirect, session, url_for
from flask_login import current_user, login_user, logout_user

from ..db import get_session
from ..models import User
from ..services import login_sessions
from ..services.mail import MailSettings
from ..services.passkeys import RelyingParty

#: The session key of the page a resident goes to after signing in (set by `remember_next`).
NEXT_KEY = "after_sign_in"


def is_safe_next(target: str | None) -> bool:
    """Whether `target` is a path on this site (never another host: no "//", no backslash, no scheme)."""
    return (bool(target) and len(target) <= 200 and target.startswith("/") and not target.startswith("//")
            and "\\" not in target and target.isprintable())


def remember_next(target: str | None) -> None:
    """Keep a safe `next` path for after the sign-in (anything else is ignored)."""
    if is_safe_next(target):
        session[NEXT_KEY] = target


def after_sign_in(default: str) -> str:
    """Where a signed-in resident goes now: the remembered `next` (used once), or `default`."""
    target = session.pop(NEXT_KEY, None)
    return target if is_safe_next(target) else default


def sign_in(user: User, *, method: str, keep: tuple[str, ...] = ()) -> None:
    """Rotate the session: forget everything from before (but the language, the `keep` keys and
    the page to go to after signing in), record a new login session, log in."""
    lang = session.get("lang")
    kept = {key: session[key] for key in (*keep, NEXT_KEY) if key in session}
    session.clear()
    token = login_sessions.start_login_session(get_session(), user=user, method=method)
    user.login_token = token
    login_user(user)
    session.permanent = user.is_resident
    if user.is_staff:
        session["last_active"] = datetime.now(timezone.utc).timestamp()
    if lang:
        session["lang"] = lang
    session.update(kept)


def sign_out() -> None:
    """End this browser's login session."""
    token = getattr(current_user, "login_token", None)
    if token:
        login_sessions.end_login_session(get_session(), token)
    logout_user()
    session.clear()


def relying_party() -> RelyingParty:
    """The WebAuthn relying party from config."""
    config = current_app.config
    return RelyingParty(id=config["WEBAUTHN_RP_ID"], name=config["WEBAUTHN_RP_NAME"], origin=config["WEBAUTHN_ORIGIN"])


def mail_settings() -> MailSettings:
    """Mail settings from config."""
    return MailSettings.from_config(current_app.config)


def guard_blueprint(bp: Blueprint, *, admits: Callable[[User], bool], sign_in_at: str) -> None:
    """Guard every page of `bp` once (not a decorator per view): a stranger is sent to sign in at the
    endpoint `sign_in_at`; a signed-in user that `admits` refuses gets 403."""

    @bp.before_request
    def signed_in_and_admitted():
        if not current_user.is_authenticated:
            return redirect(url_for(sign_in_at))
        if not admits(current_user):
            abort(403)
        return None
