"""Over HTTPS a form post must come from our own pages: Origin first, Referer as the fallback.

Stage one sent `Referrer-Policy: no-referrer` while Flask-WTF's HTTPS check wanted a Referer, so
every form answered 400 in production. The browser test over real TLS is
tests/browser/test_https_production.py; these check the rule itself.
"""
from __future__ import annotations

import pytest

from tests.conftest import form_token

HTTPS = "https://localhost"


def _post(client, headers: dict):
    token = form_token(client, "/login/code", base_url=HTTPS)
    return client.post("/login/code", base_url=HTTPS, headers=headers,
                       data={"email": "nobody@example.no", "csrf_token": token})


def test_same_origin_post_without_referer_is_accepted(client):
    response = _post(client, {"Origin": HTTPS})
    assert response.status_code == 302


def test_referer_is_the_fallback_when_no_origin_is_sent(client):
    response = _post(client, {"Referer": HTTPS + "/login/code"})
    assert response.status_code == 302


@pytest.mark.parametrize("headers", [
    {},
    {"Origin": "https://evil.example"},
    {"Origin": "http://localhost"},
    {"Origin": "null"},
    {"Origin": "https://evil.example", "Referer": HTTPS + "/login/code"},
    {"Referer": "https://evil.example/login/code"},
    {"Referer": "https://localhost.evil.example/"},
])
def test_cross_site_or_unknown_origin_is_refused(client, headers):
    response = _post(client, headers)
    assert response.status_code == 400
    assert "Siden hadde gått ut på tid" in response.get_data(as_text=True)  # the CSRF page, in bokmål


def test_referrer_policy_keeps_referrers_off_other_sites(client):
    assert client.get("/", base_url=HTTPS).headers["Referrer-Policy"] == "same-origin"
