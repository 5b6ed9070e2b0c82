"""I dag (services/today.py): my appointments today in time order with forms and scores, the open
urgent flags, and the tasks that are due; a constant number of queries; audited."""
from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import select

from rph_pwa.localtime import add_working_days, local_to_utc, local_today
from rph_pwa.models import AuditEvent, Role
from rph_pwa.services import appointment_requests, outcomes, today, urgent_flags
from tests.conftest import cold_statement_count
from tests.factories import (
    add_episode_contact,
    add_episode_response,
    make_referral,
    make_resident,
    make_staff,
    make_team,
)


def _at(day: date, hour: int, minute: int = 0):
    return local_to_utc(day, time(hour, minute))


def _episode(db, team, therapist, *, name: str, phone: str | None = None, responsible: bool = True):
    resident = make_resident(db, team=team, name=name)
    resident.phone = phone
    episode = make_referral(db, team=team, resident=resident).episode
    if responsible:
        episode.responsible_id = therapist.id
    db.flush()
    return episode


def _book(db, therapist, episode, starts_at, *, kind="treatment", mode="phone"):
    return outcomes.book_contact(db, actor=therapist, episode_id=episode.id, kind=kind, starts_at=starts_at,
                                 duration_minutes=45, mode=mode, place=None)


def test_my_appointments_today_in_time_order_with_phone_forms_and_score_change(app, db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    colleague, _ = make_staff(db, teams=[team])
    day = local_today()
    later = _episode(db, team, me, name="Kari Senere", phone="412 34 567")
    early = _episode(db, team, me, name="Ola Tidlig", phone="not a number")
    # PHQ-9 at referral is 16; a newer one of 11 is a change of -5.
    add_episode_response(db, episode=later, code="PHQ-9", total=11, at=later.referred_at + timedelta(minutes=5))
    second = _book(db, me, later, _at(day, 14), mode="video")
    first = _book(db, me, early, _at(day, 9))
    _book(db, colleague, later, _at(day, 11))             # a colleague's: not mine
    _book(db, me, early, _at(day, 9) + timedelta(days=1))  # tomorrow
    cancelled = _book(db, me, early, _at(day, 12))
    cancelled.status = "cancelled"
    db.commit()

    result = today.day_for(db, actor=me, now=_at(day, 8))
    assert [a.id for a in result.appointments] == [first.id, second.id]
    kari = result.appointments[1]
    assert (kari.name, kari.mode, kari.kind, kari.phone_e164) == ("Kari Senere", "video", "treatment", "+4741234567")
    assert result.appointments[0].phone_e164 is None  # an invalid number is shown, not linked
    assert kari.forms_planned >= 2 and kari.forms_answered == 0 and not kari.forms_done
    phq = next(s for s in kari.scores if s.code == "PHQ-9")
    assert (phq.total, phq.change, phq.trend) == (11, -5, "down")
    gad = next(s for s in kari.scores if s.code == "GAD-7")
    assert gad.change is None and gad.trend is None


def test_tasks_that_are_due(app, db):
    team = make_team(db)
    team.response_days = 5
    me, _ = make_staff(db, teams=[team])
    colleague, _ = make_staff(db, teams=[team])
    day = local_today()
    now = _at(day, 8)
    # A change request on a booked contact of the team.
    asked_on = _episode(db, team, me, name="Spør Om Endring")
    contact = _book(db, me, asked_on, now + timedelta(days=3))
    request = appointment_requests.ask(db, resident=db.get(type(me), asked_on.resident_id),
                                       appointment_id=contact.id, kind="change", now=now)
    # Referrals: one sent 20 days ago (late), one today (not late).
    old = make_referral(db, team=team, submitted_days_ago=20)
    make_referral(db, team=team)
    # Near the budget: 13 hours of attended treatment on my caseload; a colleague's is not mine.
    near = _episode(db, team, me, name="Nesten Ferdig")
    theirs = _episode(db, team, colleague, name="Ikke Min", responsible=False)
    theirs.responsible_id = colleague.id
    for i in range(13):
        add_episode_contact(db, episode=near, staff=me, starts_at=now - timedelta(days=30 - i), status="attended",
                            minutes=60)
        add_episode_contact(db, episode=theirs, staff=colleague, starts_at=now - timedelta(days=30 - i),
                            status="attended", minutes=60)
    # Tomorrow's contact with forms not answered.
    tomorrow = _episode(db, team, me, name="Svarer Ikke")
    _book(db, me, tomorrow, _at(day + timedelta(days=1), 10))
    # Missed, nothing booked after; and missed but booked again.
    missed = _episode(db, team, me, name="Kom Ikke")
    add_episode_contact(db, episode=missed, staff=me, starts_at=now - timedelta(days=2), status="no_show")
    rebooked = _episode(db, team, me, name="Kom Ikke Men Ny Time")
    add_episode_contact(db, episode=rebooked, staff=me, starts_at=now - timedelta(days=2), status="no_show")
    add_episode_contact(db, episode=rebooked, staff=me, starts_at=now + timedelta(days=5), status="booked")
    db.commit()

    tasks = today.day_for(db, actor=me, now=now).tasks
    assert [r.id for r in tasks.requests] == [request.id]
    assert tasks.overdue.count == 1 and tasks.overdue.oldest_at == old.submitted_at
    assert [(t.episode_id, t.minutes) for t in tasks.near_budget] == [(near.id, 13 * 60)]
    assert [t.episode_id for t in tasks.unanswered_tomorrow] == [tomorrow.id]
    assert tasks.unanswered_tomorrow[0].missing >= 2
    assert [t.name for t in tasks.no_shows] == ["Kom Ikke"]
    assert tasks.count == 5


def test_working_days_back_skips_weekends():
    monday = date(2025, 3, 10)
    assert add_working_days(monday, -1) == date(2025, 3, 7)  # Friday
    assert add_working_days(monday, -5) == date(2025, 3, 3)
    assert add_working_days(monday, 0) == monday


def test_urgent_flags_and_audit_and_admins_get_an_empty_day(app, db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    admin, _ = make_staff(db, role=Role.ADMIN, teams=[team])
    day = local_today()
    episode = _episode(db, team, me, name="Haster")
    flag = urgent_flags.raise_flag(db, resident_id=episode.resident_id, team_id=team.id, reason="crisis",
                                   episode_id=episode.id)
    _book(db, me, episode, _at(day, 13))
    db.commit()
    result = today.day_for(db, actor=me, now=_at(day, 8))
    assert [f.id for f in result.flags] == [flag.id]
    events = db.scalars(select(AuditEvent).where(AuditEvent.subject_id == episode.resident_id,
                                                 AuditEvent.object_type == "day_summary")).all()
    assert [(e.actor_id, e.object_type, e.object_id) for e in events] == [(me.id, "day_summary", episode.id)]
    empty = today.day_for(db, actor=admin, now=_at(day, 8))
    assert empty.appointments == [] and empty.flags == [] and empty.tasks.count == 0


def test_query_count_does_not_grow_with_rows(app, db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    day = local_today()
    now = _at(day, 7)

    def add(n: int) -> None:
        for i in range(n):
            episode = _episode(db, team, me, name=f"Person {i}", phone="412 34 567")
            _book(db, me, episode, _at(day, 9 + i % 8))
            _book(db, me, episode, _at(day + timedelta(days=1), 9))
            add_episode_contact(db, episode=episode, staff=me, starts_at=now - timedelta(days=3), status="no_show")
            contact = _book(db, me, episode, now + timedelta(days=4))
            appointment_requests.ask(db, resident=db.get(type(me), episode.resident_id), appointment_id=contact.id,
                                     kind="cancel", now=now)
            urgent_flags.raise_flag(db, resident_id=episode.resident_id, team_id=team.id, reason="crisis",
                                    episode_id=episode.id)
            make_referral(db, team=team, submitted_days_ago=30)
        db.commit()

    add(1)
    few = cold_statement_count(db, lambda: today.day_for(db, actor=me, now=now))
    add(6)
    assert cold_statement_count(db, lambda: today.day_for(db, actor=me, now=now)) == few
