"""The core of guided self-help: assigning a programme, modules opening, the check-in contact."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from rph_pwa.localtime import local_date, local_today
from rph_pwa.models import Appointment, FormRequest
from rph_pwa.services import selfhelp
from rph_pwa.services.errors import Conflict, NotFound
from tests.factories import make_selfhelp, make_staff, make_team


def test_assigning_books_the_first_check_in_with_its_forms(db):
    assignment, episode, therapist = make_selfhelp(db, checkin_weekday=(local_today().weekday() + 2) % 7)
    check_in = db.scalars(select(Appointment).where(Appointment.episode_id == episode.id)).one()
    assert check_in.kind == "check_in" and check_in.staff_id == therapist.id and check_in.duration_minutes == 20
    assert local_date(check_in.starts_at) == local_today() + timedelta(days=2)
    codes = set(db.scalars(select(FormRequest.instrument_code).where(FormRequest.appointment_id == check_in.id)))
    assert {"PHQ-9", "GAD-7"} <= codes
    assert "guided_self_help" in episode.offerings


def test_modules_open_week_by_week_or_all_at_once(db):
    weekly, _e, _t = make_selfhelp(db, weeks_ago=1)
    states = selfhelp.module_states(weekly, [], today=local_today())
    assert [s.available for s in states][:3] == [True, True, False]
    assert states[-1].item.worksheet == "selfhelp_plan"
    everything, _e, _t = make_selfhelp(db, pace="all")
    assert all(s.available for s in selfhelp.module_states(everything, [], today=local_today()))


def test_a_therapist_opens_the_next_module_early(db):
    assignment, _episode, therapist = make_selfhelp(db)
    third = selfhelp.programme_modules(assignment)[2].key
    selfhelp.open_module(db, actor=therapist, assignment_id=assignment.id, module_key=third)
    states = selfhelp.module_states(assignment, selfhelp.progress_rows(db, assignment_id=assignment.id),
                                    today=local_today())
    assert states[2].available and states[2].opened_early and not states[1].available


def test_one_open_programme_per_episode_and_only_in_my_teams(db):
    assignment, episode, therapist = make_selfhelp(db)
    with pytest.raises(Conflict):
        selfhelp.assign_programme(db, actor=therapist, episode_id=episode.id, programme="stress", checkin_weekday=1)
    stranger, _ = make_staff(db, teams=[make_team(db)])
    with pytest.raises(NotFound):
        selfhelp.open_module(db, actor=stranger, assignment_id=assignment.id, module_key="01-sovndagbok")
    with pytest.raises(NotFound):
        selfhelp.assign_programme(db, actor=stranger, episode_id=episode.id, programme="sovn", checkin_weekday=1)
