"""The therapist's day pages: I dag, the caseload (sort and filters, junk included), the team
lead's view, finding a resident (posted with CSRF) and answering a request (move, cancel, keep;
twice is refused with a message)."""
from __future__ import annotations

import html
import re
from datetime import time, timedelta

from sqlalchemy import select

from rph_pwa.db import utcnow
from rph_pwa.localtime import local_to_utc, local_today, to_local
from rph_pwa.models import Appointment, AppointmentRequest, AuditEvent, Role
from rph_pwa.services import appointment_requests, outcomes
from tests.conftest import post_form, refresh
from tests.factories import email, make_referral, make_resident, make_team


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _my_episode(db, team, me, *, name: str, phone: str | None = None, address: str | None = None):
    resident = make_resident(db, team=team, name=name, email=address)
    resident.phone = phone
    episode = make_referral(db, team=team, resident=resident).episode
    episode.responsible_id = me.id
    db.flush()
    return episode


def _book(db, me, episode, starts_at):
    return outcomes.book_contact(db, actor=me, episode_id=episode.id, kind="treatment", starts_at=starts_at,
                                 duration_minutes=45, mode="phone", place=None)


def test_today_shows_my_appointments_with_a_call_link_and_the_requests(db, actions, client):
    team = make_team(db)
    me = actions.login_staff(db, team)
    episode = _my_episode(db, team, me, name="Per Ringes", phone="412 34 567")
    day = local_today()
    appointment = _book(db, me, episode, local_to_utc(day, time(23, 30)))
    later = _book(db, me, episode, utcnow() + timedelta(days=3))
    asked = appointment_requests.ask(db, resident=db.get(type(me), episode.resident_id), appointment_id=later.id,
                                     kind="change", reason="Jobb")
    db.commit()
    page = _text(client.get("/therapist/"))
    assert "My appointments today" in page and f'id="appointment-{appointment.id}"' in page
    assert 'href="tel:+4741234567"' in page and "Per Ringes" in page
    assert f"/therapist/requests/{asked.id}" in page and "Change the time" in page
    assert "Resident #" not in page  # no list of residents by number any more
    refresh(db)
    shown = db.scalars(select(AuditEvent).where(AuditEvent.subject_id == episode.resident_id,
                                                AuditEvent.object_type == "day_summary")).all()
    assert len(shown) == 1 and shown[0].actor_id == me.id


def test_caseload_sorts_filters_and_refuses_junk_without_a_500(db, actions, client):
    team = make_team(db)
    me = actions.login_staff(db, team)
    _my_episode(db, team, me, name="Berit B")
    first = _my_episode(db, team, me, name="Anne A")
    first.urgent_since = utcnow()
    db.commit()
    page = _text(client.get("/therapist/caseload"))
    assert page.index("Anne A") < page.index("Berit B")
    assert "Waiting for assessment" in page and "Urgent" in page
    flagged = _text(client.get("/therapist/caseload?flagged=y"))
    assert "Anne A" in flagged and "Berit B" not in flagged
    assert "Anne A" in _text(client.get("/therapist/caseload?sort=phq9&phase=waiting_assessment"))
    assert "No episodes match." in _text(client.get("/therapist/caseload?offering=course"))
    for junk in ("sort=drop", "phase=x", "offering=%27;--", "sort=name&sort=", "flagged=" + "x" * 5000):
        response = client.get(f"/therapist/caseload?{junk}")
        assert response.status_code in (200, 400), junk
        if response.status_code == 400:
            assert "Not a valid choice" in _text(response)


def test_team_overview_for_leads_only(db, actions, client):
    team = make_team(db)
    make_referral(db, team=team, submitted_days_ago=9)
    actions.login_staff(db, team, role=Role.TEAM_LEAD)
    page = _text(client.get("/therapist/team"))
    assert team.name in page and "1 person on the waiting list" in page and "9 days" in page
    assert "No one responsible yet" in page and "No estimate" in page


def test_find_resident_by_posted_email_or_phone(db, actions, client):
    team, other = make_team(db), make_team(db)
    address, stranger_address = email(), email()
    me = actions.login_staff(db, team)
    resident = _my_episode(db, team, me, name="Finn Meg", phone="412 34 570", address=address).resident_id
    make_resident(db, team=other, name="Ikke Min", email=stranger_address)
    db.commit()
    assert client.get("/therapist/find").status_code == 200
    found = post_form(client, "/therapist/find", {"query": address.upper()})
    assert found.status_code == 200 and f"/therapist/residents/{resident}" in _text(found)
    assert "Finn Meg" in _text(post_form(client, "/therapist/find", {"query": "+47 41234570"}))
    missing = post_form(client, "/therapist/find", {"query": stranger_address})
    assert "Ikke Min" not in _text(missing) and "No resident of your teams" in _text(missing)
    assert post_form(client, "/therapist/find", {"query": ""}).status_code == 400
    # Without the CSRF token nothing is searched.
    assert client.post("/therapist/find", data={"query": address}).status_code == 400


def _request(db, me, team, *, name: str):
    episode = _my_episode(db, team, me, name=name)
    appointment = _book(db, me, episode, utcnow() + timedelta(days=2))
    asked = appointment_requests.ask(db, resident=db.get(type(me), episode.resident_id),
                                     appointment_id=appointment.id, kind="change", reason="Kan ikke da")
    db.commit()
    return asked.id, appointment.id


def test_answer_a_request_move_cancel_keep_and_twice(db, actions, client):
    team = make_team(db)
    me = actions.login_staff(db, team)
    moved_id, moved_appointment = _request(db, me, team, name="Flytt Meg")
    url = f"/therapist/requests/{moved_id}"
    page = _text(client.get(url))
    assert "Flytt Meg" in page and "Kan ikke da" in page and "Change the time" in page
    # Moving needs a new time; a past one is refused on the field.
    assert post_form(client, url, {"answer": "moved"}).status_code == 400
    past = (to_local(utcnow()) - timedelta(days=1)).date().isoformat()
    refused = post_form(client, url, {"answer": "moved", "day": past, "time": "10:00"})
    assert refused.status_code == 400 and "Choose a new time in the future." in _text(refused)
    new_day = local_today() + timedelta(days=6)
    done = post_form(client, url, {"answer": "moved", "day": new_day.isoformat(), "time": "13:15", "note": "Ny tid"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/therapist/")
    refresh(db)
    assert db.get(Appointment, moved_appointment).starts_at == local_to_utc(new_day, time(13, 15))
    again = post_form(client, url, {"answer": "kept"}, follow=True)
    assert "Nothing was changed: the request has already been answered" in _text(again)
    refresh(db)
    assert db.get(AppointmentRequest, moved_id).answer == "moved"

    cancel_id, cancel_appointment = _request(db, me, team, name="Avlys Meg")
    post_form(client, f"/therapist/requests/{cancel_id}", {"answer": "cancelled"})
    keep_id, keep_appointment = _request(db, me, team, name="Behold Meg")
    post_form(client, f"/therapist/requests/{keep_id}", {"answer": "kept", "day": "junk"})
    refresh(db)
    assert db.get(Appointment, cancel_appointment).status == "cancelled"
    assert db.get(Appointment, keep_appointment).status == "booked"
    assert db.get(AppointmentRequest, keep_id).answer == "kept"
    assert "Kept as it is" in _text(client.get(f"/therapist/requests/{keep_id}"))


def test_caseload_pages_keep_the_sort_and_filters(db, actions, client, monkeypatch):
    from rph_pwa.services import caseload as caseload_service

    monkeypatch.setattr(caseload_service, "PAGE_SIZE", 2)
    team = make_team(db)
    me = actions.login_staff(db, team)
    for name in ("Dina D", "Anne A", "Carl C", "Berit B"):
        _my_episode(db, team, me, name=name)
    db.commit()
    first = _text(client.get("/therapist/caseload?sort=name&phase=waiting_assessment"))
    assert "Anne A" in first and "Carl C" not in first and "Page 1 of 2" in first
    next_link = re.search(r'href="([^"]*)" rel="next"', first).group(1)
    assert "page=2" in next_link and "phase=waiting_assessment" in next_link and "sort=name" in next_link
    second = _text(client.get("/therapist/caseload?sort=name&phase=waiting_assessment&page=2"))
    assert "Carl C" in second and "Dina D" in second and "Anne A" not in second and "Page 2 of 2" in second
    for junk in ("page=x", "page=-5", "page=" + "9" * 400):
        response = client.get(f"/therapist/caseload?{junk}")
        assert response.status_code == 200, junk
        assert "Anne A" in _text(response) or "Carl C" in _text(response), junk
