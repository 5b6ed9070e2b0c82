"""The service worker as served: the hand-written service_worker/service-worker.js with its one
CONFIG line filled in here (version, the URLs it keeps offline and where it acknowledges a push),
and the web app manifest as served (the installation's neutral names).

The version is a hash of every file whose content ends up in the worker's caches: the worker
itself, the precached static files, the templates of the precached pages (with the templates
they extend, include or import) and the static files they link (pages name them by content
fingerprint, assets.py), the translation catalogs those pages are rendered with, the manifest
with its icons, and the app's names in the manifest (APP_NAME, APP_SHORT_NAME). A deploy that
changes any of them installs a new worker with fresh caches; a deploy that changes none of them
keeps the installed worker and its caches.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, url_for
from jinja2 import meta

from ..assets import static_files
from ..config import ROOT
from ..reminder_texts import ICON
from ..urls import url_adapter

SOURCE = ROOT / "service_worker" / "service-worker.js"
PLACEHOLDER = "const CONFIG = __CONFIG__;"

#: Static files the offline pages need, kept offline (names under static/, as for url_for). The
#: worker asks for them under their fingerprinted URLs (assets.py), which the browser keeps for a
#: year: what the page just loaded comes from the HTTP cache, not from the server again. The
#: manifest's icons are not here: the browser fetches those itself when the app is installed.
PRECACHE_STATIC = (
    "css/app.css",
    "js/app.js",
    "js/offline.js",
    "icons/favicon.svg",
    # The scripts that keep typed answers on the device: the offline copies of the self-help pages need them.
    "js/form-drafts.js",
    "js/worksheets.js",
    # The icon on notifications (a plain shape, no text: the lock screen shows it), at the plain
    # URL the pushes carry (reminder_texts.ICON), which stays valid across deploys.
    ICON,
)

#: The manifest's template (public.manifest serves it with the app's names, its icons fingerprinted).
MANIFEST_FILE = "manifest.webmanifest"
#: Where the manifest's icon URLs start (static/manifest.webmanifest names them so).
STATIC_PREFIX = "/static/"

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
        "static": [precache_url(name) for name in PRECACHE_STATIC],
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


def precache_url(name: str) -> str:
    """A precached static file's URL: fingerprinted, except the notification icon's, which is the
    plain URL the pushes carry (built like theirs, without the fingerprint)."""
    if name == ICON:
        return url_adapter().build("static", {"filename": name})
    return url_for("static", filename=name)


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
    config (APP_NAME, APP_SHORT_NAME) and its icons' fingerprinted URLs (needs a request context)."""
    manifest = json.loads(Path(app.static_folder or "", MANIFEST_FILE).read_text(encoding="utf-8"))
    manifest["name"] = app.config.get("APP_NAME") or manifest["name"]
    manifest["short_name"] = app.config.get("APP_SHORT_NAME") or manifest["short_name"]
    for icon in manifest_icons(manifest):
        icon["src"] = url_for("static", filename=icon["src"].removeprefix(STATIC_PREFIX))
    return json.dumps(manifest, ensure_ascii=False, separators=(",", ":"))



def manifest_icons(manifest: dict) -> list[dict]:
    """The manifest's icons and its shortcuts' icons that are static files (src under /static/)."""
    icons = [*manifest.get("icons", []),
             *(icon for shortcut in manifest.get("shortcuts", []) for icon in shortcut.get("icons", []))]
    return [icon for icon in icons if str(icon.get("src", "")).startswith(STATIC_PREFIX)]


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
    precached pages' templates with everything they use and the static files they link (a page
    names them by their content's fingerprint, so a new icon is a new page), the manifest with
    the icons it names, and the translation catalogs."""
    folder = Path(app.static_folder or "")
    templates = page_templates(app, [template for _endpoint, template in PRECACHE_PAGES])
    manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    names = {*PRECACHE_STATIC, MANIFEST_FILE, *linked_static(templates),
             *(icon["src"].removeprefix(STATIC_PREFIX) for icon in manifest_icons(manifest))}
    files = static_files(app)
    static = [folder / name for name in sorted(names) if files.get(name) is not None]
    return [SOURCE, *static, *templates, *translation_catalogs(app)]


#: A static file named in a template: url_for('static', filename='css/app.css').
STATIC_IN_TEMPLATE = re.compile(r"""url_for\(\s*['"]static['"]\s*,\s*filename\s*=\s*['"]([^'"]+)['"]""")


def linked_static(templates: Iterable[Path]) -> set[str]:
    """The static files the templates link with url_for('static', filename=...)."""
    return {name for path in templates for name in STATIC_IN_TEMPLATE.findall(path.read_text(encoding="utf-8"))}


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
