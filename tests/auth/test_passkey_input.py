"""Malformed passkey credentials and absurdly nested JSON get a 400 JSON answer with a translated
message, never a 500, signed in or not, with or without a challenge."""
from __future__ import annotations

import json

import pytest
from webauthn.helpers import bytes_to_base64url

from rph_pwa.models import Passkey
from tests.conftest import form_token
from tests.factories import email, make_resident, make_team

CLIENT_DATA = bytes_to_base64url(b'{"type":"webauthn.get","challenge":"AAAA","origin":"http://localhost"}')


def _shapes(raw_id: str) -> list:
    """Bodies a broken or hostile browser might send."""
    response = {"clientDataJSON": CLIENT_DATA, "authenticatorData": bytes_to_base64url(b"x" * 37),
                "signature": "abc"}
    credential = {"id": raw_id, "rawId": raw_id, "type": "public-key", "response": response}
    return [
        b"garbage", b"", b"null", b"[]", b"42", b'"text"', b"{}", b'{"id": 5}', b'{"rawId": ["x"]}',
        b'{"rawId": "!!!"}', b"\xff\xfe\x00",
        {"id": raw_id, "rawId": raw_id},
        {**credential, "response": "x"},
        {**credential, "response": {"clientDataJSON": 5}},
        {**credential, "response": {**response, "clientDataJSON": "abc"}},
        {**credential, "response": {**response, "userHandle": 5}},
        {**credential, "type": 5, "authenticatorAttachment": 7},
        {"credential": "x", "name": {"a": 1}},
        {"credential": {**credential, "response": {"clientDataJSON": CLIENT_DATA, "attestationObject": "!!"}}},
        {"credential": {**credential, "response": {"clientDataJSON": CLIENT_DATA, "attestationObject": "oA"}},
         "name": ["x"]},
        {"credential": [], "name": None},
    ]


def _deep() -> list[bytes]:
    return [b"[" * 5000 + b"]" * 5000, b'{"a":' * 5000 + b"1" + b"}" * 5000,
            b'{"credential":' * 5000 + b"{}" + b"}" * 5000]


def _body(shape) -> bytes:
    return shape if isinstance(shape, bytes) else json.dumps(shape).encode()


def _post(browser, url: str, body: bytes, token: str):
    return browser.post(url, data=body, headers={"Content-Type": "application/json", "X-CSRFToken": token})


def _assert_refused(response):
    assert response.status_code in (400, 403), (response.status_code, response.get_data(as_text=True)[:300])
    assert response.is_json and response.get_json()["error"]


@pytest.fixture
def known_raw_id(db) -> str:
    """The id of a stored passkey, so malformed assertions reach the signature check."""
    resident = make_resident(db, team=make_team(db))
    credential_id = f"cred-{resident.id}".encode()
    db.add(Passkey(user_id=resident.id, credential_id=credential_id, public_key=b"\xa1\x01\x02", name="Telefon"))
    db.commit()
    return bytes_to_base64url(credential_id)


@pytest.mark.parametrize("with_challenge", [True, False], ids=["challenge", "no-challenge"])
def test_malformed_assertions_are_refused_without_500(app, known_raw_id, with_challenge):
    for body in [_body(s) for s in _shapes(known_raw_id)] + _deep():
        browser = app.test_client()
        token = form_token(browser, "/login/code")
        if with_challenge:
            assert _post(browser, "/auth/passkey/authenticate/options", b"", token).status_code == 200
        _assert_refused(_post(browser, "/auth/passkey/authenticate/verify", body, token))


def test_malformed_registrations_are_refused_without_500(app, db, actions, client, known_raw_id):
    address = email()
    make_resident(db, team=make_team(db), email=address)
    db.commit()
    actions.resident_login(address)
    token = form_token(client, "/account/passkeys")
    for body in [_body(s) for s in _shapes(known_raw_id)] + _deep():
        assert _post(client, "/auth/passkey/register/options", b"", token).status_code == 200
        _assert_refused(_post(client, "/auth/passkey/register/verify", body, token))


def test_anonymous_deep_json_to_registration_is_refused(app):
    browser = app.test_client()
    token = form_token(browser, "/login/code")
    for body in _deep():
        _assert_refused(_post(browser, "/auth/passkey/register/verify", body, token))


def test_the_message_is_translated(app, known_raw_id):
    browser = app.test_client()
    browser.set_cookie("lang", "nb")
    token = form_token(browser, "/login/code")
    response = _post(browser, "/auth/passkey/authenticate/verify", b"[" * 5000 + b"]" * 5000, token)
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("Innlogging med passnøkkel virket ikke.")
