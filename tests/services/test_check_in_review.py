"""The therapist's review of check-ins (services/check_in_review.py): the queue's order, cover
for an away or late colleague, other teams kept out, a fixed number of queries; marking reviewed
(minutes, feedback, the next check-in, the statistics), twice is a conflict; the review screen."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from rph_pwa.db import utcnow
from rph_pwa.localtime import local_date, local_today
from rph_pwa.models import Appointment, AuditEvent, CheckInReport, ModuleProgress, Worksheet
from rph_pwa.services import check_in_review as svc
from rph_pwa.services import selfhelp
from rph_pwa.services.errors import Conflict, NotFound
from rph_pwa.services.statistics import statistics_rows, team_statistics
from tests.conftest import cold_statement_count
from tests.factories import (
    add_episode_response,
    make_check_in_report,
    make_selfhelp,
    make_staff,
    make_team,
    statistics_period,
)


def _check_in(db, episode) -> Appointment:
    return db.scalars(select(Appointment).where(Appointment.episode_id == episode.id,
                                                Appointment.kind == "check_in", Appointment.status == "booked")
                      .order_by(Appointment.starts_at.desc())).first()


def _sent(db, team, therapist, *, hours_ago: float = 1, talk_sooner: bool = False, name: str | None = None,
          starts_hours_ago: float | None = None):
    """A resident of `team` with a programme (`therapist` responsible) and a check-in sent
    `hours_ago`; returns (appointment, episode)."""
    _assignment, episode, _t = make_selfhelp(db, team=team, therapist=therapist)
    if name:
        db.get(type(therapist), episode.resident_id).display_name = name
    appointment = _check_in(db, episode)
    if starts_hours_ago is not None:
        appointment.starts_at = utcnow() - timedelta(hours=starts_hours_ago)
    make_check_in_report(db, appointment=appointment, talk_sooner=talk_sooner,
                         sent_at=utcnow() - timedelta(hours=hours_ago))
    return appointment, episode


def _missing(db, team, therapist, *, hours_ago: float = 2):
    _assignment, episode, _t = make_selfhelp(db, team=team, therapist=therapist)
    appointment = _check_in(db, episode)
    appointment.starts_at = utcnow() - timedelta(hours=hours_ago)
    db.flush()
    return appointment, episode


def _ids(rows) -> list[int]:
    return [r.appointment_id for r in rows]


# --- The queue ------------------------------------------------------------------------------------

def test_urgent_first_then_by_due_time_and_missing_apart(db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    recent, _e = _sent(db, team, me, hours_ago=1)
    older, _e = _sent(db, team, me, hours_ago=30)
    sooner, _e = _sent(db, team, me, hours_ago=0.5, talk_sooner=True)
    worse, worse_episode = _sent(db, team, me, hours_ago=0.2)
    at = utcnow() - timedelta(days=20)
    for code, totals in (("PHQ-9", (5, 15)), ("GAD-7", (4, 6))):
        for i, total in enumerate(totals):
            add_episode_response(db, episode=worse_episode, code=code, total=total, at=at + timedelta(days=i))
    missing, _e = _missing(db, team, me)
    future, _e = make_selfhelp(db, team=team, therapist=me)[1], None  # booked ahead, nothing sent: not listed
    _check_in(db, future).starts_at = utcnow() + timedelta(days=2)
    reviewed, _e = _sent(db, team, me, hours_ago=40)
    svc.complete_review(db, actor=me, appointment_id=reviewed.id, feedback="Bra jobba.", minutes=15, by_phone=False)

    queue = svc.review_queue(db, actor=me)

    assert _ids(queue.waiting)[:2] in ([sooner.id, worse.id], [worse.id, sooner.id])
    assert _ids(queue.waiting)[2:] == [older.id, recent.id]
    by_id = {r.appointment_id: r for r in queue.waiting}
    assert by_id[sooner.id].urgent == ("talk_sooner",) and by_id[worse.id].urgent == ("deterioration",)
    assert by_id[older.id].urgent == () and by_id[older.id].cover is None
    assert by_id[older.id].due > by_id[older.id].sent_at and by_id[older.id].programme == "Søvn"
    assert _ids(queue.missing) == [missing.id] and queue.missing[0].sent_at is None and queue.missing[0].overdue
    assert reviewed.id not in _ids(queue.waiting)
    shown = db.scalars(select(AuditEvent.object_id).where(AuditEvent.actor_id == me.id,
                                                          AuditEvent.object_type == "check_in_queue")).all()
    assert set(shown) == {sooner.id, worse.id, older.id, recent.id, missing.id}
    assert svc.waiting_count(db, actor=me) == 4


def test_a_colleague_s_check_in_shows_when_they_are_away(db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    colleague, _ = make_staff(db, teams=[team])
    theirs, _e = _sent(db, team, colleague, hours_ago=1)
    assert theirs.id not in _ids(svc.review_queue(db, actor=me).waiting)

    colleague.away_until = local_today()
    db.flush()
    row = next(r for r in svc.review_queue(db, actor=me).waiting if r.appointment_id == theirs.id)
    assert row.cover == "away" and row.responsible_name == colleague.display_name
    assert svc.waiting_count(db, actor=me) == 1

    colleague.away_until = local_today() - timedelta(days=1)
    db.flush()
    assert theirs.id not in _ids(svc.review_queue(db, actor=me).waiting)


def test_a_colleague_s_check_in_shows_when_two_working_days_overdue(db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    colleague, _ = make_staff(db, teams=[team])
    late, _e = _sent(db, team, colleague, hours_ago=24 * 5)
    fresh, _e = _sent(db, team, colleague, hours_ago=2)
    late_missing, _e = _missing(db, team, colleague, hours_ago=24 * 5)
    queue = svc.review_queue(db, actor=me)
    assert _ids(queue.waiting) == [late.id] and queue.waiting[0].cover == "overdue" and queue.waiting[0].overdue
    assert fresh.id not in _ids(queue.waiting)
    assert _ids(queue.missing) == [late_missing.id] and queue.missing[0].cover == "overdue"


def test_due_is_two_working_days_after_sending():
    from datetime import datetime, timezone

    friday_evening = datetime(2026, 3, 6, 17, 0, tzinfo=timezone.utc)
    assert local_date(svc.due_at(friday_evening)).isoformat() == "2026-03-10"  # Tuesday


def test_another_team_s_residents_never_appear(db):
    team, other_team = make_team(db), make_team(db)
    me, _ = make_staff(db, teams=[team])
    stranger, _ = make_staff(db, teams=[other_team])
    stranger.away_until = local_today() + timedelta(days=3)
    theirs, _e = _sent(db, other_team, stranger, hours_ago=24 * 10)
    _missing(db, other_team, stranger, hours_ago=24 * 10)
    # Even a contact booked with me in the other team's episode stays out.
    theirs.staff_id = me.id
    db.flush()
    queue = svc.review_queue(db, actor=me)
    assert queue.waiting == [] and queue.missing == []
    assert svc.waiting_count(db, actor=me) == 0
    with pytest.raises(NotFound):
        svc.check_in_review(db, actor=me, appointment_id=theirs.id)
    with pytest.raises(NotFound):
        svc.complete_review(db, actor=me, appointment_id=theirs.id, feedback="x", minutes=20, by_phone=False)


def test_the_queue_takes_a_fixed_number_of_queries(db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    colleague, _ = make_staff(db, teams=[team])
    colleague.away_until = local_today()

    def add(count: int) -> None:
        for i in range(count):
            _sent(db, team, me if i % 2 else colleague, hours_ago=i + 1, talk_sooner=i % 3 == 0)
            _missing(db, team, me)

    add(2)
    db.flush()
    few = cold_statement_count(db, lambda: svc.review_queue(db, actor=me))
    add(10)
    db.flush()
    many = cold_statement_count(db, lambda: svc.review_queue(db, actor=me))
    assert len(svc.review_queue(db, actor=me).waiting) == 12
    assert few == many <= 6, (few, many)


def test_the_queue_comes_in_pages_with_the_urgent_first(db, monkeypatch):
    monkeypatch.setattr(svc, "PAGE_SIZE", 5)
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    for i in range(12):
        _sent(db, team, me, hours_ago=i + 1, talk_sooner=i == 11)
    db.flush()
    first, last = svc.review_queue(db, actor=me), svc.review_queue(db, actor=me, page=3)
    assert (first.waiting_total, first.pages, len(first.waiting), len(last.waiting)) == (12, 3, 5, 2)
    assert "talk_sooner" in first.waiting[0].urgent
    assert svc.review_queue(db, actor=me, page=99).page == 3
    shown = {r.appointment_id for page in (1, 2, 3) for r in svc.review_queue(db, actor=me, page=page).waiting}
    assert len(shown) == 12


# --- Marking it reviewed --------------------------------------------------------------------------

def test_complete_review_records_minutes_feedback_and_books_the_next(db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    appointment, episode = _sent(db, team, me, hours_ago=1, starts_hours_ago=0.5)
    done = svc.complete_review(db, actor=me, appointment_id=appointment.id, feedback="  Godt jobbet!  ",
                               minutes=23, by_phone=False)
    assert appointment.status == "attended" and appointment.duration_minutes == 23
    assert done.report.feedback == "Godt jobbet!" and done.report.reviewed_by_id == me.id
    assert done.report.reviewed_at is not None and done.report.review_started_at is not None
    nxt = done.next_check_in
    assert nxt is not None and nxt.kind == "check_in" and nxt.status == "booked" and nxt.staff_id == me.id
    # A week after the check-in's day, or after today when the check-in was yesterday (local time:
    # half an hour ago may be before midnight).
    assert local_date(nxt.starts_at) == max(local_date(appointment.starts_at), local_today()) + timedelta(days=7)
    assert episode.first_treatment_at is not None

    second, _e = _sent(db, team, me, hours_ago=1, starts_hours_ago=0.4)
    svc.complete_review(db, actor=me, appointment_id=second.id, feedback=None, minutes=16, by_phone=True)
    assert second.mode == "phone"
    since, until = statistics_period()
    stats = team_statistics(db, actor=me, since=since, until=until)
    assert dict(stats.hours_by_kind)["check_in"] == round(39 / 60, 1)
    assert stats.reviews.reviewed == 2 and stats.reviews.minutes_median == 19.5
    assert [(r.staff_id, r.reviews, r.minutes_median) for r in stats.reviews.by_therapist] == [(me.id, 2, 19.5)]
    rows = {(s, m): v for s, m, v in statistics_rows(stats)}
    assert rows[("check_in_reviews", "minutes_median")] == "19.5"
    assert rows[("check_in_reviews", "norm_minutes")] == "20"


def test_the_median_per_therapist_is_one_query(db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    colleague, _ = make_staff(db, teams=[team])
    for who, minutes in ((me, 10), (me, 30), (colleague, 25), (me, 20)):
        appointment, _e = _sent(db, team, who, starts_hours_ago=0.5)
        svc.complete_review(db, actor=who, appointment_id=appointment.id, feedback="Fint.", minutes=minutes,
                            by_phone=False)
    since, until = statistics_period()
    stats = team_statistics(db, actor=me, since=since, until=until)
    medians = {r.staff_id: (r.reviews, r.minutes_median) for r in stats.reviews.by_therapist}
    assert medians == {me.id: (3, 20.0), colleague.id: (1, 25.0)} and stats.reviews.minutes_median == 22.5


def test_twice_is_a_conflict_and_books_one_next_check_in(db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    appointment, episode = _sent(db, team, me)
    svc.complete_review(db, actor=me, appointment_id=appointment.id, feedback="En.", minutes=20, by_phone=False)
    with pytest.raises(Conflict):
        svc.complete_review(db, actor=me, appointment_id=appointment.id, feedback="To.", minutes=25, by_phone=False)
    booked = db.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.episode_id == episode.id, Appointment.status == "booked"))
    assert booked == 1 and appointment.duration_minutes == 20


def test_no_next_check_in_after_the_programme_s_weeks_or_its_end(db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    assignment, episode, _t = make_selfhelp(db, team=team, therapist=me, weeks_ago=6)
    for week in range(1, 6):  # five attended check-ins before: the sixth is the last (søvn has 6 weeks)
        db.add(Appointment(episode_id=episode.id, staff_id=me.id, kind="check_in", mode="phone",
                           starts_at=utcnow() - timedelta(weeks=week), duration_minutes=20, status="attended"))
    appointment = _check_in(db, episode)
    make_check_in_report(db, appointment=appointment)
    assert svc.complete_review(db, actor=me, appointment_id=appointment.id, feedback="Siste.", minutes=20,
                               by_phone=False).next_check_in is None

    ended, _e = _sent(db, team, me)
    selfhelp.end_assignment(db, actor=me, assignment_id=db.get(CheckInReport, db.scalar(
        select(CheckInReport.id).where(CheckInReport.appointment_id == ended.id))).assignment_id)
    assert svc.complete_review(db, actor=me, appointment_id=ended.id, feedback="Slutt.", minutes=20,
                               by_phone=False).next_check_in is None


def test_a_missing_check_in_can_only_be_completed_by_phone(db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    appointment, episode = _missing(db, team, me)
    with pytest.raises(ValueError):
        svc.complete_review(db, actor=me, appointment_id=appointment.id, feedback="Skrevet.", minutes=20,
                            by_phone=False)
    assert appointment.status == "booked"
    done = svc.complete_review(db, actor=me, appointment_id=appointment.id, feedback=None, minutes=12, by_phone=True)
    assert done.report.answers == {} and done.report.feedback is None and appointment.mode == "phone"
    assert appointment.status == "attended" and appointment.duration_minutes == 12


@pytest.mark.parametrize("minutes, feedback, by_phone", [
    (0, "x", False), (121, "x", False), (20, "x" * (svc.FEEDBACK_MAX + 1), False), (20, "   ", False)])
def test_bad_input_changes_nothing(db, minutes, feedback, by_phone):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    appointment, _e = _sent(db, team, me)
    with pytest.raises(ValueError):
        svc.complete_review(db, actor=me, appointment_id=appointment.id, feedback=feedback, minutes=minutes,
                            by_phone=by_phone)
    assert appointment.status == "booked"


def test_only_a_check_in_contact_opens_for_review(db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    appointment, episode = _sent(db, team, me)
    appointment.kind = "treatment"
    db.flush()
    with pytest.raises(NotFound):
        svc.check_in_review(db, actor=me, appointment_id=appointment.id)


# --- The review screen ------------------------------------------------------------------------------

def test_the_screen_shows_what_happened_since_the_last_review(db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    assignment, episode, _t = make_selfhelp(db, team=team, therapist=me, weeks_ago=2)
    first = _check_in(db, episode)
    first.starts_at = utcnow() - timedelta(days=7)
    make_check_in_report(db, appointment=first, sent_at=utcnow() - timedelta(days=7, hours=2))
    old = Worksheet(resident_id=episode.resident_id, episode_id=episode.id, kind="sleep_diary", client_key="old",
                    content={"night": "2026-01-01"}, created_at=utcnow() - timedelta(days=9),
                    updated_at=utcnow() - timedelta(days=9))
    db.add(old)
    db.flush()
    done = svc.complete_review(db, actor=me, appointment_id=first.id, feedback="Første tilbakemelding.",
                               minutes=20, by_phone=False, now=utcnow() - timedelta(days=6))
    current = done.next_check_in
    make_check_in_report(db, appointment=current)
    changed = Worksheet(resident_id=episode.resident_id, episode_id=episode.id, kind="weekly_goal", client_key="c",
                        content={"goal": "Gå tur", "achieved": "partly"}, created_at=utcnow() - timedelta(days=8),
                        updated_at=utcnow() - timedelta(days=1), revision=2)
    new = Worksheet(resident_id=episode.resident_id, episode_id=episode.id, kind="sleep_diary", client_key="n",
                    content={"night": "2026-02-01", "bedtime": "23:00"}, created_at=utcnow() - timedelta(hours=5),
                    updated_at=utcnow() - timedelta(hours=5))
    db.add_all([changed, new])
    key = selfhelp.programme_modules(assignment)[1].key
    db.add(ModuleProgress(assignment_id=assignment.id, module_key=key, first_read_at=utcnow() - timedelta(days=2),
                          finished_at=utcnow() - timedelta(days=1), rating=4))
    db.flush()

    review = svc.check_in_review(db, actor=me, appointment_id=current.id)
    assert [(w.worksheet.id, w.new) for w in review.worksheets] == [(new.id, True), (changed.id, False)]
    assert [r.feedback for r in review.earlier_feedback] == ["Første tilbakemelding."]
    assert review.modules[1].finished_at is not None and review.modules[1].rating == 4
    assert review.next_module is not None and review.next_module.number == 4  # weeks 1–3 are open
    assert {f.instrument_code for f in review.forms} >= {"PHQ-9", "GAD-7"}
    started = review.report.review_started_at
    assert started is not None
    again = svc.check_in_review(db, actor=me, appointment_id=current.id, now=utcnow() + timedelta(minutes=7))
    assert again.report.review_started_at == started and again.elapsed_minutes(utcnow() + timedelta(minutes=7)) == 7
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.actor_id == me.id, AuditEvent.object_type == "check_in", AuditEvent.object_id == current.id)) == 2


def test_the_screen_takes_a_fixed_number_of_queries(db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    _assignment, episode, _t = make_selfhelp(db, team=team, therapist=me)
    appointment = _check_in(db, episode)
    make_check_in_report(db, appointment=appointment)

    def add(count: int) -> None:
        for i in range(count):
            db.add(Worksheet(resident_id=episode.resident_id, episode_id=episode.id, kind="sleep_diary",
                             client_key=f"k{count}-{i}", content={"night": "2026-02-01"}))
            add_episode_response(db, episode=episode, code="PHQ-9", total=10 + i % 5,
                                 at=utcnow() - timedelta(hours=i + count))
    add(2)
    svc.check_in_review(db, actor=me, appointment_id=appointment.id)  # the first open starts the timer
    db.flush()
    few = cold_statement_count(db, lambda: svc.check_in_review(db, actor=me, appointment_id=appointment.id))
    add(20)
    db.flush()
    many = cold_statement_count(db, lambda: svc.check_in_review(db, actor=me, appointment_id=appointment.id))
    assert few == many, (few, many)


def test_open_next_module_then_conflict_when_all_are_open(db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    assignment, episode, _t = make_selfhelp(db, team=team, therapist=me)
    appointment = _check_in(db, episode)
    count = len(selfhelp.programme_modules(assignment))
    opened = [svc.open_next_module(db, actor=me, appointment_id=appointment.id).number for _ in range(count - 1)]
    assert opened == list(range(2, count + 1))
    with pytest.raises(Conflict):
        svc.open_next_module(db, actor=me, appointment_id=appointment.id)


def test_record_note_is_in_bokmal(app, db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    appointment, _e = _sent(db, team, me, talk_sooner=True)
    svc.complete_review(db, actor=me, appointment_id=appointment.id, feedback="Fortsett med dagboka.", minutes=18,
                        by_phone=True)
    with app.test_request_context():
        note = svc.record_note(svc.check_in_review(db, actor=me, appointment_id=appointment.id))
    assert "18 minutter" in note and "telefon" in note and "Fortsett med dagboka." in note
    assert "Veiledet selvhjelp" in note and "Søvn" in note and "raskere" in note


def test_record_note_says_written_guidance_when_not_by_phone(app, db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    appointment, _e = _sent(db, team, me)
    svc.complete_review(db, actor=me, appointment_id=appointment.id, feedback="Godt jobbet.", minutes=12,
                        by_phone=False)
    with app.test_request_context():
        note = svc.record_note(svc.check_in_review(db, actor=me, appointment_id=appointment.id))
    assert "skriftlig veiledning" in note and "telefon" not in note


# --- Away and phrases -----------------------------------------------------------------------------------

def test_away_dates_and_phrases(db):
    team, other_team = make_team(db), make_team(db)
    me, _ = make_staff(db, teams=[team])
    stranger, _ = make_staff(db, teams=[other_team])
    svc.set_away(db, actor=me, until=local_today())
    assert me.away_until == local_today()
    for bad in (local_today() - timedelta(days=1), local_today() + timedelta(days=svc.AWAY_MAX_DAYS + 1)):
        with pytest.raises(ValueError):
            svc.set_away(db, actor=me, until=bad)
    svc.set_away(db, actor=me, until=None)
    assert me.away_until is None

    phrase = svc.add_phrase(db, actor=me, team_id=team.id, text="  Så bra at du prøvde!  ")
    assert phrase.text == "Så bra at du prøvde!"
    with pytest.raises(ValueError):
        svc.add_phrase(db, actor=me, team_id=team.id, text="x" * (svc.PHRASE_MAX + 1))
    with pytest.raises(NotFound):
        svc.add_phrase(db, actor=me, team_id=other_team.id, text="Hei")
    with pytest.raises(NotFound):
        svc.delete_phrase(db, actor=stranger, phrase_id=phrase.id)
    assert [p.id for p in svc.phrases_of_my_teams(db, actor=me)] == [phrase.id]
    svc.delete_phrase(db, actor=me, phrase_id=phrase.id)
    assert svc.phrases_of_my_teams(db, actor=me) == []


def test_written_feedback_queues_one_content_free_message(db):
    """New feedback: "Du har en ny melding" to the resident, once per check-in; a review by
    phone without written feedback sends nothing."""
    from rph_pwa.models import Reminder

    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    appointment, episode = _sent(db, team, me, hours_ago=1, starts_hours_ago=0.5)
    done = svc.complete_review(db, actor=me, appointment_id=appointment.id, feedback="Godt jobbet!", minutes=20,
                               by_phone=False)
    messages = db.scalars(select(Reminder).where(Reminder.key == f"message:feedback:{done.report.id}")).all()
    assert len(messages) == 1
    assert (messages[0].resident_id, messages[0].kind, messages[0].link) == (episode.resident_id, "message",
                                                                            "client.home")
    by_phone, _e = _sent(db, team, me, hours_ago=1, starts_hours_ago=0.4)
    quiet = svc.complete_review(db, actor=me, appointment_id=by_phone.id, feedback=None, minutes=15, by_phone=True)
    assert db.scalars(select(Reminder).where(Reminder.key == f"message:feedback:{quiet.report.id}")).all() == []
