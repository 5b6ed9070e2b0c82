"""The therapist side of self-referral: triage queue, referral page and its actions, the onward
directory and reach. Every staff read is audited; other teams see nothing and leave no trace."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from rph_pwa.models import Appointment, AuditEvent, ContactAttempt, Episode, IntakeChecklist, OnwardService, Referral
from rph_pwa.services import triage as svc
from tests.conftest import form_token, post_form, refresh
from tests.factories import make_municipality, make_referral, make_resident, make_team, referral_answers

OSLO = ZoneInfo("Europe/Oslo")


def _events(db, **where) -> list[AuditEvent]:
    refresh(db)
    query = select(AuditEvent)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return list(db.scalars(query))


def _fresh(db, model, ident):
    refresh(db)
    return db.get(model, ident)


def _referral_page(db, actions) -> tuple[Referral, str]:
    """A new referral to a new team, with a therapist of that team signed in: the referral and the
    address of its page."""
    team = make_team(db)
    referral = make_referral(db, team=team)
    actions.login_staff(db, team)
    return referral, f"/therapist/referrals/{referral.id}"


def _second_post_sets(db, client, referral, action: str, prefix: str, milestone: str, first: dict,
                      second: dict) -> Episode:
    """Post `first` to the referral page's `action` form (fields prefixed `prefix`): the episode's
    `milestone` date stays unset; then `second`: it is set. Returns the episode as saved."""
    url = f"/therapist/referrals/{referral.id}"
    post_form(client, f"{url}/{action}", first, prefix=prefix, page=url)
    assert getattr(_fresh(db, Episode, referral.episode.id), milestone) is None
    post_form(client, f"{url}/{action}", second, prefix=prefix, page=url)
    episode = _fresh(db, Episode, referral.episode.id)
    assert getattr(episode, milestone) is not None
    return episode


# --- Queue -------------------------------------------------------------------------------------

def test_queue_puts_urgent_first_then_the_longest_waiting(db, actions, client):
    team = make_team(db)
    waiting_long = make_referral(db, team=team, submitted_days_ago=10,
                                 resident=make_resident(db, team=team, name="Lang Venting"))
    waiting_short = make_referral(db, team=team, submitted_days_ago=2,
                                  resident=make_resident(db, team=team, name="Kort Venting"))
    urgent_item9 = make_referral(db, team=team, item9=2, submitted_days_ago=1,
                                 resident=make_resident(db, team=team, name="Haster Niende"))
    urgent_crisis = make_referral(db, team=team, urgent=True, submitted_days_ago=5,
                                  resident=make_resident(db, team=team, name="Haster Krise"))
    actions.login_staff(db, team)
    page = client.get("/therapist/triage").get_data(as_text=True)
    order = [page.index(name) for name in ("Haster Krise", "Haster Niende", "Lang Venting", "Kort Venting")]
    assert order == sorted(order)
    urgent_card = page[page.index("Haster Niende"):page.index("Lang Venting")]
    assert "badge--urgent" in urgent_card and "PHQ-9 item 9 above 0" in urgent_card
    assert "Said they are in crisis now" in page[page.index("Haster Krise"):page.index("Haster Niende")]
    assert "Moderately severe" in page and "WSAS: 15 (Significant impairment)" in page
    assert "10 days" in page and "Sove bedre og komme tilbake i jobb." in page and "Partly (graded)" in page
    for referral in (waiting_long, waiting_short, urgent_item9, urgent_crisis):
        assert f"/therapist/referrals/{referral.id}" in page
    workspace = client.get("/therapist/").get_data(as_text=True)
    assert "/therapist/triage" in workspace and "2 urgent referrals" in workspace


def test_queue_and_referral_page_reads_are_audited(db, actions, client):
    team = make_team(db)
    referral = make_referral(db, team=team)
    staff = actions.login_staff(db, team)
    assert client.get("/therapist/triage").status_code == 200
    [page_view] = _events(db, actor_id=staff.id, object_type="triage_queue")  # one event names the rows shown
    assert (page_view.action, page_view.subject_id, page_view.team_id) == ("view_referral", None, team.id)
    assert [(s.subject_id, s.object_id) for s in page_view.shown] == [(referral.resident_id, referral.id)]
    assert client.get(f"/therapist/referrals/{referral.id}").status_code == 200
    opened = _events(db, subject_id=referral.resident_id, object_type="referral")
    assert [(e.actor_id, e.object_id) for e in opened] == [(staff.id, referral.id)]


def test_other_team_sees_no_queue_item_cannot_open_or_act_and_leaves_no_audit_event(db, actions, client):
    mine, theirs = make_team(db), make_team(db)
    stranger = make_referral(db, team=theirs, urgent=True,
                             resident=make_resident(db, team=theirs, name="Ikke Din Henvisning"))
    actions.login_staff(db, mine)
    queue = client.get("/therapist/triage").get_data(as_text=True)
    assert "Ikke Din Henvisning" not in queue and f"/referrals/{stranger.id}" not in queue
    assert "No referrals are waiting." in queue
    response = client.get(f"/therapist/referrals/{stranger.id}")
    assert response.status_code == 404 and "Ikke Din Henvisning" not in response.get_data(as_text=True)
    page = "/therapist/"
    assert post_form(client, f"/therapist/referrals/{stranger.id}/contact-attempts",
                     {"method": "phone", "outcome": "reached"}, prefix="contact", page=page).status_code == 404
    assert post_form(client, f"/therapist/referrals/{stranger.id}/offerings",
                     {"offerings": []}, prefix="offerings", page=page).status_code == 404  # invalid input, no page
    assert _events(db, subject_id=stranger.resident_id) == []
    assert _fresh(db, Referral, stranger.id).status == "new"
    assert "No urgent referrals" in client.get("/therapist/").get_data(as_text=True)


def test_queue_query_count_does_not_grow_with_rows(db, actions, client, count_queries):
    team = make_team(db)
    make_referral(db, team=team)
    actions.login_staff(db, team)
    with count_queries() as statements:
        client.get("/therapist/triage")
        one = len(statements)
        for _ in range(4):
            make_referral(db, team=team)
        db.commit()
        statements.clear()
        client.get("/therapist/triage")
        assert len(statements) == one


def test_admin_has_no_triage(db, actions, client):
    from rph_pwa.models import Role

    team = make_team(db)
    make_referral(db, team=team)
    actions.login_staff(db, team, role=Role.ADMIN)
    assert client.get("/therapist/triage").status_code == 404
    assert client.get("/therapist/directory").status_code == 404
    assert client.get("/therapist/reach").status_code == 404


# --- Referral page -----------------------------------------------------------------------------

def test_referral_page_shows_answers_scores_dates_and_start_note(db, actions, client):
    home, other = make_municipality(db), make_municipality(db, name="Møtekommune")
    team = make_team(db, municipalities=[home, other])
    answers = referral_answers()
    answers["contact"] = {**answers["contact"], "meeting_municipality_id": other.id}
    referral = make_referral(db, team=team, item9=1, answers=answers)
    referral.meeting_municipality_id = other.id
    actions.login_staff(db, team)
    page = client.get(f"/therapist/referrals/{referral.id}").get_data(as_text=True)
    for text in ("Voicemail allowed", "Text messages (SMS) allowed", "Prefers to meet in", "Møtekommune",
                 "Consents to informing their GP", "Dr. Lege", "Needs an interpreter", "Arabisk",
                 "Jeg sover dårlig og bekymrer meg.", "Worry, fear or anxiety", "3 to 12 months",
                 "Referred", "First contact", "Assessed", "First treatment", "Discharged",
                 "No contact attempts yet.", "No appointments yet."):
        assert text in page, text
    # Scores with bands, item-level answers, item 9 marked.
    assert re.search(r"PHQ-9 \(Depression\)</th><td>17</td><td>Moderately severe", page)
    assert "Answers to DUDIT-C, item by item" in page and "No drug use" in page
    assert '<strong class="badge badge--urgent">1</strong>' in page
    # Start note for the record, with a copy button, in Norwegian.
    note = re.search(r'<pre id="start-note">(.*?)</pre>', page, re.S).group(1)
    assert "PHQ-9: 17 (spm. 9 &gt; 0)" in note and "Arbeid: i arbeid, sykmelding: gradert 50 %" in note
    assert 'data-copy-target="start-note"' in page
    # Kind default text in the onward message; strict CSP: no inline script or style.
    assert "Thank you for getting in touch with us" in page
    assert "<script>" not in page and "style=" not in page and "<style" not in page


def test_book_assessment_stores_utc_and_moves_to_in_contact(db, actions, client):
    referral, url = _referral_page(db, actions)
    response = post_form(client, f"{url}/assessment",
                         {"day": "2026-06-15", "time": "10:30", "mode": "office", "place": "Rådhuset, 2. etg."},
                         prefix="book", page=url)
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    refresh(db)
    appointment = db.scalars(select(Appointment).where(Appointment.episode_id == referral.episode.id)).one()
    assert appointment.starts_at == datetime(2026, 6, 15, 8, 30, tzinfo=timezone.utc)  # CEST is UTC+2
    assert (appointment.mode, appointment.kind, appointment.place) == ("office", "assessment", "Rådhuset, 2. etg.")
    assert _fresh(db, Referral, referral.id).status == "in_contact"
    page = client.get(url).get_data(as_text=True)
    assert "The conversation is booked." in page and "Rådhuset, 2. etg." in page and "At the office" in page


def test_contact_attempts_are_listed_and_reaching_the_person_is_first_contact(db, actions, client):
    referral, url = _referral_page(db, actions)
    _second_post_sets(db, client, referral, "contact-attempts", "contact", "first_contact_at",
                      {"method": "phone", "outcome": "no_answer"},
                      {"method": "sms", "outcome": "reached", "note": "Ringer tilbake i morgen"})
    assert _fresh(db, Referral, referral.id).status == "in_contact"
    assert db.scalar(select(func.count()).select_from(ContactAttempt)
                     .where(ContactAttempt.referral_id == referral.id)) == 2
    page = client.get(url).get_data(as_text=True)
    assert "Ringer tilbake i morgen" in page and "No answer" in page and "Reached the person" in page


def test_intake_checklist_complete_means_assessed(db, actions, client):
    referral, url = _referral_page(db, actions)
    complete = {**{point: "y" for point in svc.checklist_points(referral.age_band)}, "notes": "Alt kartlagt"}
    episode = _second_post_sets(db, client, referral, "intake-checklist", "checklist", "assessed_at",
                                {"goals": "y", "work": "y", "notes": "Delvis"}, complete)
    assert episode.first_contact_at is not None
    assert _fresh(db, Referral, referral.id).status == "assessed"
    checklist = db.scalars(select(IntakeChecklist).where(IntakeChecklist.episode_id == episode.id)).one()
    assert checklist.suicide_questions and checklist.notes == "Alt kartlagt"
    page = client.get(url).get_data(as_text=True)
    assert re.search(r'id="checklist-trauma"[^>]*checked|checked[^>]*id="checklist-trauma"', page)


def test_agree_offerings_and_first_treatment(db, actions, client):
    referral, url = _referral_page(db, actions)
    post_form(client, f"{url}/offerings", {"offerings": ["individual", "course"]}, prefix="offerings", page=url)
    assert _fresh(db, Episode, referral.episode.id).offerings == "course,individual"
    assert _fresh(db, Referral, referral.id).status == "accepted"
    day = date.today() - timedelta(days=1)
    post_form(client, f"{url}/first-treatment", {"day": day.isoformat()}, prefix="treatment", page=url)
    first = _fresh(db, Episode, referral.episode.id).first_treatment_at
    assert first is not None and first.astimezone(OSLO).date() == day
    page = client.get(url).get_data(as_text=True)
    assert "Course, Individual therapy" in page


def test_guide_onward_kindly_with_a_directory_entry(db, actions, client):
    team = make_team(db)
    referral = make_referral(db, team=team)
    entry = OnwardService(team_id=team.id, name="DPS Nord", description="Spesialisthelsetjenesten")
    db.add(entry)
    db.commit()
    actions.login_staff(db, team)
    url = f"/therapist/referrals/{referral.id}"
    assert "DPS Nord" in client.get(url).get_data(as_text=True)
    response = post_form(client, f"{url}/onward",
                         {"service": str(entry.id), "message": "Vi tror DPS kan hjelpe deg bedre."},
                         prefix="onward", page=url)
    assert response.status_code == 302
    saved = _fresh(db, Referral, referral.id)
    assert (saved.status, saved.onward_service_id, saved.onward_message) == (
        "guided_onward", entry.id, "Vi tror DPS kan hjelpe deg bedre.")
    assert saved.episode.discharged_at is None and saved.episode.follow_up_at is not None  # followed up
    assert "Guided onward" in client.get(url).get_data(as_text=True)
    triage = client.get("/therapist/triage").get_data(as_text=True)
    assert f'/referrals/{referral.id}"' not in triage  # not in the queue: on the follow-up list
    assert f'/referrals/{referral.id}#close-onward"' in triage


@pytest.mark.parametrize("action, prefix, data, message, kept", [
    ("assessment", "book", {"day": "2026-13-45", "time": "10:00", "mode": "video", "place": "Teams-lenke"},
     "Not a valid date value", "Teams-lenke"),
    ("assessment", "book", {"day": "0202-01-01", "time": "", "mode": "phone"}, "Enter the time.", None),
    ("assessment", "book", {"day": "2026-06-01", "time": "10:00", "mode": "carrier-pigeon"}, "Not a valid choice",
     None),
    ("contact-attempts", "contact", {"method": "fax", "outcome": "reached", "note": "Prøvde faks"},
     "Not a valid choice", "Prøvde faks"),
    ("intake-checklist", "checklist", {"goals": "y", "notes": "x" * 4001}, "Use at most 4000 characters.", "x" * 4001),
    ("offerings", "offerings", {}, "Choose at least one offering.", None),
    ("offerings", "offerings", {"offerings": ["magic"]}, "not a valid choice", None),
    ("first-treatment", "treatment", {"day": (date.today() + timedelta(days=3)).isoformat()},
     "The date cannot be in the future.", None),
    ("onward", "onward", {"service": "0", "message": "   "}, "Write a message to the person.", None),
    ("onward", "onward", {"service": "999999999", "message": "Hei"}, "Not a valid choice", None),
])
def test_invalid_action_input_is_a_400_with_the_error_and_what_was_typed(db, actions, client, action, prefix,
                                                                          data, message, kept):
    referral, url = _referral_page(db, actions)
    response = post_form(client, f"{url}/{action}", data, prefix=prefix, page=url)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message.lower() in page.lower() and 'id="error-summary"' in page
    if kept:
        assert kept in page
    saved = _fresh(db, Referral, referral.id)
    assert saved.status == "new" and saved.episode.offerings == "" and saved.episode.first_treatment_at is None


def test_guide_onward_to_another_teams_entry_is_refused(db, actions, client):
    mine, theirs = make_team(db), make_team(db)
    referral = make_referral(db, team=mine)
    foreign = OnwardService(team_id=theirs.id, name="Fremmed tjeneste")
    db.add(foreign)
    db.commit()
    actions.login_staff(db, mine)
    url = f"/therapist/referrals/{referral.id}"
    response = post_form(client, f"{url}/onward", {"service": str(foreign.id), "message": "Hei"},
                         prefix="onward", page=url)
    assert response.status_code == 400
    assert _fresh(db, Referral, referral.id).onward_service_id is None


def test_action_without_its_csrf_token_is_refused(db, actions, client):
    referral, url = _referral_page(db, actions)
    response = client.post(f"{url}/offerings", data={"offerings-offerings": "course"})
    assert response.status_code == 400
    assert _fresh(db, Episode, referral.episode.id).offerings == ""


# --- Onward directory --------------------------------------------------------------------------

def _entries(db, team) -> list[OnwardService]:
    refresh(db)
    return list(db.scalars(select(OnwardService).where(OnwardService.team_id == team.id)))


def test_directory_add_edit_delete(db, actions, client):
    team = make_team(db)
    actions.login_staff(db, team)
    response = post_form(client, "/therapist/directory",
                         {"team": str(team.id), "name": "Frisklivssentralen", "description": "Fysisk aktivitet",
                          "phone": "22 33 44 55", "url": "https://frisklivssentralen.example.no"}, prefix="service")
    assert response.status_code == 302
    [entry] = _entries(db, team)
    assert (entry.name, entry.phone) == ("Frisklivssentralen", "22 33 44 55")
    assert "Frisklivssentralen" in client.get("/therapist/directory").get_data(as_text=True)

    edit = f"/therapist/directory/{entry.id}"
    assert "Fysisk aktivitet" in client.get(edit).get_data(as_text=True)
    assert post_form(client, edit, {"team": str(team.id), "name": "Frisklivssentralen i kommunen",
                                    "description": "", "phone": "", "url": ""}, prefix="service").status_code == 302
    [entry] = _entries(db, team)
    assert (entry.name, entry.phone, entry.url) == ("Frisklivssentralen i kommunen", None, None)

    token = form_token(client, "/therapist/directory")
    assert client.post(f"{edit}/delete", data={"csrf_token": token}).status_code == 302
    assert _entries(db, team) == []


def test_directory_is_team_scoped(db, actions, client):
    mine, theirs = make_team(db), make_team(db)
    foreign = OnwardService(team_id=theirs.id, name="Deres DPS")
    db.add(foreign)
    db.commit()
    actions.login_staff(db, mine)
    assert "Deres DPS" not in client.get("/therapist/directory").get_data(as_text=True)
    assert client.get(f"/therapist/directory/{foreign.id}").status_code == 404
    assert post_form(client, f"/therapist/directory/{foreign.id}",
                     {"team": str(mine.id), "name": "Kapret"},
                     prefix="service", page="/therapist/directory").status_code == 404
    token = form_token(client, "/therapist/directory")
    assert client.post(f"/therapist/directory/{foreign.id}/delete", data={"csrf_token": token}).status_code == 404
    # Adding to a team that is not mine is not a choice.
    response = post_form(client, "/therapist/directory", {"team": str(theirs.id), "name": "Snik"}, prefix="service")
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    assert [e.name for e in _entries(db, theirs)] == ["Deres DPS"]


def test_directory_errors_are_400_and_in_use_entries_stay(db, actions, client):
    team = make_team(db)
    referral = make_referral(db, team=team)
    used = OnwardService(team_id=team.id, name="Fastlegen")
    db.add(used)
    db.flush()
    referral.onward_service_id = used.id
    db.commit()
    actions.login_staff(db, team)
    duplicate = post_form(client, "/therapist/directory", {"team": str(team.id), "name": "fastlegen"}, prefix="service")
    assert duplicate.status_code == 400
    assert "The directory already has a service with this name." in duplicate.get_data(as_text=True)
    bad_url = post_form(client, "/therapist/directory",
                        {"team": str(team.id), "name": "Lenke", "url": "javascript://example.no/%0Aalert(1)"},
                        prefix="service")
    assert bad_url.status_code == 400
    assert "Enter a web address like https://example.no." in bad_url.get_data(as_text=True)
    token = form_token(client, "/therapist/directory")
    response = client.post(f"/therapist/directory/{used.id}/delete", data={"csrf_token": token}, follow_redirects=True)
    assert "Someone has been guided to this service" in response.get_data(as_text=True)
    assert [e.name for e in _entries(db, team)] == ["Fastlegen"]


# --- Reach -------------------------------------------------------------------------------------

def test_reach_counts_by_age_gender_municipality_and_channel(db, actions, client):
    north, south = make_municipality(db, name="Nordkommune"), make_municipality(db, name="Sørkommune")
    team = make_team(db, municipalities=[north, south])
    make_referral(db, team=team, municipality=north, age_band="18-24", gender="man", channel="app")
    make_referral(db, team=team, municipality=north, age_band="18-24", gender="woman", channel="phone",
                  submitted_days_ago=30)
    make_referral(db, team=team, municipality=south, age_band="67+", gender="woman", channel="paper",
                  submitted_days_ago=100)
    make_referral(db, team=team, municipality=south, age_band="45-54", submitted_days_ago=400)  # outside the default
    make_referral(db, team=make_team(db), age_band="16-17")  # another team's
    actions.login_staff(db, team)
    response = client.get("/therapist/reach")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "3 referrals in this period." in page

    def table(name: str) -> dict[str, int]:
        html = re.search(rf'<table class="table" id="reach-{name}">(.*?)</table>', page, re.S).group(1)
        return {label: int(n) for label, n in re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', html)}

    assert table("age") == {"18-24": 2, "67+": 1}
    assert table("gender") == {"Man": 1, "Woman": 2}
    assert table("municipality") == {"Nordkommune": 2, "Sørkommune": 1}
    assert table("channel") == {"App": 1, "Paper form": 1, "Phone": 1}
    today = datetime.now(OSLO).date()
    older = client.get(f"/therapist/reach?since={(today - timedelta(days=500)).isoformat()}&until={today.isoformat()}")
    assert "4 referrals in this period." in older.get_data(as_text=True)


def test_reach_without_data_says_so_plainly(db, actions, client):
    actions.login_staff(db, make_team(db))
    page = client.get("/therapist/reach").get_data(as_text=True)
    assert "No referrals in this period." in page and "<table" not in page
