"""Many posts of one before-session form at the same moment (a double-click, several tabs):
the database keeps one response, every post gets an answer page, and item 9 above 0 raises one
urgent flag. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from rph_pwa.db import utcnow
from rph_pwa.models import Episode, FormRequest, MeasureResponse, UrgentFlag
from rph_pwa.services import outcomes
from tests.concurrency.conftest import PARALLEL, run_together, same_browser
from tests.conftest import form_token
from tests.factories import email, form_answers, make_booked_contact

_answers = form_answers


def _phq9_request(db) -> tuple[FormRequest, str, int, str]:
    """A resident with a contact tomorrow and its open PHQ-9 form; returns (request, the resident's
    address, episode id, the team's inbox for urgent notices)."""
    team, _therapist, _resident, address, episode, contact = make_booked_contact(db)
    team.inbox_email = email()
    request = db.scalars(select(FormRequest).where(FormRequest.appointment_id == contact.id,
                                                   FormRequest.instrument_code == "PHQ-9")).one()
    db.commit()
    return request, address, episode.id, team.inbox_email


@pytest.mark.parametrize("item9", [0, 2], ids=["calm", "item9"])
def test_parallel_posts_of_one_form_store_one_response(app, db, actions, client, mailbox, item9):
    request, address, episode_id, inbox = _phq9_request(db)
    actions.resident_login(address)
    url = f"/me/forms/{request.id}"
    token = form_token(client, url)
    data = {**_answers("PHQ-9", 1, item9=item9), "csrf_token": token}
    tabs = [same_browser(app, client) for _ in range(PARALLEL)]

    def post(tab):
        return lambda: tab.post(url, data=data)

    results = run_together([post(tab) for tab in tabs])

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    statuses = sorted(r.status_code for r in results)
    assert set(statuses) <= {200, 302}, statuses
    if item9:  # every post shows the crisis help, whichever of them stored the answers
        assert statuses == [200] * PARALLEL
        assert all("crisis-panel" in r.get_data(as_text=True) for r in results)
    db.commit()
    db.expire_all()
    stored = db.scalars(select(MeasureResponse).where(MeasureResponse.episode_id == episode_id,
                                                      MeasureResponse.referral_id.is_(None))).all()
    assert len(stored) == 1  # the form's one response (the referral's own responses have a referral id)
    assert db.get(FormRequest, request.id).response_id == stored[0].id
    flags = db.scalars(select(UrgentFlag).where(UrgentFlag.resident_id == stored[0].resident_id,
                                                UrgentFlag.closed_at.is_(None))).all()
    assert len(flags) == (1 if item9 else 0)
    assert (db.get(Episode, episode_id).urgent_since is not None) == bool(item9)
    assert len(mailbox.to(inbox)) == (1 if item9 else 0)  # one content-free notice to the team


def test_item9_on_several_forms_at_once_raises_one_flag(app, db, actions, client):
    """Four contacts in the next two days, each with its PHQ-9 open, all sent with item 9 above 0
    at the same moment (five posts each): four responses, one open flag, and no request fails
    (raising flags used to lock the resident's row after a foreign-key share lock: deadlock)."""
    request, address, episode_id, _inbox = _phq9_request(db)
    episode = db.get(Episode, episode_id)
    therapist = request.appointment.staff
    for hours in (30, 36, 42):
        outcomes.book_contact(db, actor=therapist, episode_id=episode.id, kind="treatment",
                              starts_at=utcnow() + timedelta(hours=hours), duration_minutes=45, mode="phone",
                              place=None)
    db.commit()
    requests = db.scalars(select(FormRequest).where(FormRequest.episode_id == episode_id,
                                                    FormRequest.instrument_code == "PHQ-9")).all()
    assert len(requests) == 4
    actions.resident_login(address)
    token = form_token(client, "/me")
    data = {**_answers("PHQ-9", 1, item9=1), "csrf_token": token}

    def post(tab, url):
        return lambda: tab.post(url, data=data)

    calls = [post(same_browser(app, client), f"/me/forms/{r.id}") for r in requests for _ in range(PARALLEL // 4)]
    results = run_together(calls)

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert [r.status_code for r in results] == [200] * len(calls)
    db.commit()
    db.expire_all()
    stored = db.scalars(select(MeasureResponse).where(MeasureResponse.episode_id == episode_id,
                                                      MeasureResponse.referral_id.is_(None))).all()
    assert sorted(r.form_request_id for r in stored) == sorted(r.id for r in requests)
    flags = db.scalars(select(UrgentFlag).where(UrgentFlag.resident_id == stored[0].resident_id,
                                                UrgentFlag.closed_at.is_(None))).all()
    assert [(f.reason, f.episode_id) for f in flags] == [("item9", episode_id)]
