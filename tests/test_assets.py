"""Answers travel small and are cached well: compressed when the client accepts it, static files
under URLs that name their content (cached for a year), and a service worker that precaches only
what offline use needs, under those URLs (rph_pwa/assets.py, rph_pwa/public/worker.py)."""
from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
from pathlib import Path

import brotli
import pytest
from backports import zstd

from rph_pwa import create_app
from rph_pwa.assets import DIGEST_LENGTH, IMMUTABLE, fingerprinted_name, static_files
from rph_pwa.config import ROOT, TestConfig
from rph_pwa.public import worker
from tests.test_service_worker import served_config

DECODE = {"gzip": gzip.decompress, "br": brotli.decompress, "zstd": zstd.decompress}
CHROMIUM_ACCEPTS = "gzip, deflate, br, zstd"
STATIC_URL = re.compile(r'(?:href|src)="(/static/[^"]+)"')
TOKEN = re.compile(r'(name="csrf-token" content="|name="csrf_token" value=")[^"]+')


def without_tokens(html: str) -> str:
    """A page's HTML with its CSRF tokens blanked (each answer signs a fresh one)."""
    return TOKEN.sub(r"\1", html)


def static_urls(client, path: str = "/hjelp") -> list[str]:
    return STATIC_URL.findall(client.get(path).get_data(as_text=True))


def digest(name: str) -> str:
    return hashlib.sha256((ROOT / "static" / name).read_bytes()).hexdigest()[:DIGEST_LENGTH]


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_a_page_its_style_sheet_and_script_are_compressed_when_the_client_accepts_it(client, encoding):
    plain_page = client.get("/hjelp", headers={"Accept-Encoding": "identity"})
    packed_page = client.get("/hjelp", headers={"Accept-Encoding": encoding})
    assert packed_page.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed_page.headers["Vary"]
    page = DECODE[encoding](packed_page.get_data()).decode()
    assert without_tokens(page) == without_tokens(plain_page.get_data(as_text=True))
    assert len(packed_page.get_data()) < len(page) / 2

    for url in static_urls(client):
        if not url.endswith((".css", ".js")):
            continue
        plain = client.get(url, headers={"Accept-Encoding": "identity"}).get_data()
        packed = client.get(url, headers={"Accept-Encoding": encoding})
        assert packed.headers["Content-Encoding"] == encoding, url
        assert DECODE[encoding](packed.get_data()) == plain and len(packed.get_data()) < len(plain)


BEST = {"gzip": lambda data: gzip.compress(data, compresslevel=9, mtime=0),
        "br": lambda data: brotli.compress(data, quality=11), "zstd": lambda data: zstd.compress(data, 19)}


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_what_is_the_same_for_everyone_is_kept_at_the_best_level_and_the_rest_compressed_cheaply(client, encoding):
    css = next(url for url in static_urls(client) if url.endswith(".css"))
    plain = client.get(css, headers={"Accept-Encoding": "identity"}).get_data()
    client.get(css, headers={"Accept-Encoding": encoding})  # compressed at the cheap level, then kept at the best
    kept = client.get(css, headers={"Accept-Encoding": encoding}).get_data()
    assert DECODE[encoding](kept) == plain and kept == BEST[encoding](plain)

    client.get("/hjelp", headers={"Accept-Encoding": encoding})
    page = client.get("/hjelp", headers={"Accept-Encoding": encoding}).get_data()  # a kept page, no token
    assert page == BEST[encoding](DECODE[encoding](page))

    login = client.get("/login/code", headers={"Accept-Encoding": encoding})  # the visitor's own token: every time
    html = DECODE[encoding](login.get_data())
    assert b'name="csrf-token" content="' in html and len(login.get_data()) < len(html) / 2


@pytest.mark.parametrize("path", ["/manifest.webmanifest", "/service-worker.js"])
def test_the_manifest_and_the_service_worker_are_compressed(client, path):
    plain = client.get(path).get_data()
    packed = client.get(path, headers={"Accept-Encoding": CHROMIUM_ACCEPTS})
    assert packed.headers["Content-Encoding"] == "zstd"  # the first of ours Chromium offers
    assert DECODE["zstd"](packed.get_data()) == plain


def test_nothing_is_compressed_for_a_client_that_does_not_accept_it(client):
    for headers in ({}, {"Accept-Encoding": "identity"}, {"Accept-Encoding": "compress"}):
        response = client.get("/hjelp", headers=headers)
        assert "Content-Encoding" not in response.headers
        assert "<h1>" in response.get_data(as_text=True)
    # Images are compressed already: a PNG goes as it is.
    icon = next(url for url in static_urls(client) if url.endswith(".png"))
    assert "Content-Encoding" not in client.get(icon, headers={"Accept-Encoding": CHROMIUM_ACCEPTS}).headers


def test_static_urls_in_a_page_name_their_content_and_are_kept_for_a_year(client):
    urls = static_urls(client)
    assert {"/static/css/app.css", "/static/js/app.js"} & set(urls) == set()
    for name in ("css/app.css", "js/app.js", "icons/favicon.svg"):
        stem, _dot, suffix = name.rpartition(".")
        url = f"/static/{stem}.{digest(name)}.{suffix}"
        assert url in urls
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == IMMUTABLE == "public, max-age=31536000, immutable"
        assert response.get_data() == (ROOT / "static" / name).read_bytes()


def test_a_plain_or_outdated_static_url_still_answers_but_is_checked_each_time(client):
    css = (ROOT / "static" / "css" / "app.css").read_bytes()
    for url in ("/static/css/app.css", "/static/css/app.0123456789.css"):
        response = client.get(url)
        assert response.status_code == 200 and response.get_data() == css, url
        assert response.headers["Cache-Control"] == "no-cache", url
        again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304, url
    for url in ("/static/css/nothing.css", "/static/css/nothing.0123456789.css", "/static/../pyproject.toml",
                "/static/css/app.ZZZZZZZZZZ.css", "/static/css/", "/static/" + "a" * 5000,
                "/static/css/" + "b/" * 3000 + "app.css"):
        assert client.get(url).status_code == 404, url


def test_asking_for_made_up_static_files_keeps_nothing(app, client):
    client.get("/static/css/app.css")
    kept = len(static_files(app).assets)
    for n in range(50):
        assert client.get(f"/static/css/made-up-{n}.css").status_code == 404
        assert client.get(f"/static/css/app.{n:010x}.js").status_code == 404
    assert len(static_files(app).assets) == kept


def test_a_static_file_is_the_same_for_a_signed_in_resident(client, actions, db):
    actions.login_resident_without_referral(db)
    home = client.get("/me")
    assert home.headers["Cache-Control"] == "no-store"  # personal pages stay uncached
    url = next(url for url in STATIC_URL.findall(home.get_data(as_text=True)) if url.endswith(".css"))
    response = client.get(url)
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert "Set-Cookie" not in response.headers
    # A cookie that changes (re-signed sessions) must not make the browser fetch the file again.
    assert "cookie" not in response.headers.get("Vary", "").lower()


@pytest.fixture
def own_files(app_settings, tmp_path):
    """A fresh app with copies of static/ and templates/ we may change; it rereads files."""
    fresh = create_app(TestConfig, **app_settings)
    static, templates = tmp_path / "static", tmp_path / "templates"
    shutil.copytree(fresh.static_folder, static)
    shutil.copytree(fresh.template_folder, templates)
    fresh.static_folder = str(static)
    fresh.template_folder = str(templates)
    fresh.__dict__.pop("jinja_loader", None)  # Flask caches the loader of the old folder
    fresh.jinja_env.auto_reload = True
    yield fresh, static, templates
    fresh.extensions["rph_db"].engine.dispose()


def test_a_changed_file_gets_a_new_url_and_the_old_one_no_longer_claims_to_be_it(own_files):
    fresh, static, _templates = own_files
    client = fresh.test_client()
    before = [url for url in static_urls(client) if "/css/app." in url]
    with (static / "css" / "app.css").open("a", encoding="utf-8") as css:
        css.write("\n/* a deploy with a changed style sheet */\n")
    after = [url for url in static_urls(client) if "/css/app." in url]
    assert len(before) == len(after) == 1 and before != after
    new = client.get(after[0])
    assert new.headers["Cache-Control"] == IMMUTABLE and new.get_data().endswith(b"style sheet */\n")
    assert client.get(before[0]).headers["Cache-Control"] == "no-cache"


def test_the_worker_precaches_what_offline_use_needs_under_fingerprinted_urls(app, client):
    config = served_config(client)
    precached = config["static"]
    for large in ("icon-512", "maskable-512", "apple-touch-icon", "shortcut-", "icon-192", "maskable-192"):
        assert not any(large in url for url in precached), large
    for name in ("css/app.css", "js/app.js", "js/offline.js"):
        assert f"/static/{fingerprinted_name(app, name)}" in precached
    # Every one but the notification icon, whose plain URL the pushes carry, names its content.
    plain = [url for url in precached if not re.search(r"\.[0-9a-f]{%d}\.\w+$" % DIGEST_LENGTH, url)]
    assert plain == ["/static/icons/notification-192.png"]
    source = client.get("/service-worker.js").get_data(as_text=True)
    # Pages are fetched anew and without cookies; static files may come from the HTTP cache.
    assert 'cache: "reload", credentials: "omit"' in source
    assert "function staticRequest(url) {\n  return new Request(url, { credentials: \"same-origin\" });" in source


def test_the_manifest_names_its_icons_by_content(app, client):
    manifest = json.loads(client.get("/manifest.webmanifest").get_data())
    icons = [*manifest["icons"], *(i for s in manifest["shortcuts"] for i in s["icons"])]
    assert icons and all(re.search(r"\.[0-9a-f]{%d}\.png$" % DIGEST_LENGTH, icon["src"]) for icon in icons)
    for icon in icons:
        assert client.get(icon["src"]).headers["Cache-Control"] == IMMUTABLE


def test_a_changed_template_of_a_precached_page_gives_a_new_worker(own_files):
    fresh, _static, templates = own_files
    client = fresh.test_client()
    first = served_config(client)["version"]
    crisis = templates / "public" / "crisis.html"
    crisis.write_text(crisis.read_text(encoding="utf-8").replace("{% endblock %}", "<p>113</p>{% endblock %}", 1),
                      encoding="utf-8")
    assert "<p>113</p>" in client.get("/hjelp").get_data(as_text=True)  # the page did change
    assert served_config(client)["version"] != first


def test_a_changed_file_the_precached_pages_link_gives_a_new_worker(own_files):
    fresh, static, _templates = own_files
    client = fresh.test_client()
    first = served_config(client)["version"]
    # Not precached, but /hjelp names it by its content: a new icon is a new page.
    assert "icons/apple-touch-icon.png" not in worker.PRECACHE_STATIC
    before = client.get("/hjelp").get_data(as_text=True)
    (static / "icons" / "apple-touch-icon.png").write_bytes(b"\x89PNG\r\n\x1a\n another icon")
    assert client.get("/hjelp").get_data(as_text=True) != before
    second = served_config(client)["version"]
    assert second != first
    # So does a manifest icon: the manifest names it by content.
    (static / "icons" / "icon-512.png").write_bytes(b"\x89PNG\r\n\x1a\n another large icon")
    assert served_config(client)["version"] != second


def test_the_version_holds_the_files_the_precached_pages_link(app):
    names = {Path(path).as_posix().split("static/")[-1] for path in worker.precached_files(app)}
    assert {"icons/apple-touch-icon.png", "icons/favicon.svg", "css/app.css", "js/offline.js",
            "manifest.webmanifest", "icons/icon-512.png"} <= names
    assert "js/referral.js" not in names
