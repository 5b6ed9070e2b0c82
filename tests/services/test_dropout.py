"""The drop-out routine (services/dropout.py, H L2676-2686): a missed appointment invites the
resident to book again and is logged; three failed attempts over three weeks make the written
notice due; the deadline passing makes the close due; closing discharges once as dropped out."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from rph_pwa.db import utcnow
from rph_pwa.localtime import local_date
from rph_pwa.models import ContactAttempt, Reminder
from rph_pwa.services import dropout, triage
from rph_pwa.services.errors import Conflict, NotFound
from tests.factories import add_episode_contact, make_monitored_episode, make_staff, make_team


def _missed(db, *, days_ago: int = 30):
    """A therapist and an open episode whose contact `days_ago` is marked not attended through
    the routine (so the app's message is queued and logged then)."""
    team = make_team(db)
    therapist, _ = make_staff(db, teams=[team])
    episode = make_monitored_episode(db, team=team)
    episode.responsible_id = therapist.id
    now = utcnow()
    contact = add_episode_contact(db, episode=episode, staff=therapist, starts_at=now - timedelta(days=days_ago))
    dropout.mark_attendance(db, actor=therapist, appointment_id=contact.id, status="no_show",
                            now=now - timedelta(days=days_ago - 1))
    return team, therapist, episode, contact, now


def _attempt(db, therapist, episode, *, days_ago: float, outcome: str = "no_answer", now=None):
    return triage.log_contact_attempt(db, actor=therapist, referral_id=episode.referral_id, method="phone",
                                      outcome=outcome, note=None, now=(now or utcnow()) - timedelta(days=days_ago))


def _messages(db, key: str) -> list[Reminder]:
    return list(db.scalars(select(Reminder).where(Reminder.key == f"message:{key}")))


def _notice_due(db):
    team, therapist, episode, contact, now = _missed(db)
    _attempt(db, therapist, episode, days_ago=20, now=now)
    _attempt(db, therapist, episode, days_ago=10, now=now)
    return team, therapist, episode, contact, now


def test_a_no_show_invites_to_book_again_once_and_is_logged_as_an_app_attempt(db):
    _team, therapist, episode, contact, _now = _missed(db)
    messages = _messages(db, f"no_show:{contact.id}")
    assert len(messages) == 1 and messages[0].link == "client.appointments"
    assert messages[0].resident_id == episode.resident_id and messages[0].kind == "message"
    attempts = list(db.scalars(select(ContactAttempt).where(ContactAttempt.referral_id == episode.referral_id)))
    assert [(a.method, a.outcome, a.staff_id) for a in attempts] == [("app", "left_message", therapist.id)]
    # Marked again (a double click), or attended then missed again: no second message or attempt.
    dropout.mark_attendance(db, actor=therapist, appointment_id=contact.id, status="no_show")
    dropout.mark_attendance(db, actor=therapist, appointment_id=contact.id, status="attended")
    dropout.mark_attendance(db, actor=therapist, appointment_id=contact.id, status="no_show")
    assert len(_messages(db, f"no_show:{contact.id}")) == 1
    assert db.scalar(select(func.count()).select_from(ContactAttempt)
                     .where(ContactAttempt.referral_id == episode.referral_id)) == 1


def test_attended_contacts_queue_nothing(db):
    team = make_team(db)
    therapist, _ = make_staff(db, teams=[team])
    episode = make_monitored_episode(db, team=team)
    contact = add_episode_contact(db, episode=episode, staff=therapist, starts_at=utcnow() - timedelta(days=1))
    dropout.mark_attendance(db, actor=therapist, appointment_id=contact.id, status="attended")
    assert _messages(db, f"no_show:{contact.id}") == []


def test_three_failed_attempts_over_three_weeks_make_the_notice_due(db):
    _team, therapist, episode, _contact, now = _notice_due(db)
    routine = dropout.routine_for(db, episode=episode, now=now)
    assert routine.stage == dropout.NOTICE_DUE and routine.failed == 3
    notices, closes = dropout.due_tasks(db, actor=therapist, team_ids=[episode.team_id], now=now)
    assert [t.episode_id for t in notices] == [episode.id] and closes == []
    # Two weeks earlier, the first attempt was not yet three weeks old: still trying.
    assert dropout.routine_for(db, episode=episode, now=now - timedelta(days=14)).stage == dropout.TRYING


def test_two_failed_attempts_are_not_enough(db):
    _team, therapist, episode, _contact, now = _missed(db)
    _attempt(db, therapist, episode, days_ago=5, now=now)
    routine = dropout.routine_for(db, episode=episode, now=now)
    assert routine.stage == dropout.TRYING and routine.failed == 2


def test_a_reached_attempt_starts_the_count_again(db):
    _team, therapist, episode, _contact, now = _notice_due(db)
    _attempt(db, therapist, episode, days_ago=5, outcome="reached", now=now)
    routine = dropout.routine_for(db, episode=episode, now=now)
    assert routine.stage == dropout.TRYING and routine.failed == 0
    _attempt(db, therapist, episode, days_ago=4, now=now)
    assert dropout.routine_for(db, episode=episode, now=now).failed == 1


def test_a_new_booking_stops_the_routine(db):
    _team, therapist, episode, _contact, now = _notice_due(db)
    add_episode_contact(db, episode=episode, staff=therapist, starts_at=now + timedelta(days=3))
    assert dropout.routine_for(db, episode=episode, now=now).stage == dropout.NONE
    assert dropout.due_tasks(db, actor=therapist, team_ids=[episode.team_id], now=now) == ([], [])


def test_a_colleagues_episode_is_not_on_my_list(db):
    team, _therapist, episode, _contact, now = _notice_due(db)
    colleague, _ = make_staff(db, teams=[team])
    assert dropout.due_tasks(db, actor=colleague, team_ids=[team.id], now=now) == ([], [])


def test_recording_the_notice_then_the_deadline_makes_the_close_due(db):
    _team, therapist, episode, _contact, now = _notice_due(db)
    deadline = local_date(now) + timedelta(days=14)
    dropout.record_notice(db, actor=therapist, episode_id=episode.id, deadline=deadline, now=now)
    assert episode.dropout_notice_at == now and episode.dropout_deadline == deadline
    letters = db.scalars(select(ContactAttempt).where(ContactAttempt.referral_id == episode.referral_id,
                                                      ContactAttempt.method == "letter")).all()
    assert len(letters) == 1
    assert dropout.routine_for(db, episode=episode, now=now).stage == dropout.WAITING
    assert dropout.due_tasks(db, actor=therapist, team_ids=[episode.team_id], now=now) == ([], [])
    # On the deadline itself, still waiting; the day after, the close is due.
    on_deadline = now + timedelta(days=14)
    assert dropout.routine_for(db, episode=episode, now=on_deadline).stage == dropout.WAITING
    after = now + timedelta(days=15)
    assert dropout.routine_for(db, episode=episode, now=after).stage == dropout.CLOSE_DUE
    _notices, closes = dropout.due_tasks(db, actor=therapist, team_ids=[episode.team_id], now=after)
    assert [t.episode_id for t in closes] == [episode.id]
    with pytest.raises(Conflict):  # a second notice in the same round
        dropout.record_notice(db, actor=therapist, episode_id=episode.id, deadline=deadline, now=now)


@pytest.mark.parametrize("days", [-1, 0, dropout.DEADLINE_MAX_DAYS + 1])
def test_a_deadline_not_after_today_or_too_far_ahead_is_refused(db, days):
    _team, therapist, episode, _contact, now = _notice_due(db)
    with pytest.raises(ValueError):
        dropout.record_notice(db, actor=therapist, episode_id=episode.id,
                              deadline=local_date(now) + timedelta(days=days), now=now)
    assert episode.dropout_notice_at is None


def test_another_teams_episode_is_not_found(db):
    _team, _therapist, episode, _contact, now = _notice_due(db)
    stranger, _ = make_staff(db, teams=[make_team(db)])
    with pytest.raises(NotFound):
        dropout.record_notice(db, actor=stranger, episode_id=episode.id,
                              deadline=local_date(now) + timedelta(days=14), now=now)
    with pytest.raises(NotFound):
        dropout.close_dropped_out(db, actor=stranger, episode_id=episode.id, now=now)


def test_no_notice_without_a_missed_appointment(db):
    team = make_team(db)
    therapist, _ = make_staff(db, teams=[team])
    episode = make_monitored_episode(db, team=team)
    with pytest.raises(Conflict):
        dropout.record_notice(db, actor=therapist, episode_id=episode.id,
                              deadline=local_date(utcnow()) + timedelta(days=14))


def _close_due(db):
    team, therapist, episode, contact, now = _notice_due(db)
    dropout.record_notice(db, actor=therapist, episode_id=episode.id,
                          deadline=local_date(now) + timedelta(days=14), now=now)
    return team, therapist, episode, contact, now + timedelta(days=15)


def test_closing_before_the_deadline_is_refused(db):
    _team, therapist, episode, _contact, now = _notice_due(db)
    dropout.record_notice(db, actor=therapist, episode_id=episode.id,
                          deadline=local_date(now) + timedelta(days=14), now=now)
    with pytest.raises(Conflict):
        dropout.close_dropped_out(db, actor=therapist, episode_id=episode.id, now=now + timedelta(days=3))
    assert episode.discharged_at is None


def test_reached_after_the_notice_stops_the_close(db):
    _team, therapist, episode, _contact, later = _close_due(db)
    _attempt(db, therapist, episode, days_ago=2, outcome="reached", now=later)
    assert dropout.routine_for(db, episode=episode, now=later).stage == dropout.REACHED
    with pytest.raises(Conflict):
        dropout.close_dropped_out(db, actor=therapist, episode_id=episode.id, now=later)


def test_closing_discharges_as_dropped_out_and_welcomes_back(db):
    _team, therapist, episode, _contact, later = _close_due(db)
    closed = dropout.close_dropped_out(db, actor=therapist, episode_id=episode.id, now=later)
    assert closed.discharged_at == later and closed.end_reason == "dropped_out"
    assert episode.referral.status == "closed"
    messages = _messages(db, f"dropout_closed:{episode.id}")
    assert len(messages) == 1 and messages[0].link == "client.home"
    assert dropout.routine_for(db, episode=episode, now=later).stage == dropout.NONE
    with pytest.raises(Conflict):
        dropout.close_dropped_out(db, actor=therapist, episode_id=episode.id, now=later)


def test_a_parallel_close_discharges_once(db, monkeypatch):
    """Two closes that both read "due" before either wrote: the conditional UPDATE lets one
    discharge; the other is refused and queues nothing."""
    _team, therapist, episode, _contact, later = _close_due(db)
    stale = dropout.routine_for(db, episode=episode, now=later)
    dropout.close_dropped_out(db, actor=therapist, episode_id=episode.id, now=later)
    monkeypatch.setattr(dropout, "routine_for", lambda *args, **kwargs: stale)
    with pytest.raises(Conflict):
        dropout.close_dropped_out(db, actor=therapist, episode_id=episode.id, now=later + timedelta(minutes=1))
    assert episode.discharged_at == later
    assert len(_messages(db, f"dropout_closed:{episode.id}")) == 1


def test_a_new_miss_after_an_old_notice_starts_a_new_round(db):
    _team, therapist, episode, _contact, later = _close_due(db)
    booked = add_episode_contact(db, episode=episode, staff=therapist, starts_at=later - timedelta(days=1))
    assert dropout.routine_for(db, episode=episode, now=later).stage == dropout.NONE
    dropout.mark_attendance(db, actor=therapist, appointment_id=booked.id, status="no_show", now=later)
    routine = dropout.routine_for(db, episode=episode, now=later)
    assert routine.stage == dropout.TRYING and routine.failed == 1
