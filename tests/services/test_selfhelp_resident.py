"""The resident's side of guided self-help in the services: my programme and modules, worksheets
saved once per key, the self-help plan, and the weekly check-in sent once."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from rph_pwa.db import utcnow
from rph_pwa.localtime import add_working_days, local_date, local_today
from rph_pwa.models import Appointment, CheckInReport, UrgentFlag, User, Worksheet
from rph_pwa.selfhelp.worksheets import WORKSHEETS, WorksheetInvalid
from rph_pwa.services import check_ins, resident_home, selfhelp, worksheets
from rph_pwa.services.errors import Conflict, NotFound
from tests.factories import make_resident, make_selfhelp, make_team

DIARY = {"night": "2026-03-02", "bedtime": "23:00", "lights_out": "23:15", "minutes_to_sleep": "30",
         "minutes_awake": "20", "woke": "06:10", "rose": "06:30", "quality": "3", "note": "Kaffe kl. 16."}


def _resident(db, assignment) -> User:
    return db.get(User, assignment.resident_id)


# --- Programme and modules -------------------------------------------------------------------------

def test_my_programme_shows_this_weeks_module_and_when_the_rest_open(db):
    assignment, _episode, _t = make_selfhelp(db, weeks_ago=1)
    programme = selfhelp.resident_programme(db, resident=_resident(db, assignment), today=local_today())
    assert programme.title == "Søvn"
    assert programme.this_week.item.number == 1
    assert [s.available for s in programme.states][:3] == [True, True, False]
    assert programme.opens_on[3] == assignment.starts_on + timedelta(weeks=2)
    assert 1 not in programme.opens_on
    assert selfhelp.resident_programme(db, resident=make_resident(db), today=local_today()) is None


def test_a_module_not_open_or_not_there_is_not_found(db):
    assignment, _episode, _t = make_selfhelp(db)
    programme = selfhelp.resident_programme(db, resident=_resident(db, assignment), today=local_today())
    assert selfhelp.resident_module(programme, 1).item.number == 1
    for number in (2, 99, 0):
        with pytest.raises(NotFound):
            selfhelp.resident_module(programme, number)


def test_reading_and_finishing_a_module_with_a_rating(db):
    assignment, _episode, _t = make_selfhelp(db)
    resident = _resident(db, assignment)
    programme = selfhelp.resident_programme(db, resident=resident, today=local_today())
    state = selfhelp.resident_module(programme, 1)
    first = selfhelp.record_read(db, assignment=assignment, state=state)
    read_at = first.first_read_at
    assert selfhelp.record_read(db, assignment=assignment, state=state).first_read_at == read_at  # once
    with pytest.raises(ValueError):
        selfhelp.finish_module(db, assignment=assignment, state=state, rating=6)
    row = selfhelp.finish_module(db, assignment=assignment, state=state, rating=4)
    assert row.finished_at is not None and row.rating == 4
    again = selfhelp.resident_programme(db, resident=resident, today=local_today())
    assert again.states[0].finished_at is not None and again.states[0].rating == 4


# --- Worksheets ------------------------------------------------------------------------------------

def test_a_worksheet_is_stored_once_per_key_and_each_change_is_a_revision(db):
    resident = make_resident(db)
    kind, key = WORKSHEETS["sleep_diary"], str(uuid.uuid4())
    first = worksheets.save_worksheet(db, resident=resident, kind=kind, client_key=key, raw=DIARY)
    assert first.changed and first.worksheet.revision == 1
    assert first.worksheet.for_date.isoformat() == "2026-03-02"
    same = worksheets.save_worksheet(db, resident=resident, kind=kind, client_key=key, raw=DIARY)
    assert not same.changed and same.worksheet.id == first.worksheet.id and same.worksheet.revision == 1
    changed = worksheets.save_worksheet(db, resident=resident, kind=kind, client_key=key,
                                        raw={**DIARY, "note": "Ingen kaffe."})
    assert changed.changed and changed.worksheet.revision == 2
    assert changed.worksheet.content["note"] == "Ingen kaffe." and changed.worksheet.content["minutes_to_sleep"] == 30
    rows = db.scalars(select(Worksheet).where(Worksheet.resident_id == resident.id)).all()
    assert len(rows) == 1
    raw = db.execute(text("SELECT content FROM worksheet WHERE id = :id"), {"id": rows[0].id}).scalar_one()
    assert "Ingen kaffe" not in raw  # encrypted at rest


def test_the_episode_is_the_latest_open_one(db):
    assignment, episode, _t = make_selfhelp(db)
    saved = worksheets.save_worksheet(db, resident=_resident(db, assignment), kind=WORKSHEETS["weekly_goal"],
                                      client_key=str(uuid.uuid4()), raw={"goal": "Gå tur"})
    assert saved.worksheet.episode_id == episode.id
    alone = worksheets.save_worksheet(db, resident=make_resident(db), kind=WORKSHEETS["weekly_goal"],
                                      client_key=str(uuid.uuid4()), raw={"goal": "Gå tur"})
    assert alone.worksheet.episode_id is None


def test_invalid_answers_and_keys_are_refused_and_partial_saves_may_lack_required_fields(db):
    resident = make_resident(db)
    kind = WORKSHEETS["sleep_diary"]
    with pytest.raises(WorksheetInvalid) as invalid:
        worksheets.save_worksheet(db, resident=resident, kind=kind, client_key=str(uuid.uuid4()),
                                  raw={**DIARY, "minutes_to_sleep": "lenge", "rose": ""})
    assert set(invalid.value.errors) == {"minutes_to_sleep", "rose"}
    partial = worksheets.save_worksheet(db, resident=resident, kind=kind, client_key=str(uuid.uuid4()),
                                        raw={"night": "2026-03-03", "note": "Halvveis"}, partial=True)
    assert partial.worksheet.content == {"night": "2026-03-03", "note": "Halvveis"}
    with pytest.raises(WorksheetInvalid):  # a wrong value is wrong also while typing
        worksheets.save_worksheet(db, resident=resident, kind=kind, client_key=str(uuid.uuid4()),
                                  raw={"quality": "9"}, partial=True)
    for key in ("", "selfhelp-plan", "not-a-uuid", str(uuid.uuid4()).upper(), "x" * 64):
        with pytest.raises(worksheets.BadClientKey):
            worksheets.save_worksheet(db, resident=resident, kind=kind, client_key=key, raw=DIARY)
    with pytest.raises(NotFound):  # a key belongs to one worksheet, of one kind
        worksheets.save_worksheet(db, resident=resident, kind=WORKSHEETS["weekly_goal"],
                                  client_key=partial.worksheet.client_key, raw={"goal": "Noe annet"})


def test_another_residents_worksheet_is_not_found_and_keys_are_per_resident(db):
    owner, other = make_resident(db), make_resident(db)
    key = str(uuid.uuid4())
    mine = worksheets.save_worksheet(db, resident=owner, kind=WORKSHEETS["weekly_goal"], client_key=key,
                                     raw={"goal": "Min"}).worksheet
    with pytest.raises(NotFound):
        worksheets.own_worksheet(db, resident=other, worksheet_id=mine.id)
    theirs = worksheets.save_worksheet(db, resident=other, kind=WORKSHEETS["weekly_goal"], client_key=key,
                                       raw={"goal": "Din"}).worksheet
    assert theirs.id != mine.id and mine.content == {"goal": "Min"}
    assert worksheets.own_worksheet(db, resident=owner, worksheet_id=mine.id) is mine


def test_the_self_help_plan_is_one_per_resident_and_not_in_the_list(db):
    resident = make_resident(db)
    plan = WORKSHEETS["selfhelp_plan"]
    first = worksheets.save_worksheet(db, resident=resident, kind=plan, client_key=str(uuid.uuid4()),
                                      raw={"helps": "Gå tur hver dag."}).worksheet
    second = worksheets.save_worksheet(db, resident=resident, kind=plan, client_key="anything",
                                       raw={"helps": "Gå tur hver dag.", "support": "Søster"}).worksheet
    assert first.id == second.id and second.client_key == worksheets.PLAN_KEY and second.revision == 2
    assert worksheets.selfhelp_plan(db, resident=resident).id == first.id
    diary = worksheets.save_worksheet(db, resident=resident, kind=WORKSHEETS["sleep_diary"],
                                      client_key=str(uuid.uuid4()), raw=DIARY).worksheet
    assert worksheets.resident_worksheets(db, resident=resident) == [diary]
    assert [(kind.key, rows) for kind, rows in worksheets.by_kind([diary])] == [("sleep_diary", [diary])]


def test_worksheet_kinds_by_number(db):
    assert worksheets.kind_by_number(3).key == "sleep_diary"
    for number in (0, 99, -1):
        with pytest.raises(NotFound):
            worksheets.kind_by_number(number)


# --- Check-in --------------------------------------------------------------------------------------

def test_the_current_check_in_is_open_with_its_forms(db):
    assignment, episode, _t = make_selfhelp(db)  # check-in today at 12:00
    resident = _resident(db, assignment)
    current = check_ins.current_check_in(db, resident=resident)
    assert current.is_open and current.appointment.kind == "check_in"
    assert {f.instrument_code for f in current.forms} >= {"PHQ-9", "GAD-7"}
    later, _e, _t = make_selfhelp(db, checkin_weekday=(local_today().weekday() + 5) % 7)
    waiting = check_ins.current_check_in(db, resident=_resident(db, later))
    assert not waiting.is_open and waiting.forms == []
    assert check_ins.current_check_in(db, resident=make_resident(db)) is None


def test_a_check_in_is_sent_once_and_then_the_next_one_is_current(db):
    assignment, episode, therapist = make_selfhelp(db)
    resident = _resident(db, assignment)
    current = check_ins.current_check_in(db, resident=resident)
    report = check_ins.submit_check_in(db, resident=resident, appointment_id=current.appointment.id,
                                       answers={"worked_on": "  Søvndagbok  ", "hard": ""})
    assert report.answers == {"worked_on": "Søvndagbok"} and report.assignment_id == assignment.id
    assert not report.talk_sooner
    with pytest.raises(Conflict):
        check_ins.submit_check_in(db, resident=resident, appointment_id=current.appointment.id,
                                  answers={"worked_on": "Igjen"})
    assert check_ins.current_check_in(db, resident=resident) is None
    assert check_ins.waiting_report(db, resident=resident).id == report.id
    raw = db.execute(text("SELECT answers FROM check_in_report WHERE id = :id"), {"id": report.id}).scalar_one()
    assert "Søvndagbok" not in raw


def test_talk_sooner_raises_an_urgent_flag(db):
    assignment, episode, _t = make_selfhelp(db)
    resident = _resident(db, assignment)
    current = check_ins.current_check_in(db, resident=resident)
    check_ins.submit_check_in(db, resident=resident, appointment_id=current.appointment.id,
                              answers={"question": "Kan vi snakke?"}, talk_sooner=True)
    flag = db.scalars(select(UrgentFlag).where(UrgentFlag.resident_id == resident.id)).one()
    assert flag.reason == "talk_sooner" and flag.episode_id == episode.id and flag.closed_at is None
    assert episode.urgent_since is not None


def test_a_check_in_that_is_not_mine_or_not_open_or_empty_is_refused(db):
    assignment, _episode, _t = make_selfhelp(db)
    resident = _resident(db, assignment)
    current = check_ins.current_check_in(db, resident=resident)
    other, _e, _t = make_selfhelp(db)
    with pytest.raises(NotFound):
        check_ins.submit_check_in(db, resident=_resident(db, other), appointment_id=current.appointment.id,
                                  answers={"worked_on": "x"})
    later, _e, _t = make_selfhelp(db, checkin_weekday=(local_today().weekday() + 5) % 7)
    closed = check_ins.current_check_in(db, resident=_resident(db, later))
    with pytest.raises(NotFound):  # not open yet
        check_ins.submit_check_in(db, resident=_resident(db, later), appointment_id=closed.appointment.id,
                                  answers={"worked_on": "x"})
    for answers in ({}, {"worked_on": "   "}, {"hard": "x" * 2001}):
        with pytest.raises(check_ins.CheckInInvalid):
            check_ins.submit_check_in(db, resident=resident, appointment_id=current.appointment.id, answers=answers)
    with pytest.raises(NotFound):
        check_ins.submit_check_in(db, resident=resident, appointment_id=10**9, answers={"worked_on": "x"})
    assert db.scalars(select(CheckInReport).where(CheckInReport.resident_id == resident.id)).all() == []


def test_when_it_will_be_read(db):
    due = utcnow()
    assert check_ins.read_by(due=due, sent=due) == add_working_days(local_date(due), 2)
    early = due - timedelta(days=1)
    assert check_ins.read_by(due=due, sent=early) == add_working_days(local_date(due), 2)
    late = due + timedelta(days=3)
    assert check_ins.read_by(due=due, sent=late) == add_working_days(local_date(late), 2)


def test_feedback_is_new_until_opened(db):
    assignment, _episode, therapist = make_selfhelp(db)
    resident = _resident(db, assignment)
    current = check_ins.current_check_in(db, resident=resident)
    report = check_ins.submit_check_in(db, resident=resident, appointment_id=current.appointment.id,
                                       answers={"worked_on": "Dagbok"})
    assert check_ins.new_feedback(db, resident=resident) is None
    report.reviewed_at, report.reviewed_by_id, report.feedback = utcnow(), therapist.id, "Godt jobbet!"
    db.flush()
    home = resident_home.home(db, resident=resident)
    assert home.feedback.text == "Godt jobbet!"
    check_ins.mark_feedback_seen(check_ins.feedback_list(db, resident=resident))
    db.flush()
    assert resident_home.home(db, resident=resident).feedback is None


def test_home_shows_this_weeks_module_and_the_open_check_in(db):
    assignment, _episode, _t = make_selfhelp(db)
    resident = _resident(db, assignment)
    home = resident_home.home(db, resident=resident)
    assert home.selfhelp.title == "Søvn" and home.selfhelp.module_number == 1 and home.selfhelp.check_in_open
    assert home.todo[0].endpoint == "client.check_in"
    assert resident_home.home(db, resident=make_resident(db, team=make_team(db))).selfhelp is None
    # The check-in contact is booked on the check-in day.
    check_in = db.scalars(select(Appointment).where(Appointment.id == check_ins.current_check_in(
        db, resident=resident).appointment.id)).one()
    assert home.selfhelp.check_in_at == check_in.starts_at


def test_a_save_that_loses_the_race_for_its_key_updates_the_winners_row(db, monkeypatch):
    """The insert of a parallel save fails on the unique key (its read came before the winner's
    commit): the savepoint is rolled back and the winner's row is updated instead."""
    resident = make_resident(db)
    kind, key = WORKSHEETS["weekly_goal"], str(uuid.uuid4())
    winner = worksheets.save_worksheet(db, resident=resident, kind=kind, client_key=key, raw={"goal": "Først"})
    real_find = worksheets._find
    reads = []

    def stale_first_read(session, resident_id, client_key):
        reads.append(client_key)
        return None if len(reads) == 1 else real_find(session, resident_id, client_key)

    monkeypatch.setattr(worksheets, "_find", stale_first_read)
    loser = worksheets.save_worksheet(db, resident=resident, kind=kind, client_key=key, raw={"goal": "Så"})
    assert len(reads) == 2 and loser.worksheet.id == winner.worksheet.id
    assert loser.worksheet.revision == 2 and loser.worksheet.content == {"goal": "Så"}
    assert len(db.scalars(select(Worksheet).where(Worksheet.resident_id == resident.id)).all()) == 1


def test_the_home_with_self_help_uses_a_fixed_number_of_queries(db, count_queries):
    assignment, _episode, therapist = make_selfhelp(db, weeks_ago=2)
    resident = _resident(db, assignment)
    for i in range(30):
        worksheets.save_worksheet(db, resident=resident, kind=WORKSHEETS["weekly_goal"],
                                  client_key=str(uuid.uuid4()), raw={"goal": f"Mål {i}"})
    current = check_ins.current_check_in(db, resident=resident)
    report = check_ins.submit_check_in(db, resident=resident, appointment_id=current.appointment.id,
                                       answers={"worked_on": "x"})
    report.reviewed_at, report.reviewed_by_id, report.feedback = utcnow(), therapist.id, "Bra."
    db.flush()
    db.expire_all()
    resident = db.get(User, resident.id)
    with count_queries(db.get_bind()) as statements:
        home = resident_home.home(db, resident=resident)
    assert home.selfhelp.module_number == 1 and home.feedback.text == "Bra."
    assert len(statements) <= 10, statements


def test_modules_not_signed_off_are_hidden_when_the_deployment_says_so(db):
    assignment, _episode, _t = make_selfhelp(db, pace="all")
    resident = _resident(db, assignment)
    shown = selfhelp.resident_programme(db, resident=resident, today=local_today())
    hidden = selfhelp.resident_programme(db, resident=resident, today=local_today(), hide_drafts=True)
    drafts = [s.item.number for s in shown.states if s.item.module.is_draft]
    assert {s.item.number for s in hidden.states}.isdisjoint(drafts)
    for number in drafts:
        with pytest.raises(NotFound):
            selfhelp.resident_module(hidden, number)
