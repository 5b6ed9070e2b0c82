"""Public pages kept rendered (rph_pwa/kept_pages.py): the sign-in code form with each visitor's
own CSRF token, the sign-in page without one (its passkey script fetches one), the self-referral
start and the course list; nobody's token or message reaches another
visitor through what is kept, and what is kept is fresh enough (the course list)."""
from __future__ import annotations

import time

import brotli
import pytest

from rph_pwa import create_app
from rph_pwa.config import TestConfig
from rph_pwa.extensions import compress
from rph_pwa.kept_pages import PAGE_CACHE, PLACEHOLDER
from tests.conftest import csrf_token, form_token
from tests.factories import email, make_course_run, make_resident, make_team

PASSKEY_OPTIONS = "/auth/passkey/authenticate/options"


def code_page(client, **kwargs) -> tuple[str, str]:
    """GET /login/code (the form asking for a sign-in code) with `client`: the page's HTML and its
    CSRF token (the head's meta tag, the same as the form's)."""
    response = client.get("/login/code", **kwargs)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return html, csrf_token(html)


def asks_for_a_code(client, token: str) -> int:
    """The status of the sign-in code form posted with `token` (302: accepted; 400: refused)."""
    return client.post("/login/code", data={"email": "nobody@example.no", "csrf_token": token}).status_code


def test_each_visitor_gets_their_own_working_token_on_the_code_page(app):
    first, second = app.test_client(), app.test_client()
    seen = []
    for client in (first, second, first, second):  # rendered once, then from the kept copy
        _html, token = code_page(client)
        seen.append(token)
    assert PLACEHOLDER not in "".join(seen)
    # Each visitor's token is theirs: it passes their own check and fails the other's.
    assert asks_for_a_code(second, seen[0]) == 400
    assert asks_for_a_code(first, seen[1]) == 400
    assert asks_for_a_code(first, seen[2]) == 302
    assert asks_for_a_code(second, seen[3]) == 302


def test_a_first_visitor_gets_a_session_cookie_for_the_token_and_later_visits_keep_it(app):
    client = app.test_client()
    first = client.get("/login/code")
    assert "rph_session=" in first.headers["Set-Cookie"]
    _html, token = code_page(client)
    _html, again = code_page(client)
    assert again != PLACEHOLDER and asks_for_a_code(client, again) == 302
    assert asks_for_a_code(client, token) == 302  # the earlier page's token still works


def test_the_sign_in_page_is_the_same_for_everyone_and_its_script_fetches_a_working_token(app):
    first, second = app.test_client(), app.test_client()
    pages = [first.get("/login"), second.get("/login")]
    assert all(page.status_code == 200 and "Set-Cookie" not in page.headers for page in pages)
    assert pages[0].get_data() == pages[1].get_data()
    assert 'name="csrf-token"' not in pages[0].get_data(as_text=True)
    assert 'data-token-url="/auth/token"' in pages[0].get_data(as_text=True)
    assert second.post(PASSKEY_OPTIONS, headers={"X-CSRFToken": ""}).status_code == 400

    answer = second.get("/auth/token")
    assert answer.headers["Cache-Control"] == "no-store" and "rph_session=" in answer.headers["Set-Cookie"]
    token = answer.get_json()["token"]
    assert second.post(PASSKEY_OPTIONS, headers={"X-CSRFToken": token}).status_code == 200
    assert first.post(PASSKEY_OPTIONS, headers={"X-CSRFToken": token}).status_code == 400
    # A visitor whose session holds a token gets the page with it, as on any page without a form.
    assert csrf_token(second.get("/login").get_data(as_text=True))


@pytest.mark.parametrize("site", ["cross-site", "same-site", "none"])
def test_a_token_is_not_handed_to_a_request_from_another_site(client, site):
    refused = client.get("/auth/token", headers={"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "cors"})
    assert refused.status_code == 403 and "token" not in (refused.get_json(silent=True) or {})
    assert "Set-Cookie" not in refused.headers
    assert client.get("/auth/token", headers={"Sec-Fetch-Site": "same-origin"}).get_json()["token"]


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://localhost:1"])
def test_a_token_is_not_handed_to_a_request_with_another_origin(client, origin):
    assert client.get("/auth/token", headers={"Origin": origin}).status_code == 403
    assert client.get("/auth/token", headers={"Origin": "http://localhost"}).get_json()["token"]


def test_signing_in_works_after_the_kept_page_was_served_to_someone_else(app, db, mailbox):
    address = email()
    make_resident(db, team=make_team(db), email=address)
    db.commit()
    code_page(app.test_client())
    client = app.test_client()
    _html, token = code_page(client)
    response = client.post("/login/code", data={"email": address, "csrf_token": token})
    assert response.status_code == 302
    code = mailbox.last_code(address)
    verify = client.post("/login/code/verify",
                         data={"code": code, "csrf_token": form_token(client, "/login/code/verify")})
    assert verify.status_code == 302
    assert client.get("/me").status_code == 200
    assert client.get("/login").status_code == 302  # signed in: sent on, not the sign-in page


def test_no_visitors_token_is_in_what_is_kept(app):
    secrets = []
    for client in [app.test_client() for _ in range(3)]:
        secrets.append(code_page(client)[1])
        packed = client.get("/login/code", headers={"Accept-Encoding": "br"})
        secrets.append(csrf_token(brotli.decompress(packed.get_data()).decode()))
        client.get("/hjelp", headers={"Accept-Encoding": "br"})  # a page without a form, for a session with a token
        with client.session_transaction() as session:
            secrets.append(session["csrf_token"])  # the raw token the signed ones carry
    app.test_client().get("/hjelp", headers={"Accept-Encoding": "br"})  # the same for everyone: kept compressed
    kept = "".join(page.html for page in app.extensions[PAGE_CACHE].values())
    compressed = [brotli.decompress(body) for key, body in compress.cache.bodies.items() if key.startswith("br;")]
    assert PLACEHOLDER in kept and any(b"<html" in body for body in compressed)
    for secret in secrets:
        assert secret not in kept and not any(secret.encode() in body for body in compressed)


def test_a_message_on_the_code_form_is_its_visitors_only_and_the_page_still_has_a_token(app):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "A message for this visitor only")]
    html, token = code_page(client)
    assert "A message for this visitor only" in html and asks_for_a_code(client, token) == 302
    assert "A message for this visitor only" not in code_page(client)[0]
    assert "A message for this visitor only" not in code_page(app.test_client())[0]


def test_a_sign_in_link_with_a_next_page_still_gets_a_token_and_is_followed(app, db, mailbox):
    address = email()
    make_resident(db, team=make_team(db), email=address)
    db.commit()
    client = app.test_client()
    assert client.get("/login", query_string={"next": "/me/safety-plan"}).status_code == 200
    _html, token = code_page(client)
    assert client.post("/login/code", data={"email": address, "csrf_token": token}).status_code == 302
    code = mailbox.last_code(address)
    verify = client.post("/login/code/verify",
                         data={"code": code, "csrf_token": form_token(client, "/login/code/verify")})
    assert verify.headers["Location"] == "/me/safety-plan"


@pytest.mark.parametrize("lang", ["en", "nn"])
def test_the_kept_code_form_is_in_the_visitors_language(app, lang):
    client = app.test_client()
    client.set_cookie("lang", lang)
    for _ in range(2):
        html, token = code_page(client)
        assert f'<html lang="{lang}">' in html and asks_for_a_code(client, token) == 302


def test_a_visitor_whose_session_holds_a_token_gets_it_on_a_page_without_a_form(app):
    client = app.test_client()
    for _ in range(2):  # the second answer sets the cookie once more (Flask-Login marks the session)
        client.get("/login/code")
    tokens = []
    for _ in range(2):  # rendered, then from the kept copy
        response = client.get("/hjelp")
        assert "Set-Cookie" not in response.headers
        tokens.append(csrf_token(response.get_data(as_text=True)))
    assert all(asks_for_a_code(client, token) == 302 for token in tokens)
    assert 'name="csrf-token"' not in app.test_client().get("/hjelp").get_data(as_text=True)


def test_the_self_referral_start_with_a_draft_still_offers_to_delete_it(app, db):
    team = make_team(db)
    db.commit()
    client = app.test_client()
    token = form_token(client, "/referral/step/1")
    client.post("/referral/step/1", data={"age": 30, "municipality": team.municipalities[0].id, "crisis": "no",
                                          "csrf_token": token})
    client.set_cookie("lang", "en")
    html = client.get("/referral/").get_data(as_text=True)
    assert "Continue where you left off" in html and 'action="/referral/restart"' in html
    fresh = app.test_client()
    fresh.set_cookie("lang", "en")
    fresh_html = fresh.get("/referral/").get_data(as_text=True)
    assert "Continue where you left off" not in fresh_html and 'href="/referral/step/1"' in fresh_html


def test_a_course_added_shows_on_the_course_list_at_once_in_tests(db, client):
    client.set_cookie("lang", "en")
    team = make_team(db)
    db.commit()
    client.get("/kurs")
    run, _leaders = make_course_run(db, team=team, is_open=True)
    db.commit()
    assert run.template.title in client.get("/kurs").get_data(as_text=True)


@pytest.fixture
def keeping_app(app_settings):
    """An app that keeps the course list for a second (the test config keeps it for 0)."""
    kept = create_app(TestConfig, **app_settings, COURSE_LIST_KEEP_SECONDS=1)
    yield kept
    kept.extensions["rph_db"].engine.dispose()


def test_the_course_list_is_kept_for_its_keep_time_and_then_shows_a_new_course(keeping_app, db, count_queries):
    client = keeping_app.test_client()
    client.set_cookie("lang", "en")
    with count_queries(keeping_app.extensions["rph_db"].engine) as statements:
        client.get("/kurs")
        assert statements
        statements.clear()
        assert client.get("/kurs").status_code == 200
        assert statements == []  # the kept copy: the database is not asked
    run, _leaders = make_course_run(db, team=make_team(db), is_open=True)
    db.commit()
    time.sleep(1.1)
    assert run.template.title in client.get("/kurs").get_data(as_text=True)
