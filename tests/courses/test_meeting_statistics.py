"""Course meetings in the team statistics: `treatment.hours_course_meeting` counts staff hours
(meeting length × leaders, once per held meeting, not per participant), and relatives never count
in the outcome statistics while participants are measured like everyone."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from rph_pwa.db import utcnow
from rph_pwa.models import Appointment, Episode
from rph_pwa.services import courses
from rph_pwa.services.statistics import team_statistics
from tests.factories import (
    add_episode_response,
    enrol_participant,
    make_course_run,
    make_municipality,
    make_staff,
    make_team,
    statistics_period,
)


def _held_run(db, *, team=None, leaders=2, participants=3, days_ago=(20, 13, 6)):
    """A run whose meetings (2 hours each) were `days_ago`, with its participants' contacts."""
    team = team or make_team(db)
    staff = [make_staff(db, teams=[team])[0] for _ in range(leaders)]
    run, _ = make_course_run(db, team=team, leaders=staff, meetings=len(days_ago))
    people = [enrol_participant(db, run=run) for _ in range(participants)]  # contacts planned ahead
    now = utcnow().replace(microsecond=0)
    for meeting, days in zip(run.meetings, days_ago):
        courses.move_meeting(db, meeting=meeting, starts_at=now - timedelta(days=days))
    return run, staff, people


def test_course_hours_are_staff_hours_once_per_held_meeting(db):
    run, staff, people = _held_run(db, leaders=2, participants=4)
    first, second, third = run.meetings
    for person in people:  # everyone came to the first: still one meeting's staff time
        courses.mark_attendance(db, meeting=first, participant=person, attended=True)
    courses.mark_attendance(db, meeting=second, participant=people[0], attended=True)
    courses.cancel_meeting(db, meeting=third)  # cancelled (and nobody marked): not held
    courses.mark_attendance(db, meeting=third, participant=people[1], attended=False)
    db.flush()
    attended = db.scalar(select(Appointment.id).where(Appointment.course_meeting_id == first.id,
                                                      Appointment.status == "attended"))
    assert attended is not None  # the participants' contacts are attended, yet not summed
    since, until = statistics_period()
    stats = team_statistics(db, actor=staff[0], since=since, until=until, team_id=run.team_id)
    # Two held meetings × 2 hours × 2 leaders, not 5 attended contacts × 2 hours.
    assert dict(stats.hours_by_kind)["course_meeting"] == 8.0
    assert stats.treatment_hours == 8.0


def test_a_meeting_nobody_came_to_is_not_counted_and_three_leaders_triple_it(db):
    run, staff, people = _held_run(db, leaders=3, participants=2, days_ago=(10, 3))
    courses.mark_attendance(db, meeting=run.meetings[0], participant=people[0], attended=False)
    courses.mark_attendance(db, meeting=run.meetings[1], participant=people[1], attended=True)
    since, until = statistics_period()
    stats = team_statistics(db, actor=staff[0], since=since, until=until, team_id=run.team_id)
    assert dict(stats.hours_by_kind)["course_meeting"] == 6.0


def test_municipality_scope_counts_meetings_its_residents_attended(db):
    here, there = make_municipality(db), make_municipality(db)
    team = make_team(db, municipalities=[here, there])
    run, staff, people = _held_run(db, team=team, leaders=2, participants=1, days_ago=(10, 3))
    from rph_pwa.models import Referral

    referral = db.scalar(select(Referral).join(Episode, Episode.referral_id == Referral.id)
                         .where(Episode.id == people[0].episode_id))
    referral.municipality_id = here.id
    courses.mark_attendance(db, meeting=run.meetings[0], participant=people[0], attended=True)
    db.flush()
    since, until = statistics_period()
    assert dict(team_statistics(db, actor=staff[0], since=since, until=until, team_id=team.id,
                                municipality_id=here.id).hours_by_kind)["course_meeting"] == 4.0
    assert dict(team_statistics(db, actor=staff[0], since=since, until=until, team_id=team.id,
                                municipality_id=there.id).hours_by_kind)["course_meeting"] == 0.0


def test_relatives_never_count_in_outcomes_and_participants_are_measured(db):
    run, staff, (participant,) = _held_run(db, leaders=2, participants=1, days_ago=(20, 13))
    for meeting in run.meetings:
        courses.mark_attendance(db, meeting=meeting, participant=participant, attended=True)
    episode = db.get(Episode, participant.episode_id)
    for code, first, last in (("PHQ-9", 15, 6), ("GAD-7", 12, 4)):
        add_episode_response(db, episode=episode, code=code, total=first, at=run.meetings[0].starts_at)
        add_episode_response(db, episode=episode, code=code, total=last, at=run.meetings[1].starts_at)
    episode.discharged_at = utcnow() - timedelta(days=1)
    db.flush()
    since, until = statistics_period()
    before = team_statistics(db, actor=staff[0], since=since, until=until, team_id=run.team_id)
    assert before.outcomes.eligible == 1 and before.outcomes.phq9_first_mean == 15.0  # the participant
    # A relative comes to every meeting and has a form of their own: they have no episode.
    relative = enrol_participant(db, run=run, role="relative")
    for meeting in run.meetings:
        courses.mark_attendance(db, meeting=meeting, participant=relative, attended=True)
    from rph_pwa.measures import score
    from rph_pwa.services.measure_responses import store_response

    store_response(db, result=score("PHQ-9", [3] * 9), resident_id=relative.user_id,
                   submitted_at=run.meetings[1].starts_at)
    db.flush()
    after = team_statistics(db, actor=staff[0], since=since, until=until, team_id=run.team_id)
    assert relative.episode_id is None
    assert after.outcomes == before.outcomes
    assert (after.episodes_started, after.episodes_ended, after.episodes_referred) == \
        (before.episodes_started, before.episodes_ended, before.episodes_referred)
    assert after.hours_by_kind == before.hours_by_kind  # the same held meetings and leaders
