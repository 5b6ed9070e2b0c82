"""Absolute links for e-mails, built from the configured PUBLIC_BASE_URL only.

A request's Host or X-Forwarded-Host header is chosen by whoever sends the request, so a link
built from it can point anywhere. E-mails (and the scheduler's jobs, which have no request) use
`external_url`, and production accepts only the public host name (Flask's TRUSTED_HOSTS).
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app
from flask_babel import gettext
from werkzeug.exceptions import SecurityError


def _parse_base_url(value: str, *, production: bool) -> tuple[str, str, str]:
    """(scheme, host[:port], path) of PUBLIC_BASE_URL; refuses anything that is not a plain base URL."""
    parts = urlsplit(value or "")
    allowed = ("https",) if production else ("http", "https")
    if parts.scheme not in allowed or not parts.hostname or parts.query or parts.fragment or parts.username:
        need = "an https:// URL" if production else "an http:// or https:// URL"
        raise RuntimeError(f"PUBLIC_BASE_URL must be {need} without query or fragment, not {value!r}")
    return parts.scheme, parts.netloc, parts.path.rstrip("/")


def init_app(app: Flask) -> None:
    """Check PUBLIC_BASE_URL, and in production accept only its host (plus EXTRA_TRUSTED_HOSTS)."""
    production = app.config.get("ENV_NAME") == "production"
    _scheme, netloc, _path = _parse_base_url(app.config["PUBLIC_BASE_URL"], production=production)
    if production and app.config.get("TRUSTED_HOSTS") is None:
        host = urlsplit(f"//{netloc}").hostname or ""
        app.config["TRUSTED_HOSTS"] = [host, *app.config.get("EXTRA_TRUSTED_HOSTS", [])]
    app.register_error_handler(SecurityError, untrusted_host)


def untrusted_host(_error: SecurityError):
    """400 for a Host header that is not ours. Plain text: with an unknown host Flask cannot build
    URLs, so the usual error page (which links to the app) cannot be shown."""
    return gettext("Something in the request was wrong"), 400, {"Content-Type": "text/plain; charset=utf-8"}


def url_adapter():
    """The app's URL map bound to PUBLIC_BASE_URL (works with or without a request): `build(...)`
    gives a path, `build(..., force_external=True)` an absolute URL."""
    app = current_app
    scheme, netloc, path = _parse_base_url(app.config["PUBLIC_BASE_URL"],
                                           production=app.config.get("ENV_NAME") == "production")
    return app.url_map.bind(netloc, script_name=path or "/", url_scheme=scheme)


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of `endpoint` under PUBLIC_BASE_URL (works with or without a request)."""
    return url_adapter().build(endpoint, values, force_external=True)
