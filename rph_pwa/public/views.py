"""Public views: no sign-in needed."""
from __future__ import annotations

from urllib.parse import unquote

from flask import abort, current_app, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import text

from ..auth.forms import LanguageForm
from ..db import get_session, parse_id, reads_only, utcnow
from ..extensions import csrf
from ..kept_pages import kept_page, public_page
from ..services.mail import MailSettings, outbox_status, read_outbox
from . import bp, worker


# The front page (what this is, and the ways in); what RPH is and is not, who it is for, the four
# offerings, how fast the team answers; crisis help (public, cached offline by the service worker,
# never personal); the page the service worker shows when a page cannot be fetched; how
# information is stored and protected.
@bp.route("/", endpoint="index")
@bp.route("/about", endpoint="about")
@bp.route("/hjelp", endpoint="crisis")
@bp.route("/offline", endpoint="offline")
@bp.route("/personvern", endpoint="privacy")
@kept_page
def page():
    """A page that is its template and nothing else: `public/<endpoint>.html` (the same for every
    visitor in a language, so kept rendered: kept_pages.public_page)."""
    return public_page(f"public/{request.endpoint.rpartition('.')[2]}.html")


@bp.route("/find-team")
@reads_only
def find_team():
    """The municipality picker: which team serves you, and its phone number (or that none does)."""
    from ..services.residents import municipality_choices, team_summary

    choices = municipality_choices(get_session())
    chosen = parse_id(request.args.get("municipality"))
    team = team_summary(get_session(), municipality_id=chosen) if chosen else None
    municipality = next((c for c in choices if c.id == chosen), None)
    return render_template("public/find_team.html", choices=choices, chosen=municipality, team=team)


@bp.post("/language")
@csrf.exempt
def set_language():
    """Remember the chosen language: on the account when signed in, and in a cookie.

    A signed-in user's choice is saved on the account, so their post needs its CSRF token. A
    visitor's only sets the language cookie, so the switch on the anonymous pages carries no token
    (a token would cost those pages a session cookie); over HTTPS `web.check_request_origin` still
    refuses a post from another site."""
    if current_user.is_authenticated:
        csrf.protect()
    form = LanguageForm(meta={"csrf": False})
    target = _safe_next(request.form.get("next"))
    if not form.validate_on_submit():
        return redirect(target)
    if current_user.is_authenticated:
        current_user.locale = form.lang.data
        get_session().commit()
    response = redirect(target)
    response.set_cookie("lang", form.lang.data, max_age=365 * 24 * 3600, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True)
    return response


def _safe_next(target: str | None) -> str:
    """Only a same-site path, so the language switch cannot be an open redirect (or a 500).

    The path must start with one "/" (not "//" or "/\\", which browsers read as another host)
    and hold no backslash, control character or whitespace, also once percent-decoded: browsers
    drop tabs and newlines from URLs, so "/\\t/evil.example" would become "//evil.example".
    """
    if not target or not target.startswith("/") or len(target) > 2000:
        return url_for(".index")
    for candidate in (target, unquote(target)):
        if (candidate.startswith(("//", "/\\")) or "\\" in candidate
                or any(c.isspace() or not c.isprintable() for c in candidate)):
            return url_for(".index")
    return target


@bp.route("/healthz")
@reads_only
def healthz():
    """Liveness, database and mail status for load balancers and monitoring.

    Sign-in codes and urgent notices leave through the outbox, so a message waiting longer than
    MAIL_OUTBOX_MAX_AGE_SECONDS (the scheduler process is down, or the mail server) is unhealthy.
    Only the oldest message's age is shown: nothing about who or what it is.
    """
    try:
        db = get_session()
        db.execute(text("SELECT 1"))
        age = outbox_status(db, now=utcnow()).oldest_age_seconds
    except Exception:  # noqa: BLE001 - any database failure is reported, not raised
        current_app.logger.warning("health check: database unavailable")
        return {"status": "error", "database": "unavailable"}, 503
    limit = current_app.config["MAIL_OUTBOX_MAX_AGE_SECONDS"]
    mail_ok = age is None or age <= limit
    body = {"status": "ok" if mail_ok else "error", "database": "ok",
            "mail_outbox": {"status": "ok" if mail_ok else "delayed", "oldest_age_seconds": age,
                            "max_age_seconds": limit}}
    if not mail_ok:
        current_app.logger.warning("health check: a message has waited %s s in the mail outbox", age)
    return body, 200 if mail_ok else 503


@bp.route("/manifest.webmanifest")
def manifest():
    """The web app manifest, at the root so its scope is the whole app, with the neutral name the
    installation chose (APP_NAME, APP_SHORT_NAME: the lock screen shows it on every notification)."""
    response = make_response(worker.manifest_body(current_app))
    response.mimetype = "application/manifest+json"
    response.add_etag()
    return response.make_conditional(request)


@bp.route("/service-worker.js")
def service_worker():
    """The hand-written service worker with its version and precache URLs filled in (worker.py),
    served from the root so it controls every page; browsers must check it on every visit."""
    response = make_response(worker.worker_source(worker.worker_config(current_app)))
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.route("/dev/outbox")
def dev_outbox():
    """Development only: read the mail the app would have sent."""
    if not current_app.config["SHOW_DEV_OUTBOX"] or current_app.config["MAIL_BACKEND"] != "outbox":
        abort(404)
    messages = read_outbox(MailSettings.from_config(current_app.config))
    return render_template("public/dev_outbox.html", messages=messages)
