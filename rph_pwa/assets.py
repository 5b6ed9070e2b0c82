"""How answers travel: compressed (Flask-Compress), and static files under fingerprinted URLs.

Compression. Every answer of a text type (HTML, CSS, JavaScript, JSON, SVG, the manifest, the
service worker) of at least COMPRESS_MIN_SIZE bytes is compressed with the best encoding the
client accepts, in the order of COMPRESS_ALGORITHM (zstd, brotli, gzip), at levels that cost a
page well under a millisecond (zstd 3, brotli 4, gzip 6); `Vary: Accept-Encoding` on every
answer. A proxy in front may compress instead (see README, "Production").

Fingerprints. `url_for('static', filename='css/app.css')` gives /static/css/app.<digest>.css,
the digest being the first DIGEST_LENGTH hex digits of the file's SHA-256, so every template and
Python caller gets the versioned URL without change. Files are read and hashed once per app (on
first use); when templates reload (debug) a changed file is read again, so an edit shows at once.
The static view serves:
  - a fingerprinted URL whose digest is the file's: `Cache-Control: public, max-age=31536000,
    immutable` (the URL names the content, so it never needs checking again), its compressed
    bodies kept in memory (CompressedAnswers) so a file is compressed once per encoding (as are
    kept pages without a token: kept_pages.py);
  - the plain URL (/static/css/app.css, as in push payloads and old pages), or a fingerprint
    that is not the file's current one (a page from before a deploy): the current file with
    `Cache-Control: no-cache` and an ETag, never marked immutable, so nothing keeps a wrong body
    under a versioned name;
  - anything else: 404.
Whoever is signed in, a static file is the same for everyone: it is never marked `no-store`, and
its answer does not vary with the cookie nor sets one.
"""
from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import brotli
from flask import Flask, Request, Response, abort, current_app, g, request, session

from .extensions import compress

try:  # Python 3.14's own; before it, the package Flask-Compress installs for it
    from compression import zstd  # type: ignore[import-not-found]
except ImportError:
    from backports import zstd
from .kept_pages import PAGE_KEY_PREFIX
from .web import leave_session_cookie

#: Hex digits of SHA-256 in a fingerprinted name (10: no two versions of one file collide).
DIGEST_LENGTH = 10
#: A static file's name with a fingerprint before its last suffix: css/app.0123456789.css.
FINGERPRINTED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{%d})(?P<suffix>\.[A-Za-z0-9]+)$" % DIGEST_LENGTH)
#: A fingerprinted URL names its content: cached for a year and never checked again.
IMMUTABLE = "public, max-age=31536000, immutable"
#: A plain or outdated URL: the browser asks each time (an ETag makes that a 304).
REVALIDATE = "no-cache"
#: Types Python's table may not know on every machine.
TYPES = {".js": "text/javascript", ".webmanifest": "application/manifest+json", ".svg": "image/svg+xml"}

#: Flask-Compress settings (each may be overridden in the config).
COMPRESSION = {
    # The first the client accepts (Chromium and Firefox accept all three). zstd compresses a page
    # 3-4 times faster than brotli at level 4 and within about 8% of its size; Safari gets brotli.
    # These levels are for answers compressed on every request (personal pages, pages with a
    # visitor's CSRF token): cheap ones. Brotli 2 costs about half of level 4 for about 5-10% more
    # bytes. Answers that are the same for everyone are kept compressed at the best levels instead
    # (CompressedAnswers.BEST), since that work is done once.
    "COMPRESS_ALGORITHM": ["zstd", "br", "gzip"],
    "COMPRESS_ALGORITHM_STREAMING": ["zstd", "br"],
    "COMPRESS_BR_LEVEL": 2,
    "COMPRESS_ZSTD_LEVEL": 3,
    "COMPRESS_LEVEL": 6,
    # Below about one network packet, compressing saves nothing worth the work.
    "COMPRESS_MIN_SIZE": 500,
}


@dataclass(frozen=True)
class Asset:
    """One file under static/: its name there, its content and that content's digest."""

    name: str
    body: bytes
    digest: str
    mimetype: str
    stamp: tuple[int, int]  # (mtime_ns, size) when read

    @property
    def fingerprinted(self) -> str:
        """The name with the digest before the last suffix: css/app.css -> css/app.<digest>.css
        (a name without a suffix stays as it is, served with the short cache)."""
        stem, dot, suffix = self.name.rpartition(".")
        if not dot or not stem or "/" in suffix or stem.endswith("/"):
            return self.name
        return f"{stem}.{self.digest}.{suffix}"


def read_asset(folder: Path, name: str) -> Asset | None:
    """The file `name` under `folder` (never outside it), or None."""
    try:
        path = (folder / name).resolve()
        if not path.is_relative_to(folder.resolve()) or not path.is_file():
            return None
        stat = path.stat()
        body = path.read_bytes()
    except (OSError, ValueError):  # a name too long for the file system, or otherwise unreadable
        return None
    mimetype = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Asset(name, body, hashlib.sha256(body).hexdigest()[:DIGEST_LENGTH], mimetype,
                 (stat.st_mtime_ns, stat.st_size))


class StaticFiles:
    """The app's static files, read and hashed once each; with `reload`, read again when changed."""

    def __init__(self, folder: str, reload: bool) -> None:
        self.folder = Path(folder)
        self.reload = reload
        #: Only files found are kept (so asking for made-up names cannot fill the memory).
        self.assets: dict[str, Asset] = {}

    def get(self, name: str) -> Asset | None:
        """The file `name` (as given to url_for), or None when there is none."""
        asset = self.assets.get(name)
        if asset is None or (self.reload and self.changed(asset)):
            asset = read_asset(self.folder, name)
            if asset is None:
                self.assets.pop(name, None)
            else:
                self.assets[name] = asset
        return asset

    def changed(self, asset: Asset) -> bool:
        try:
            stat = (self.folder / asset.name).stat()
        except (OSError, ValueError):
            return True
        return (stat.st_mtime_ns, stat.st_size) != asset.stamp


def static_files(app: Flask) -> StaticFiles:
    """The app's StaticFiles (made again if the app's static folder was changed)."""
    files = app.extensions.get("rph_static")
    folder = app.static_folder or ""
    if files is None or str(files.folder) != folder:
        files = app.extensions["rph_static"] = StaticFiles(folder, reload=bool(app.jinja_env.auto_reload))
    files.reload = bool(app.jinja_env.auto_reload)
    return files


def fingerprinted_name(app: Flask, name: str) -> str:
    """`name` with its content's digest in it, or `name` itself when there is no such file."""
    asset = static_files(app).get(name)
    return asset.fingerprinted if asset is not None else name


def add_fingerprint(endpoint: str, values: dict) -> None:
    """url_defaults: every url_for('static', filename=...) names the file's current content."""
    if endpoint == "static" and isinstance(values.get("filename"), str):
        values["filename"] = fingerprinted_name(current_app, values["filename"])


def find_asset(filename: str) -> tuple[Asset, bool] | None:
    """The file a static URL names and whether the URL holds its current digest, or None."""
    files = static_files(current_app)
    asset = files.get(filename)
    if asset is not None:
        return asset, False
    match = FINGERPRINTED.match(filename)
    if match is None:
        return None
    asset = files.get(match["stem"] + match["suffix"])
    if asset is None:
        return None
    return asset, match["digest"] == asset.digest


def serve_static(filename: str) -> Response:
    """The static view (endpoint "static", /static/<path:filename>): see the module's text."""
    found = find_asset(filename)
    if found is None:
        abort(404)
    asset, current = found
    g.static_cache_control = IMMUTABLE if current else REVALIDATE
    if current:
        g.compressed_answer_key = asset.fingerprinted
    response = current_app.response_class(asset.body, mimetype=asset.mimetype)
    # Weak: the same for every encoding, so a 304 is answered here before anything is compressed.
    response.set_etag(asset.digest, weak=True)
    return response.make_conditional(request)


def static_headers(response: Response) -> Response:
    """After every other hook: a static file's cache header, whoever asked (see the module's text)."""
    control = g.get("static_cache_control")
    if control is None or request.endpoint != "static":
        return response
    response.headers["Cache-Control"] = control
    vary = [v.strip() for v in response.headers.get("Vary", "").split(",") if v.strip()]
    kept = [v for v in vary if v.lower() != "cookie"]
    if kept:
        response.headers["Vary"] = ", ".join(kept)
    else:
        response.headers.pop("Vary", None)
    # Other hooks read who is signed in (and Flask-Login may mark the session): a static file
    # neither depends on nor changes the session, so no `Vary: Cookie` (a browser would fetch it
    # again whenever the cookie changed) and no cookie set.
    session.modified = False
    session.accessed = False  # last: reaching the session through flask.session marks it accessed
    leave_session_cookie()
    return response


def compression_key(req: Request) -> str:
    """Flask-Compress's cache key: the fingerprinted name of a current static file, or the key of a
    kept page without a token (kept_pages: it names the page's content), else ""."""
    return g.get("compressed_answer_key", "")


class CompressedAnswers:
    """Flask-Compress's cache: the compressed bodies of answers that are the same for everyone and
    named by their content, so a kept body is never stale. Fingerprinted static files (as many as
    files and encodings) and kept pages without a token (only the newest content of each page,
    language and encoding: a course list kept for seconds does not pile up). Any other answer (key
    "") is compressed each time and not kept.

    A body to keep is compressed again at the encoding's best level (BEST) before it is kept:
    Flask-Compress compressed it at the cheap per-request level, and this is done once per body,
    encoding and process, so every later visitor gets the smallest body at no cost."""

    #: The best level of each encoding: (decompress, compress at that level).
    BEST: dict[str, tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]] = {
        "br": (brotli.decompress, lambda data: brotli.compress(data, quality=11)),
        "gzip": (gzip.decompress, lambda data: gzip.compress(data, compresslevel=9, mtime=0)),
        "zstd": (zstd.decompress, lambda data: zstd.compress(data, 19)),
    }

    def __init__(self) -> None:
        self.bodies: dict[str, bytes] = {}
        #: "<encoding>;page:<template>:<language>" -> the key of its newest body in `bodies`.
        self.newest_page: dict[str, str] = {}

    def get(self, key: str) -> bytes | None:
        return self.bodies.get(key)

    def set(self, key: str, value: bytes) -> None:
        # Flask-Compress's key is "<encoding>;<our key>"; it sets the body again after every get,
        # found or not: a kept body stays as it is.
        if key.endswith(";") or key in self.bodies:
            return
        if key.partition(";")[2].startswith(PAGE_KEY_PREFIX):
            page = key.rpartition(":")[0]
            older = self.newest_page.get(page)
            if older != key:
                self.bodies.pop(older or "", None)
                self.newest_page[page] = key
        best = self.BEST.get(key.partition(";")[0])
        self.bodies[key] = best[1](best[0](value)) if best else value


def init_app(app: Flask) -> None:
    """Compression, fingerprinted static URLs and the static view. Called before the other
    request hooks are registered, so compression and the static headers come after them all."""
    for key, value in COMPRESSION.items():
        app.config.setdefault(key, value)
    app.config.setdefault("COMPRESS_CACHE_KEY", compression_key)
    app.config.setdefault("COMPRESS_CACHE_BACKEND", CompressedAnswers)
    compress.init_app(app)
    app.after_request(static_headers)
    app.url_defaults(add_fingerprint)
    if "static" in app.view_functions:
        app.view_functions["static"] = serve_static
