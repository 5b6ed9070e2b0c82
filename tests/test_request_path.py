"""The lighter request path: no session cookie on anonymous pages without a form, the public pages
rendered once per language (never with anyone's own content), CSRF where there is a form, and
read-only views on SQLite reading beside each other instead of queueing for the write lock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import event

from rph_pwa.db import Database, ReadOnlyViolation
from rph_pwa.models import Municipality
from tests.conftest import Actions, form_token
from tests.factories import email, make_resident, make_team

PAGES_WITHOUT_FORM = ["/", "/hjelp", "/about", "/personvern", "/offline", "/referral/", "/kurs"]


def signed_in_resident(app, db, mailbox):
    """A client of a new resident signed in by e-mail code."""
    client = app.test_client()
    address = email()
    make_resident(db, team=make_team(db), email=address)
    db.commit()
    Actions(client, mailbox).resident_login(address)
    return client


@pytest.mark.parametrize("path", PAGES_WITHOUT_FORM)
def test_a_fresh_visitor_gets_no_cookie_on_a_page_without_a_form(app, path):
    client = app.test_client()
    for _ in range(2):  # rendered, then from the kept copy
        response = client.get(path)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
        body = response.get_data(as_text=True)
        assert 'name="csrf-token"' not in body and 'name="csrf_token"' not in body


@pytest.mark.parametrize("lang", ["en", "nn"])
def test_a_visitor_with_a_language_cookie_gets_no_cookie_and_their_language(app, lang):
    client = app.test_client()
    client.set_cookie("lang", lang)
    response = client.get("/hjelp")
    assert "Set-Cookie" not in response.headers
    assert f'<html lang="{lang}">' in response.get_data(as_text=True)


def test_each_visitor_gets_the_page_in_their_own_language(app):
    english, bokmal = app.test_client(), app.test_client()
    english.set_cookie("lang", "en")
    for _ in range(2):
        assert 'lang="en"' in english.get("/").get_data(as_text=True)
        assert 'lang="nb"' in bokmal.get("/").get_data(as_text=True)
    assert "Skip to content" in english.get("/").get_data(as_text=True)
    assert "Gå til innholdet" in bokmal.get("/").get_data(as_text=True)


def test_the_language_switch_of_a_visitor_sets_only_the_language_cookie(app):
    client = app.test_client()
    response = client.post("/language", data={"lang": "en", "next": "/hjelp"})
    assert response.status_code == 302 and response.headers["Location"] == "/hjelp"
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 1 and cookies[0].startswith("lang=en")
    page = client.get("/hjelp")
    assert 'lang="en"' in page.get_data(as_text=True) and "Set-Cookie" not in page.headers


def test_translations_switch_per_request(app):
    client = app.test_client()
    for lang, text in [("en", "Skip to content"), ("nb", "Gå til innholdet"), ("en", "Skip to content")]:
        client.set_cookie("lang", lang)
        assert text in client.get("/about").get_data(as_text=True)


def test_a_form_still_gets_its_token_and_csrf_is_still_enforced(app, db):
    client = app.test_client()
    login = client.get("/login/code")
    assert "rph_session=" in login.headers["Set-Cookie"]  # the form's token lives in the session
    body = login.get_data(as_text=True)
    assert 'name="csrf-token"' in body  # the head's meta tag (for scripts), beside the form's
    address = email()
    make_resident(db, team=make_team(db), email=address)
    db.commit()
    refused = client.post("/login/code", data={"email": address})
    assert refused.status_code == 400
    token = form_token(client, "/login/code")
    assert client.post("/login/code", data={"email": address, "csrf_token": token}).status_code == 302


def test_a_signed_in_users_language_switch_needs_its_token(app, db, mailbox):
    client = signed_in_resident(app, db, mailbox)
    assert client.post("/language", data={"lang": "en", "next": "/me"}).status_code == 400
    token = form_token(client, "/me")
    response = client.post("/language", data={"lang": "en", "next": "/me", "csrf_token": token})
    assert response.status_code == 302 and 'lang="en"' in client.get("/me").get_data(as_text=True)


def test_a_signed_in_page_is_never_kept_for_visitors(app, db, mailbox):
    client = signed_in_resident(app, db, mailbox)
    mine = client.get("/hjelp").get_data(as_text=True)
    assert "/logout" in mine and 'name="csrf-token"' in mine
    theirs = app.test_client().get("/hjelp")
    body = theirs.get_data(as_text=True)
    assert "/logout" not in body and "csrf" not in body and "Set-Cookie" not in theirs.headers


def test_a_message_is_shown_to_its_visitor_only_and_never_kept(app):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "A message for this visitor only")]
    assert "A message for this visitor only" in client.get("/").get_data(as_text=True)
    assert "A message for this visitor only" not in client.get("/").get_data(as_text=True)
    assert "A message for this visitor only" not in app.test_client().get("/").get_data(as_text=True)


def test_a_query_string_is_kept_in_the_language_switch(app):
    body = app.test_client().get("/hjelp?from=sms").get_data(as_text=True)
    assert 'value="/hjelp?from=sms"' in body
    assert 'value="/hjelp?from=sms"' not in app.test_client().get("/hjelp").get_data(as_text=True)


def test_a_residents_session_still_lasts_thirty_days_and_slides(app, db, mailbox):
    client = signed_in_resident(app, db, mailbox)
    cookie = next(c for c in client.get("/me").headers.getlist("Set-Cookie") if c.startswith("rph_session="))
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    assert abs(expires - (datetime.now(timezone.utc) + app.config["PERMANENT_SESSION_LIFETIME"])) < timedelta(
        minutes=5)


def _statements(app):
    seen: list[str] = []
    engine = app.extensions["rph_db"].engine

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return seen, lambda: event.remove(engine, "before_cursor_execute", record)


def test_the_resident_home_reads_beside_others_and_forms_still_take_the_write_lock(app, db, mailbox):
    if app.extensions["rph_db"].engine.dialect.name != "sqlite":
        pytest.skip("BEGIN modes are SQLite's")
    client = signed_in_resident(app, db, mailbox)
    seen, stop = _statements(app)
    try:
        assert client.get("/me").status_code == 200
        begins = [s for s in seen if s.startswith("BEGIN")]
        assert begins == ["BEGIN DEFERRED"]
        seen.clear()
        token = form_token(client, "/me/profile")
        seen.clear()
        client.post("/me/profile", data={"display_name": "Ny", "phone": "", "contact_note": "", "csrf_token": token})
        assert [s for s in seen if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"]
    finally:
        stop()


def test_a_reading_session_refuses_to_write(app_settings):
    database = Database(app_settings["SQLALCHEMY_DATABASE_URL"])
    with database.reading() as session:
        session.add(Municipality(number="9999", name="Skrivebeskyttet"))
        with pytest.raises(ReadOnlyViolation):
            session.flush()
    database.engine.dispose()


def test_a_scripts_fetch_never_replaces_the_pages_session_cookie(app):
    """The service worker's contact-card fetch of a signed-out visitor is sent on to /login; that
    render's token must not replace the one the sign-in page beside it just set (its passkey post
    would fail its CSRF check: found in the browser tests)."""
    client = app.test_client()
    page = client.get("/login/code", headers={"Sec-Fetch-Mode": "navigate"})
    assert "rph_session=" in page.headers["Set-Cookie"]
    fetched = app.test_client().get("/login/code", headers={"Sec-Fetch-Mode": "cors"})
    assert fetched.status_code == 200 and "Set-Cookie" not in fetched.headers
    card = app.test_client().get("/me/contact-card", headers={"Sec-Fetch-Mode": "cors"})
    assert card.status_code == 302 and "Set-Cookie" not in card.headers


@pytest.mark.parametrize("path", ["/find-team", "/therapist/"])
def test_an_idle_staff_member_is_signed_out_from_a_reading_page_too(app, db, mailbox, path):
    """/find-team reads only (its session refuses writes); ending the idle login session still works."""
    client = app.test_client()
    Actions(client, mailbox).login_staff(db, make_team(db))
    with client.session_transaction() as session:
        session["last_active"] -= 31 * 60
    response = client.get(path)
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    assert client.get("/therapist/").status_code == 302  # the login session itself was revoked
