"""The leader's meeting view (services/course_meetings.py): the flags (item 9, PHQ-9 of 20 or
more, reliable deterioration since the first meeting), leaders only, the audit of a view, the
record note, the content note, the "fot i bakken" talk, and the QR check-in's confirm step."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from rph_pwa.models import Appointment, AuditEvent, CourseAttendanceMark
from rph_pwa.services import course_meetings, courses
from rph_pwa.services.errors import NotFound
from tests.factories import answer_course_form, enrol_participant, make_course_run, make_staff, make_team


def _attendee(page, participant):
    return next(a for a in page.attendees if a.participant_id == participant.id)


def test_item9_above_zero_flags_a_participant(db):
    run, leaders = make_course_run(db)
    flagged, calm = enrol_participant(db, run=run), enrol_participant(db, run=run)
    meeting = run.meetings[0]
    answer_course_form(db, participant=flagged, meeting=meeting, code="PHQ-9", total=5, item9=1)
    answer_course_form(db, participant=calm, meeting=meeting, code="PHQ-9", total=5)
    page = course_meetings.meeting_page(db, actor=leaders[0], meeting_id=meeting.id)
    assert _attendee(page, flagged).flags == ("item9",)
    assert _attendee(page, calm).flags == ()
    assert [s.total for s in _attendee(page, flagged).scores] == [5]


def test_phq9_of_20_or_more_flags_and_19_does_not(db):
    run, leaders = make_course_run(db)
    severe, below = enrol_participant(db, run=run), enrol_participant(db, run=run)
    meeting = run.meetings[0]
    answer_course_form(db, participant=severe, meeting=meeting, code="PHQ-9", total=20)
    answer_course_form(db, participant=below, meeting=meeting, code="PHQ-9", total=19)
    page = course_meetings.meeting_page(db, actor=leaders[0], meeting_id=meeting.id)
    assert _attendee(page, severe).flags == ("phq9_severe",)
    assert _attendee(page, below).flags == ()


def test_reliable_deterioration_since_the_first_meeting_flags(db):
    run, leaders = make_course_run(db)
    worse, slightly, anxious = (enrol_participant(db, run=run) for _ in range(3))
    first, third = run.meetings[0], run.meetings[2]
    for participant, start, now in ((worse, 8, 14), (slightly, 8, 13)):  # PHQ-9 reliable change: 6
        answer_course_form(db, participant=participant, meeting=first, code="PHQ-9", total=start)
        answer_course_form(db, participant=participant, meeting=third, code="PHQ-9", total=now)
    answer_course_form(db, participant=anxious, meeting=first, code="GAD-7", total=5)  # GAD-7: 4
    answer_course_form(db, participant=anxious, meeting=third, code="GAD-7", total=9)
    page = course_meetings.meeting_page(db, actor=leaders[0], meeting_id=third.id)
    assert _attendee(page, worse).flags == ("deterioration",)
    assert _attendee(page, slightly).flags == ()
    assert _attendee(page, anxious).flags == ("deterioration",)
    assert [(s.code, s.total, s.first_total) for s in _attendee(page, worse).scores] == [("PHQ-9", 14, 8)]
    # At the first meeting there is nothing to compare with.
    first_page = course_meetings.meeting_page(db, actor=leaders[0], meeting_id=first.id)
    assert _attendee(first_page, worse).flags == () and _attendee(first_page, worse).scores[0].first_total is None


def test_only_leaders_see_the_meeting(db):
    run, leaders = make_course_run(db)
    colleague, _ = make_staff(db, teams=[run.team])
    with pytest.raises(NotFound):
        course_meetings.meeting_page(db, actor=colleague, meeting_id=run.meetings[0].id)
    with pytest.raises(NotFound):
        course_meetings.meeting_page(db, actor=leaders[0], meeting_id=2 ** 31 - 1)


def test_a_view_is_audited_for_every_person_shown(db):
    run, leaders = make_course_run(db)
    participant = enrol_participant(db, run=run)
    relative = enrol_participant(db, run=run, role="relative")
    outsider = enrol_participant(db, run=make_course_run(db)[0])
    meeting = run.meetings[0]
    course_meetings.meeting_page(db, actor=leaders[1], meeting_id=meeting.id)
    events = db.scalars(select(AuditEvent).where(AuditEvent.actor_id == leaders[1].id,
                                                 AuditEvent.object_type == "course_meeting")).all()
    assert sorted(e.subject_id for e in events) == sorted([participant.user_id, relative.user_id])
    assert {e.object_id for e in events} == {meeting.id} and outsider.user_id not in {e.subject_id for e in events}


def test_attendance_taps_and_the_record_note(db):
    run, leaders = make_course_run(db)
    participant, other = enrol_participant(db, run=run), enrol_participant(db, run=run)
    meeting = run.meetings[0]
    answer_course_form(db, participant=participant, meeting=meeting, code="PHQ-9", total=11)
    course_meetings.mark(db, actor=leaders[0], meeting_id=meeting.id, participant_id=participant.id, attended=True)
    course_meetings.mark(db, actor=leaders[0], meeting_id=meeting.id, participant_id=other.id, attended=False)
    course_meetings.mark(db, actor=leaders[0], meeting_id=meeting.id, participant_id=other.id, attended=True)
    assert db.get(CourseAttendanceMark, (meeting.id, other.id)).status == "attended"
    course_meetings.save_note(db, actor=leaders[0], meeting_id=meeting.id, note="  Tanker og følelser.  ")
    page = course_meetings.meeting_page(db, actor=leaders[0], meeting_id=meeting.id)
    mine = _attendee(page, participant)
    assert mine.attendance == "attended" and mine.via == "leader"
    assert "Oppmøte: møtt." in mine.record_note and "PHQ-9 11" in mine.record_note
    assert "Innhold: Tanker og følelser." in mine.record_note
    assert _attendee(page, other).name not in mine.record_note
    with pytest.raises(NotFound):  # a person of another run
        course_meetings.mark(db, actor=leaders[0], meeting_id=meeting.id,
                             participant_id=enrol_participant(db, run=make_course_run(db)[0]).id, attended=True)


def test_the_content_note_is_capped(db):
    run, leaders = make_course_run(db)
    with pytest.raises(ValueError):
        course_meetings.save_note(db, actor=leaders[0], meeting_id=run.meetings[0].id,
                                  note="x" * (course_meetings.NOTE_MAX + 1))


def test_a_talk_is_booked_in_the_episode_or_refused_for_another_team_and_relatives(db):
    run, leaders = make_course_run(db, shared_with=[make_team(db)])
    participant = enrol_participant(db, run=run)
    starts = run.meetings[0].starts_at + timedelta(days=2)
    talk = course_meetings.book_talk(db, actor=leaders[0], participant_id=participant.id, starts_at=starts,
                                     duration_minutes=30, mode="phone")
    assert (talk.episode_id, talk.kind, talk.staff_id) == (participant.episode_id, "treatment", leaders[0].id)
    from_shared = enrol_participant(db, run=run, team=run.shares[0].team)
    with pytest.raises(course_meetings.OtherTeam) as refused:
        course_meetings.book_talk(db, actor=leaders[0], participant_id=from_shared.id, starts_at=starts,
                                  duration_minutes=30, mode="phone")
    assert refused.value.team_name == run.shares[0].team.name
    relative = enrol_participant(db, run=run, role="relative")
    with pytest.raises(course_meetings.NoEpisode):
        course_meetings.book_talk(db, actor=leaders[0], participant_id=relative.id, starts_at=starts,
                                  duration_minutes=30, mode="phone")
    colleague, _ = make_staff(db, teams=[run.team])
    with pytest.raises(NotFound):
        course_meetings.book_talk(db, actor=colleague, participant_id=participant.id, starts_at=starts,
                                  duration_minutes=30, mode="phone")
    assert db.scalar(select(Appointment.id).where(Appointment.episode_id == from_shared.episode_id,
                                                  Appointment.kind == "treatment")) is None


def test_check_in_confirm_step_changes_nothing_and_refuses_alike(db):
    run, _ = make_course_run(db, first_in_days=0.01)
    meeting = run.meetings[0]
    participant = enrol_participant(db, run=run)
    outsider = enrol_participant(db, run=make_course_run(db)[0])
    assert course_meetings.check_in_meeting(db, resident=participant.user, code=meeting.check_in_code) is meeting
    assert db.get(CourseAttendanceMark, (meeting.id, participant.id)) is None
    for resident, code, now in ((outsider.user, meeting.check_in_code, None),
                                (participant.user, "no-such-code", None),
                                (participant.user, run.meetings[1].check_in_code, None),
                                (participant.user, meeting.check_in_code, meeting.starts_at + timedelta(hours=5))):
        with pytest.raises(NotFound):
            course_meetings.check_in_meeting(db, resident=resident, code=code, now=now)
    courses.check_in(db, resident=participant.user, code=meeting.check_in_code)
    assert db.get(CourseAttendanceMark, (meeting.id, participant.id)).via == "qr"
