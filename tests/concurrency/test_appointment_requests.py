"""A resident's change request posted from many tabs at once stores one request; two staff (or
one double tap) answering it at once answer it once. Runs on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from rph_pwa.models import Appointment, AppointmentRequest
from tests.concurrency.conftest import PARALLEL, run_together, same_browser
from tests.conftest import form_token
from tests.factories import make_booked_contact


def _statuses(results) -> list[int]:
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    return sorted(r.status_code for r in results)


def test_parallel_requests_for_one_appointment_store_one(app, db, actions, client):
    _team, _therapist, _resident, address, _episode, contact = make_booked_contact(db)
    actions.resident_login(address)
    page = f"/me/appointments/{contact.id}/request"
    data = {"kind": "change", "reason": "Jobb", "csrf_token": form_token(client, page)}
    tabs = [same_browser(app, client) for _ in range(PARALLEL)]

    statuses = _statuses(run_together([lambda tab=tab: tab.post(page, data=data) for tab in tabs]))

    assert set(statuses) <= {302, 400} and 302 in statuses, statuses  # the others: "already asked"
    db.expire_all()
    asked = db.scalars(select(AppointmentRequest).where(AppointmentRequest.appointment_id == contact.id)).all()
    assert len(asked) == 1 and asked[0].open_appointment_id == contact.id


def test_parallel_answers_move_the_appointment_once(app, db, actions, client):
    team, _therapist, resident, _address, _episode, contact = make_booked_contact(db)
    from rph_pwa.services import appointment_requests

    asked = appointment_requests.ask(db, resident=resident, appointment_id=contact.id, kind="change")
    db.commit()
    request_id, before = asked.id, contact.starts_at
    actions.login_staff(db, team)
    page = f"/therapist/requests/{request_id}"
    new_day = (before + timedelta(days=5)).date()
    data = {"answer": "moved", "day": new_day.isoformat(), "time": "10:00", "note": "",
            "csrf_token": form_token(client, page)}
    tabs = [same_browser(app, client) for _ in range(PARALLEL)]

    statuses = _statuses(run_together([lambda tab=tab: tab.post(page, data=data) for tab in tabs]))

    assert set(statuses) == {302}, statuses  # each gets an answer: "answered" or "nothing was changed"
    db.expire_all()
    answered = db.get(AppointmentRequest, request_id)
    assert answered.answer == "moved" and answered.open_appointment_id is None
    moved = db.get(Appointment, contact.id)
    assert moved.starts_at != before and moved.status == "booked"
