"""The staff's course administration pages (therapist.courses and the pages under it): listing,
templates with their meetings and files, runs, the run page, enrolment and withdrawal, meetings
moved and cancelled, and bad input refused with a message (never a 500)."""
from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from rph_pwa.db import utcnow
from rph_pwa.localtime import local_today
from rph_pwa.models import AuditEvent, CourseMaterial, CourseMeeting, CourseParticipant, CourseRun, CourseTemplate
from tests.conftest import refresh
from tests.factories import enrol_participant, make_course_run, make_monitored_episode, make_staff, make_team, unique


def template_data(team, **overrides):
    data = {"team": str(team.id), "title": unique("Kurs i søvn"), "kind": "course", "audience": "Voksne",
            "meeting_count": "4", "meeting_minutes": "120", "capacity": "12", "instruments": ["PHQ-9", "GAD-7"],
            "meetings-0-title": "Om søvn", "meetings-0-content": "Søvnhygiene"}
    data.update(overrides)
    return data


def test_a_template_is_made_and_shown_with_its_meetings(db, actions):
    team = make_team(db)
    actions.login_staff(db, team)
    assert actions.client.get("/therapist/courses").status_code == 200
    data = template_data(team)
    response = actions.post_form("/therapist/courses/templates/new", data, prefix="template")
    assert response.status_code == 302, response.get_data(as_text=True)
    refresh(db)
    template = db.scalar(select(CourseTemplate).where(CourseTemplate.title == data["title"]))
    assert template.team_id == team.id and template.instruments == ["PHQ-9", "GAD-7"]
    assert [m.title for m in template.meetings] == ["Om søvn", "", "", ""]
    page = actions.client.get(f"/therapist/courses/templates/{template.id}").get_data(as_text=True)
    assert data["title"] in page and "Om søvn" in page
    assert data["title"] in actions.client.get("/therapist/courses").get_data(as_text=True)


def test_bad_template_input_is_refused_with_messages(db, actions):
    team = make_team(db)
    actions.login_staff(db, team)
    for overrides, message in [({"meeting_count": "0"}, "Enter a number from 1 to 20."),
                               ({"meeting_count": "99999999999999999999"}, "Enter a number from 1 to 20."),
                               ({"capacity": "500"}, "Enter a number from 1 to 200."),
                               ({"title": "x" * 5000}, "Use at most 200 characters."),
                               ({"instruments": ["SESSION-FEEDBACK"]}, "not a valid choice"),
                               ({"meetings-0-content": "y" * 50000}, "Use at most 5000 characters.")]:
        response = actions.post_form("/therapist/courses/templates/new", template_data(team, **overrides),
                                     prefix="template")
        assert response.status_code == 400, overrides
        assert message.lower() in response.get_data(as_text=True).lower(), overrides
    other = make_team(db)
    db.commit()
    response = actions.post_form("/therapist/courses/templates/new", template_data(other), prefix="template")
    assert response.status_code == 400


def test_workbook_file_upload_download_and_delete(db, actions):
    run, leaders = make_course_run(db)
    db.commit()
    actions.login_staff(db, run.team)
    url = f"/therapist/courses/templates/{run.template_id}"
    token = actions.client.get(url).get_data(as_text=True)
    from tests.conftest import csrf_token
    token = csrf_token(token)

    def upload(name, content):
        return actions.client.post(f"{url}/materials", data={"material-csrf_token": token,
                                                             "material-file": (io.BytesIO(content), name)},
                                   content_type="multipart/form-data")

    response = upload("arbeidsbok.pdf", b"%PDF-1.4 test")
    assert response.status_code == 302
    refresh(db)
    material = db.scalar(select(CourseMaterial).where(CourseMaterial.template_id == run.template_id))
    assert material.content_type == "application/pdf" and material.filename == "arbeidsbok.pdf"
    download = actions.client.get(f"/therapist/courses/materials/{material.id}")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 test"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    bad = upload("virus.exe", b"MZ")
    assert bad.status_code == 400 and "This kind of file cannot be uploaded" in bad.get_data(as_text=True)
    big = upload("stor.pdf", b"0" * (10 * 1024 * 1024 + 10))
    assert big.status_code == 400 and "larger than 10 MB" in big.get_data(as_text=True)
    huge = upload("enorm.pdf", b"0" * (12 * 1024 * 1024))
    assert huge.status_code == 413 and "What you sent was too large" in huge.get_data(as_text=True)
    material_id = material.id
    response = actions.post_form(f"/therapist/courses/materials/{material_id}/delete", page=url)
    assert response.status_code == 302
    refresh(db)
    assert db.scalar(select(CourseMaterial.id).where(CourseMaterial.id == material_id)) is None


def run_data(chosen, **overrides):
    data = {"first_day": (local_today() + timedelta(days=10)).isoformat(), "time": "17:00", "mode": "office",
            "place": "Kulturhuset", "video_link": "", "capacity": "8", "leaders": [str(u.id) for u in chosen],
            "evaluation_anonymous": "anonymous"}
    data.update(overrides)
    return data


def test_a_run_is_made_weekly_and_bad_input_refused(db, actions):
    run, leaders = make_course_run(db)
    db.commit()
    me = actions.login_staff(db, run.team)
    url = f"/therapist/courses/templates/{run.template_id}/runs/new"
    assert actions.client.get(url).status_code == 200
    for overrides, message in [({"first_day": (local_today() - timedelta(days=3)).isoformat()},
                                "Choose dates in the future"),
                               ({"leaders": []}, "Choose at least one leader"),
                               ({"leaders": ["999999999"]}, "not a valid choice"),
                               ({"capacity": "0"}, "Enter a number from 1 to 200."),
                               ({"mode": "video", "video_link": ""}, "Enter the video link."),
                               ({"first_day": "0202-01-01"}, "between the years 2000 and 2100")]:
        response = actions.post_form(url, run_data(leaders, **overrides), prefix="run")
        assert response.status_code == 400, overrides
        assert message.lower() in response.get_data(as_text=True).lower(), overrides
    response = actions.post_form(url, run_data([me, leaders[0]]), prefix="run")
    assert response.status_code == 302
    refresh(db)
    new = db.get(CourseRun, int(response.headers["Location"].rsplit("/", 1)[1]))
    starts = [m.starts_at for m in new.meetings]
    assert len(starts) == 4 and all(b - a == timedelta(weeks=1) for a, b in zip(starts, starts[1:]))
    assert {leader.user_id for leader in new.leaders} == {me.id, leaders[0].id} and new.capacity == 8
    page = actions.client.get(f"/therapist/courses/runs/{new.id}/edit")
    assert page.status_code == 200
    response = actions.post_form(f"/therapist/courses/runs/{new.id}/edit",
                                 run_data([me], mode="video", video_link="https://video.example.no/x",
                                          capacity="3"), prefix="run")
    assert response.status_code == 302
    refresh(db)
    db.refresh(new)
    assert new.mode == "video" and new.place == "" and new.capacity == 3
    assert actions.client.get("/therapist/courses/runs/999999999").status_code == 404


def test_run_page_lists_participants_audited_and_enrols_and_withdraws(db, actions):
    run, leaders = make_course_run(db, capacity=1)
    first = enrol_participant(db, run=run)
    db.commit()
    me = actions.login_staff(db, run.team)
    page = actions.client.get(f"/therapist/courses/runs/{run.id}").get_data(as_text=True)
    assert first.user.display_name in page
    refresh(db)
    events = db.scalars(select(AuditEvent).where(AuditEvent.actor_id == me.id,
                                                 AuditEvent.object_type == "course_run")).all()
    assert [e.subject_id for e in events] == [first.user_id]
    episode = make_monitored_episode(db, team=run.team, offerings="course")
    db.commit()
    response = actions.post_form(f"/therapist/courses/runs/{run.id}/enrol", {"episode": str(episode.id)},
                                 prefix="enrol", page=f"/therapist/courses/runs/{run.id}")
    assert response.status_code == 302
    refresh(db)
    second = db.scalar(select(CourseParticipant).where(CourseParticipant.episode_id == episode.id))
    assert second.status == "waiting" and second.enrolled_by_id == me.id
    response = actions.post_form(f"/therapist/courses/participants/{first.id}/withdraw",
                                 page=f"/therapist/courses/runs/{run.id}")
    assert response.status_code == 302
    refresh(db)
    db.refresh(second)
    assert second.status == "enrolled"
    response = actions.post_form(f"/therapist/courses/runs/{run.id}/enrol",
                                 {"team": str(run.team_id), "name": "Kari Pårørende", "email": "", "phone": ""},
                                 prefix="relative", page=f"/therapist/courses/runs/{run.id}")
    assert response.status_code == 400 and "e-mail address or a mobile number" in response.get_data(as_text=True)
    address = f"{unique('kari')}@example.no"
    response = actions.post_form(f"/therapist/courses/runs/{run.id}/enrol",
                                 {"team": str(run.team_id), "name": "Kari Pårørende", "email": address, "phone": ""},
                                 prefix="relative", page=f"/therapist/courses/runs/{run.id}")
    assert response.status_code == 302
    refresh(db)
    relative = db.scalar(select(CourseParticipant).where(CourseParticipant.run_id == run.id,
                                                         CourseParticipant.role == "relative"))
    assert relative.episode_id is None and relative.status == "waiting" and relative.fills_forms is False


def test_meetings_are_moved_and_cancelled(db, actions):
    run, leaders = make_course_run(db)
    participant = enrol_participant(db, run=run)
    db.commit()
    actions.login_staff(db, run.team)
    meeting = run.meetings[1]
    url = f"/therapist/courses/meetings/{meeting.id}/edit"
    page = f"/therapist/courses/runs/{run.id}"
    new_day = (local_today() + timedelta(days=40)).isoformat()
    response = actions.post_form(url, {"action": "move", "day": new_day, "time": "18:30"}, prefix="meeting",
                                 page=page)
    assert response.status_code == 302
    refresh(db)
    moved = db.get(CourseMeeting, meeting.id)
    assert moved.starts_at.date().isoformat() in (new_day, (local_today() + timedelta(days=39)).isoformat())
    past = (local_today() - timedelta(days=1)).isoformat()
    actions.post_form(url, {"action": "move", "day": past, "time": "18:30"}, prefix="meeting", page=page)
    assert "Choose a time in the future." in actions.client.get(page).get_data(as_text=True)
    response = actions.post_form(url, {"action": "cancel"}, prefix="meeting", page=page)
    assert response.status_code == 302
    refresh(db)
    assert db.get(CourseMeeting, meeting.id).cancelled
    assert participant.id


def test_another_team_sees_a_run_only_when_shared_and_only_its_own_participants(db, actions):
    home, other = make_team(db), make_team(db)
    run, leaders = make_course_run(db, team=home)
    theirs = enrol_participant(db, run=run)
    db.commit()
    actions.login_staff(db, other)
    assert actions.client.get(f"/therapist/courses/runs/{run.id}").status_code == 404
    assert run.template.title not in actions.client.get("/therapist/courses").get_data(as_text=True)
    assert actions.client.get(f"/therapist/courses/templates/{run.template_id}").status_code == 404
    refresh(db)
    from rph_pwa.models import CourseShare
    db.add(CourseShare(run_id=run.id, team_id=other.id))
    mine = enrol_participant(db, run=db.get(CourseRun, run.id), team=other)
    theirs.user.display_name, mine.user.display_name = unique("Annen Person"), unique("Egen Person")
    db.commit()
    page = actions.client.get(f"/therapist/courses/runs/{run.id}").get_data(as_text=True)
    assert mine.user.display_name in page and theirs.user.display_name not in page
    assert "2 of 10 places taken" in page
    assert actions.client.get(f"/therapist/courses/runs/{run.id}/edit").status_code == 404
    response = actions.post_form(f"/therapist/courses/participants/{theirs.id}/withdraw",
                                 page=f"/therapist/courses/runs/{run.id}")
    assert response.status_code == 404
    assert actions.client.get(f"/therapist/courses/runs/{run.id}").status_code == 200


def test_episode_page_offers_runs_open_to_its_team(db, actions):
    run, leaders = make_course_run(db, capacity=5)
    episode = make_monitored_episode(db, team=run.team, offerings="course")
    db.commit()
    actions.login_staff(db, run.team)
    page = actions.client.get(f"/therapist/episodes/{episode.id}").get_data(as_text=True)
    assert run.template.title in page and "5 free places" in page
    response = actions.post_form(f"/therapist/episodes/{episode.id}/course", {"run": str(run.id)}, prefix="course",
                                 page=f"/therapist/episodes/{episode.id}")
    assert response.status_code == 302
    refresh(db)
    assert db.scalar(select(CourseParticipant.status).where(CourseParticipant.episode_id == episode.id)) == "enrolled"
    assert utcnow()
    assert make_staff


def test_odd_ids_and_missing_files_get_messages_not_errors(db, actions):
    run, leaders = make_course_run(db)
    db.commit()
    actions.login_staff(db, run.team)
    huge = "99999999999999999999999"
    response = actions.post_form(f"/therapist/courses/templates/{run.template_id}/runs/new",
                                 run_data(leaders, shares=[huge, "x"]), prefix="run")
    assert response.status_code == 400
    response = actions.post_form(f"/therapist/courses/runs/{run.id}/enrol", {"episode": huge}, prefix="enrol",
                                 page=f"/therapist/courses/runs/{run.id}")
    assert response.status_code == 400 and "not a valid choice" in response.get_data(as_text=True).lower()
    response = actions.post_form(f"/therapist/courses/templates/{run.template_id}/materials", {}, prefix="material",
                                 page=f"/therapist/courses/templates/{run.template_id}")
    assert response.status_code == 400 and "Choose a file." in response.get_data(as_text=True)
    response = actions.post_form(f"/therapist/courses/meetings/{run.meetings[0].id}/edit",
                                 {"action": "move", "day": "not a day", "time": "25:99"}, prefix="meeting",
                                 page=f"/therapist/courses/runs/{run.id}")
    assert response.status_code == 302
    assert actions.client.get(f"/therapist/courses/materials/{huge}").status_code == 404
