"""Thirty wrong guesses at one e-mail code at the same moment, each from its own browser (its own
test client and session cookie): the database counts at most five tries, so at most five
comparisons happen, and the right code is refused afterwards. Runs on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL."""
from __future__ import annotations

from sqlalchemy import select

from rph_pwa.models import EmailCode
from rph_pwa.services.email_codes import MAX_ATTEMPTS
from tests.client.referral_helpers import fill_referral
from tests.concurrency.conftest import run_together
from tests.conftest import csrf_token, form_token, post_form
from tests.factories import email, make_resident, make_team

GUESSES = 30


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _browsers(app, url: str, session_values: dict) -> list[tuple[object, str]]:
    """GUESSES new browsers that each hold `session_values` in their own session, with the CSRF
    token of `url`."""
    browsers = []
    for _ in range(GUESSES):
        browser = app.test_client()
        with browser.session_transaction() as session:
            session.update(session_values)
        page = browser.get(url)
        assert page.status_code == 200, page.status_code
        browsers.append((browser, csrf_token(page.get_data(as_text=True))))
    return browsers


def _guess_together(browsers, url: str, code: str) -> list:
    def guess(browser, token):
        return lambda: browser.post(url, data={"code": code, "csrf_token": token})

    results = run_together([guess(browser, token) for browser, token in browsers])
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert sorted({r.status_code for r in results}) == [400]  # refused, never a 500
    return results


def _attempts(db, **where) -> int:
    db.commit()  # end the read transaction: SQLite (WAL) would keep showing its snapshot
    column = EmailCode.email_lookup if "email_lookup" in where else EmailCode.draft_id
    value = where.get("email_lookup", where.get("draft_id"))
    return db.scalars(select(EmailCode.attempts).where(column == value).order_by(EmailCode.id.desc())).first()


def test_parallel_guesses_at_a_sign_in_code_count_at_most_five(app, db, client, actions, mailbox):
    address = email()
    make_resident(db, team=make_team(db), email=address)
    db.commit()
    assert actions.post_form("/login/code", {"email": address}).status_code == 302
    code = mailbox.last_code(address)
    lookup = app.extensions["rph_crypto"].lookup_hash(address)
    browsers = _browsers(app, "/login/code/verify", {"code_lookup": lookup})

    _guess_together(browsers, "/login/code/verify", _wrong(code))

    assert _attempts(db, email_lookup=lookup) == MAX_ATTEMPTS
    browser, token = browsers[0]
    assert browser.post("/login/code/verify", data={"code": code, "csrf_token": token}).status_code == 400
    assert browser.get("/me").status_code == 302  # not signed in
    assert _attempts(db, email_lookup=lookup) == MAX_ATTEMPTS


def test_parallel_guesses_at_a_referral_code_count_at_most_five(app, db, client, mailbox):
    team = make_team(db)
    db.commit()
    address = email()
    fill_referral(client, municipality_id=team.municipalities[0].id, email=address)
    assert post_form(client, "/referral/review").status_code == 302
    token = form_token(client, "/referral/account")
    assert client.post("/referral/account/email", data={"csrf_token": token}).status_code == 302
    code = mailbox.last_code(address)
    with client.session_transaction() as session:
        values = {"referral_draft": session["referral_draft"], "signup": session["signup"]}
    draft_id = db.scalars(select(EmailCode.draft_id).where(
        EmailCode.email_lookup == app.extensions["rph_crypto"].lookup_hash(address))).one()
    browsers = _browsers(app, "/referral/account/code", values)

    _guess_together(browsers, "/referral/account/code", _wrong(code))

    assert _attempts(db, draft_id=draft_id) == MAX_ATTEMPTS
    browser, token = browsers[0]
    assert browser.post("/referral/account/code", data={"code": code, "csrf_token": token}).status_code == 400
    assert browser.get("/me").status_code == 302


def test_parallel_wrong_totp_codes_count_at_most_five_and_lock(app, db):
    import time

    import pyotp

    from rph_pwa.db import utcnow
    from rph_pwa.models import User
    from rph_pwa.services.accounts import TOTP_MAX_FAILURES
    from tests.factories import make_staff

    staff, secret = make_staff(db, teams=[make_team(db)])
    db.commit()
    totp = pyotp.TOTP(secret)
    right = {totp.at(time.time() + drift) for drift in (-30, 0, 30)}
    wrong = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in right)
    url = "/staff/login/second-factor"
    browsers = _browsers(app, url, {"staff_pending": staff.id, "staff_pending_at": time.time()})

    _guess_together(browsers, url, wrong)

    db.commit()
    stored = db.get(User, staff.id)
    db.refresh(stored)
    assert stored.totp_failures == TOTP_MAX_FAILURES and stored.totp_locked_until > utcnow()
    browser, token = browsers[0]
    assert browser.post(url, data={"code": totp.now(), "csrf_token": token}).status_code == 400
    assert browser.get("/therapist/").status_code == 302
