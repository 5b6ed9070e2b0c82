"""The staff page of free times for first conversations (/therapist/slots): publish a series,
see it free and booked (with a link to the episode), withdraw, the team lead's setting, and
refused input that changes nothing."""
from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import func, select

from rph_pwa.db import utcnow
from rph_pwa.localtime import to_local
from rph_pwa.models import AssessmentSlot, AuditEvent, Role, Team
from rph_pwa.services import slots
from tests.conftest import post_form, refresh
from tests.factories import make_referral, make_resident, make_staff, make_team

URL = "/therapist/slots"


def _page(client, url: str = URL) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def _publish_data(day, *, time="09:00", count="3", minutes="45", therapist, mode="phone", place=""):
    return {"day": day.isoformat(), "time": time, "count": count, "minutes": minutes, "mode": mode,
            "therapist": str(therapist), "place": place}


def _count(db, team) -> int:
    refresh(db)
    return db.scalar(select(func.count(AssessmentSlot.id)).where(AssessmentSlot.team_id == team.id,
                                                                 AssessmentSlot.withdrawn_at.is_(None)))


def test_publish_a_series_book_one_and_see_it_linked_to_the_episode(db, actions, client):
    team = make_team(db)
    me = actions.login_staff(db, team)
    page = _page(client)
    assert "No upcoming times are published." in page and 'name="publish-csrf_token"' in page
    assert "self_booking-enabled" not in page  # the setting is the team lead's
    day = to_local(utcnow()).date() + timedelta(days=3)
    response = post_form(client, f"{URL}/teams/{team.id}/publish", _publish_data(day, therapist=me.id),
                         page=URL, prefix="publish")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _count(db, team) == 3
    page = _page(client, f"{URL}?team={team.id}")
    assert "3 free times are published." in page and page.count(">Withdraw<") == 3

    resident = make_resident(db, team=team, name="Kari Bestiller")
    make_referral(db, team=team, resident=resident)
    first = db.scalars(select(AssessmentSlot).where(AssessmentSlot.team_id == team.id)
                       .order_by(AssessmentSlot.starts_at)).first()
    appointment = slots.book_slot(db, resident=resident, slot_id=first.id)
    db.commit()
    page = _page(client)
    assert "Booked: Kari Bestiller" in page and "Chosen by the resident" in page
    assert f'href="/therapist/episodes/{appointment.episode_id}"' in page
    assert page.count(">Withdraw<") == 2
    refresh(db)
    assert db.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.actor_id == me.id, AuditEvent.subject_id == resident.id,
        AuditEvent.object_type == "assessment_slot")) >= 1


def test_withdraw_a_free_time_but_not_a_booked_one(db, actions, client):
    team = make_team(db)
    me = actions.login_staff(db, team)
    published = slots.publish_slots(db, actor=me, team_id=team.id, staff_id=me.id,
                                    first_start=utcnow() + timedelta(days=2), count=2, duration_minutes=30,
                                    mode="office", place="Rådhuset, 2. etg")
    slots.book_slot(db, resident=make_referral(db, team=team).resident, slot_id=published[0].id)
    db.commit()
    assert "Rådhuset, 2. etg" in _page(client)
    response = post_form(client, f"{URL}/{published[1].id}/withdraw", {}, page=URL)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{URL}?team={team.id}")
    assert _count(db, team) == 1
    response = post_form(client, f"{URL}/{published[0].id}/withdraw", {}, page=URL, follow=True)
    assert "Someone has booked this time" in response.get_data(as_text=True)
    assert _count(db, team) == 1


def test_bad_input_is_explained_and_changes_nothing(db, actions, client):
    team = make_team(db)
    me = actions.login_staff(db, team)
    outsider = make_staff(db, teams=[make_team(db)])[0]
    db.commit()
    day = to_local(utcnow()).date() + timedelta(days=3)
    yesterday = to_local(utcnow()).date() - timedelta(days=1)
    cases = [
        (_publish_data(day, count="41", therapist=me.id), "Enter a number from 1 to 40."),
        (_publish_data(day, count="many", therapist=me.id), "Enter a number from 1 to 40."),
        (_publish_data(day, minutes="5", therapist=me.id), "Enter a length from 15 to 240 minutes."),
        (_publish_data(day, therapist=outsider.id), "Not a valid choice"),
        (_publish_data(day, therapist="x"), "Choose the therapist who holds the conversations."),
        (_publish_data(day, therapist=0), "Choose the therapist who holds the conversations."),
        (_publish_data(yesterday, therapist=me.id), "Choose a time in the future."),
        (_publish_data(day, time="25:99", therapist=me.id), "Not a valid time value."),
        (_publish_data(day, mode="pigeon", therapist=me.id), "Not a valid choice"),
        ({**_publish_data(day, therapist=me.id), "day": "0202-01-01"}, "Enter a date between the years"),
    ]
    for data, message in cases:
        response = post_form(client, f"{URL}/teams/{team.id}/publish", data, page=URL, prefix="publish")
        assert response.status_code == 400, (data, response.status_code)
        text = html.unescape(response.get_data(as_text=True))
        assert message in text, (data, message, re.findall(r"field-error[^>]*>([^<]*)<", text))
    assert _count(db, team) == 0
    # Overlapping the therapist's own times: the second post is refused on the time field.
    ok = _publish_data(day, therapist=me.id)
    assert post_form(client, f"{URL}/teams/{team.id}/publish", ok, page=URL, prefix="publish").status_code == 302
    response = post_form(client, f"{URL}/teams/{team.id}/publish", {**ok, "time": "09:30"}, page=URL,
                         prefix="publish")
    assert response.status_code == 400 and "already has a free or booked time" in response.get_data(as_text=True)
    assert _count(db, team) == 3
    # Without the form's CSRF token, nothing is published.
    response = client.post(f"{URL}/teams/{team.id}/publish", data={f"publish-{k}": v for k, v in ok.items()})
    assert response.status_code == 400 and _count(db, team) == 3
    # Another team, and a team query that is not one.
    other = make_team(db)
    db.commit()
    response = post_form(client, f"{URL}/teams/{other.id}/publish", ok, page=URL, prefix="publish")
    assert response.status_code == 404 and _count(db, other) == 0
    assert client.get(f"{URL}?team={other.id}").status_code == 404
    assert client.get(f"{URL}?team=nonsense").status_code == 200


def test_the_team_lead_turns_self_booking_off_and_on(db, actions, client):
    team = make_team(db)
    actions.login_staff(db, team, role=Role.TEAM_LEAD)
    page = _page(client)
    assert 'name="self_booking-enabled"' in page and "themselves: on." in page
    response = post_form(client, f"{URL}/teams/{team.id}/self-booking", {"enabled": "off"}, page=URL,
                         prefix="self_booking")
    assert response.status_code == 302
    refresh(db)
    assert db.get(Team, team.id).self_booking is False
    assert "themselves: off." in _page(client)
    response = post_form(client, f"{URL}/teams/{team.id}/self-booking", {"enabled": "maybe"}, page=URL,
                         prefix="self_booking")
    assert response.status_code == 400
    refresh(db)
    assert db.get(Team, team.id).self_booking is False


def test_a_therapist_cannot_change_the_setting(db, actions, client):
    team = make_team(db)
    actions.login_staff(db, team)
    response = post_form(client, f"{URL}/teams/{team.id}/self-booking", {"enabled": "off"}, page=URL,
                         prefix="self_booking")
    assert response.status_code == 404
    refresh(db)
    assert db.get(Team, team.id).self_booking is True
