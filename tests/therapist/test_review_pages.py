"""The review view's pages: the queue with the away form, one check-in's screen (own words,
worksheets, the timer, phrases, the note after review), marking reviewed and opening the next
module through the forms, hostile input (huge text, odd minutes, another team's ids) without a
500, the phrase bank, the staff menu and I dag's count."""
from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from rph_pwa.db import utcnow
from rph_pwa.localtime import local_today
from rph_pwa.models import Appointment, CheckInReport, FeedbackPhrase, User, Worksheet
from rph_pwa.services import check_in_review
from tests.conftest import post_form, refresh
from tests.factories import make_check_in_report, make_selfhelp, make_staff, make_team


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _sent(db, team, therapist, *, name: str = "Siri Sover", hours_ago: float = 1):
    _assignment, episode, _t = make_selfhelp(db, team=team, therapist=therapist)
    resident = db.get(User, episode.resident_id)
    resident.display_name, resident.phone = name, "412 34 567"
    appointment = db.scalars(select(Appointment).where(Appointment.episode_id == episode.id)).one()
    appointment.starts_at = utcnow() - timedelta(minutes=30)
    make_check_in_report(db, appointment=appointment, sent_at=utcnow() - timedelta(hours=hours_ago))
    db.add(Worksheet(resident_id=episode.resident_id, episode_id=episode.id, kind="weekly_goal", client_key="w1",
                     content={"goal": "Legge meg før midnatt", "achieved": "partly"}))
    db.commit()
    return appointment.id, episode


def test_queue_screen_and_marking_reviewed(db, actions, client):
    team = make_team(db)
    me = actions.login_staff(db, team)
    appointment_id, episode = _sent(db, team, me)
    db.add(FeedbackPhrase(team_id=team.id, text="Så bra at du holdt ut!", created_by_id=me.id))
    db.commit()

    queue = _text(client.get("/therapist/check-ins"))
    assert "Siri Sover" in queue and f"/therapist/check-ins/{appointment_id}" in queue and "Søvn" in queue
    assert "Check-ins" in _text(client.get("/therapist/")) and "1 check-in waiting for review" in _text(
        client.get("/therapist/"))

    page = _text(client.get(f"/therapist/check-ins/{appointment_id}"))
    for text in ("Søvndagboka hver morgen.", "A question for my therapist", "Legge meg før midnatt",
                 "Did I reach the goal?", "Partly", "Så bra at du holdt ut!", 'href="tel:+4741234567"',
                 "data-review-timer", 'name="done-minutes"', "Open the next module: 2."):
        assert text in page, text
    assert 'value="1"' in page  # the minutes prefilled from the timer (just opened: 1)

    url = f"/therapist/check-ins/{appointment_id}/reviewed"
    response = post_form(client, url, {"feedback": "Fint arbeid. Så bra at du holdt ut!", "minutes": "22"},
                         page=f"/therapist/check-ins/{appointment_id}", prefix="done", follow=True)
    page = _text(response)
    assert response.status_code == 200 and "marked reviewed" in page and "Note for the patient record" in page
    assert "22 minutter" in page and "Fint arbeid." in page
    refresh(db)
    appointment = db.get(Appointment, appointment_id)
    report = db.scalars(select(CheckInReport).where(CheckInReport.appointment_id == appointment_id)).one()
    assert appointment.status == "attended" and appointment.duration_minutes == 22
    assert report.feedback == "Fint arbeid. Så bra at du holdt ut!" and report.reviewed_by_id == me.id
    assert db.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.episode_id == episode.id, Appointment.status == "booked")) == 1

    again = post_form(client, url, {"feedback": "En gang til", "minutes": "5"},
                      page=f"/therapist/check-ins/{appointment_id}", prefix="done", follow=True)
    assert "already been marked reviewed" in _text(again)
    refresh(db)
    assert db.get(Appointment, appointment_id).duration_minutes == 22


@pytest.mark.parametrize("data, message", [
    ({"feedback": "x" * 4001, "minutes": "20"}, "Use at most 4000 characters."),
    ({"feedback": "Ok", "minutes": "0"}, "Enter between 1 and 120 minutes."),
    ({"feedback": "Ok", "minutes": "999"}, "Enter between 1 and 120 minutes."),
    ({"feedback": "Ok", "minutes": "abc"}, "Not a valid integer value"),
    ({"feedback": "Ok", "minutes": ""}, "Enter the minutes you used"),
    ({"feedback": "", "minutes": "20"}, "Write your feedback to the person"),
    ({"feedback": "Ok\x00", "minutes": "20"}, "invisible control character"),
])
def test_hostile_input_is_refused_on_its_field(db, actions, client, data, message):
    team = make_team(db)
    me = actions.login_staff(db, team)
    appointment_id, _episode = _sent(db, team, me)
    response = post_form(client, f"/therapist/check-ins/{appointment_id}/reviewed", data,
                         page=f"/therapist/check-ins/{appointment_id}", prefix="done")
    assert response.status_code == 400 and message in _text(response)
    refresh(db)
    assert db.get(Appointment, appointment_id).status == "booked"


def test_a_missing_check_in_by_phone_only(db, actions, client):
    team = make_team(db)
    me = actions.login_staff(db, team)
    _assignment, episode, _t = make_selfhelp(db, team=team, therapist=me)
    appointment = db.scalars(select(Appointment).where(Appointment.episode_id == episode.id)).one()
    appointment.starts_at = utcnow() - timedelta(hours=3)
    db.commit()
    page = f"/therapist/check-ins/{appointment.id}"
    assert "No check-in sent this week" in _text(client.get(page))
    written = post_form(client, f"{page}/reviewed", {"feedback": "Skrevet", "minutes": "10"}, page=page,
                        prefix="done")
    assert written.status_code == 400 and "tick that you gave the guidance by phone" in _text(written)
    by_phone = post_form(client, f"{page}/reviewed", {"by_phone": "y", "minutes": "10"}, page=page, prefix="done")
    assert by_phone.status_code == 302
    refresh(db)
    assert db.get(Appointment, appointment.id).status == "attended"


def test_another_team_s_check_in_is_404_and_unknown_ids_too(db, actions, client):
    team, other_team = make_team(db), make_team(db)
    actions.login_staff(db, team)
    stranger, _ = make_staff(db, teams=[other_team])
    appointment_id, _episode = _sent(db, other_team, stranger, name="Fremmed Person")
    assert "Fremmed Person" not in _text(client.get("/therapist/check-ins"))
    for path in (f"/therapist/check-ins/{appointment_id}", "/therapist/check-ins/999999999",
                 "/therapist/check-ins/99999999999999999999999"):
        assert client.get(path).status_code == 404
    token_page = "/therapist/check-ins"
    for action in ("reviewed", "open-module"):
        response = post_form(client, f"/therapist/check-ins/{appointment_id}/{action}",
                             {"feedback": "x", "minutes": "20"}, page=token_page,
                             prefix="done" if action == "reviewed" else "module")
        assert response.status_code == 404
    refresh(db)
    assert db.get(Appointment, appointment_id).status == "booked"


def test_open_the_next_module_from_the_screen(db, actions, client):
    team = make_team(db)
    me = actions.login_staff(db, team)
    appointment_id, _episode = _sent(db, team, me)
    page = f"/therapist/check-ins/{appointment_id}"
    response = post_form(client, f"{page}/open-module", {}, page=page, prefix="module", follow=True)
    assert "The next module is open" in _text(response) and "Open the next module: 3." in _text(response)


def test_away_form(db, actions, client):
    team = make_team(db)
    me = actions.login_staff(db, team)
    day = (local_today() + timedelta(days=5)).isoformat()
    response = post_form(client, "/therapist/away", {"until": day, "away": "y"}, page="/therapist/check-ins",
                         prefix="away", follow=True)
    assert "You are marked away" in _text(response)
    refresh(db)
    assert db.get(User, me.id).away_until.isoformat() == day
    for bad, message in (((local_today() - timedelta(days=1)).isoformat(), "at most a year ahead"),
                         ((local_today() + timedelta(days=400)).isoformat(), "at most a year ahead"),
                         ("tomorrow", "Not a valid date value"), ("", "Enter the last day you are away")):
        response = post_form(client, "/therapist/away", {"until": bad, "away": "y"}, page="/therapist/check-ins",
                             prefix="away")
        assert response.status_code == 400 and message in _text(response), bad
    back = post_form(client, "/therapist/away", {"until": "", "back": "y"}, page="/therapist/check-ins",
                     prefix="away", follow=True)
    assert "You are marked back" in _text(back)
    refresh(db)
    assert db.get(User, me.id).away_until is None


def test_phrase_bank(db, actions, client):
    team, other_team = make_team(db), make_team(db)
    actions.login_staff(db, team)
    response = post_form(client, "/therapist/phrases",
                         {"team": str(team.id), "text": "Husk å være snill med deg selv."},
                         prefix="phrase", follow=True)
    assert "The phrase is added" in _text(response) and "Husk å være snill med deg selv." in _text(response)
    too_long = post_form(client, "/therapist/phrases", {"team": str(team.id), "text": "x" * 501}, prefix="phrase")
    assert too_long.status_code == 400 and "Use at most 500 characters." in _text(too_long)
    foreign = post_form(client, "/therapist/phrases", {"team": str(other_team.id), "text": "Hei"}, prefix="phrase")
    assert foreign.status_code == 400
    stranger, _ = make_staff(db, teams=[other_team])
    theirs = check_in_review.add_phrase(db, actor=stranger, team_id=other_team.id, text="Deres")
    db.commit()
    assert post_form(client, f"/therapist/phrases/{theirs.id}/delete", {}, page="/therapist/phrases").status_code == 404
    refresh(db)
    mine_id = db.scalars(select(FeedbackPhrase.id).where(FeedbackPhrase.team_id == team.id)).one()
    theirs_id = theirs.id
    assert post_form(client, f"/therapist/phrases/{mine_id}/delete", {}, page="/therapist/phrases").status_code == 302
    refresh(db)
    assert db.scalars(select(FeedbackPhrase.id).where(FeedbackPhrase.id.in_([mine_id, theirs_id]))).all() == [
        theirs_id]
