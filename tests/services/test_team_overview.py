"""The team lead's view (services/team_overview.py): caseload per therapist, waiting list,
requests not yet answered, and the expected wait with how sure it is."""
from __future__ import annotations

from datetime import timedelta

import pytest

from rph_pwa.db import utcnow
from rph_pwa.models import Role
from rph_pwa.services import appointment_requests
from rph_pwa.services import team_overview as svc
from rph_pwa.services.errors import NotFound
from tests.factories import make_booked_contact, make_referral, make_staff, make_team


def test_loads_waiting_list_requests_and_estimate(app, db):
    team, other_team = make_team(db), make_team(db)
    lead, _ = make_staff(db, role=Role.TEAM_LEAD, teams=[team])
    therapist, _ = make_staff(db, teams=[team])
    make_staff(db, role=Role.ADMIN, teams=[team])  # admins hold no caseload
    now = utcnow()
    oldest = make_referral(db, team=team, submitted_days_ago=12)
    make_referral(db, team=team, submitted_days_ago=2)
    make_referral(db, team=other_team, submitted_days_ago=40)  # another team's: not counted
    for days_ago, waited in ((10, 4), (20, 6), (30, 8)):  # three starts in the last eight weeks
        started = make_referral(db, team=team, submitted_days_ago=days_ago + waited).episode
        started.assessed_at = now - timedelta(days=days_ago)
        started.responsible_id = therapist.id
    _team, _t, resident, _a, _e, contact = make_booked_contact(db, team=team, therapist=therapist)
    appointment_requests.ask(db, resident=resident, appointment_id=contact.id, kind="cancel")
    db.commit()

    [overview] = svc.team_overviews(db, actor=lead, now=now)
    assert overview.team_id == team.id
    # The two referrals and the booked contact's (booked, not attended: not started yet).
    assert overview.waiting == 3 and overview.longest_wait_since == oldest.submitted_at
    assert overview.open_requests == 1
    loads = {(load.staff_id, load.name): load.episodes for load in overview.loads}
    assert loads[(therapist.id, therapist.display_name)] == 3
    assert loads[(lead.id, lead.display_name)] == 0
    assert loads[(None, None)] == 3  # the two waiting and the booked contact's episode
    estimate = overview.estimate
    assert estimate.starts == 3 and estimate.confidence == "low"
    # Three starts in 56 days: the three waiting are through in 56 days.
    assert estimate.queue_days == 56
    assert estimate.low_days == 4 and estimate.high_days == 56


def test_estimate_method():
    assert svc.estimate_wait([], waiting=10, referrals=3) is None
    steady = svc.estimate_wait([7.0] * 24, waiting=6, referrals=24)
    assert (steady.queue_days, steady.low_days, steady.high_days, steady.confidence) == (14, 7, 14, "high")
    assert not steady.growing
    busy = svc.estimate_wait([10.0] * 10, waiting=0, referrals=30)
    assert (busy.low_days, busy.high_days, busy.confidence, busy.growing) == (0, 10, "medium", True)


def test_only_team_leads(app, db):
    team = make_team(db)
    for role in (Role.THERAPIST, Role.ADMIN):
        user, _ = make_staff(db, role=role, teams=[team])
        with pytest.raises(NotFound):
            svc.team_overviews(db, actor=user, now=utcnow())
