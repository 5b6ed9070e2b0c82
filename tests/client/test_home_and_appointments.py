"""The resident's home, the appointments page and asking to change or cancel an appointment."""
from __future__ import annotations

from sqlalchemy import func, select

from rph_pwa.models import AppointmentRequest
from tests.conftest import form_token, post_form, refresh
from tests.factories import make_booked_contact, make_team


def _signed_in(db, actions, **kwargs):
    """A resident (reading English) with a phone contact tomorrow, signed in."""
    team, therapist, resident, address, episode, contact = make_booked_contact(db, **kwargs)
    resident.locale, resident.phone = "en", "412 34 567"
    db.commit()
    actions.resident_login(address)
    return team, therapist, resident, episode, contact


def _requests(db, appointment_id: int) -> int:
    refresh(db)
    return db.scalar(select(func.count(AppointmentRequest.id))
                     .where(AppointmentRequest.appointment_id == appointment_id))


def test_home_shows_where_i_am_the_next_appointment_forms_by_name_and_the_tab_bar(db, client, actions):
    team, _therapist, _resident, _episode, contact = _signed_in(db, actions)
    html = client.get("/me").get_data(as_text=True)
    assert "Talk" in html and "The team calls you on 412 34 567." in html
    assert "Questions about mood and interest" in html and "(PHQ-9)" in html
    assert "It takes about 3 minutes." in html
    assert f'/me/appointments/{contact.id}/request' in html
    assert 'href="tel:22334455"' in html and 'href="/hjelp"' in html
    assert 'class="tab-bar"' in html and 'href="/me" aria-current="page"' in html
    assert "Form 1 of" not in html


def test_appointments_page_lists_upcoming_and_marks_the_active_tab(db, client, actions):
    *_rest, contact = _signed_in(db, actions)
    html = client.get("/me/appointments").get_data(as_text=True)
    assert "Coming up" in html and "Talk" in html
    assert 'href="/me/appointments" aria-current="page"' in html


def test_staff_see_no_resident_tab_bar(db, client, actions):
    actions.login_staff(db, make_team(db))
    assert 'class="tab-bar"' not in client.get("/therapist/").get_data(as_text=True)


def test_asking_to_move_stores_one_request_and_shows_that_the_team_will_answer(db, client, actions):
    *_rest, contact = _signed_in(db, actions)
    url = f"/me/appointments/{contact.id}/request"
    page = client.get(url)
    assert page.status_code == 200 and 'name="kind"' in page.get_data(as_text=True)
    response = post_form(client, url, {"kind": "change", "reason": "Jeg er på jobb da."})
    assert response.status_code == 302 and response.headers["Location"].endswith("/me/appointments")
    listing = client.get("/me/appointments").get_data(as_text=True)
    assert "You asked to change this. The team will answer." in listing
    assert _requests(db, contact.id) == 1
    stored = db.scalars(select(AppointmentRequest).where(AppointmentRequest.appointment_id == contact.id)).one()
    assert stored.kind == "change" and stored.reason == "Jeg er på jobb da."

    # A second post (a double tap, another tab): one request, a clear answer, the reason kept.
    again = post_form(client, url, {"kind": "cancel", "reason": "Likevel avlyse"})
    assert again.status_code == 400
    body = again.get_data(as_text=True)
    assert "You have already asked about this appointment" in body and "Likevel avlyse" in body
    assert _requests(db, contact.id) == 1


def test_missing_csrf_token_is_refused(db, client, actions):
    *_rest, contact = _signed_in(db, actions)
    url = f"/me/appointments/{contact.id}/request"
    client.get(url)
    assert client.post(url, data={"kind": "change", "reason": ""}).status_code == 400
    assert _requests(db, contact.id) == 0


def test_hostile_input_is_refused_and_what_was_typed_stays(db, client, actions):
    *_rest, contact = _signed_in(db, actions)
    url = f"/me/appointments/{contact.id}/request"
    huge = "Å" * 5000
    response = post_form(client, url, {"kind": "change", "reason": huge})
    assert response.status_code == 400 and "at most 500" in response.get_data(as_text=True)
    assert huge in response.get_data(as_text=True)
    nul = post_form(client, url, {"kind": "change", "reason": "før\x00etter"})
    assert nul.status_code == 400 and "etter" in nul.get_data(as_text=True)
    assert post_form(client, url, {"kind": "move-it", "reason": "x"}).status_code == 400
    assert post_form(client, url, {"reason": "ingen valg"}).status_code == 400
    assert _requests(db, contact.id) == 0


def test_another_residents_appointment_is_not_found(db, client, actions):
    team, therapist, *_rest = _signed_in(db, actions)
    *_other, other_contact = make_booked_contact(db, team=team, therapist=therapist)
    url = f"/me/appointments/{other_contact.id}/request"
    assert client.get(url).status_code == 404
    token = form_token(client, "/me")
    assert client.post(url, data={"kind": "cancel", "reason": "", "csrf_token": token}).status_code == 404
    assert client.get("/me/appointments/999999999/request").status_code == 404
    assert _requests(db, other_contact.id) == 0
    assert f"/me/appointments/{other_contact.id}/" not in client.get("/me/appointments").get_data(as_text=True)


def test_a_past_appointment_cannot_be_changed_here(db, client, actions):
    *_rest, contact = _signed_in(db, actions)
    from datetime import timedelta

    from rph_pwa.db import utcnow
    from rph_pwa.models import Appointment

    db.get(Appointment, contact.id).starts_at = utcnow() - timedelta(days=2)
    db.commit()
    url = f"/me/appointments/{contact.id}/request"
    page = client.get(url).get_data(as_text=True)
    assert "can no longer be changed here" in page and 'name="kind"' not in page
    response = post_form(client, url, {"kind": "change", "reason": "Jobb"}, page="/me")
    assert response.status_code == 400 and "can no longer be changed here" in response.get_data(as_text=True)
    assert "Jobb" in response.get_data(as_text=True)
    assert _requests(db, contact.id) == 0


def test_a_resident_without_a_referral_is_offered_the_self_referral(db, client, actions):
    actions.login_resident_without_referral(db)
    html = client.get("/me").get_data(as_text=True)
    assert "You have not sent a referral yet" in html and 'href="/referral/"' in html


def test_the_therapist_enters_a_secure_video_link_and_the_resident_sees_it_only_shortly_before(db, client, actions,
                                                                                              app):
    from datetime import timedelta

    from rph_pwa.db import utcnow
    from rph_pwa.localtime import to_local
    from rph_pwa.models import Appointment
    from rph_pwa.services import resident_home

    team, therapist, resident, _address, episode, _contact = make_booked_contact(db)
    actions.login_staff(db, team)
    url = f"/therapist/episodes/{episode.id}/contacts"
    when = to_local(utcnow() + timedelta(days=3))
    data = {"day": when.date().isoformat(), "time": "10:00", "duration": "45", "kind": "check_in", "mode": "video",
            "place": ""}
    page = f"/therapist/episodes/{episode.id}"
    for bad in ("http://video.example.no/rom", "javascript:alert(1)", "https://" + "a" * 600 + ".no"):
        refused = post_form(client, url, {**data, "video_link": bad}, page=page, prefix="book")
        assert refused.status_code == 400, bad
    link = "https://video.example.no/rom/abc"
    assert post_form(client, url, {**data, "video_link": link}, page=page, prefix="book").status_code == 302
    refresh(db)
    booked = db.scalars(select(Appointment).where(Appointment.episode_id == episode.id,
                                                  Appointment.kind == "check_in")).one()
    assert booked.video_link == link and booked.mode == "video"
    # Shown to the resident only from 15 minutes before; a stored link that is not https never.
    assert resident_home.appointment_view(db, resident=resident, appointment=booked).video_link is None
    soon = booked.starts_at - timedelta(minutes=10)
    assert resident_home.appointment_view(db, resident=resident, appointment=booked, now=soon).video_link == link
    booked.video_link = "javascript:alert(1)"
    assert resident_home.appointment_view(db, resident=resident, appointment=booked, now=soon).video_link is None
    db.rollback()
