"""The self-referral as a person walks it: the receipt of an urgent referral, the review page with
every answer in words, editing from the review, resuming where they left, "Back" keeping what was
typed, and the referral's e-mail becoming a sign-in address (issue 9, "What a resident is told")."""
from __future__ import annotations

import html
import re

from sqlalchemy import select

from rph_pwa.models import User
from rph_pwa.services import login_sessions
from tests.client.referral_helpers import fill_referral, post_step
from tests.conftest import csrf_token, form_token, post_form
from tests.factories import email, make_resident, make_team

CONTACT_STEP = 9


def _english(client):
    client.set_cookie("lang", "en")


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _sign_in_with_passkey_account(db, client, team) -> User:
    """A resident whose account was made with a passkey (no e-mail address), signed in in `client`
    the way a passkey sign-in leaves the browser (a login session; the WebAuthn ceremony itself is
    covered by the browser tests)."""
    user = make_resident(db, team=team, name="Test Person")
    token = login_sessions.start_login_session(db, user=user, method="passkey")
    db.commit()
    with client.session_transaction() as browser_session:
        browser_session["_user_id"] = token
        browser_session["_fresh"] = True
    return user


def _send(client):
    response = post_form(client, "/referral/review")
    assert response.headers["Location"].endswith("/referral/sent"), response.get_data(as_text=True)[-1500:]


def test_urgent_receipt_has_its_own_wording_and_the_teams_urgent_response_days(db, client):
    team = make_team(db)
    team.response_days, team.urgent_response_days = 5, 2
    db.commit()
    _english(client)
    _sign_in_with_passkey_account(db, client, team)
    fill_referral(client, municipality_id=team.municipalities[0].id, item9=1)
    review = _text(client.get("/referral/review"))
    assert "When you send it, the team will see that you need to be contacted quickly" in review
    assert "You can still finish this form" not in review
    _send(client)
    receipt = _text(client.get("/referral/sent"))
    assert "The team will call you within 2 working days" in receipt
    assert "within 5 working days" not in receipt
    assert "You can still finish this form" not in receipt
    assert "Until the team calls, use the numbers above" in receipt and 'href="tel:113"' in receipt


def test_urgent_receipt_says_next_working_day_by_default_and_ordinary_receipt_keeps_its_days(db, client):
    team = make_team(db)
    db.commit()
    assert team.urgent_response_days == 1
    _english(client)
    _sign_in_with_passkey_account(db, client, team)
    fill_referral(client, municipality_id=team.municipalities[0].id, crisis="yes")
    _send(client)
    receipt = _text(client.get("/referral/sent"))
    assert "The team will call you by the end of the next working day" in receipt

    other_team = make_team(db)
    db.commit()
    other = client.application.test_client()
    _english(other)
    _sign_in_with_passkey_account(db, other, other_team)
    fill_referral(other, municipality_id=other_team.municipalities[0].id)
    _send(other)
    receipt = _text(other.get("/referral/sent"))
    assert "within 5 working days" in receipt and "next working day" not in receipt
    assert "crisis-panel" not in receipt


def test_review_shows_every_answer_in_plain_words(db, client):
    team = make_team(db)
    db.commit()
    _english(client)
    fill_referral(client, municipality_id=team.municipalities[0].id, email="ola@example.no")
    review = _text(client.get("/referral/review"))
    # Questions as asked, and the chosen options' labels or the typed text, for every step.
    for expected in ("How old are you?", "30", team.municipalities[0].name,
                     "What troubles you? Choose all that fit.", "Worry, fear or anxiety, Sleep problems",
                     "Jeg sover dårlig og bekymrer meg.", "3 to 12 months", "Sove bedre og komme tilbake i jobb.",
                     "What do you do most of the day?", "I work", "Yes, partly (graded)",
                     "Little interest or pleasure in doing things",  # PHQ-9 item 1, its text
                     "More than half the days",  # PHQ-9's option 2, as labelled
                     "Your name", "Test Person", "412 34 567", "ola@example.no", "Dr. Lege"):
        assert expected in review, expected
    # Each part has an edit link that returns to the review.
    for number in range(1, CONTACT_STEP + 1):
        assert f'href="/referral/step/{number}?return=review"' in review


def test_edit_link_saves_and_returns_to_the_review(db, client):
    team = make_team(db)
    db.commit()
    _english(client)
    fill_referral(client, municipality_id=team.municipalities[0].id)
    page = client.get("/referral/step/2?return=review")
    assert "Save and go back to the review" in _text(page)
    token = csrf_token(page.get_data(as_text=True))
    response = client.post("/referral/step/2?return=review", data={
        "csrf_token": token, "problems": ["low_mood"], "own_words": "", "duration": "gt_1y",
        "goals": "Komme meg ut av senga.", "earlier_help": ""})
    assert response.status_code == 302 and response.headers["Location"].endswith("/referral/review")
    review = _text(client.get("/referral/review"))
    assert "Komme meg ut av senga." in review and "Low mood or feeling down" in review
    assert "Sove bedre og komme tilbake i jobb." not in review
    # An invalid edit stays on the step, with the text kept, and does not return yet.
    token = form_token(client, "/referral/step/2?return=review")
    response = client.post("/referral/step/2?return=review", data={
        "csrf_token": token, "problems": ["low_mood"], "duration": "gt_1y", "goals": ""})
    assert response.status_code == 400


def test_continue_resumes_at_the_step_the_person_left(db, client):
    team = make_team(db)
    db.commit()
    municipality_id = team.municipalities[0].id
    assert post_step(client, 1, {"age": 30, "municipality": municipality_id, "crisis": "no"}).status_code == 302
    assert post_step(client, 2, {"problems": ["sleep"], "duration": "lt_3m", "goals": "Sove."}).status_code == 302
    assert post_step(client, 3, {"work_status": "working", "sick_leave": "none",
                                 "return_to_work": "yes"}).status_code == 302
    client.get("/referral/step/4")  # the person reached PHQ-9 and closed the browser
    start = _text(client.get("/referral/"))
    assert 'href="/referral/step/4"' in start
    # Having reached the review, continuing goes there.
    fill_referral(client, municipality_id=municipality_id)
    client.get("/referral/review")
    assert 'href="/referral/review"' in _text(client.get("/referral/"))


def test_back_keeps_what_was_typed_on_the_step(db, client):
    team = make_team(db)
    db.commit()
    _english(client)
    municipality_id = team.municipalities[0].id
    assert post_step(client, 1, {"age": 30, "municipality": municipality_id, "crisis": "no"}).status_code == 302
    page = client.get("/referral/step/2")
    assert 'name="action" value="back"' in page.get_data(as_text=True)
    # Half a step (no duration chosen yet): "Back" saves it without complaining and goes back.
    response = client.post("/referral/step/2", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "action": "back", "problems": ["anxiety"],
        "goals": "Tørre å ta bussen igjen."})
    assert response.status_code == 302 and response.headers["Location"].endswith("/referral/step/1")
    again = _text(client.get("/referral/step/2"))
    assert "Tørre å ta bussen igjen." in again
    assert re.search(r'<input[^>]*\bchecked\b[^>]*value="anxiety"|<input[^>]*value="anxiety"[^>]*\bchecked\b', again)
    assert not re.search(r'<input[^>]*\bchecked\b[^>]*value="sleep"|<input[^>]*value="sleep"[^>]*\bchecked\b', again)
    # A complete step saved by "Back" counts as done.
    page = client.get("/referral/step/3")
    response = client.post("/referral/step/3", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "action": "back", "work_status": "studying",
        "sick_leave": "none", "return_to_work": "not_relevant"})
    assert response.headers["Location"].endswith("/referral/step/2")
    review = _text(client.get("/referral/review"))
    assert "I study or go to school" in review


def test_referral_email_confirmed_from_the_receipt_becomes_the_sign_in_address(db, client, mailbox, actions):
    team = make_team(db)
    db.commit()
    _english(client)
    user = _sign_in_with_passkey_account(db, client, team)
    address = email()
    fill_referral(client, municipality_id=team.municipalities[0].id, email=address)
    _send(client)
    receipt = client.get("/referral/sent")
    text = _text(receipt)
    assert "Confirm my e-mail so I can sign in if I lose my phone" in text and address in text
    token = csrf_token(receipt.get_data(as_text=True))
    response = client.post("/referral/sent/confirm-email", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/email/confirm")
    message = mailbox.to(address)[-1]
    assert "RPH" not in message["Subject"]
    page = client.get("/account/email/confirm")
    response = client.post("/account/email/confirm", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "code": mailbox.last_code(address)})
    assert response.status_code == 302
    db.commit()
    db.refresh(user)
    assert user.email == address
    # No button once the address is the account's.
    assert "Confirm my e-mail" not in _text(client.get("/referral/sent"))
    # The phone is lost: a new browser signs in with a code to that address.
    lost = client.application.test_client()
    from tests.conftest import Actions
    response = Actions(lost, mailbox).resident_login(address)
    assert response.status_code == 302
    assert lost.get("/me").status_code == 200
    db.commit()
    assert db.scalars(select(User).where(User.email_lookup == user.email_lookup)).one().id == user.id


def test_no_confirm_button_when_the_account_already_has_an_address(db, client, actions):
    team = make_team(db)
    address = email()
    make_resident(db, team=team, email=address, name="Test Person")
    db.commit()
    _english(client)
    actions.resident_login(address)
    fill_referral(client, municipality_id=team.municipalities[0].id, email=address)
    _send(client)
    assert "Confirm my e-mail" not in _text(client.get("/referral/sent"))
