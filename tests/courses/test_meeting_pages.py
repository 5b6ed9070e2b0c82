"""The leader's meeting page and its actions, the shared check-in screen and the participant's
QR check-in, through HTTP."""
from __future__ import annotations

import html

from flask import current_app
from markupsafe import Markup
from sqlalchemy import select

from rph_pwa.models import AuditEvent, CourseAttendanceMark, CourseMeeting
from rph_pwa.services.accounts import set_email
from rph_pwa.web import dedented
from tests.conftest import form_token, new_email_address, post_form, random_address, refresh
from tests.factories import answer_course_form, enrol_participant, make_course_run, make_staff, make_team


def _led_run(db, actions, **kwargs):
    """A run led by the signed-in therapist (and a colleague)."""
    team = make_team(db)
    leader = actions.login_staff(db, team)
    colleague, _ = make_staff(db, teams=[team])
    run, _ = make_course_run(db, team=team, leaders=[leader, colleague], **kwargs)
    return run, leader


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_leader_sees_people_flags_and_record_notes_and_the_view_is_audited(db, client, actions):
    run, leader = _led_run(db, actions)
    flagged, calm = enrol_participant(db, run=run), enrol_participant(db, run=run)
    relative = enrol_participant(db, run=run, role="relative")
    flagged.user.display_name, calm.user.display_name, relative.user.display_name = "Kari", "Ola", "Per"
    meeting = run.meetings[0]
    answer_course_form(db, participant=flagged, meeting=meeting, code="PHQ-9", total=9, item9=2)
    db.commit()
    response = client.get(f"/therapist/courses/meetings/{meeting.id}")
    assert response.status_code == 200
    page = _text(response)
    assert all(name in page for name in ("Kari", "Ola", "Per", "Relative"))
    assert "Item 9 above 0" in page and 'data-flag="item9"' in page and page.count('data-flag="') == 1
    assert f"/therapist/courses/participants/{flagged.id}/talk" in page
    assert f"/therapist/courses/participants/{calm.id}/talk" not in page
    assert "Kursmøte 1 av 4" in page and "PHQ-9 9" in page
    refresh(db)
    shown = db.scalars(select(AuditEvent.subject_id).where(AuditEvent.actor_id == leader.id,
                                                           AuditEvent.object_type == "course_meeting")).all()
    assert sorted(shown) == sorted([flagged.user_id, calm.user_id, relative.user_id])


def test_the_attendance_list_is_sent_without_its_template_indentation(db, client, actions):
    run, _ = _led_run(db, actions)
    for name in ("Kari", "Ola"):
        enrol_participant(db, run=run).user.display_name = name
    db.commit()
    page = client.get(f"/therapist/courses/meetings/{run.meetings[0].id}").get_data(as_text=True)
    attendance = page[page.index('<ul id="attendance">'):]
    attendance = attendance[:attendance.index("</ul>")]
    assert attendance.count("data-attendance-tap") == 2 and "Kari" in attendance and "Ola" in attendance
    assert "\n " not in attendance  # a browser shows it the same; forty rows lose about 7 KB


def test_dedented_keeps_everything_but_the_indentation():
    assert dedented(Markup("<ul>\n    <li>a &amp; b</li>\n\t</ul>")) == Markup("<ul>\n<li>a &amp; b</li>\n</ul>")


def test_a_colleague_who_does_not_lead_gets_404(db, client, actions):
    run, _ = make_course_run(db)
    actions.login_staff(db, run.team)
    meeting = run.meetings[0]
    assert client.get(f"/therapist/courses/meetings/{meeting.id}").status_code == 404
    assert client.get(f"/therapist/courses/meetings/{meeting.id}/check-in").status_code == 404


def test_attendance_tap_by_form_and_by_script(db, client, actions):
    run, _ = _led_run(db, actions)
    first, second = enrol_participant(db, run=run), enrol_participant(db, run=run)
    meeting = run.meetings[0]
    db.commit()
    url = f"/therapist/courses/meetings/{meeting.id}"
    response = post_form(client, f"{url}/attendance", {"participant": first.id, "status": "attended"}, page=url)
    assert response.status_code == 302 and response.location.endswith(f"{url}#person-{first.id}")
    token = form_token(client, url)
    response = client.post(f"{url}/attendance", data={"csrf_token": token, "participant": second.id,
                                                      "status": "absent"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json["status"] == "absent"
    refresh(db)
    assert db.get(CourseAttendanceMark, (meeting.id, first.id)).status == "attended"
    assert db.get(CourseAttendanceMark, (meeting.id, second.id)).status == "absent"
    # Bad input: no choice, or someone of another run.
    bad = client.post(f"{url}/attendance", data={"csrf_token": token, "participant": first.id, "status": "maybe"},
                      headers={"Accept": "application/json"})
    assert bad.status_code == 400
    stranger = enrol_participant(db, run=make_course_run(db)[0])
    db.commit()
    assert client.post(f"{url}/attendance", data={"csrf_token": token, "participant": stranger.id,
                                                   "status": "attended"}).status_code == 404


def test_content_note_is_saved_and_a_talk_booked(db, client, actions):
    run, _ = _led_run(db, actions)
    participant = enrol_participant(db, run=run)
    meeting = run.meetings[0]
    answer_course_form(db, participant=participant, meeting=meeting, code="PHQ-9", total=21)
    db.commit()
    url = f"/therapist/courses/meetings/{meeting.id}"
    response = post_form(client, f"{url}/note", {"note": "Tanker, følelser og handlinger."}, page=url, prefix="note")
    assert response.status_code == 302
    refresh(db)
    assert db.get(CourseMeeting, meeting.id).content_note == "Tanker, følelser og handlinger."
    day = (meeting.starts_at.date()).isoformat()
    talk = f"/therapist/courses/participants/{participant.id}/talk"
    prefix = f"talk{participant.id}"
    bad = post_form(client, talk, {"day": "", "time": "10:00", "duration": "30", "mode": "phone", "place": ""},
                    page=url, prefix=prefix)
    assert bad.status_code == 400 and "Enter the date." in _text(bad)
    token = form_token(client, url)
    response = client.post(talk, data={f"{prefix}-csrf_token": token, f"{prefix}-day": day, f"{prefix}-time": "10:00",
                                       f"{prefix}-duration": "30", f"{prefix}-mode": "phone", "meeting": meeting.id})
    assert response.status_code == 302 and response.location.endswith(url)


def test_check_in_screen_shows_the_code_and_no_person(db, client, actions):
    run, _ = _led_run(db, actions)
    participant = enrol_participant(db, run=run)
    participant.user.display_name = "Kari"
    meeting = run.meetings[0]
    answer_course_form(db, participant=participant, meeting=meeting, code="PHQ-9", total=22, item9=1)
    db.commit()
    page = _text(client.get(f"/therapist/courses/meetings/{meeting.id}/check-in"))
    assert f"/me/courses/check-in/{meeting.check_in_code}" in page and "<svg" in page
    assert "Kari" not in page and "PHQ-9" not in page and "Item 9" not in page


def _participant_signed_in(db, actions, run):
    participant = enrol_participant(db, run=run)
    address = new_email_address()
    set_email(participant.user, address, current_app.extensions["rph_crypto"])
    participant.user.locale = "en"
    db.commit()
    actions.resident_login(address)
    return participant


def test_qr_check_in_confirms_then_marks_and_refuses_other_codes_alike(db, client, actions):
    client.environ_base["REMOTE_ADDR"] = random_address()
    run, _ = make_course_run(db, first_in_days=0.01)
    later, _ = make_course_run(db)  # not open for check-in yet
    participant = _participant_signed_in(db, actions, run)
    meeting = run.meetings[0]
    url = f"/me/courses/check-in/{meeting.check_in_code}"
    page = client.get(url)
    assert page.status_code == 200 and "I am here" in _text(page)
    refresh(db)
    assert db.get(CourseAttendanceMark, (meeting.id, participant.id)) is None  # a GET changes nothing
    assert post_form(client, url).status_code == 200
    refresh(db)
    assert db.get(CourseAttendanceMark, (meeting.id, participant.id)).via == "qr"
    answers = [client.get(f"/me/courses/check-in/{code}") for code in
               ("unknown-code", later.meetings[0].check_in_code, "x" * 300)]
    assert {a.status_code for a in answers} == {404}
    # One neutral message, whatever the reason.
    assert len({_text(a).split("<main", 1)[1].split("</main>", 1)[0] for a in answers}) == 1


def test_check_in_when_signed_out_goes_to_sign_in(db, client):
    run, _ = make_course_run(db, first_in_days=0.01)
    db.commit()
    response = client.get(f"/me/courses/check-in/{run.meetings[0].check_in_code}")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_signing_in_after_a_scan_comes_back_to_the_check_in(db, client, actions):
    client.environ_base["REMOTE_ADDR"] = random_address()
    run, _ = make_course_run(db, first_in_days=0.01)
    participant = enrol_participant(db, run=run)
    address = new_email_address()
    set_email(participant.user, address, current_app.extensions["rph_crypto"])
    db.commit()
    url = f"/me/courses/check-in/{run.meetings[0].check_in_code}"
    assert client.get(url, headers={"Sec-Fetch-Mode": "navigate"}).location.startswith("/login")
    # A script's fetch of another page meanwhile does not take its place.
    assert client.get("/me/contact-card", headers={"Sec-Fetch-Mode": "cors"}).location.startswith("/login")
    response = actions.resident_login(address)
    assert response.status_code == 302 and response.location == url
    # Only once, and never to another site.
    with client.session_transaction() as session:
        assert "next" not in session
        session["next"] = "//evil.example/me/"
    assert client.get("/login").location == "/me"


def test_safe_next_keeps_local_paths_only():
    from rph_pwa.auth.signin import safe_next

    assert safe_next("/me/courses/check-in/abc") == "/me/courses/check-in/abc"
    for bad in ("//evil.example", "/\\evil.example", "https://evil.example/", "me", "/me/\nx", None, 7, "/" * 600):
        assert safe_next(bad) is None
