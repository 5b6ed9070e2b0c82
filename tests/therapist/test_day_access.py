"""Another team's residents never appear on I dag, the caseload or the search (issue 11), even
when rows point at me: an appointment I once held there, an episode I was responsible for, a
request, a flag, a late referral or a missed appointment of theirs. Nothing is audited about them."""
from __future__ import annotations

import html
from datetime import time, timedelta

from sqlalchemy import func, select

from rph_pwa.db import utcnow
from rph_pwa.localtime import local_to_utc, local_today
from rph_pwa.models import AuditEvent, Role, TeamMembership
from rph_pwa.services import appointment_requests, outcomes, urgent_flags
from tests.conftest import post_form
from tests.factories import add_episode_contact, email, make_referral, make_resident, make_staff, make_team

STRANGER = "Fremmed Beboer"


def _stranger_everywhere(db, theirs, me):
    """A resident of the other team whose episode names me, with every kind of row I dag lists."""
    colleague, _ = make_staff(db, teams=[theirs])
    address = email()
    resident = make_resident(db, team=theirs, name=STRANGER, email=address)
    resident.phone = "412 34 599"
    episode = make_referral(db, team=theirs, resident=resident).episode
    episode.responsible_id = me.id
    today = local_today()
    # Booked by a colleague there, then handed to me (I was on that team once).
    for when in (local_to_utc(today, time(23, 0)), local_to_utc(today + timedelta(days=1), time(10))):
        contact = outcomes.book_contact(db, actor=colleague, episode_id=episode.id, kind="treatment",
                                        starts_at=when, duration_minutes=45, mode="phone", place=None)
        contact.staff_id = me.id
    later = outcomes.book_contact(db, actor=colleague, episode_id=episode.id, kind="treatment",
                                  starts_at=utcnow() + timedelta(days=3), duration_minutes=45, mode="phone",
                                  place=None)
    appointment_requests.ask(db, resident=resident, appointment_id=later.id, kind="cancel")
    urgent_flags.raise_flag(db, resident_id=resident.id, team_id=theirs.id, reason="crisis", episode_id=episode.id)
    add_episode_contact(db, episode=episode, staff=me, starts_at=utcnow() - timedelta(days=20), status="attended",
                        minutes=600)
    add_episode_contact(db, episode=episode, staff=me, starts_at=utcnow() - timedelta(days=10), status="attended",
                        minutes=600)
    make_referral(db, team=theirs, submitted_days_ago=30,
                  resident=make_resident(db, team=theirs, name=STRANGER))
    db.commit()
    return resident, address


def _events_about(db, resident_id: int) -> int:
    db.commit()
    return db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.subject_id == resident_id))


def test_another_teams_resident_is_never_on_my_day_caseload_or_search(db, actions, client):
    mine, theirs = make_team(db), make_team(db)
    me = actions.login_staff(db, mine)
    resident, address = _stranger_everywhere(db, theirs, me)
    before = _events_about(db, resident.id)

    day = html.unescape(client.get("/therapist/").get_data(as_text=True))
    assert STRANGER not in day and "tel:+4741234599" not in day
    assert "Nothing is due." in day and "You have no appointments today." in day
    caseload = client.get("/therapist/caseload").get_data(as_text=True)
    assert STRANGER not in caseload and "No episodes match." in caseload
    for query in (address, "412 34 599"):
        found = post_form(client, "/therapist/find", {"query": query}).get_data(as_text=True)
        assert STRANGER not in found and f"/therapist/residents/{resident.id}" not in found
    assert _events_about(db, resident.id) == before


def test_the_same_rows_appear_for_a_therapist_of_that_team(db, actions, client):
    """The control: what the other team's therapist is refused, a therapist of the team sees."""
    theirs = make_team(db)
    me = actions.login_staff(db, theirs)
    resident, address = _stranger_everywhere(db, theirs, me)
    day = html.unescape(client.get("/therapist/").get_data(as_text=True))
    assert STRANGER in day and "tel:+4741234599" in day and "Nothing is due." not in day
    assert STRANGER in client.get("/therapist/caseload").get_data(as_text=True)
    assert STRANGER in post_form(client, "/therapist/find", {"query": address}).get_data(as_text=True)


def test_leaving_a_team_takes_its_residents_off_my_pages(db, actions, client):
    mine, theirs = make_team(db), make_team(db)
    me = actions.login_staff(db, mine, theirs)
    _resident, address = _stranger_everywhere(db, theirs, me)
    assert STRANGER in client.get("/therapist/caseload").get_data(as_text=True)
    db.delete(db.get(TeamMembership, (me.id, theirs.id)))
    db.commit()
    assert STRANGER not in client.get("/therapist/").get_data(as_text=True)
    assert STRANGER not in client.get("/therapist/caseload").get_data(as_text=True)
    assert STRANGER not in post_form(client, "/therapist/find", {"query": address}).get_data(as_text=True)


def test_admins_and_therapists_do_not_get_the_team_view_and_admins_no_caseload(db, actions, client):
    team = make_team(db)
    make_referral(db, team=team, resident=make_resident(db, team=team, name=STRANGER))
    actions.login_staff(db, team, role=Role.ADMIN)
    for url in ("/therapist/caseload", "/therapist/team", "/therapist/find"):
        assert client.get(url).status_code == 404, url
    assert STRANGER not in client.get("/therapist/").get_data(as_text=True)
