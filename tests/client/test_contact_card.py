"""The contact card the service worker keeps for the offline page: the signed-in resident's team
name and phone number and nothing else, never stored by a browser cache, and only for residents."""
from __future__ import annotations

from tests.factories import email, make_resident, make_safety_plan, make_team

CARD = "/me/contact-card"


def test_a_resident_gets_the_team_name_and_phone_only_and_it_is_not_stored(db, client, actions):
    address = email()
    team = make_team(db, name="Rask psykisk helsehjelp Testby")
    resident = make_resident(db, team=team, email=address)
    make_safety_plan(db, resident=resident, warning_signs="Jeg sover dårlig.")
    db.commit()
    actions.resident_login(address)

    response = client.get(CARD)
    assert response.status_code == 200
    assert response.get_json() == {"team": "Rask psykisk helsehjelp Testby", "phone": "22 33 44 55",
                                   "tel": "22334455"}
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert "Test Testesen" not in body and "sover" not in body  # not the person, not the plan


def test_a_team_without_a_phone_gives_no_number(db, client, actions):
    address = email()
    team = make_team(db)
    team.phone = None
    make_resident(db, team=team, email=address)
    db.commit()
    actions.resident_login(address)
    assert client.get(CARD).get_json()["phone"] is None


def test_nobody_signed_in_is_sent_to_sign_in_and_staff_are_refused(db, client, actions):
    response = client.get(CARD)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    actions.login_staff(db, make_team(db))
    assert client.get(CARD).status_code == 403


def test_the_card_leaves_the_session_cookie_as_the_page_set_it(db, client, actions):
    """The worker fetches the card beside a page; if its answer set the (permanent) session cookie
    again, it could overwrite the one the page had just set and the page's next form would fail its
    CSRF check (found in the browser tests)."""
    address = email()
    make_resident(db, team=make_team(db), email=address)
    db.commit()
    actions.resident_login(address)
    assert "Set-Cookie" in client.get("/me").headers  # pages renew the permanent session cookie
    card = client.get(CARD)
    assert card.status_code == 200 and "Set-Cookie" not in card.headers
