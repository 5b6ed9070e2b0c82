"""The served service worker: its version follows the content of what it precaches, every URL
it precaches is there, and it is served so browsers install and update it."""
from __future__ import annotations

import json
import re
import shutil

import pytest

from rph_pwa import create_app
from rph_pwa.assets import fingerprinted_name
from rph_pwa.config import TestConfig
from rph_pwa.public import worker


def served_config(client) -> dict:
    """The CONFIG the server filled into /service-worker.js."""
    body = client.get("/service-worker.js").get_data(as_text=True)
    found = re.findall(r"^const CONFIG = (.*);$", body, flags=re.MULTILINE)
    assert len(found) == 1, "the worker holds one CONFIG line"
    return json.loads(found[0])


def test_the_version_follows_names_and_contents_only():
    files = [("static/css/app.css", b"body{}"), ("templates/base.html", b"<html>")]
    version = worker.content_version(files)
    assert re.fullmatch(r"[0-9a-f]{12}", version)
    assert worker.content_version(reversed(files)) == version
    assert worker.content_version([files[0], ("templates/base.html", b"<html >")]) != version
    assert worker.content_version([files[0], ("templates/other.html", b"<html>")]) != version
    # The boundary between name and content counts: moving a byte across it is a change.
    assert worker.content_version([("ab", b"c")]) != worker.content_version([("a", b"bc")])


@pytest.fixture
def own_static(app, app_settings, tmp_path):
    """A fresh app whose static folder is a copy we may change; it rereads files on each request."""
    fresh = create_app(TestConfig, **app_settings)
    static = tmp_path / "static"
    shutil.copytree(fresh.static_folder, static)
    fresh.static_folder = str(static)
    fresh.jinja_env.auto_reload = True
    yield fresh, static
    fresh.extensions["rph_db"].engine.dispose()


def test_a_changed_precached_file_gives_a_new_worker(own_static):
    fresh, static = own_static
    client = fresh.test_client()
    first = served_config(client)["version"]
    assert served_config(client)["version"] == first  # nothing changed: same worker

    (static / "js" / "referral.js").write_text("/* not precached */", encoding="utf-8")
    assert served_config(client)["version"] == first

    with (static / "css" / "app.css").open("a", encoding="utf-8") as css:
        css.write("\n/* a deploy with a changed style sheet */\n")
    assert served_config(client)["version"] != first


def test_the_precached_pages_templates_and_catalogs_count(app):
    names = {path.name for path in worker.precached_files(app)}
    # The offline and crisis pages, what they extend and import, and the text they show.
    assert {"offline.html", "crisis.html", "base.html", "forms.html", "messages.po"} <= names
    assert "service-worker.js" in names


def test_every_precached_url_answers_200(client):
    config = served_config(client)
    urls = [*config["static"], *config["pages"], config["offline"]]
    assert len(config["static"]) == len(worker.PRECACHE_STATIC) and config["pages"] == ["/offline", "/hjelp"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        response.close()
    assert config["offline"] in config["pages"]
    assert config["plan"] == "/me/safety-plan"
    assert config["home"] == "/me" and config["card"] == "/me/contact-card"


def test_the_worker_is_served_as_javascript_for_the_whole_site_and_checked_every_time(client):
    response = client.get("/service-worker.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "worker-src 'self'" in response.headers["Content-Security-Policy"]
    assert worker.PLACEHOLDER not in response.get_data(as_text=True)


def test_the_self_help_pages_and_the_scripts_that_restore_typed_answers_are_kept(app, client):
    config = served_config(client)
    assert config["selfhelp"] == "/me/selfhelp"
    # An offline copy of a worksheet page needs these to restore and send what was typed (under
    # their fingerprinted URLs, as the pages link them).
    scripts = {f"/static/{fingerprinted_name(app, name)}" for name in ("js/form-drafts.js", "js/worksheets.js")}
    assert scripts <= set(config["static"]) and all(re.search(r"\.[0-9a-f]{10}\.js$", url) for url in scripts)
    source = client.get("/service-worker.js").get_data(as_text=True)
    assert 'SELFHELP_CACHE = `${USER_CACHE_PREFIX}selfhelp`' in source  # deleted with the other user caches
