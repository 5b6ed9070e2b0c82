"""The courses core (services/courses.py): places and the waiting list, relatives, withdrawal,
the participants' contacts and forms, attendance, and each enrolled person's own reminders
through the reminder engine's course-meeting source."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from rph_pwa.db import utcnow
from rph_pwa.models import Appointment, CourseAttendanceMark, Episode, FormRequest, Reminder
from rph_pwa.services import courses, reminder_delivery
from tests.factories import enrol_participant, make_course_run


def test_full_run_puts_people_on_the_waiting_list_and_a_freed_place_goes_to_the_first(db):
    run, _ = make_course_run(db, capacity=2)
    first, second = enrol_participant(db, run=run), enrol_participant(db, run=run)
    third, fourth = enrol_participant(db, run=run), enrol_participant(db, run=run)
    assert [p.status for p in (first, second, third, fourth)] == ["enrolled", "enrolled", "waiting", "waiting"]
    promoted = courses.withdraw(db, participant=first)
    assert promoted == [third] and third.status == "enrolled" and fourth.status == "waiting"
    assert first.status == "withdrawn"


def test_enrolling_twice_keeps_one_row(db):
    run, _ = make_course_run(db)
    participant = enrol_participant(db, run=run)
    again = courses.enrol(db, run_id=run.id, user=participant.user, episode=None)
    assert again.id == participant.id and again.episode_id == participant.episode_id


def test_participant_gets_a_contact_and_forms_per_meeting_and_a_relative_none(db):
    run, leaders = make_course_run(db, meetings=4)
    participant = enrol_participant(db, run=run)
    relative = enrol_participant(db, run=run, role="relative")
    contacts = db.scalars(select(Appointment).where(Appointment.episode_id == participant.episode_id)).all()
    assert sorted(c.course_meeting_id for c in contacts) == sorted(m.id for m in run.meetings)
    assert {c.kind for c in contacts} == {"course_meeting"} and {c.staff_id for c in contacts} == {leaders[0].id}
    forms = db.scalars(select(FormRequest).where(FormRequest.episode_id == participant.episode_id)).all()
    assert len(forms) == 8 and {f.instrument_code for f in forms} == {"PHQ-9", "GAD-7"}
    assert relative.episode_id is None and relative.fills_forms is False
    assert not db.scalars(select(FormRequest).where(FormRequest.resident_id == relative.user_id)).all()


def test_withdrawing_cancels_the_contacts_ahead(db):
    run, _ = make_course_run(db)
    participant = enrol_participant(db, run=run)
    courses.withdraw(db, participant=participant)
    statuses = db.scalars(select(Appointment.status).where(Appointment.episode_id == participant.episode_id)).all()
    assert set(statuses) == {"cancelled"}


def test_attendance_follows_to_the_contact_and_dates_the_first_treatment(db):
    run, _ = make_course_run(db)
    participant = enrol_participant(db, run=run)
    meeting = run.meetings[1]
    courses.mark_attendance(db, meeting=meeting, participant=participant, attended=True)
    assert db.scalar(select(Appointment.status).where(Appointment.course_meeting_id == meeting.id)) == "attended"
    assert db.get(Episode, participant.episode_id).first_treatment_at == meeting.starts_at
    courses.mark_attendance(db, meeting=meeting, participant=participant, attended=False)
    assert db.scalar(select(Appointment.status).where(Appointment.course_meeting_id == meeting.id)) == "no_show"
    assert db.get(CourseAttendanceMark, (meeting.id, participant.id)).status == "absent"


def test_qr_check_in_marks_attended_only_around_the_meeting_and_only_for_the_enrolled(db):
    import pytest

    from rph_pwa.services.errors import NotFound

    run, _ = make_course_run(db, first_in_days=0.01)
    meeting = run.meetings[0]
    participant = enrol_participant(db, run=run)
    outsider = enrol_participant(db, run=make_course_run(db)[0])
    with pytest.raises(NotFound):
        courses.check_in(db, resident=outsider.user, code=meeting.check_in_code)
    with pytest.raises(NotFound):
        courses.check_in(db, resident=participant.user, code=meeting.check_in_code,
                         now=meeting.starts_at - timedelta(hours=3))
    with pytest.raises(NotFound):
        courses.check_in(db, resident=participant.user, code="not-a-code")
    courses.check_in(db, resident=participant.user, code=meeting.check_in_code, now=meeting.starts_at)
    assert db.get(CourseAttendanceMark, (meeting.id, participant.id)).via == "qr"


def test_each_enrolled_person_gets_their_own_reminder_once_and_never_two_for_one_meeting(db):
    run, _ = make_course_run(db, first_in_days=0.5)
    participant = enrol_participant(db, run=run)
    relative = enrol_participant(db, run=run, role="relative")
    waiting_run, _ = make_course_run(db, capacity=1, first_in_days=0.5)
    enrol_participant(db, run=waiting_run)
    waiting = enrol_participant(db, run=waiting_run)
    now = utcnow()
    reminder_delivery.plan(db, now=now)
    reminder_delivery.plan(db, now=now)
    planned = db.scalars(select(Reminder).where(Reminder.course_meeting_id == run.meetings[0].id)).all()
    assert sorted(r.resident_id for r in planned) == sorted([participant.user_id, relative.user_id])
    assert {r.link for r in planned} == {"client.courses"} and {r.appointment_id for r in planned} == {None}
    # The participant's own course contact adds no second reminder.
    assert not db.scalars(select(Reminder).where(Reminder.resident_id == participant.user_id,
                                                 Reminder.appointment_id.is_not(None))).all()
    assert not db.scalars(select(Reminder).where(Reminder.resident_id == waiting.user_id)).all()


def test_a_cancelled_meeting_drops_its_reminders_and_a_moved_one_gets_new_ones(db):
    run, _ = make_course_run(db, first_in_days=0.5)
    participant = enrol_participant(db, run=run)
    meeting = run.meetings[0]
    # Plan an hour before each start, so quiet hours never hold the reminder back (the test
    # once depended on the time of day it ran at).
    reminder_delivery.plan(db, now=meeting.starts_at - timedelta(hours=1))
    courses.move_meeting(db, meeting=meeting, starts_at=meeting.starts_at + timedelta(hours=3))
    reminder_delivery.plan(db, now=meeting.starts_at - timedelta(hours=1))
    keys = db.scalars(select(Reminder.key).where(Reminder.resident_id == participant.user_id)).all()
    assert len(keys) == 2
    assert db.scalar(select(Appointment.starts_at).where(Appointment.course_meeting_id == meeting.id)) \
        == meeting.starts_at
    courses.cancel_meeting(db, meeting=meeting)
    assert db.scalar(select(Appointment.status).where(Appointment.course_meeting_id == meeting.id)) == "cancelled"


def test_i_dag_lists_the_course_meeting_once_for_its_leaders_and_not_each_participant(db):
    from rph_pwa.services import today

    run, leaders = make_course_run(db, first_in_days=0)
    for _ in range(3):
        enrol_participant(db, run=run)
    meeting = run.meetings[0]
    day = today.day_for(db, actor=leaders[0], now=meeting.starts_at - timedelta(minutes=1))
    assert [m.id for m in day.course_meetings] == [meeting.id] and day.course_meetings[0].enrolled == 3
    assert not [a for a in day.appointments if a.kind == "course_meeting"]
    other_day = today.day_for(db, actor=leaders[1], now=meeting.starts_at - timedelta(minutes=1))
    assert [m.id for m in other_day.course_meetings] == [meeting.id]


def test_i_dag_links_the_leader_to_todays_course_meeting(db, client, actions):
    from tests.factories import make_staff, make_team

    team = make_team(db)
    leader = actions.login_staff(db, team)
    run, _ = make_course_run(db, team=team, leaders=[leader, make_staff(db, teams=[team])[0]], first_in_days=0)
    enrol_participant(db, run=run)
    db.commit()
    page = client.get("/therapist/").get_data(as_text=True)
    assert f"/therapist/courses/meetings/{run.meetings[0].id}" in page and "Course meetings I lead today" in page
