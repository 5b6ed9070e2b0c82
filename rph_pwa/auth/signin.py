"""Starting and ending a signed-in session in the browser, and the guard that keeps a blueprint to
the signed-in users it is for."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from flask import Blueprint, abort, current_app, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ..db import get_session
from ..models import User
from ..services import login_sessions
from ..services.mail import MailSettings
from ..services.passkeys import RelyingParty

#: The page a signed-out person asked for, kept in the session by the guard (a local path only)
#: and taken once after signing in (`after_sign_in`); it survives the session's rotation.
NEXT_KEY = "next"
NEXT_MAX = 500


def safe_next(value: object) -> str | None:
    """`value` if it is a path on this site ("/..." but not "//..." or "/\\..."), else None."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith(("//", "/\\")):
        return None
    if len(value) > NEXT_MAX or any(ord(char) < 33 for char in value):
        return None
    return value


def after_sign_in(default: str, *, area: str) -> str:
    """Where to go after signing in: the page the guard sent the person away from, if it is in
    `area` (a path prefix, e.g. "/me/"), once; else `default`."""
    wanted = safe_next(session.pop(NEXT_KEY, None))
    return wanted if wanted is not None and wanted.startswith(area) else default


def remember_next(target: object) -> None:
    """Keep a safe `next` from a link (`/login?next=...`, `/register?next=...`) for after signing in;
    anything but a local path is ignored."""
    wanted = safe_next(target)
    if wanted is not None:
        session[NEXT_KEY] = wanted


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
            # Back here after signing in (e.g. a scanned check-in code): a page opened, not a
            # script's fetch (offline.js fetches the contact card on every page).
            if request.method == "GET" and request.headers.get("Sec-Fetch-Mode", "navigate") == "navigate":
                session[NEXT_KEY] = request.full_path if request.query_string else request.path
            return redirect(url_for(sign_in_at))
        if not admits(current_user):
            abort(403)
        return None
