"""Public pages kept rendered, with each visitor's own CSRF token put in.

A public page (the front page, crisis help, the sign-in page, the self-referral start, the course
list) is the same for every anonymous visitor in a language, but for the visitor's CSRF token where
the page carries one (a form, or the head's meta tag that scripts post with). `public_page` renders
it once per (template, language, with or without a token) with PLACEHOLDER where the token goes,
keeps that in this process, and answers each visitor with their own token in its place. Nobody's
token is ever in a kept page: only the placeholder is, and it is replaced per request. A page
without a token is the same bytes for everyone, so its compressed bodies are kept too (by
`assets.CompressedAnswers`, under a key naming the page's content).

Rendered afresh, and not kept, for anyone signed in, a visitor with a message to show (flash), a
URL with a query string (the language switch returns to it), and while templates reload (debug, or
TEMPLATES_AUTO_RELOAD: a changed page must show at once, as the service worker's version does). A
render that made a token of its own or showed a message is never kept.

`csrf_token` is Flask-WTF's `generate_csrf` (the same tokens: `validate_csrf` reads them) with its
serializer made once per app instead of per call, and without itsdangerous's zlib attempt, which
cost more than the rest of the token (the payload, a 40-digit hex string, never compresses shorter).
"""
from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, render_template, request, session
from flask_babel import get_locale
from flask_login import current_user
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.url_safe import URLSafeSerializerMixin

from .extensions import made_once

#: app.extensions key of the kept pages: {(template, language, with token): KeptPage}.
PAGE_CACHE = "rph_public_pages"
#: What a kept page holds where a visitor's CSRF token goes (random per process; HTML-safe, so
#: Jinja's escaping leaves it as it is). Visitors never see it.
PLACEHOLDER = f"csrf-placeholder-{secrets.token_hex(16)}"
#: Prefix of a kept page's compression key (see assets.CompressedAnswers).
PAGE_KEY_PREFIX = "page:"


@dataclass(frozen=True)
class KeptPage:
    """One rendered page: its HTML (with PLACEHOLDER where it carries a token), when it was made
    (time.monotonic) and the key of its compressed bodies (for a page without a token)."""

    html: str
    made: float
    compression_key: str

    @classmethod
    def of(cls, html: str, template: str, language: str) -> KeptPage:
        digest = hashlib.sha256(html.encode()).hexdigest()[:20]
        return cls(html, time.monotonic(), f"{PAGE_KEY_PREFIX}{template}:{language}:{digest}")

    @property
    def has_token(self) -> bool:
        return PLACEHOLDER in self.html

    def fresh(self, keep_seconds: float | None) -> bool:
        return keep_seconds is None or time.monotonic() - self.made < keep_seconds


def public_page(template: str, *, form: bool = False, keep_seconds: float | None = None,
                context: Callable[[], dict[str, Any]] = dict) -> str:
    """`template` as every anonymous visitor sees it in their language (see the module's text).

    `form`: the page has a form, so it always carries the visitor's token (a first visitor gets
    one, and with it a session cookie); any other page carries one only when the visitor's session
    holds a token already (the meta tag), and otherwise sets no cookie. `keep_seconds`: how long
    the page is kept (None: until the process ends; 0: not kept, for pages that show data).
    `context`: makes the template's values, called only when the page is rendered."""
    if (current_app.jinja_env.auto_reload or request.query_string or "_flashes" in session
            or current_user.is_authenticated or _field_name() in g):
        if form:
            csrf_token()  # before the render, so the page carries it (the head's meta tag)
        return render_template(template, **context())
    with_token = form or _field_name() in session
    key = (template, str(get_locale()), with_token)
    pages: dict[tuple[str, str, bool], KeptPage] = current_app.extensions.setdefault(PAGE_CACHE, {})
    page = pages.get(key)
    if page is None or not page.fresh(keep_seconds):
        html, keep = _render(template, context(), with_token=with_token)
        if not keep:  # it made a token of its own or showed a message: this visitor's page only
            return html.replace(PLACEHOLDER, csrf_token()) if PLACEHOLDER in html else html
        page = KeptPage.of(html, template, key[1])
        if keep_seconds != 0:
            pages[key] = page
    if page.has_token:
        return page.html.replace(PLACEHOLDER, csrf_token())
    g.compressed_answer_key = page.compression_key
    return page.html


def _render(template: str, values: dict[str, Any], *, with_token: bool) -> tuple[str, bool]:
    """`template` rendered with PLACEHOLDER as the token when `with_token`, and whether it may be
    kept: not when the render made a token of its own (left on `g` for this request) or showed a
    message."""
    name = _field_name()
    if with_token:
        setattr(g, name, PLACEHOLDER)
    try:
        html = render_template(template, **values)
    finally:
        made = g.pop(name, None)
    if made not in (None, PLACEHOLDER):
        setattr(g, name, made)
        return html, False
    return html, "_flashes" not in session


def kept_page(view):
    """Mark a view that has no rate limit and answers anonymous visitors with `public_page`:
    Flask-Limiter skips looking for a limit (a sixth of a kept page's time). Do not mark a view
    with a limit."""
    view.kept_page = True
    return view


def serves_kept_page() -> bool:
    """Flask-Limiter's request filter: true for a view marked `kept_page`."""
    return getattr(current_app.view_functions.get(request.endpoint or ""), "kept_page", False)


# --- CSRF tokens -------------------------------------------------------------------------------

class TokenSerializer(URLSafeTimedSerializer):
    """Flask-WTF's token serializer (same format), minus the zlib attempt (see the module's text)."""

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(super(URLSafeSerializerMixin, self).dump_payload(obj))


def _field_name() -> str:
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


def _token_serializer() -> TokenSerializer:
    """The app's token serializer, made again only when the secret changes."""
    secret = current_app.config.get("WTF_CSRF_SECRET_KEY", current_app.secret_key)
    return made_once(current_app, "rph_csrf_serializer", secret,
                     lambda: TokenSerializer(secret, salt="wtf-csrf-token"))


def csrf_token() -> str:
    """This request's signed CSRF token, as Flask-WTF's `generate_csrf` makes it: the raw token in
    the session (made on first use, which sets the session cookie), signed with a timestamp, the
    same for the whole request (kept on `g`, where Flask-WTF's forms find it)."""
    name = _field_name()
    token = g.get(name)
    if token is None:
        raw = session.get(name)
        if not isinstance(raw, str):
            raw = session[name] = hashlib.sha1(os.urandom(64)).hexdigest()
        token = _token_serializer().dumps(raw)
        setattr(g, name, token)
    return token
