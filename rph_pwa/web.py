"""Request-level wiring shared by every blueprint: extensions, security headers, language,
the signed-in user, the staff idle timeout and error pages (also for the services' domain errors,
so views need no `try/except NotFound`)."""
from __future__ import annotations

import re
import traceback
from datetime import datetime, timezone

from flask import Flask, current_app, flash, g, redirect, render_template, request, session, url_for
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from flask_babel import get_locale, get_translations, gettext, lazy_gettext
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError, same_origin
from markupsafe import Markup
from werkzeug.exceptions import Forbidden, HTTPException, NotFound
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from .config import LANGUAGE_NAMES
from .db import MAX_ID, committed_at_once, get_session
from .extensions import babel, csrf, limiter, login_manager, made_once
from .kept_pages import csrf_token, serves_kept_page
from .services import errors, login_sessions

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that a body nested thousands deep is a bad request (400), not a
    RecursionError (500). Every reader of a JSON body (Flask-WTF's form data included) goes
    through `app.json`, so this is the one place for it."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc  # get_json answers 400 for it


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, except that an answer marked with `leave_session_cookie()`,
    and the answer to a script's GET, set no cookie. Residents' sessions are permanent, so every
    answer would set the cookie again with the session as its request saw it: a request the service
    worker makes beside a page (the contact card) could then overwrite the cookie the page had just
    set, and the page's next form would fail its CSRF check. The same for a first CSRF token: when
    the card's fetch is sent on to the sign-in page, its render must not replace the token the page
    beside it just set. An answer marked with `session_cookie_for_script()` (a script asking for
    its first CSRF token) sets it all the same."""

    def should_set_cookie(self, app: Flask, session) -> bool:
        if g.get("leave_session_cookie", False):
            return False
        if fetched_by_script() and not g.get("session_cookie_for_script", False):
            return False
        return super().should_set_cookie(app, session)

    def get_signing_serializer(self, app: Flask):
        """Flask's cookie serializer, made once per app and keys (Flask makes a new one to open
        and again to save every request's session; it holds nothing of a request)."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        return made_once(app, "rph_session_serializer", keys, lambda: super(SessionInterface, self)
                         .get_signing_serializer(app))


def fetched_by_script() -> bool:
    """A GET or HEAD a script made (the browser says `Sec-Fetch-Mode` other than `navigate`); one
    without the header (older browsers, other clients) counts as a page opened."""
    return request.method in SAFE_METHODS and request.headers.get("Sec-Fetch-Mode", "navigate") != "navigate"


def from_another_site() -> bool:
    """A request the browser says another site made: `Sec-Fetch-Site` other than `same-origin`,
    or (browsers without it) an `Origin` that is not ours. Without either header: our own."""
    origin = request.headers.get("Origin")
    return (request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin"
            or (origin is not None and not same_origin(origin, request.host_url)))


def leave_session_cookie() -> None:
    """This answer leaves the browser's session cookie as it is (see SessionInterface)."""
    g.leave_session_cookie = True


def session_cookie_for_script() -> None:
    """This answer to a script's GET sets the session cookie when the session changed (see
    SessionInterface)."""
    g.session_cookie_for_script = True


def init_app(app: Flask) -> None:
    """Bind extensions and request hooks to the app."""
    app.json = JSONProvider(app)
    app.session_interface = SessionInterface()
    # Every <int:...> in a URL is bounded to what can be an id (see db.MAX_ID): no 500 on huge ids.
    app.url_map.converters["int"] = BoundedIntConverter
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    csrf.init_app(app)
    app.jinja_env.globals["csrf_token"] = csrf_token  # Flask-WTF's tokens, made cheaper (kept_pages)
    limiter.init_app(app)
    limiter.request_filter(serves_kept_page)
    babel.init_app(app, locale_selector=select_locale)
    install_template_translations(app)
    app.jinja_env.filters["dedented"] = dedented
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_user)
    app.before_request(check_request_origin)
    app.before_request(refuse_nul_bytes)
    app.before_request(enforce_staff_idle_timeout)
    app.after_request(security_headers)
    app.context_processor(template_globals)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(HTTPException, http_error)
    for domain_error in DOMAIN_ERRORS:
        app.register_error_handler(domain_error, domain_error_page)
    app.register_error_handler(Exception, unexpected_error)


class BoundedIntConverter(IntegerConverter):
    """Werkzeug's int converter with the database's id range as its default bounds."""

    def __init__(self, url_map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max,
                         signed=signed)


def render_audited(template: str, **context) -> str:
    """Render a page whose reads wrote audit events (staff reading residents' data): the events are
    committed first, so a page that was shown is a page that was logged."""
    get_session().commit()
    return render_template(template, **context)


def load_user(token: str):
    """Flask-Login loader: the session holds a login-session token, never the user's id."""
    user = login_sessions.user_for_token(get_session(), token)
    if user is not None:
        user.login_token = token
    return user


def request_translations():
    """Flask-Babel's translations for this request's language, looked up once per request.

    Kept where Flask-Babel keeps the request's locale (`babel_translations`, which it reserves for
    this), so `refresh()` and `force_locale()` reset it as they reset the locale. Flask-Babel's own
    template callables look up the domain, the locale and its name again for every string."""
    if not g:
        return get_translations()  # no app context: Flask-Babel's null translations
    state = g.get("_flask_babel")
    found = getattr(state, "babel_translations", None)
    if found is None:
        found = get_translations()
        g._flask_babel.babel_translations = found  # made by get_translations() above
    return found


def install_template_translations(app: Flask) -> None:
    """`_`, `gettext`, `ngettext`, `pgettext` and `npgettext` in templates through
    `request_translations` (a page calls them dozens of times)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )


_INDENT = re.compile(r"\n[ \t]+")


def dedented(html: Markup) -> Markup:
    """Markup without the indentation that starts its lines: in a long list the template's
    indentation can be a fifth of the page, and a browser shows the page the same without it.
    Only for markup without `<pre>`, `<textarea>` or text shown with its line breaks kept."""
    return Markup(_INDENT.sub("\n", str(html)))


def select_locale() -> str:
    """The user's chosen language, else the language cookie, else bokmål."""
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGE_NAMES:
        return current_user.locale
    chosen = request.cookies.get("lang")
    return chosen if chosen in LANGUAGE_NAMES else current_app.config["BABEL_DEFAULT_LOCALE"]


#: Methods that change nothing, so need no origin check.
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


def check_request_origin():
    """Over HTTPS, a request that changes something must come from our own pages.

    Browsers send `Origin` with every POST, so it is checked first; `Referer` (sent to our own
    pages under `Referrer-Policy: same-origin`) is the fallback. This replaces Flask-WTF's strict
    HTTPS check (WTF_CSRF_SSL_STRICT), which wants a Referer and refused every form when none was
    sent. The CSRF token is checked as well, by CSRFProtect.
    """
    if request.method in SAFE_METHODS or not request.is_secure:
        return None
    origin = request.headers.get("Origin")
    source = origin if origin and origin != "null" else request.referrer
    if not source or not same_origin(source, request.host_url):
        raise CSRFError("The request did not come from this site.")
    return None


_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


def refuse_nul_bytes():
    """Last line of defence: a NUL byte in the URL path, the query string, a form field or a JSON
    body answers a clear 400 before any view runs (PostgreSQL cannot store NUL; nobody types it).

    A form post of our own pages (it carries a CSRF token) is left to its form: `forms.BaseForm`
    refuses every control character with a field error and keeps the rest of what was typed.
    """
    form = request.form
    found = ("\x00" in request.path
             or any("\x00" in key or any("\x00" in v for v in values) for key, values in request.args.lists())
             or any("\x00" in key for key in form))
    if not found and not any(key == "csrf_token" or key.endswith("-csrf_token") for key in form):
        found = any("\x00" in v for values in form.listvalues() for v in values)
    if not found and request.is_json:
        body = request.get_data(cache=True)
        found = b"\x00" in body or _JSON_NUL.search(body) is not None
    if not found:
        return None
    message = gettext("What was sent holds an invisible control character (NUL), which cannot be stored. "
                      "Go back, remove it (it may have come with copied text) and try again.")
    if request.is_json or request.path.startswith("/auth/passkey/"):
        return {"error": message}, 400
    return render_template("errors/error.html", code=400, title=gettext("Something in the request was wrong"),
                           message=message), 400


def enforce_staff_idle_timeout():
    """Sign staff out after 30 idle minutes (residents' sessions are not idle-limited)."""
    if request.endpoint in (None, "static") or request.path in ("/service-worker.js", "/healthz"):
        return None
    if not (current_user and current_user.is_authenticated and current_user.is_staff):
        return None
    now = datetime.now(timezone.utc).timestamp()
    last = session.get("last_active", now)
    if now - last > current_app.config["STAFF_IDLE_TIMEOUT"].total_seconds():
        token = getattr(current_user, "login_token", None)
        if token:
            with committed_at_once() as db:  # also from a reads_only page
                login_sessions.end_login_session(db, token)
        logout_user()
        session.clear()
        minutes = int(current_app.config["STAFF_IDLE_TIMEOUT"].total_seconds() // 60)
        flash(gettext("You were signed out after %(minutes)s minutes without activity.", minutes=minutes), "info")
        return redirect(url_for("auth.staff_login"))
    session["last_active"] = now
    return None


def security_headers(response):
    """Strict headers on every answer."""
    response.headers["Content-Security-Policy"] = CSP
    # Our own pages get the referrer (the HTTPS origin check may use it); other sites get nothing.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if current_app.config["HSTS"]:
        response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if current_user and getattr(current_user, "is_authenticated", False):
        # Personal pages must not be stored by the browser or any cache.
        response.headers["Cache-Control"] = "no-store"
    return response


def template_globals() -> dict:
    """Values every template may use."""
    return {
        "current_locale": str(get_locale()),
        "language_names": LANGUAGE_NAMES,
        "csrf_token_at_hand": csrf_token_at_hand,
    }


def csrf_token_at_hand() -> bool:
    """Whether the page can carry a CSRF token (the head's meta tag, which scripts send with their
    posts) without costing a session cookie: a form on it made one, or the session holds one already.
    A page without a form, seen by a visitor without a session, makes none and sets no cookie."""
    name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    return name in g or name in session


def csrf_error(error: CSRFError):
    """A stale or missing form token: explain, keep the user's place."""
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return {"error": gettext("The page had expired. Please try again.")}, 400
    return render_template("errors/error.html", code=400,
                           title=gettext("The page had expired"),
                           message=gettext("For your safety, forms expire. Go back, reload the page and send it "
                                           "again. What you typed is kept on the page where possible.")), 400


_MESSAGES = {
    400: (lazy_gettext("Something in the request was wrong"), lazy_gettext("Please go back and try again.")),
    403: (lazy_gettext("No access"), lazy_gettext("You do not have access to this page.")),
    404: (lazy_gettext("Page not found"), lazy_gettext("The page does not exist, or you do not have access to it.")),
    405: (lazy_gettext("Not allowed"), lazy_gettext("This page cannot be used that way.")),
    413: (lazy_gettext("Too much text"), lazy_gettext("What you sent was too large. Please shorten it and try again.")),
    429: (lazy_gettext("Too many attempts"), lazy_gettext("Please wait a few minutes before you try again.")),
}


def http_error(error: HTTPException):
    """Friendly, translated error pages (JSON for JSON clients)."""
    code = error.code or 500
    title, message = _MESSAGES.get(code, (lazy_gettext("Something went wrong"),
                                          lazy_gettext("Please try again later.")))
    if request.is_json or request.path.startswith("/auth/passkey/"):
        return {"error": str(message)}, code
    return render_template("errors/error.html", code=code, title=title, message=message), code


#: The services' errors that have one answer wherever they come from. Unknown and forbidden
#: objects are both NotFound (ids reveal nothing). A Conflict or an InvalidCode is not here: what it
#: means depends on the form, so each view says it (`forms.Refusal`); one left unsaid is a bug (500).
DOMAIN_ERRORS: dict[type[errors.DomainError], type[HTTPException]] = {
    errors.NotFound: NotFound,
    errors.Forbidden: Forbidden,
}


def domain_error_page(error: errors.DomainError):
    """The error page of the HTTP error a domain error stands for (404 for NotFound)."""
    answer = next(http for domain, http in DOMAIN_ERRORS.items() if isinstance(error, domain))
    return http_error(answer())


def error_report(error: BaseException) -> str:
    """Types, database error codes, SQL statements and stack frames of an error and the errors
    behind it, but no messages: they can hold what was sent (PostgreSQL's DETAIL holds the failing
    row, a parse error its input). Statements carry placeholders, never values."""
    parts, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        orig = getattr(error, "orig", None)
        code = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None)
        head = f"{type(error).__module__}.{type(error).__qualname__}" + (f" [{code}]" if code else "")
        statement = getattr(error, "statement", None)
        if isinstance(statement, str):
            head += f"\n  SQL: {' '.join(statement.split())[:500]}"
        parts.append(head + "\n" + "".join(traceback.format_tb(error.__traceback__)))
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return "\n... while handling:\n".join(parts)


def unexpected_error(error: Exception):
    """Last resort: log without request data (no health information in logs) and apologise."""
    if isinstance(error, HTTPException):
        return http_error(error)
    current_app.logger.error("Unhandled error (%s) on %s\n%s", type(error).__name__, request.endpoint,
                             error_report(error))
    if current_app.config.get("TESTING") and current_app.config.get("PROPAGATE_TEST_ERRORS", True):
        raise error
    return render_template("errors/error.html", code=500, title=gettext("Something went wrong"),
                           message=gettext("Please try again later.")), 500
