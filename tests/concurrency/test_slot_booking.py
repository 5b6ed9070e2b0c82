"""Residents booking free times at the same moment: twenty residents posting one time get one
appointment between them; one resident posting two times from twenty tabs gets one booking. Runs
on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from rph_pwa.db import utcnow
from rph_pwa.models import Appointment, AssessmentSlot, Episode
from rph_pwa.services import slots
from tests.concurrency.conftest import PARALLEL, run_together, same_browser
from tests.conftest import Actions, form_token
from tests.factories import email, make_referral, make_resident, make_staff, make_team

URL = "/me/book"


def _team_with_slots(db, count: int):
    team = make_team(db)
    therapist = make_staff(db, teams=[team])[0]
    published = slots.publish_slots(db, actor=therapist, team_id=team.id, staff_id=therapist.id,
                                    first_start=utcnow() + timedelta(days=2), count=count, duration_minutes=45,
                                    mode="phone")
    return team, published


def _resident(db, team) -> tuple[int, str]:
    address = email()
    resident = make_resident(db, team=team, email=address)
    make_referral(db, team=team, resident=resident)
    return resident.id, address


def _booked_appointments(db, slot_id: int | None = None, resident_id: int | None = None) -> list[Appointment]:
    db.commit()
    db.expire_all()
    query = select(Appointment).join(Episode, Episode.id == Appointment.episode_id).where(
        Appointment.booked_by_resident.is_(True))
    if resident_id is not None:
        query = query.where(Episode.resident_id == resident_id)
    if slot_id is not None:
        query = query.join(AssessmentSlot, AssessmentSlot.appointment_id == Appointment.id).where(
            AssessmentSlot.id == slot_id)
    return list(db.scalars(query))


def test_twenty_residents_posting_one_time_make_one_appointment(app, db, mailbox):
    team, (slot,) = _team_with_slots(db, count=1)
    residents = [_resident(db, team) for _ in range(PARALLEL)]
    db.commit()
    clients = []
    for _id, address in residents:
        client = app.test_client()
        Actions(client, mailbox).resident_login(address)
        clients.append((client, form_token(client, URL)))

    results = run_together([lambda c=c, t=t: c.post(URL, data={"slot": str(slot.id), "intent": "book",
                                                                "csrf_token": t}) for c, t in clients])

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert {r.status_code for r in results} == {302}, sorted(r.status_code for r in results)
    booked = _booked_appointments(db, slot_id=slot.id)
    assert len(booked) == 1
    resident_ids = {rid for rid, _a in residents}
    all_booked = db.scalar(select(func.count(Appointment.id)).join(Episode, Episode.id == Appointment.episode_id)
                           .where(Episode.resident_id.in_(resident_ids)))
    assert all_booked == 1  # the refused posts left no appointment behind


def test_one_resident_posting_two_times_from_many_tabs_books_once(app, db, actions, client):
    team, published = _team_with_slots(db, count=2)
    resident_id, address = _resident(db, team)
    db.commit()
    actions.resident_login(address)
    token = form_token(client, URL)
    tabs = [same_browser(app, client) for _ in range(PARALLEL)]

    results = run_together([lambda tab=tab, i=i: tab.post(URL, data={
        "slot": str(published[i % 2].id), "intent": "book", "csrf_token": token}) for i, tab in enumerate(tabs)])

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert {r.status_code for r in results} == {302}, sorted(r.status_code for r in results)
    booked = _booked_appointments(db, resident_id=resident_id)
    assert len(booked) == 1 and booked[0].resident_moves == 0
    held = db.scalars(select(AssessmentSlot.id).where(AssessmentSlot.appointment_id.is_not(None),
                                                      AssessmentSlot.id.in_([s.id for s in published]))).all()
    assert len(held) == 1
