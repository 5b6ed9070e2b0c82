"""A resident's change and cancel requests, and the team's answers (services/appointment_requests.py)."""
from datetime import timedelta

import pytest

from rph_pwa.db import utcnow
from rph_pwa.models import FormRequest
from rph_pwa.services import appointment_requests as requests
from rph_pwa.services.errors import Conflict, NotFound
from tests.factories import make_booked_contact


def test_resident_asks_and_nothing_changes_until_the_team_moves_it(app, db):
    _team, therapist, resident, _address, _episode, appointment = make_booked_contact(db)
    before = appointment.starts_at
    asked = requests.ask(db, resident=resident, appointment_id=appointment.id, kind="change", reason="Jobb")
    db.commit()
    assert appointment.starts_at == before and appointment.status == "booked"
    assert [r.id for r in requests.open_requests(db, actor=therapist)] == [asked.id]
    assert requests.count_open(db, actor=therapist) == 1
    with pytest.raises(requests.AlreadyAsked):
        requests.ask(db, resident=resident, appointment_id=appointment.id, kind="cancel")
    new_time = before + timedelta(days=3)
    requests.answer(db, actor=therapist, request_id=asked.id, answer="moved", new_starts_at=new_time, note="Ok")
    db.commit()
    assert appointment.starts_at == new_time
    opens = db.query(FormRequest.opens_at).filter(FormRequest.appointment_id == appointment.id).all()
    assert opens and all(o == new_time - timedelta(hours=48) for (o,) in opens)
    assert requests.count_open(db, actor=therapist) == 0
    with pytest.raises(Conflict):
        requests.answer(db, actor=therapist, request_id=asked.id, answer="kept")
    # Answered: the resident may ask again.
    requests.ask(db, resident=resident, appointment_id=appointment.id, kind="cancel")


def test_cancel_answer_cancels_and_other_people_are_refused(app, db):
    _team, therapist, resident, _address, _episode, appointment = make_booked_contact(db)
    _other_team, other_therapist, other_resident, *_rest = make_booked_contact(db)
    with pytest.raises(NotFound):
        requests.ask(db, resident=other_resident, appointment_id=appointment.id, kind="cancel")
    asked = requests.ask(db, resident=resident, appointment_id=appointment.id, kind="cancel")
    db.commit()
    with pytest.raises(NotFound):
        requests.answer(db, actor=other_therapist, request_id=asked.id, answer="kept")
    assert requests.open_requests(db, actor=other_therapist) == []
    requests.answer(db, actor=therapist, request_id=asked.id, answer="cancelled")
    assert appointment.status == "cancelled"


def test_past_appointments_and_bad_input_are_refused(app, db):
    _team, _therapist, resident, _address, _episode, appointment = make_booked_contact(db)
    with pytest.raises(ValueError):
        requests.ask(db, resident=resident, appointment_id=appointment.id, kind="move-it")
    appointment.starts_at = utcnow() - timedelta(hours=1)
    db.flush()
    with pytest.raises(Conflict):
        requests.ask(db, resident=resident, appointment_id=appointment.id, kind="change")
