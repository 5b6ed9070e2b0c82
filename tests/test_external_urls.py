"""Links in e-mails come from PUBLIC_BASE_URL only, never from the request's Host or
X-Forwarded-Host; production accepts only the public host name."""
from __future__ import annotations

import re

import pytest

from rph_pwa import create_app
from rph_pwa.config import ProductionConfig, TestConfig
from rph_pwa.urls import external_url
from tests.client.referral_helpers import fill_referral
from tests.conftest import post_form
from tests.factories import email, make_team

PUBLIC = "https://rph.example.no"


@pytest.mark.parametrize("forged, proxies", [
    ({"Host": "evil.example"}, 0),
    ({"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.9",
      "Origin": "https://evil.example", "Referer": "https://evil.example/referral/account/code"}, 1),
], ids=["host", "x-forwarded-host"])
def test_the_urgent_team_notice_links_to_the_public_base_url(app_settings, db, mailbox, forged, proxies):
    web = create_app(TestConfig, **{**app_settings, "TRUSTED_PROXIES": proxies, "PUBLIC_BASE_URL": PUBLIC})
    try:
        team = make_team(db)
        db.commit()
        client = web.test_client()
        address = email()
        fill_referral(client, municipality_id=team.municipalities[0].id, email=address, item9=1)
        assert post_form(client, "/referral/review").headers["Location"].endswith("/referral/account")
        assert post_form(client, "/referral/account/email", page="/referral/account").status_code == 302
        # The request that submits the urgent referral (and queues the team's notice) is forged by
        # the person sending it, with their own session cookie.
        cookie = client.get_cookie("rph_session")
        client.set_cookie("rph_session", cookie.value, domain="evil.example")
        response = post_form(client, "/referral/account/code", {"code": mailbox.last_code(address)}, headers=forged)
        assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
        notice = mailbox.to(team.inbox_email)[-1].get_body(("plain",)).get_content()
        assert "evil.example" not in notice
        assert re.search(r"https://rph\.example\.no/therapist/triage\b", notice), notice
    finally:
        web.extensions["rph_db"].engine.dispose()


def test_external_url_needs_no_request(app):
    with app.app_context():
        assert external_url("therapist.triage") == "http://localhost:5000/therapist/triage"


def _production_app(monkeypatch, app_settings, **overrides):
    for name in ProductionConfig.REQUIRED:
        monkeypatch.setenv(name, "set-in-test")
    settings = {**app_settings, "PUBLIC_BASE_URL": PUBLIC, "SESSION_COOKIE_SECURE": False, **overrides}
    return create_app(ProductionConfig, **settings)


def test_production_refuses_a_forged_host(monkeypatch, app_settings):
    web = _production_app(monkeypatch, app_settings, EXTRA_TRUSTED_HOSTS=["app.internal"], TRUSTED_PROXIES=1)
    try:
        client = web.test_client()
        assert client.get("/about", base_url=PUBLIC).status_code == 200
        assert client.get("/about", base_url="http://app.internal").status_code == 200
        assert client.get("/about", base_url="https://evil.example").status_code == 400
        assert client.get("/about", base_url=PUBLIC, headers={"Host": "evil.example"}).status_code == 400
        forwarded = client.get("/about", base_url=PUBLIC, headers={"X-Forwarded-Host": "evil.example"})
        assert forwarded.status_code == 400
    finally:
        web.extensions["rph_db"].engine.dispose()


def test_production_needs_an_https_public_base_url(monkeypatch, app_settings):
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        ProductionConfig.check_environment({name: "x" for name in ProductionConfig.REQUIRED
                                            if name != "PUBLIC_BASE_URL"})
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        _production_app(monkeypatch, app_settings, PUBLIC_BASE_URL="http://rph.example.no")
