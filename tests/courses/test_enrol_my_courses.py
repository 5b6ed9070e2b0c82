"""The resident's course page (/me/courses): the next meeting, the video link only shortly before,
the workbook files for participants only (a download, never sniffed), withdrawing (the place goes
to the waiting list), another resident's participation is 404, and the menu's "Courses" entry."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from rph_pwa.models import CourseMaterial, CourseParticipant, User
from rph_pwa.services import course_enrolment
from rph_pwa.services.accounts import set_email
from tests.conftest import form_token
from tests.factories import email, enrol_participant, make_course_run, make_resident


def _sign_in(db, actions, user: User) -> None:
    from flask import current_app

    address = email()
    set_email(user, address, current_app.extensions["rph_crypto"])
    user.locale = "en"
    db.commit()
    actions.resident_login(address)


def _material(db, run) -> CourseMaterial:
    material = CourseMaterial(template_id=run.template_id, filename="Arbeidsbok møte 1.pdf",
                              content_type="application/pdf", size=9, data=b"%PDF-1.4\n")
    db.add(material)
    db.flush()
    return material


def test_video_link_shows_only_shortly_before_a_meeting(db):
    run, _ = make_course_run(db, is_open=True)
    run.mode, run.video_link = "video", "https://video.example.no/rom/1"
    participant = enrol_participant(db, run=run)
    first = run.meetings[0].starts_at
    early = course_enrolment.my_courses(db, resident=participant.user, now=first - timedelta(minutes=20))[0]
    soon = course_enrolment.my_courses(db, resident=participant.user, now=first - timedelta(minutes=10))[0]
    assert early.video_link is None and soon.video_link == "https://video.example.no/rom/1"
    assert early.next_meeting.number == 1


def test_waiting_list_gets_no_video_link_and_no_workbook(db):
    run, _ = make_course_run(db, capacity=1)
    run.mode, run.video_link = "video", "https://video.example.no/rom/2"
    _material(db, run)
    enrol_participant(db, run=run)
    waiting = enrol_participant(db, run=run)
    mine = course_enrolment.my_courses(db, resident=waiting.user, now=run.meetings[0].starts_at)[0]
    assert mine.status == "waiting" and mine.video_link is None and mine.materials == []


def test_course_page_shows_meetings_and_workbook_and_never_other_participants(db, actions):
    run, leaders = make_course_run(db, is_open=True)
    material = _material(db, run)
    mine = enrol_participant(db, run=run)
    other = enrol_participant(db, run=run)
    other.user.display_name = "Annen Deltakersen"
    _sign_in(db, actions, mine.user)
    page = actions.client.get("/me/courses").get_data(as_text=True)
    assert "Møte 3" in page and "Innhold 3" in page and "Arbeidsbok møte 1.pdf" in page
    assert f"/me/courses/materials/{material.id}" in page
    assert "Annen Deltakersen" not in page
    assert "{# evaluation links" not in page
    nav = page[page.index('class="tab-bar"'):]
    assert 'href="/me/courses"' in nav[:nav.index("</nav>")]
    download = actions.client.get(f"/me/courses/materials/{material.id}")
    assert download.status_code == 200 and download.data == b"%PDF-1.4\n"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_workbook_of_another_template_is_404(db, actions):
    run, _ = make_course_run(db)
    other_run, _ = make_course_run(db)
    material = _material(db, other_run)
    participant = enrol_participant(db, run=run)
    _sign_in(db, actions, participant.user)
    assert actions.client.get(f"/me/courses/materials/{material.id}").status_code == 404
    assert actions.client.get("/me/courses/materials/999999999").status_code == 404


def test_no_course_no_menu_entry(db, actions):
    resident = make_resident(db)
    _sign_in(db, actions, resident)
    page = actions.client.get("/me/courses").get_data(as_text=True)
    assert "You are not signed up for any course." in page
    home = actions.client.get("/me").get_data(as_text=True)
    nav = home[home.index('class="tab-bar"'):]
    assert 'href="/me/courses"' not in nav[:nav.index("</nav>")]


def test_withdrawing_frees_the_place_for_the_waiting_list(db, actions):
    run, _ = make_course_run(db, capacity=1)
    mine = enrol_participant(db, run=run)
    waiting = enrol_participant(db, run=run)
    _sign_in(db, actions, mine.user)
    token = form_token(actions.client, "/me/courses")
    response = actions.client.post(f"/me/courses/{mine.id}/withdraw", data={"csrf_token": token})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(CourseParticipant, mine.id).status == "withdrawn"
    assert db.get(CourseParticipant, waiting.id).status == "enrolled"


def test_withdrawing_without_csrf_changes_nothing(db, actions):
    run, _ = make_course_run(db)
    mine = enrol_participant(db, run=run)
    _sign_in(db, actions, mine.user)
    actions.client.post(f"/me/courses/{mine.id}/withdraw", data={})
    db.expire_all()
    assert db.get(CourseParticipant, mine.id).status == "enrolled"


def test_another_residents_participation_is_404(db, actions):
    run, _ = make_course_run(db)
    mine, theirs = enrol_participant(db, run=run), enrol_participant(db, run=run)
    _sign_in(db, actions, mine.user)
    token = form_token(actions.client, "/me/courses")
    response = actions.client.post(f"/me/courses/{theirs.id}/withdraw", data={"csrf_token": token})
    assert response.status_code == 404
    db.expire_all()
    assert db.scalar(select(CourseParticipant.status).where(CourseParticipant.id == theirs.id)) == "enrolled"


def test_an_evaluation_sent_out_shows_on_my_courses_and_goes_once_it_is_answered(db, actions, client):
    from rph_pwa.services import course_evaluation

    run, _ = make_course_run(db, first_in_days=-30)
    participant = enrol_participant(db, run=run, role="relative")
    link = course_evaluation.open_evaluation(db, run=run)[0]
    _sign_in(db, actions, participant.user)
    page = client.get("/me/courses").get_data(as_text=True)
    assert f"/evaluering/{link.token}" in page
    course_evaluation.submit(db, token=link.token, scores={"relevance": 4, "delivery": 4, "material": 4})
    db.commit()
    assert f"/evaluering/{link.token}" not in client.get("/me/courses").get_data(as_text=True)
