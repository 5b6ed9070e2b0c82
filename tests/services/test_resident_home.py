"""The resident's home in plain words (services/resident_home.py): each phase, the next
appointments and how they take place, the video link's timing, the forms by name, and only the
resident's own data, in a fixed handful of queries."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from flask_babel import force_locale

from rph_pwa.client.views import said
from rph_pwa.db import utcnow
from rph_pwa.localtime import add_working_days
from rph_pwa.models import OnwardService
from rph_pwa.services import appointment_requests, resident_home, triage
from rph_pwa.services.resident_home import VIDEO_LINK_FROM
from tests.factories import (
    add_episode_contact,
    make_booked_contact,
    make_referral,
    make_resident,
    make_staff,
    make_team,
    unique,
)


@pytest.fixture
def words(data_app):
    """`words(x)`: a title, a Sentence or a list of them as English text (the page's filter)."""
    def render(thing) -> str:
        with data_app.test_request_context(), force_locale("en"):
            if isinstance(thing, list):
                return " ".join(render(t) for t in thing)
            if isinstance(thing, resident_home.Sentence):
                return said(thing)
            return str(thing)
    return render


def test_working_days_skip_the_weekend():
    friday = date(2026, 3, 6)
    assert add_working_days(friday, 1) == date(2026, 3, 9)  # Monday
    assert add_working_days(friday, 5) == date(2026, 3, 13)
    assert add_working_days(date(2026, 3, 9), 2) == date(2026, 3, 11)


def test_no_referral_yet_links_to_the_self_referral(app, db, words):
    resident = make_resident(db)
    home = resident_home.home(db, resident=resident)
    assert home.where.phase == "none" and home.where.link == "referral.start"
    assert "not sent a referral" in words(home.where.title)
    assert home.next_appointments == [] and home.todo == []


def test_referral_received_says_by_when_the_team_calls(app, db, words):
    team = make_team(db)
    team.response_days, team.urgent_response_days = 5, 1
    referral = make_referral(db, team=team)
    referral.submitted_at = datetime(2026, 3, 6, 10, tzinfo=timezone.utc)  # a Friday
    db.flush()
    now = datetime(2026, 3, 9, 9, tzinfo=timezone.utc)
    where = resident_home.home(db, resident=referral.resident, now=now).where
    assert where.phase == "waiting_assessment"
    assert words(where.title) == "We have received your referral"
    assert "will call you by Friday, March 13, 2026" in words(where.lines)

    urgent = make_referral(db, team=team, urgent=True)
    urgent.submitted_at = referral.submitted_at
    db.flush()
    text = words(resident_home.home(db, resident=urgent.resident, now=now).where.lines)
    assert "need help quickly" in text and "by Monday, March 9, 2026" in text

    late = words(resident_home.home(db, resident=referral.resident, now=now + timedelta(days=10)).where.lines)
    assert "meant to call you by Friday, March 13, 2026" in late and "call the team" in late


def test_assessment_booked_gives_the_day_and_time(app, db, words):
    team = make_team(db)
    therapist, _secret = make_staff(db, teams=[team])
    referral = make_referral(db, team=team)
    starts = utcnow() + timedelta(days=2)
    triage.book_assessment(db, actor=therapist, referral_id=referral.id, starts_at=starts, mode="office",
                           place="Storgata 1, 2. etasje")
    home = resident_home.home(db, resident=referral.resident)
    assert home.where.phase == "assessment_booked"
    assert words(home.where.title) == "Your first conversation is booked"
    with app.test_request_context(), force_locale("en"):
        from flask_babel import format_date, format_time
        day, clock = format_date(starts, "full"), format_time(starts, "short")
    assert words(home.where.lines) == f"It is on {day} at {clock}."
    [card] = home.next_appointments
    assert words(card.name) == "Assessment conversation"
    assert words(card.how) == "At the office: Storgata 1, 2. etasje."


def test_assessed_in_treatment_onward_and_ended(app, db, words):
    team = make_team(db)
    therapist, _secret = make_staff(db, teams=[team])
    therapist.display_name = "Kari Anne Nordmann"
    referral = make_referral(db, team=team)
    episode = referral.episode
    episode.assessed_at = utcnow() - timedelta(days=3)
    db.flush()
    where = resident_home.home(db, resident=referral.resident).where
    assert where.phase == "assessed" and "what happens next" in words(where.lines)

    episode.first_treatment_at = utcnow() - timedelta(days=1)
    episode.offerings = "guided_self_help,individual"
    episode.responsible = therapist
    db.flush()
    where = resident_home.home(db, resident=referral.resident).where
    assert where.phase == "in_treatment"
    assert words(where.title) == "You are getting help from the team"
    assert words(where.lines) == "You get: Guided self-help, Individual therapy. Your therapist is Kari."
    assert "Nordmann" not in words(where.lines)

    service = OnwardService(team_id=team.id, name="Frisklivssentralen", description="", phone="75 12 34 56",
                            url="https://frisklivs.example.no")
    db.add(service)
    db.flush()
    referral.status, referral.onward_service_id = "guided_onward", service.id
    referral.onward_message = "Ring dem gjerne denne uka."
    db.flush()
    where = resident_home.home(db, resident=referral.resident).where
    assert where.phase == "following_up"
    assert "Frisklivssentralen can help you better" in words(where.lines)
    assert where.onward.phone == "75 12 34 56" and where.onward.message == "Ring dem gjerne denne uka."

    episode.discharged_at = utcnow()
    db.flush()
    where = resident_home.home(db, resident=referral.resident).where
    assert where.phase == "ended" and where.link == "referral.start"
    assert words(where.title) == "Your course of help has ended"


def test_phone_appointment_says_the_team_calls_the_residents_number(app, db, words):
    _team, _therapist, resident, _address, _episode, contact = make_booked_contact(db)
    resident.phone = "412 34 567"
    db.flush()
    [card] = resident_home.home(db, resident=resident).next_appointments
    assert card.id == contact.id and words(card.name) == "Talk"
    assert words(card.how) == "The team calls you on 412 34 567."
    assert card.can_ask and card.video_link is None


def test_video_link_is_hidden_until_15_minutes_before_then_shown(app, db, words):
    team = make_team(db)
    therapist, _secret = make_staff(db, teams=[team])
    referral = make_referral(db, team=team)
    starts = utcnow() + timedelta(days=1)
    link = "https://video.example.no/rom/" + unique("x")
    from rph_pwa.services import outcomes
    contact = outcomes.book_contact(db, actor=therapist, episode_id=referral.episode.id, kind="check_in",
                                    starts_at=starts, duration_minutes=30, mode="video", place=None, video_link=link)
    assert contact.video_link == link
    resident = referral.resident

    early = resident_home.home(db, resident=resident, now=starts - VIDEO_LINK_FROM - timedelta(minutes=1))
    [card] = early.next_appointments
    assert card.video_link is None and link not in words(card.how)
    assert words(card.how) == "By video. The link shows here 15 minutes before the start."
    assert words(card.name) == "Guided self-help call"

    for now in (starts - VIDEO_LINK_FROM, starts + timedelta(minutes=29)):
        [card] = resident_home.home(db, resident=resident, now=now).next_appointments
        assert card.video_link == link

    after = resident_home.appointment_list(db, resident=resident, now=starts + timedelta(minutes=31))
    assert after.upcoming == [] and [c.video_link for c in after.past] == [None]


def test_forms_are_named_in_plain_words_with_deadline_and_time(app, db, words):
    _team, _therapist, resident, _address, _episode, contact = make_booked_contact(db, hours_ahead=20)
    todo = resident_home.home(db, resident=resident).todo
    assert [t.code for t in todo] == ["PHQ-9", "GAD-7", "WSAS"]
    assert [words(t.title) for t in todo] == ["Questions about mood and interest",
                                              "Questions about worry and anxiety",
                                              "Questions about work and daily life"]
    assert words(todo[0].takes) == "It takes about 3 minutes."
    assert all(t.due == contact.starts_at and t.endpoint == "client.form" for t in todo)
    assert words(todo[0].detail).startswith("Before the conversation on ")
    assert words(resident_home.FORM_NAMES["SESSION-FEEDBACK"]) == "How was the last conversation?"


def test_requests_show_open_then_the_answer(app, db, words):
    _team, therapist, resident, _address, _episode, contact = make_booked_contact(db)
    asked = appointment_requests.ask(db, resident=resident, appointment_id=contact.id, kind="change", reason="Jobb")
    [card] = resident_home.appointment_list(db, resident=resident).upcoming
    assert card.request.open and not card.can_ask
    assert words(card.request.said) == "You asked to change this. The team will answer."
    appointment_requests.answer(db, actor=therapist, request_id=asked.id, answer="kept", note="Vi ringer som avtalt.")
    [card] = resident_home.appointment_list(db, resident=resident).upcoming
    assert not card.request.open and card.can_ask
    assert words(card.request.said) == "The team kept the time as it is."
    assert card.request.note == "Vi ringer som avtalt."


def test_only_the_residents_own_appointments_and_forms(app, db):
    team, therapist, resident, _address, episode, contact = make_booked_contact(db)
    _t, _th, other, _a, other_episode, other_contact = make_booked_contact(db, team=team, therapist=therapist)
    add_episode_contact(db, episode=other_episode, staff=therapist, starts_at=utcnow() + timedelta(hours=3))
    home = resident_home.home(db, resident=resident)
    assert [a.id for a in home.next_appointments] == [contact.id]
    assert {t.url_values["request_id"] for t in home.todo} == {
        r.id for r in contact.form_requests}
    listing = resident_home.appointment_list(db, resident=resident)
    assert [a.id for a in listing.upcoming + listing.past] == [contact.id]
    assert other_contact.id not in [a.id for a in resident_home.home(db, resident=resident).next_appointments]


def test_home_uses_a_fixed_handful_of_queries(app, db, count_queries):
    team, therapist, resident, _address, episode, _contact = make_booked_contact(db)
    for days in range(2, 30):
        add_episode_contact(db, episode=episode, staff=therapist, starts_at=utcnow() + timedelta(days=days),
                            mode="video")
    for days in range(1, 30):
        add_episode_contact(db, episode=episode, staff=therapist, starts_at=utcnow() - timedelta(days=days),
                            status="attended")
    db.flush()
    db.expire_all()
    resident = db.get(type(resident), resident.id)
    with count_queries(db.get_bind()) as statements:
        home = resident_home.home(db, resident=resident)
    assert len(home.next_appointments) == resident_home.HOME_APPOINTMENTS
    assert len(statements) <= 5, statements
    with count_queries(db.get_bind()) as statements:
        listing = resident_home.appointment_list(db, resident=resident)
    assert len(listing.upcoming) == 29 and len(listing.past) == 29
    assert len(statements) <= 2, statements
