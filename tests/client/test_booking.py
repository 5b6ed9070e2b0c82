"""The resident's page for booking the first conversation (/me/book): book, move once, the receipt's
button, and hostile input (no CSRF token, ids that are not ids, another team's time, a taken time)
that books nothing."""
from __future__ import annotations

import html
from datetime import timedelta

from sqlalchemy import func, select

from rph_pwa.db import utcnow
from rph_pwa.models import Appointment, AssessmentSlot, Episode
from rph_pwa.services import slots
from tests.conftest import post_form, refresh
from tests.factories import email, make_referral, make_resident, make_staff, make_team

URL = "/me/book"


def _published(db, team, *, count=3):
    therapist = make_staff(db, teams=[team])[0]
    return slots.publish_slots(db, actor=therapist, team_id=team.id, staff_id=therapist.id,
                               first_start=utcnow() + timedelta(days=2), count=count, duration_minutes=45,
                               mode="phone")


def _signed_in_resident(db, actions, *, urgent=False):
    team = make_team(db)
    published = _published(db, team)
    address = email()
    resident = make_resident(db, team=team, email=address)
    resident.locale = "en"
    make_referral(db, team=team, resident=resident, urgent=urgent)
    db.commit()
    actions.resident_login(address)
    return team, resident, published


def _bookings(db, resident) -> int:
    refresh(db)
    return db.scalar(select(func.count(Appointment.id)).join(Episode, Episode.id == Appointment.episode_id)
                     .where(Episode.resident_id == resident.id, Appointment.booked_by_resident.is_(True)))


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_book_a_time_then_move_it_once(db, actions, client):
    _team, resident, published = _signed_in_resident(db, actions)
    page = _text(client.get(URL))
    assert page.count('type="radio" name="slot"') == 3 and "Book this time" in page
    response = post_form(client, URL, {"slot": str(published[0].id), "intent": "book"}, follow=True)
    page = _text(response)
    assert "Your first conversation is booked for" in page and "You can move it once" in page
    assert 'id="booking"' in page and "Move to this time" in page and page.count('type="radio" name="slot"') == 2
    assert _bookings(db, resident) == 1
    response = post_form(client, URL, {"slot": str(published[2].id), "intent": "move"}, follow=True)
    page = _text(response)
    assert "Your first conversation is moved to" in page and "You have already moved this time once" in page
    assert 'type="radio"' not in page
    refresh(db)
    assert db.get(AssessmentSlot, published[0].id).appointment_id is None
    assert db.get(AssessmentSlot, published[2].id).appointment_id is not None
    # A second move is refused and changes nothing.
    response = post_form(client, URL, {"slot": str(published[1].id), "intent": "move"}, follow=True)
    assert "That time could not be booked." in _text(response)
    refresh(db)
    assert db.get(AssessmentSlot, published[1].id).appointment_id is None


def test_the_receipt_offers_the_button_only_when_a_time_can_be_chosen(db, actions, client):
    _team, _resident, _published_slots = _signed_in_resident(db, actions)
    # The receipt is for the referral just sent in this browser: put it in the session.
    referral_id = db.scalars(select(Episode.referral_id).where(Episode.resident_id == _resident.id)).one()
    with client.session_transaction() as session:
        session["referral_sent"] = referral_id
    page = _text(client.get("/referral/sent"))
    assert 'id="choose-time"' in page and 'href="/me/book"' in page


def test_urgent_referrals_are_told_the_team_calls(db, actions, client):
    team, resident, published = _signed_in_resident(db, actions, urgent=True)
    page = _text(client.get(URL))
    assert "the team will call you" in page and 'type="radio"' not in page and "22 33 44 55" in page
    response = post_form(client, URL, {"slot": str(published[0].id), "intent": "book"})
    assert response.status_code == 302
    assert _bookings(db, resident) == 0


def test_hostile_input_books_nothing(db, actions, client):
    team, resident, published = _signed_in_resident(db, actions)
    foreign = _published(db, make_team(db), count=1)[0]
    taken_by = make_referral(db, team=team).resident
    slots.book_slot(db, resident=taken_by, slot_id=published[1].id)
    db.commit()
    # No CSRF token.
    response = client.post(URL, data={"slot": str(published[0].id), "intent": "book"})
    assert response.status_code == 400
    # Not ids, or no choice, or a made-up intent: the page again with an error, 400.
    for data in ({"slot": "abc", "intent": "book"}, {"slot": "-1", "intent": "book"},
                 {"slot": "1e9", "intent": "book"}, {"slot": "", "intent": "book"},
                 {"slot": str(10**30), "intent": "book"}, {"slot": str(published[0].id), "intent": "steal"}):
        response = post_form(client, URL, data)
        assert response.status_code == 400, data
        assert "Choose one of the times." in _text(response) or "Reload the page" in _text(response)
    # Another team's time, an unknown one and a taken one: refused with the free times shown again.
    for slot_id in (foreign.id, 10**9, published[1].id):
        response = post_form(client, URL, {"slot": str(slot_id), "intent": "book"}, follow=True)
        page = _text(response)
        assert "Someone else took that time just now." in page and "Book this time" in page
    assert _bookings(db, resident) == 0
    refresh(db)
    assert db.get(AssessmentSlot, foreign.id).appointment_id is None
    # A move without a booking is refused too.
    response = post_form(client, URL, {"slot": str(published[0].id), "intent": "move"})
    assert response.status_code == 302 and _bookings(db, resident) == 0


def test_a_resident_without_a_referral_is_told_kindly(db, actions, client):
    actions.login_resident_without_referral(db)
    page = _text(client.get(URL))
    assert "When you have sent a referral" in page and 'type="radio"' not in page


def test_home_offers_the_booking_while_possible(db, actions, client):
    _team, resident, published = _signed_in_resident(db, actions)
    assert "Choose a time for your first conversation" in _text(client.get("/me"))
    post_form(client, URL, {"slot": str(published[0].id), "intent": "book"})
    page = _text(client.get("/me"))
    assert "Choose a time for your first conversation" not in page
    assert "Move the time of your first conversation" in page


def test_home_offers_no_booking_on_an_urgent_referral(db, actions, client):
    _signed_in_resident(db, actions, urgent=True)
    page = _text(client.get("/me"))
    assert "Choose a time for your first conversation" not in page and "Move the time" not in page
