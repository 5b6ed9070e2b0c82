"""The lock screen shows who sent a notification: the installed app's name and icon. The manifest
as served (its names, description and shortcuts) names no service, diagnosis or score, and an
installation can choose its own neutral name (APP_NAME, APP_SHORT_NAME), which gives a new
service worker so installed devices fetch the new manifest."""
from __future__ import annotations

import json
import re
import struct

import pytest

from rph_pwa import create_app
from rph_pwa.config import ROOT, TestConfig

#: Words no lock screen may show (lower case; matched at the start of a word, so "søvn" also
#: finds "Søvndagbok" and "terapi" "terapeut"'s cousin "terapitime").
SERVICE_WORDS = ("psykisk", "helsehjelp", "rask psykisk", "rph", "terapi", "angst", "depresjon", "søvn", "rus",
                 "phq", "gad", "score", "poeng", "diagnose")


def service_words(text: str) -> list[str]:
    """The service words in `text` (at the start of a word, any case)."""
    lowered = text.lower()
    return [w for w in SERVICE_WORDS if re.search(rf"(?<!\w){re.escape(w)}", lowered)]


def shown_texts(manifest: dict) -> list[str]:
    """What a phone may show of the manifest: names, description, shortcut names."""
    texts = [manifest["name"], manifest["short_name"], manifest.get("description", "")]
    for shortcut in manifest.get("shortcuts", []):
        texts += [shortcut.get("name", ""), shortcut.get("short_name", ""), shortcut.get("description", "")]
    return texts


def served_manifest(client) -> dict:
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    return json.loads(response.get_data())


def test_the_word_check_can_fail():
    assert service_words("Rask psykisk helsehjelp") == ["psykisk", "helsehjelp", "rask psykisk"]
    assert service_words("RPH") == ["rph"] and service_words("Søvndagbok") == ["søvn"]
    assert service_words("Rusmidler") == ["rus"] and service_words("Min PHQ-9-score") == ["phq", "score"]
    assert service_words("Mine avtaler") == [] and service_words("Du har en avtale") == []


def test_the_served_manifest_names_no_service(client):
    manifest = served_manifest(client)
    assert manifest["name"] == "Mine avtaler" and manifest["short_name"] == "Avtaler"
    for text in shown_texts(manifest):
        assert service_words(text) == [], text


@pytest.fixture
def renamed(app_settings):
    fresh = create_app(TestConfig, **{**app_settings, "APP_NAME": "Helse", "APP_SHORT_NAME": "Helse"})
    yield fresh
    fresh.extensions["rph_db"].engine.dispose()


def _worker_version(client) -> str:
    body = client.get("/service-worker.js").get_data(as_text=True)
    return json.loads(re.search(r"^const CONFIG = (.*);$", body, flags=re.MULTILINE).group(1))["version"]


def test_app_name_overrides_the_manifest_and_renews_the_worker(client, renamed):
    other = renamed.test_client()
    manifest = served_manifest(other)
    assert manifest["name"] == "Helse" and manifest["short_name"] == "Helse"
    assert _worker_version(other) != _worker_version(client)
    config = json.loads(re.search(r"^const CONFIG = (.*);$", other.get("/service-worker.js").get_data(as_text=True),
                                  flags=re.MULTILINE).group(1))
    assert config["manifest"] == "/manifest.webmanifest"
    assert config["ack"] == "/push/ack" and config["answer"] == "/push/answer"


def test_the_manifest_is_cacheable(client):
    first = client.get("/manifest.webmanifest")
    assert first.headers.get("ETag")
    again = client.get("/manifest.webmanifest", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_the_notification_icon_is_a_plain_png_and_precached(client):
    data = (ROOT / "static" / "icons" / "notification-192.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (192, 192)
    body = client.get("/service-worker.js").get_data(as_text=True)
    assert "/static/icons/notification-192.png" in body
