"""The triage queue in pages of 50: urgent first, then the longest waiting, page links with only a
page number in the address, any page value answered without an error, a fixed number of queries
whatever the size of the queue, and one audit event per page view naming exactly what it showed."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from rph_pwa.models import AuditEvent, AuditShown, Role
from rph_pwa.services import audit
from rph_pwa.services.triage import QUEUE_PAGE_SIZE
from tests.conftest import Actions, refresh
from tests.factories import make_referral, make_resident, make_team

URGENT = 3
WAITING = 57  # with the urgent ones, 60 referrals: a full first page and 10 on the second


def _queue(db, team, *, waiting: int = WAITING, urgent: int = URGENT):
    """`urgent` urgent referrals sent lately, then `waiting` others, each a day apart (the first
    has waited longest): the referrals in the order the queue must show them."""
    urgent_ones = [make_referral(db, team=team, urgent=True, submitted_days_ago=urgent - i,
                                 resident=make_resident(db, team=team, name=f"Haster {i}")) for i in range(urgent)]
    others = [make_referral(db, team=team, submitted_days_ago=1000 - i,
                            resident=make_resident(db, team=team, name=f"Venter {i}")) for i in range(waiting)]
    db.commit()
    return urgent_ones + others


def _shown(page: str) -> list[int]:
    """The referral ids of the queue's cards, in page order (not the follow-up list's links)."""
    return [int(n) for n in re.findall(r'href="/therapist/referrals/(\d+)"', page)]


@pytest.fixture
def paged(db, actions):
    """A team with 60 waiting referrals, another team's urgent one, and a therapist signed in."""
    team = make_team(db)
    stranger = make_referral(db, team=make_team(db), urgent=True,
                             resident=make_resident(db, name="Ikke Din Henvisning"))
    referrals = _queue(db, team)
    staff = actions.login_staff(db, team)
    return team, referrals, stranger, staff


def test_first_page_has_the_urgent_first_and_fifty_then_the_second_continues(paged, client):
    _team, referrals, stranger, _staff = paged
    first = client.get("/therapist/triage").get_data(as_text=True)
    assert _shown(first) == [r.id for r in referrals[:QUEUE_PAGE_SIZE]]
    assert "Showing 1–50 of 60" in first and "Page 1 of 2" in first and "3 urgent referrals come first." in first
    assert 'href="/therapist/triage?page=2" rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/therapist/triage?page=2").get_data(as_text=True)
    assert _shown(second) == [r.id for r in referrals[QUEUE_PAGE_SIZE:]]
    assert "Showing 51–60 of 60" in second and "Page 2 of 2" in second
    assert 'href="/therapist/triage?page=1" rel="prev"' in second and 'rel="next"' not in second
    for page in (first, second):
        assert "Ikke Din Henvisning" not in page and f'/therapist/referrals/{stranger.id}"' not in page


def test_more_urgent_referrals_than_a_page_holds_fill_the_first_page_and_continue(db, actions, client):
    team = make_team(db)
    referrals = _queue(db, team, urgent=QUEUE_PAGE_SIZE + 2, waiting=1)
    actions.login_staff(db, team)
    first = client.get("/therapist/triage").get_data(as_text=True)
    assert _shown(first) == [r.id for r in referrals[:QUEUE_PAGE_SIZE]]
    assert "52 urgent referrals come first." in first
    second = client.get("/therapist/triage?page=2").get_data(as_text=True)
    assert _shown(second) == [r.id for r in referrals[QUEUE_PAGE_SIZE:]]  # the last two urgent, then the other


#: Page values from the address and the page they show: below 1 or not a whole number, the first;
#: beyond the last, the last.
PAGE_VALUES = [("0", 1), ("-3", 1), ("abc", 1), ("", 1), ("2.5", 1), ("1e3", 1), ("3", 2),
               ("99999999999999999999", 2), ("9" * 5000, 1), ("2&page=1", 2)]


def test_any_page_value_shows_the_first_or_the_last_page(paged, client):
    _team, referrals, _stranger, _staff = paged
    for value, page in PAGE_VALUES:
        response = client.get(f"/therapist/triage?page={value}")
        assert response.status_code == 200, value
        shown = referrals[:QUEUE_PAGE_SIZE] if page == 1 else referrals[QUEUE_PAGE_SIZE:]
        assert _shown(response.get_data(as_text=True)) == [r.id for r in shown], value


def test_the_queue_runs_as_many_queries_with_120_referrals_as_with_10(db, actions, client, count_queries):
    team = make_team(db)
    _queue(db, team, waiting=8, urgent=2)
    actions.login_staff(db, team)
    client.get("/therapist/triage")  # warm: the same caches as the counted requests
    with count_queries() as statements:
        assert client.get("/therapist/triage").status_code == 200
        with_ten = len(statements)
    _queue(db, team, waiting=105, urgent=5)
    with count_queries() as statements:
        page = client.get("/therapist/triage").get_data(as_text=True)
        with_many = len(statements)
    assert "Showing 1–50 of 120" in page
    assert with_many == with_ten


def test_one_page_view_writes_one_event_naming_exactly_the_referrals_shown(paged, db, client):
    team, referrals, stranger, staff = paged
    client.get("/therapist/triage?page=2")
    refresh(db)
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.actor_id == staff.id)).all()
    assert (event.action, event.object_type, event.team_id, event.subject_id) == (
        "view_referral", "triage_queue", team.id, None)
    assert [(s.object_id, s.subject_id) for s in event.shown] == [
        (r.id, r.resident_id) for r in referrals[QUEUE_PAGE_SIZE:]]
    client.get("/therapist/triage")
    refresh(db)
    events = db.scalars(select(AuditEvent).where(AuditEvent.actor_id == staff.id).order_by(AuditEvent.id)).all()
    assert len(events) == 2 and [s.object_id for s in events[1].shown] == [r.id for r in referrals[:QUEUE_PAGE_SIZE]]
    assert db.scalars(select(AuditShown).where(AuditShown.subject_id == stranger.resident_id)).all() == []


def test_a_page_view_is_one_line_for_the_team_lead_and_in_each_shown_residents_own_log(paged, app, db, mailbox,
                                                                                      client):
    team, referrals, _stranger, staff = paged
    client.get("/therapist/triage?page=2")
    lead_browser = app.test_client()
    Actions(lead_browser, mailbox).login_staff(db, team, role=Role.TEAM_LEAD)
    log = lead_browser.get("/therapist/audit").get_data(as_text=True)
    shown = ", ".join(f"#{r.resident_id}" for r in referrals[QUEUE_PAGE_SIZE:])
    assert log.count("view_referral (triage_queue)") == 1 and f"10 residents shown on one page: {shown}" in log
    shown_resident, first_page_resident = referrals[-1].resident, referrals[0].resident
    assert [(r.actor_name, r.action) for r in audit.events_about(db, resident=shown_resident)] == [
        (staff.display_name, "view_referral")]
    assert audit.events_about(db, resident=first_page_resident) == []


def test_cards_show_item_9_as_answered(db, actions, client):
    team = make_team(db)
    raised = make_referral(db, team=team, item9=2, resident=make_resident(db, team=team, name="Niende To"))
    calm = make_referral(db, team=team, submitted_days_ago=3, resident=make_resident(db, team=team, name="Rolig"))
    actions.login_staff(db, team)
    page = client.get("/therapist/triage").get_data(as_text=True)
    raised_card = page[page.index(f'id="referral-{raised.id}-name"'):page.index(f'id="referral-{calm.id}-name"')]
    calm_card = page[page.index(f'id="referral-{calm.id}-name"'):]
    assert '<strong class="badge badge--urgent">2</strong> Thoughts of being better off dead' in raised_card
    assert "<dt>PHQ-9 item 9</dt>\n          <dd>0</dd>" in calm_card
