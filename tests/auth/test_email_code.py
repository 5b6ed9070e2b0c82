"""The lost-phone fallback: a one-time code by e-mail, through a real SMTP server on loopback."""
from __future__ import annotations

from tests.factories import email, make_resident, make_team


def test_code_by_email_signs_in(db, actions, client, mailbox):
    address = email()
    resident = make_resident(db, team=make_team(db), email=address)
    db.commit()
    response = actions.resident_login(address)
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/passkeys")
    assert client.get("/me").status_code == 200
    message = mailbox.to(address)[-1]
    # Content-free: nothing names the service or health.
    for word in ("psyk", "helse", "RPH", "angst", "depresj"):
        assert word.lower() not in (message["Subject"] + message.get_body(("plain",)).get_content()).lower()
    assert resident.id


def test_unknown_address_gets_the_same_answer_and_no_mail(db, actions, mailbox):
    known = email()
    make_resident(db, team=make_team(db), email=known)
    db.commit()
    unknown = email()
    a = actions.post_form("/login/code", {"email": known})
    b = actions.post_form("/login/code", {"email": unknown})
    assert a.status_code == b.status_code == 302
    assert a.headers["Location"] == b.headers["Location"]
    assert mailbox.to(unknown) == []


def test_wrong_code_is_refused_and_five_tries_end_the_code(db, actions, client, mailbox):
    address = email()
    make_resident(db, team=make_team(db), email=address)
    db.commit()
    actions.post_form("/login/code", {"email": address})
    code = mailbox.last_code(address)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        response = actions.post_form("/login/code/verify", {"code": wrong})
        assert response.status_code == 400
    response = actions.post_form("/login/code/verify", {"code": code})
    assert response.status_code == 400  # locked after five wrong tries
    assert client.get("/me").status_code == 302


def test_malformed_email_gets_a_clear_error(actions):
    response = actions.post_form("/login/code", {"email": "not-an-address"})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_adding_an_email_needs_the_confirmation_code(db, actions, client, mailbox):
    first = email()
    resident = make_resident(db, team=make_team(db), email=first)
    db.commit()
    actions.resident_login(first)
    second = email()
    actions.post_form("/account/email", {"email": second})
    code = mailbox.last_code(second)
    response = actions.post_form("/account/email/confirm", {"code": code})
    assert response.status_code == 302
    db.refresh(resident)
    assert resident.email == second
