"""The service worker as served: the hand-written service_worker/service-worker.js with its one
CONFIG line filled in here (version, the URLs it keeps offline and where it acknowledges a push),
and the web app manifest as served (the installation's neutral names).

The version is a hash of every file whose content ends up in the worker's caches: the worker
itself, the precached static files, the templates of the precached pages (with the templates
they extend, include or import), the translation catalogs those pages are rendered with, and
the app's names in the manifest (APP_NAME, APP_SHORT_NAME). A deploy that changes any of them
installs a new worker with fresh caches; a deploy that changes none of them keeps the installed
worker and its caches.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, url_for
from jinja2 import meta

from ..config import ROOT

SOURCE = ROOT / "service_worker" / "service-worker.js"
PLACEHOLDER = "const CONFIG = __CONFIG__;"

#: Static files every page uses, kept offline (names under static/, as for url_for).
PRECACHE_STATIC = (
    "css/app.css",
    "js/app.js",
    "js/passkeys.js",
    "js/offline.js",
    # The scripts that keep typed answers on the device: the offline copies of the self-help pages need them.
    "js/form-drafts.js",
    "js/worksheets.js",
    # The manifest as the page links it is public.manifest (CONFIG.manifest): this file is its
    # template, the app's names filled in (manifest_body).
    "manifest.webmanifest",
    # The icon on notifications: a plain shape, no text (the lock screen shows it).
    "icons/notification-192.png",
    "icons/icon-192.png",
    "icons/icon-512.png",
    "icons/maskable-192.png",
    "icons/maskable-512.png",
    "icons/apple-touch-icon.png",
    "icons/favicon.svg",
    "icons/shortcut-help.png",
    "icons/shortcut-login.png",
)

#: Public, anonymous pages kept offline: (endpoint, the template it renders).
PRECACHE_PAGES = (
    ("public.offline", "public/offline.html"),
    ("public.crisis", "public/crisis.html"),
)

#: Shown by the worker when a page cannot be fetched (one of PRECACHE_PAGES).
OFFLINE_PAGE = "public.offline"

#: The one personal page the worker keeps offline (until sign-out): the resident's safety plan.
SAFETY_PLAN = "client.safety_plan"

#: The resident's pages: opening one (this URL or one below it) refreshes the contact card.
RESIDENT_HOME = "client.home"

#: The team's name and phone number, kept (until sign-out) for the offline page.
CONTACT_CARD = "client.contact_card"

#: The resident's self-help pages (this URL and those below it), kept offline until sign-out.
SELFHELP = "client.selfhelp"

#: The manifest with the installation's names (precached like the static files).
MANIFEST = "public.manifest"

#: Where the worker tells us it showed a push, and where it sends "Jeg kommer" from one.
PUSH_ACK = "public.push_ack"
PUSH_ANSWER = "public.push_answer"

#: The config settings the served manifest takes its names from (they count in the version).
IDENTITY_SETTINGS = ("APP_NAME", "APP_SHORT_NAME")


def worker_source(config: dict[str, Any]) -> str:
    """The worker's JavaScript with `config` as its CONFIG constant."""
    source = SOURCE.read_text(encoding="utf-8")
    if source.count(PLACEHOLDER) != 1:
        raise RuntimeError(f"{SOURCE} must hold the line {PLACEHOLDER!r} exactly once")
    return source.replace(PLACEHOLDER, f"const CONFIG = {json.dumps(config, sort_keys=True)};")


def worker_config(app: Flask) -> dict[str, Any]:
    """The worker's settings: its version and the URLs it keeps offline (needs a request context)."""
    return {
        "version": worker_version(app),
        "static": [url_for("static", filename=name) for name in PRECACHE_STATIC],
        "pages": [url_for(endpoint) for endpoint, _template in PRECACHE_PAGES],
        "offline": url_for(OFFLINE_PAGE),
        "plan": url_for(SAFETY_PLAN),
        "home": url_for(RESIDENT_HOME),
        "card": url_for(CONTACT_CARD),
        "selfhelp": url_for(SELFHELP),
        "manifest": url_for(MANIFEST),
        "ack": url_for(PUSH_ACK),
        "answer": url_for(PUSH_ANSWER),
    }


def worker_version(app: Flask) -> str:
    """The content version of `app`'s precached files; computed once per app unless templates
    reload while it runs (debug), so a changed file shows at once in development."""
    if app.jinja_env.auto_reload:
        return content_version([*read_files(precached_files(app)), identity(app)])
    return _cached_version(app)


@lru_cache(maxsize=8)
def _cached_version(app: Flask) -> str:
    return content_version([*read_files(precached_files(app)), identity(app)])


def identity(app: Flask) -> tuple[str, bytes]:
    """The app's names as a (name, content) pair of the version: a new APP_NAME gives a new
    worker, which precaches the manifest with the new name."""
    names = {key: app.config.get(key, "") for key in IDENTITY_SETTINGS}
    return "config:identity", json.dumps(names, sort_keys=True).encode()


def manifest_body(app: Flask) -> str:
    """The web app manifest: static/manifest.webmanifest with name and short_name from the
    config (APP_NAME, APP_SHORT_NAME)."""
    manifest = json.loads(Path(app.static_folder or "", "manifest.webmanifest").read_text(encoding="utf-8"))
    manifest["name"] = app.config.get("APP_NAME") or manifest["name"]
    manifest["short_name"] = app.config.get("APP_SHORT_NAME") or manifest["short_name"]
    return json.dumps(manifest, ensure_ascii=False, indent=2)


def content_version(files: Iterable[tuple[str, bytes]]) -> str:
    """12 hex digits of SHA-256 over each (name, content) pair, in name order: any change to a
    name or a content gives a new version, and the same files always give the same one."""
    digest = hashlib.sha256()
    for name, content in sorted(files):
        encoded = name.encode()
        for part in (encoded, content):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()[:12]


def read_files(paths: Iterable[Path]) -> list[tuple[str, bytes]]:
    """(name, content) of each file, named relative to the project root when inside it, so the
    version does not depend on where the project is deployed."""
    return [(_display_name(path), path.read_bytes()) for path in paths]


def _display_name(path: Path) -> str:
    resolved = path.resolve()
    return resolved.relative_to(ROOT).as_posix() if resolved.is_relative_to(ROOT) else resolved.as_posix()


def precached_files(app: Flask) -> list[Path]:
    """Every file whose content the worker keeps: itself, the precached static files, the
    precached pages' templates with everything they use, and the translation catalogs."""
    static = [Path(app.static_folder or "", name) for name in PRECACHE_STATIC]
    templates = page_templates(app, [template for _endpoint, template in PRECACHE_PAGES])
    return [SOURCE, *static, *templates, *translation_catalogs(app)]


def page_templates(app: Flask, names: Iterable[str]) -> list[Path]:
    """The files of the templates `names` and of every template they extend, include or import."""
    env = app.jinja_env
    seen: dict[str, Path] = {}
    waiting = list(names)
    while waiting:
        name = waiting.pop()
        if name in seen:
            continue
        source, filename, _uptodate = env.loader.get_source(env, name)  # type: ignore[union-attr]
        seen[name] = Path(filename or name)
        found = meta.find_referenced_templates(env.parse(source))
        waiting.extend(ref for ref in found if ref is not None)
    return [seen[name] for name in sorted(seen)]


def translation_catalogs(app: Flask) -> list[Path]:
    """The message catalogs (.po) the pages' text comes from."""
    directories = app.config.get("BABEL_TRANSLATION_DIRECTORIES", "translations").split(";")
    return sorted(path for directory in directories
                  for path in Path(app.root_path, directory).glob("*/LC_MESSAGES/*.po"))
