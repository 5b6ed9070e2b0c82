"""The resident's self-help pages: my programme, a module, worksheets (form post and JSON, saved
once), the self-help plan and the weekly check-in (sent once, crisis help, talk sooner)."""
from __future__ import annotations

import json
import re
import uuid

import pytest
from flask import current_app
from sqlalchemy import select

from rph_pwa.models import CheckInReport, ModuleProgress, UrgentFlag, User, Worksheet
from rph_pwa.services import check_ins
from rph_pwa.services.accounts import set_email
from tests.conftest import csrf_token, form_token, post_form, refresh
from tests.factories import email, make_selfhelp


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


def signed_in(db, actions, **kwargs):
    """A resident with a programme (make_selfhelp), signed in; returns (resident, assignment)."""
    resident, assignment = actions.login_resident_with_programme(db, **kwargs)
    resident.locale = "en"
    db.commit()
    return resident, assignment


def sheets(db, resident_id: int) -> list[Worksheet]:
    refresh(db)
    return list(db.scalars(select(Worksheet).where(Worksheet.resident_id == resident_id)))


def test_without_a_programme_a_kind_explanation(db, actions, client):
    actions.login_resident_without_referral(db)
    page = client.get("/me/selfhelp")
    assert page.status_code == 200
    assert "You do not have a self-help programme now" in page.get_data(as_text=True)
    assert client.get("/me/selfhelp/modules/1").status_code == 404


def test_my_programme_and_reading_a_module(db, actions, client):
    resident, assignment = signed_in(db, actions, weeks_ago=1)
    page = client.get("/me/selfhelp").get_data(as_text=True)
    assert "Søvn" in page and 'href="/me/selfhelp/modules/1"' in page and 'href="/me/selfhelp/modules/2"' in page
    assert 'href="/me/selfhelp/modules/3"' not in page and "Opens " in page
    assert 'href="/me/selfhelp/check-in"' in page
    module = client.get("/me/selfhelp/modules/1")
    html = module.get_data(as_text=True)
    assert module.status_code == 200 and "Slik virker søvnen" in html and "<h2>" in html
    article = html.split('<article class="module-text">', 1)[1].split("</article>")[0]
    assert "<script" not in article and "<h2>" in article
    assert 'href="/me/selfhelp/worksheets/new/3"' in html  # the sleep diary, by number
    refresh(db)
    row = db.scalars(select(ModuleProgress).where(ModuleProgress.assignment_id == assignment.id)).one()
    assert row.first_read_at is not None and row.finished_at is None
    assert client.get("/me/selfhelp/modules/3").status_code == 404  # not open yet
    assert client.get("/me/selfhelp/modules/42").status_code == 404
    done = post_form(client, "/me/selfhelp/modules/1", {"rating": "4"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/me/selfhelp")
    refresh(db)
    row = db.scalars(select(ModuleProgress).where(ModuleProgress.assignment_id == assignment.id)).one()
    assert row.finished_at is not None and row.rating == 4
    bad = post_form(client, "/me/selfhelp/modules/1", {"rating": "9"})
    assert bad.status_code == 400
    assert post_form(client, "/me/selfhelp/modules/1", {}).status_code == 302  # the rating is optional


def test_a_worksheet_by_form_post_and_by_json_is_one_row(db, actions, client):
    resident, _assignment = signed_in(db, actions)
    new = client.get("/me/selfhelp/worksheets/new/3")
    html = new.get_data(as_text=True)
    assert new.status_code == 200 and "Sleep diary" in html
    key = re.search(r'name="client_key" value="([^"]+)"', html).group(1)
    assert uuid.UUID(key).version == 4
    token = csrf_token(html)
    # Typed on the device: a partial save as JSON with the CSRF header.
    partial = client.post("/me/selfhelp/worksheets/save", headers={"X-CSRFToken": token},
                          json={"kind": 3, "client_key": key, "answers": {"night": "2026-03-02", "note": "Sov dårlig"},
                                "partial": True})
    assert partial.status_code == 200, partial.get_data(as_text=True)
    body = partial.get_json()
    assert body["status"] == "saved" and body["revision"] == 1
    assert body["url"] == f"/me/selfhelp/worksheets/{body['id']}"
    # The form post without every required field: errors per field, what was typed kept.
    incomplete = client.post("/me/selfhelp/worksheets/save",
                             data={"csrf_token": token, "kind": "3", "client_key": key, "night": "2026-03-02",
                                   "note": "Sov dårlig", "minutes_to_sleep": "mange"})
    page = incomplete.get_data(as_text=True)
    assert incomplete.status_code == 400
    assert 'id="ws-minutes_to_sleep-error"' in page and 'id="ws-bedtime-error"' in page and "mange" in page
    assert f'value="{key}"' in page
    full = {"night": "2026-03-02", "bedtime": "23:00", "lights_out": "23:10", "minutes_to_sleep": "40",
            "minutes_awake": "30", "woke": "06:00", "rose": "06:45", "note": "Sov dårlig"}
    saved = client.post("/me/selfhelp/worksheets/save", data={"csrf_token": token, "kind": "3", "client_key": key,
                                                                **full})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/me/selfhelp/worksheets/{body['id']}")
    [row] = sheets(db, resident.id)
    assert row.revision == 2 and row.content["minutes_to_sleep"] == 40 and row.for_date.isoformat() == "2026-03-02"
    edit = client.get(f"/me/selfhelp/worksheets/{row.id}").get_data(as_text=True)
    assert f'value="{key}"' in edit and "Sov dårlig" in edit
    listing = client.get("/me/selfhelp/worksheets").get_data(as_text=True)
    assert f'href="/me/selfhelp/worksheets/{row.id}"' in listing and "2026-03-02" in listing


def test_bad_worksheet_saves_are_refused_without_a_500(db, actions, client):
    resident, _assignment = signed_in(db, actions)
    token = form_token(client, "/me/selfhelp/worksheets")
    headers = {"X-CSRFToken": token}
    for payload in ([], {"kind": "3"}, {"kind": True, "client_key": "x", "answers": {}},
                    {"kind": 3, "client_key": str(uuid.uuid4()), "answers": {"note": ["x"]}},
                    {"kind": 3, "client_key": "not-a-key", "answers": {}}):
        assert client.post("/me/selfhelp/worksheets/save", headers=headers, json=payload).status_code == 400, payload
    invalid = client.post("/me/selfhelp/worksheets/save", headers=headers,
                          json={"kind": 3, "client_key": str(uuid.uuid4()), "answers": {"quality": "7"},
                                "partial": True})
    assert invalid.status_code == 400 and set(invalid.get_json()["errors"]) == {"quality"}
    assert client.post("/me/selfhelp/worksheets/save", headers=headers,
                       json={"kind": 99, "client_key": str(uuid.uuid4()), "answers": {}}).status_code == 404
    for kind in ("", "x", "²", "9999"):
        answer = client.post("/me/selfhelp/worksheets/save",
                             data={"csrf_token": token, "kind": kind, "client_key": str(uuid.uuid4())})
        assert answer.status_code in (400, 404)
    no_csrf = client.post("/me/selfhelp/worksheets/save",
                          json={"kind": 6, "client_key": str(uuid.uuid4()), "answers": {"goal": "x"}})
    assert no_csrf.status_code == 400
    assert client.get("/me/selfhelp/worksheets/new/0").status_code == 404
    assert sheets(db, resident.id) == []


def test_another_residents_worksheet_is_not_found(db, actions, client, app):
    owner, _a = signed_in(db, actions)
    token = form_token(client, "/me/selfhelp/worksheets")
    key = str(uuid.uuid4())
    mine = client.post("/me/selfhelp/worksheets/save", headers={"X-CSRFToken": token},
                       json={"kind": 6, "client_key": key, "answers": {"goal": "Min hemmelighet"}}).get_json()["id"]
    from tests.conftest import Actions

    other_client = app.test_client()
    other_client.set_cookie("lang", "en")
    signed_in(db, Actions(other_client, actions.mailbox))
    page = other_client.get(f"/me/selfhelp/worksheets/{mine}")
    assert page.status_code == 404 and "Min hemmelighet" not in page.get_data(as_text=True)
    # The same key from another resident is their own worksheet; mine is untouched.
    other_token = form_token(other_client, "/me/selfhelp/worksheets")
    theirs = other_client.post("/me/selfhelp/worksheets/save", headers={"X-CSRFToken": other_token},
                               json={"kind": 6, "client_key": key, "answers": {"goal": "Annet"}}).get_json()["id"]
    assert theirs != mine
    refresh(db)
    assert db.get(Worksheet, mine).content == {"goal": "Min hemmelighet"}


def test_the_self_help_plan_page(db, actions, client):
    resident, _a = signed_in(db, actions)
    page = client.get("/me/selfhelp/plan").get_data(as_text=True)
    assert "You have not written your plan yet" in page and 'value="selfhelp-plan"' in page
    assert client.get("/me/selfhelp/worksheets/new/8").headers["Location"].endswith("/me/selfhelp/plan")
    saved = post_form(client, "/me/selfhelp/worksheets/save",
                      {"kind": "8", "client_key": "selfhelp-plan", "helps": "Gå tur hver morgen.\nRing søster."},
                      page="/me/selfhelp/plan")
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/me/selfhelp/plan")
    page = client.get("/me/selfhelp/plan").get_data(as_text=True)
    assert "<p>Gå tur hver morgen.</p>" in page and "<p>Ring søster.</p>" in page
    post_form(client, "/me/selfhelp/worksheets/save", {"kind": "8", "client_key": str(uuid.uuid4()),
                                                       "helps": "Endret."}, page="/me/selfhelp/plan")
    [plan] = sheets(db, resident.id)
    assert plan.kind == "selfhelp_plan" and plan.revision == 2
    too_long = post_form(client, "/me/selfhelp/worksheets/save",
                         {"kind": "8", "client_key": "selfhelp-plan", "helps": "x" * 4001}, page="/me/selfhelp/plan")
    assert too_long.status_code == 400 and 'id="ws-helps-error"' in too_long.get_data(as_text=True)


def test_the_check_in_is_sent_once_with_when_it_is_read(db, actions, client):
    resident, assignment = signed_in(db, actions)
    page = client.get("/me/selfhelp/check-in")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "within two working days" in html
    assert 'href="tel:113"' in html  # crisis help on the page
    assert re.search(r'href="/me/forms/\d+"', html)  # the forms due for the contact
    appointment = re.search(r'name="appointment" value="(\d+)"', html).group(1)
    empty = post_form(client, "/me/selfhelp/check-in", {"appointment": appointment})
    assert empty.status_code == 400 and "Write something in at least one of the boxes." in empty.get_data(as_text=True)
    long = post_form(client, "/me/selfhelp/check-in", {"appointment": appointment, "hard": "y" * 2001,
                                                        "helped": "Turene"})
    assert long.status_code == 400 and "Turene" in long.get_data(as_text=True)
    sent = post_form(client, "/me/selfhelp/check-in", {"appointment": appointment, "worked_on": "Søvndagboka",
                                                        "question": "Hvor lenge?"})
    text = sent.get_data(as_text=True)
    assert sent.status_code == 200 and "Your therapist will read it by" in text and "data-draft-done" in text
    again = post_form(client, "/me/selfhelp/check-in", {"appointment": appointment, "worked_on": "Igjen"},
                      page="/me/selfhelp")
    assert again.status_code == 302
    assert "already sent" in client.get("/me/selfhelp/check-in").get_data(as_text=True)
    refresh(db)
    [report] = db.scalars(select(CheckInReport).where(CheckInReport.resident_id == resident.id)).all()
    assert report.answers == {"worked_on": "Søvndagboka", "question": "Hvor lenge?"}
    assert "Your check-in is sent" in client.get("/me/selfhelp/check-in").get_data(as_text=True)


def test_talk_sooner_shows_crisis_help_raises_a_flag_and_notifies_the_team(db, actions, client, mailbox):
    resident, _a = signed_in(db, actions)
    current = check_ins.current_check_in(db, resident=resident)
    sent = post_form(client, "/me/selfhelp/check-in", {"appointment": str(current.appointment.id),
                                                        "hard": "Alt", "talk_sooner": "y"})
    assert sent.status_code == 200 and 'id="crisis-panel"' in sent.get_data(as_text=True)
    refresh(db)
    flag = db.scalars(select(UrgentFlag).where(UrgentFlag.resident_id == resident.id)).one()
    assert flag.reason == "talk_sooner"
    body = mailbox.to(resident.team.inbox_email)[-1].get_body(("plain",)).get_content().lower()
    assert "snakke" not in body and "søvn" not in body and "psyk" not in body  # the generic notice only


def test_someone_elses_check_in_is_not_found(db, actions, client):
    signed_in(db, actions)
    other, _e, _t = make_selfhelp(db)
    db.commit()
    theirs = check_ins.current_check_in(db, resident=db.get(User, other.resident_id))
    response = post_form(client, "/me/selfhelp/check-in", {"appointment": str(theirs.appointment.id),
                                                            "worked_on": "x"})
    assert response.status_code == 404
    for bad in ("", "x", "²", "9" * 20):
        assert post_form(client, "/me/selfhelp/check-in", {"appointment": bad, "worked_on": "x"}).status_code == 400


def test_feedback_shows_on_home_until_the_check_in_page_is_opened(db, actions, client):
    resident, _a = signed_in(db, actions)
    current = check_ins.current_check_in(db, resident=resident)
    report = check_ins.submit_check_in(db, resident=resident, appointment_id=current.appointment.id,
                                       answers={"worked_on": "x"})
    from rph_pwa.db import utcnow

    report.reviewed_at, report.feedback = utcnow(), "Fint at du fylte ut dagboka."
    db.commit()
    home = client.get("/me").get_data(as_text=True)
    assert "New feedback from your therapist" in home and "Fint at du fylte ut dagboka." in home
    assert 'href="/me/selfhelp/modules/1"' in home
    assert "Fint at du fylte ut dagboka." in client.get("/me/selfhelp/check-in").get_data(as_text=True)
    assert "New feedback from your therapist" not in client.get("/me").get_data(as_text=True)


def test_pages_say_whose_they_are_for_the_service_worker(db, actions, client):
    signed_in(db, actions)
    owner = client.get("/me/selfhelp").headers["X-RPH-Owner"]
    assert re.fullmatch(r"[0-9a-f]{32}", owner)
    assert client.get("/me").headers["X-RPH-Owner"] == owner
    assert json.loads(json.dumps(owner))  # plain text, no person named


def test_an_external_programmes_chapter_shows_where_to_find_it(db, actions, client):
    from rph_pwa.localtime import local_today
    from rph_pwa.models import ExternalProgramme
    from rph_pwa.services import selfhelp
    from tests.factories import make_monitored_episode, make_staff, make_team

    team = make_team(db)
    therapist, _secret = make_staff(db, teams=[team])
    book = ExternalProgramme(team_id=team.id, title="Boka om bekymring", created_by_id=therapist.id,
                             modules=[{"title": "Kapittel 1: Hva er bekymring?", "where": "sidene 10–24"},
                                      {"title": "Video 2", "where": "https://example.no/video-2"}])
    db.add(book)
    episode = make_monitored_episode(db, team=team)
    db.flush()
    selfhelp.assign_programme(db, actor=therapist, episode_id=episode.id, external_programme_id=book.id,
                              checkin_weekday=local_today().weekday(), pace="all")
    address = email()
    set_email(db.get(User, episode.resident_id), address, current_app.extensions["rph_crypto"])
    db.commit()
    actions.resident_login(address)
    assert "Boka om bekymring" in client.get("/me/selfhelp").get_data(as_text=True)
    first = client.get("/me/selfhelp/modules/1").get_data(as_text=True)
    assert "Kapittel 1: Hva er bekymring?" in first and "sidene 10–24" in first
    second = client.get("/me/selfhelp/modules/2").get_data(as_text=True)
    assert 'href="https://example.no/video-2"' in second and 'rel="noopener noreferrer"' in second
