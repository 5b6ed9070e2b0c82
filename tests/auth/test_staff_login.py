"""Staff sign in with a password plus a second factor, and time out after 30 idle minutes."""
from __future__ import annotations

import pyotp

from rph_pwa.models import Role
from tests.conftest import form_token
from tests.factories import PASSWORD, make_staff, make_team


def _staff(db):
    team = make_team(db)
    user, secret = make_staff(db, role=Role.THERAPIST, teams=[team])
    db.commit()
    return user, secret


def test_password_then_totp_signs_in(db, actions, client):
    user, secret = _staff(db)
    response = actions.staff_login(user.username, PASSWORD, secret)
    assert response.status_code == 302 and response.headers["Location"].endswith("/therapist/")
    assert client.get("/therapist/").status_code == 200


def test_password_alone_does_not_reach_the_workspace(db, actions, client):
    user, _secret = _staff(db)
    actions.post_form("/staff/login", {"username": user.username, "password": PASSWORD})
    response = client.get("/therapist/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_wrong_totp_is_refused(db, actions, client):
    user, secret = _staff(db)
    actions.post_form("/staff/login", {"username": user.username, "password": PASSWORD})
    right = pyotp.TOTP(secret).now()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = actions.post_form("/staff/login/second-factor", {"code": wrong})
    assert response.status_code == 400
    assert "wrong" in response.get_data(as_text=True).lower() or "feil" in response.get_data(as_text=True).lower()
    assert client.get("/therapist/").status_code == 302


def test_totp_code_cannot_be_replayed(db, actions, client, app):
    user, secret = _staff(db)
    # The same code is replayed. Generating a fresh one would pass at a 30-second boundary.
    code = pyotp.TOTP(secret).now()
    actions.post_form("/staff/login", {"username": user.username, "password": PASSWORD})
    assert actions.post_form("/staff/login/second-factor", {"code": code}).status_code == 302
    client.post("/logout", data={"csrf_token": form_token(client, "/")})
    actions.post_form("/staff/login", {"username": user.username, "password": PASSWORD})
    response = actions.post_form("/staff/login/second-factor", {"code": code})
    assert response.status_code == 400


def test_wrong_password_and_unknown_user_get_the_same_answer(db, actions):
    user, _secret = _staff(db)
    wrong = actions.post_form("/staff/login", {"username": user.username, "password": "not-it"})
    unknown = actions.post_form("/staff/login", {"username": "nobody-here", "password": "not-it"})
    assert wrong.status_code == unknown.status_code == 400
    assert _main(wrong) == _main(unknown)


def test_idle_staff_session_ends_after_30_minutes(db, actions, client):
    user, secret = _staff(db)
    actions.staff_login(user.username, PASSWORD, secret)
    with client.session_transaction() as session:
        session["last_active"] -= 31 * 60
    response = client.get("/therapist/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    assert client.get("/therapist/").status_code == 302  # the login session itself was revoked


def test_session_id_rotates_on_login(db, actions, client):
    user, secret = _staff(db)
    actions.post_form("/staff/login", {"username": user.username, "password": PASSWORD})
    before = client.get_cookie("rph_session").value
    actions.post_form("/staff/login/second-factor", {"code": pyotp.TOTP(secret).now()})
    after = client.get_cookie("rph_session").value
    assert before != after
    with client.session_transaction() as session:
        assert "staff_pending" not in session
        assert str(user.id) != session["_user_id"]  # a login token, never the primary key


def _main(response) -> str:
    html = response.get_data(as_text=True)
    html = html[html.index("<main"):html.index("</main>")]
    import re

    return re.sub(r'value="[^"]*"', "", html)


# --- The password step expires; wrong TOTP codes lock the code check (issue 8) -----------------

def _wrong_totp(secret: str) -> str:
    totp = pyotp.TOTP(secret)
    right = {totp.at(__import__("time").time() + drift) for drift in (-30, 0, 30)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in right)


def test_password_step_expires_after_five_minutes(db, actions, client):
    user, secret = _staff(db)
    actions.post_form("/staff/login", {"username": user.username, "password": PASSWORD})
    token = form_token(client, "/login/code")
    with client.session_transaction() as session:
        session["staff_pending_at"] -= 5 * 60 + 1
    response = client.post("/staff/login/second-factor", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/login")
    assert client.get("/therapist/").status_code == 302
    page = client.get("/staff/login").get_data(as_text=True)
    assert "took too long" in page or "tok for lang tid" in page
    with client.session_transaction() as session:
        assert "staff_pending" not in session  # forgotten, for the passkey route too


def test_password_step_within_five_minutes_still_works(db, actions, client):
    user, secret = _staff(db)
    actions.post_form("/staff/login", {"username": user.username, "password": PASSWORD})
    with client.session_transaction() as session:
        session["staff_pending_at"] -= 4 * 60
    response = actions.post_form("/staff/login/second-factor", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and response.headers["Location"].endswith("/therapist/")


def test_five_wrong_codes_lock_the_code_check_then_the_lock_ends(db, actions, client):
    from rph_pwa.db import utcnow
    from rph_pwa.models import User

    user, secret = _staff(db)
    actions.post_form("/staff/login", {"username": user.username, "password": PASSWORD})
    wrong = _wrong_totp(secret)
    for _ in range(4):
        response = actions.post_form("/staff/login/second-factor", {"code": wrong})
        assert response.status_code == 400 and "Too many" not in response.get_data(as_text=True)
    client.set_cookie("lang", "en")
    fifth = actions.post_form("/staff/login/second-factor", {"code": wrong})
    assert fifth.status_code == 400 and "Too many wrong codes" in fifth.get_data(as_text=True)
    # Locked: even the right code is refused, with the same clear message.
    right = actions.post_form("/staff/login/second-factor", {"code": pyotp.TOTP(secret).now()})
    assert right.status_code == 400 and "Too many wrong codes" in right.get_data(as_text=True)
    assert client.get("/therapist/").status_code == 302
    db.commit()
    stored = db.get(User, user.id)
    db.refresh(stored)
    assert stored.totp_failures == 5 and stored.totp_locked_until > utcnow()
    # Fifteen minutes later (moved back in the database) the lock has ended by itself.
    stored.totp_locked_until = utcnow() - __import__("datetime").timedelta(seconds=1)
    db.commit()
    response = actions.post_form("/staff/login/second-factor", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and response.headers["Location"].endswith("/therapist/")
    db.refresh(stored)
    assert stored.totp_failures == 0 and stored.totp_locked_until is None


def test_a_right_code_resets_the_count(db):
    from rph_pwa.services.accounts import check_totp
    from rph_pwa.services.errors import InvalidCode, SecondFactorLocked

    user, secret = _staff(db)
    wrong = _wrong_totp(secret)
    for _ in range(4):
        try:
            check_totp(db, user=user, code=wrong)
        except SecondFactorLocked:
            raise AssertionError("four wrong codes must not lock") from None
        except InvalidCode:
            pass
    check_totp(db, user=user, code=pyotp.TOTP(secret).now())
    db.refresh(user)
    assert user.totp_failures == 0
    db.rollback()
