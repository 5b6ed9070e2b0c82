"""Security baseline: headers, CSRF, cookies, rate limits, production refusal, error pages."""
from __future__ import annotations

import pytest

from rph_pwa import create_app
from rph_pwa.config import ProductionConfig
from tests.conftest import csrf_token, form_token


def test_strict_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response.headers  # production only


def test_pages_have_no_inline_script_or_style(client):
    for path in ("/", "/login", "/register", "/hjelp", "/staff/login", "/login/code"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "style=" not in html and "<style" not in html


def test_form_without_csrf_token_is_refused(client):
    response = client.post("/staff/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    response = client.post("/auth/passkey/authenticate/options", json={})
    assert response.status_code == 400


def test_session_cookie_is_httponly_and_lax(client):
    client.get("/login/code")
    cookie = client.get_cookie("rph_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_production_refuses_to_start_without_secrets(monkeypatch):
    for name in ProductionConfig.REQUIRED:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)


def test_sign_in_endpoints_are_rate_limited(app, client):
    app.config["SIGNIN_RATE_LIMIT"] = "3 per minute"
    try:
        page = client.get("/login/code", environ_base={"REMOTE_ADDR": "127.0.0.77"})
        token = csrf_token(page.get_data(as_text=True))
        codes = [
            client.post("/login/code", data={"email": "a@example.no", "csrf_token": token},
                        environ_base={"REMOTE_ADDR": "127.0.0.77"}).status_code
            for _ in range(4)
        ]
    finally:
        app.config["SIGNIN_RATE_LIMIT"] = "1000 per minute"
    assert codes[:3] == [302, 302, 302] and codes[3] == 429


@pytest.mark.parametrize("path", ["/therapist/residents/abc", "/account/passkeys/99999999/remove", "/no/such/page"])
def test_odd_urls_get_friendly_errors_not_500(client, path):
    response = client.get(path)
    assert response.status_code in (302, 404, 405)


def test_bad_json_to_passkey_endpoint_is_a_clear_400(client):
    token = form_token(client, "/login/code")
    response = client.post("/auth/passkey/authenticate/verify", data="not json",
                           headers={"X-CSRFToken": token, "Content-Type": "application/json"})
    assert response.status_code == 400 and "error" in response.get_json()


def test_language_choice_is_remembered(client):
    token = form_token(client, "/login/code")
    client.post("/language", data={"lang": "en", "next": "/login", "csrf_token": token})
    assert 'lang="en"' in client.get("/").get_data(as_text=True)
    client.post("/language", data={"lang": "nn", "next": "//evil.example", "csrf_token": token})
    assert 'lang="nn"' in client.get("/").get_data(as_text=True)


def test_language_switch_is_not_an_open_redirect(client):
    token = form_token(client, "/login/code")
    response = client.post("/language", data={"lang": "nb", "next": "//evil.example/x", "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_unknown_environment_name_is_refused(monkeypatch):
    from rph_pwa.config import config_from_env

    monkeypatch.setenv("RPH_ENV", "prodution")
    with pytest.raises(RuntimeError, match="RPH_ENV"):
        config_from_env()


@pytest.mark.parametrize("path", [
    "/therapist/residents/99999999999999999999", "/therapist/referrals/2147483648", "/me/forms/9223372036854775807",
    "/find-team?municipality=99999999999999999999", "/therapist/audit?before=99999999999999999999",
    "/therapist/episodes/2147483648", "/referral/step/99999999999999999999",
])
def test_ids_beyond_the_database_range_are_not_found_not_500(client, path):
    # PostgreSQL ids are 32-bit: asking the database for a larger one would be an error there.
    assert client.get(path).status_code in (200, 302, 404)


@pytest.mark.parametrize("path", ["/login/code", "/staff/login", "/referral/step/1", "/language", "/logout"])
def test_json_nested_thousands_deep_to_any_form_is_a_400_not_a_500(client, path):
    """Flask-WTF reads a JSON body as form data: the depth is refused where JSON is parsed."""
    token = form_token(client, "/login/code")
    response = client.post(path, data="[" * 5000 + "]" * 5000, content_type="application/json",
                           headers={"X-CSRFToken": token})
    assert response.status_code == 400
