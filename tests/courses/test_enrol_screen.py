"""A resident's own enrolment on an open course (services/course_enrolment.py and the short screen
at /me/courses/enrol/<run>): eligible, under 16, not served, as a relative, the crisis questions
(crisis help shown at once, an urgent flag on the team), a full course, an open episode reused,
bad input, and the public pages."""
from __future__ import annotations

from sqlalchemy import func, select

from rph_pwa.models import CourseParticipant, Episode, Referral, UrgentFlag
from tests.factories import email, make_course_run, make_monitored_episode, make_resident, make_team


def _signed_in(db, actions, *, capacity: int = 10, first_in_days: float = 7, team=None):
    """An open run of a new team and a signed-in resident (reading English) living where it serves."""
    team = team or make_team(db)
    run, _leaders = make_course_run(db, team=team, capacity=capacity, is_open=True, first_in_days=first_in_days)
    address = email()
    resident = make_resident(db, team=team, email=address)
    resident.locale = "en"
    db.commit()
    actions.resident_login(address)
    return run, resident, team


def _answers(team, **changes) -> dict:
    return {"role": "participant", "age": "34", "municipality": str(team.municipalities[0].id), "crisis": "no",
            "item9": "0", **changes}


def _url(run) -> str:
    return f"/me/courses/enrol/{run.id}"


def test_eligible_participant_gets_a_course_referral_an_episode_and_a_place(db, actions):
    run, resident, team = _signed_in(db, actions)
    response = actions.post_form(_url(run), _answers(team))
    assert response.status_code == 302 and response.headers["Location"].endswith("/me/courses")
    db.expire_all()
    participant = db.scalars(select(CourseParticipant).where(CourseParticipant.user_id == resident.id)).one()
    assert participant.status == "enrolled" and participant.role == "participant"
    episode = db.get(Episode, participant.episode_id)
    assert episode.team_id == team.id and episode.offerings == "course"
    referral = db.get(Referral, episode.referral_id)
    assert referral.channel == "course" and referral.status == "accepted" and referral.urgent is False
    assert referral.age_band == "25-34" and referral.municipality_id == team.municipalities[0].id
    assert referral.answers["course"] == {"run_id": run.id, "role": "participant"}
    page = actions.client.get("/me/courses").get_data(as_text=True)
    assert run.template.title in page and "Møte 1" in page and "Innhold 2" in page
    assert "Leave the course" in page


def test_an_open_episode_in_the_team_is_reused(db, actions):
    run, resident, team = _signed_in(db, actions)
    episode = make_monitored_episode(db, team=team, resident=resident, offerings="individual")
    db.commit()
    assert actions.post_form(_url(run), _answers(team)).status_code == 302
    db.expire_all()
    participant = db.scalars(select(CourseParticipant).where(CourseParticipant.user_id == resident.id)).one()
    assert participant.episode_id == episode.id
    assert db.get(Episode, episode.id).offerings == "individual,course"
    assert db.scalar(select(func.count()).select_from(Referral).where(Referral.resident_id == resident.id)) == 1


def test_under_16_is_told_kindly_and_nothing_is_stored(db, actions):
    run, resident, team = _signed_in(db, actions)
    response = actions.post_form(_url(run), _answers(team, age="15"))
    assert response.status_code == 200
    assert "Help for young people under 16" in response.get_data(as_text=True)
    db.expire_all()
    assert not db.scalars(select(CourseParticipant).where(CourseParticipant.user_id == resident.id)).all()
    assert not db.scalars(select(Referral).where(Referral.resident_id == resident.id)).all()


def test_under_16_in_crisis_gets_help_for_young_people_first(db, actions):
    run, resident, team = _signed_in(db, actions)
    response = actions.post_form(_url(run), _answers(team, age="14", crisis="yes", item9=""))
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "crisis-panel" in text and "116111" in text


def test_a_municipality_the_run_does_not_serve_is_told_where_to_go(db, actions):
    run, resident, _team = _signed_in(db, actions)
    elsewhere = make_team(db)
    db.commit()
    response = actions.post_form(_url(run), _answers(elsewhere))
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "Where you can get help instead" in text
    assert elsewhere.municipalities[0].name in text
    db.expire_all()
    assert not db.scalars(select(CourseParticipant).where(CourseParticipant.user_id == resident.id)).all()


def test_a_sharing_teams_resident_is_served_and_referred_to_that_team(db, actions):
    from tests.factories import make_course_run as make_run

    home, other = make_team(db), make_team(db)
    run, _ = make_run(db, team=other, is_open=True, shared_with=[home])
    address = email()
    resident = make_resident(db, team=home, email=address)
    db.commit()
    actions.resident_login(address)
    assert actions.post_form(_url(run), _answers(home)).status_code == 302
    db.expire_all()
    participant = db.scalars(select(CourseParticipant).where(CourseParticipant.user_id == resident.id)).one()
    assert db.get(Episode, participant.episode_id).team_id == home.id


def test_a_relative_has_no_episode_and_no_forms(db, actions):
    run, resident, team = _signed_in(db, actions)
    assert actions.post_form(_url(run), _answers(team, role="relative")).status_code == 302
    db.expire_all()
    participant = db.scalars(select(CourseParticipant).where(CourseParticipant.user_id == resident.id)).one()
    assert participant.role == "relative" and participant.episode_id is None and participant.fills_forms is False
    assert not db.scalars(select(Referral).where(Referral.resident_id == resident.id)).all()
    assert "You take part as a relative." in actions.client.get("/me/courses").get_data(as_text=True)


def test_item9_above_0_shows_crisis_help_at_once_and_flags_the_team(db, actions):
    run, resident, team = _signed_in(db, actions)
    response = actions.post_form(_url(run), _answers(team, item9="2"))
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "crisis-panel" in text
    for number in ("tel:113", "tel:116117", "tel:116123", "tel:22400040"):
        assert number in text
    assert "not an emergency service" in text
    db.expire_all()
    flags = db.scalars(select(UrgentFlag).where(UrgentFlag.resident_id == resident.id)).all()
    assert [(f.reason, f.team_id) for f in flags] == [("item9", team.id)]
    participant = db.scalars(select(CourseParticipant).where(CourseParticipant.user_id == resident.id)).one()
    episode = db.get(Episode, participant.episode_id)
    assert flags[0].episode_id == episode.id and episode.urgent_since is not None
    assert db.get(Referral, episode.referral_id).urgent is True


def test_in_crisis_now_flags_the_team_for_a_relative_too(db, actions):
    run, resident, team = _signed_in(db, actions)
    response = actions.post_form(_url(run), _answers(team, role="relative", crisis="yes"))
    assert response.status_code == 200 and "crisis-panel" in response.get_data(as_text=True)
    db.expire_all()
    flags = db.scalars(select(UrgentFlag).where(UrgentFlag.resident_id == resident.id)).all()
    assert [(f.reason, f.team_id) for f in flags] == [("crisis", team.id)]


def test_a_crisis_answer_with_other_errors_still_shows_crisis_help(db, actions):
    run, _resident, team = _signed_in(db, actions)
    response = actions.post_form(_url(run), _answers(team, age="", crisis="yes"))
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="crisis-panel"' in text
    assert 'aria-labelledby="crisis-panel-title" hidden' not in text


def test_full_course_puts_the_resident_on_the_waiting_list_and_says_so(db, actions):
    run, resident, team = _signed_in(db, actions, capacity=1)
    from tests.factories import enrol_participant

    enrol_participant(db, run=run)
    db.commit()
    assert "waiting list" in actions.client.get(f"/kurs/{run.id}").get_data(as_text=True)
    response = actions.post_form(_url(run), _answers(team))
    assert response.status_code == 302
    page = actions.client.get("/me/courses").get_data(as_text=True)
    assert "You are on the waiting list." in page and "Leave the waiting list" in page
    db.expire_all()
    status = db.scalars(select(CourseParticipant.status).where(CourseParticipant.user_id == resident.id)).one()
    assert status == "waiting"


def test_bad_input_gets_clear_messages_and_keeps_the_answers(db, actions):
    run, resident, team = _signed_in(db, actions)
    response = actions.post_form(_url(run), {"role": "boss", "age": "tretti", "municipality": "", "crisis": "no",
                                             "item9": "x"})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose how you will take part." in text
    assert "Write how old you are, as a number, for example 34." in text
    assert "Choose the municipality you live in." in text
    assert 'value="tretti"' in text
    assert 'checked id="crisis-1" name="crisis" required type="radio" value="no"' in text
    assert "Not a valid choice" not in text and "coerce" not in text and "Answer the question about thoughts" in text
    assert 'aria-labelledby="crisis-panel-title" hidden' in text  # no crisis answer: the panel waits
    db.expire_all()
    assert not db.scalars(select(CourseParticipant).where(CourseParticipant.user_id == resident.id)).all()


def test_a_closed_or_unknown_run_is_404(db, actions):
    run, _resident, team = _signed_in(db, actions)
    closed, _ = make_course_run(db, team=team, is_open=False)
    db.commit()
    assert actions.client.get(f"/me/courses/enrol/{closed.id}").status_code == 404
    assert actions.client.get(f"/kurs/{closed.id}").status_code == 404
    assert actions.client.get("/me/courses/enrol/999999999").status_code == 404
    assert actions.client.get("/kurs/999999999").status_code == 404


def test_public_pages_list_open_runs_without_names(db, client):
    team = make_team(db)
    run, leaders = make_course_run(db, team=team, is_open=True, capacity=3)
    closed, _ = make_course_run(db, team=team, is_open=False)
    db.commit()
    client.set_cookie("lang", "en")
    listing = client.get("/kurs").get_data(as_text=True)
    assert run.template.title in listing and closed.template.title not in listing
    assert "3 places left." in listing
    detail = client.get(f"/kurs/{run.id}").get_data(as_text=True)
    assert "Møte 1" in detail and "Kulturhuset, sal 2" in detail
    assert f"/login?next=/me/courses/enrol/{run.id}" in detail
    for leader in leaders:
        assert leader.display_name not in listing and leader.display_name not in detail


def test_a_run_that_has_begun_is_listed_only_with_places_left(db, client):
    team = make_team(db)
    begun_full, _ = make_course_run(db, team=team, is_open=True, capacity=1, first_in_days=-1)
    begun_free, _ = make_course_run(db, team=team, is_open=True, capacity=5, first_in_days=-1)
    from tests.factories import enrol_participant

    enrol_participant(db, run=begun_full)
    db.commit()
    listing = client.get("/kurs").get_data(as_text=True)
    assert begun_free.template.title in listing and begun_full.template.title not in listing


def test_sign_in_with_next_comes_back_to_the_screen(db, actions, client):
    team = make_team(db)
    run, _ = make_course_run(db, team=team, is_open=True)
    address = email()
    make_resident(db, team=team, email=address)
    db.commit()
    client.get(f"/login?next=/me/courses/enrol/{run.id}")
    response = actions.resident_login(address)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/me/courses/enrol/{run.id}")


def test_sign_in_ignores_a_next_to_another_site(db, actions, client):
    address = email()
    make_resident(db, team=make_team(db), email=address)
    db.commit()
    client.get("/login?next=//evil.example/x")
    response = actions.resident_login(address)
    assert "evil" not in response.headers["Location"]


def test_a_course_that_has_begun_shows_its_next_meeting_not_its_first(db, client):
    from tests.factories import make_course_run

    run, _ = make_course_run(db, is_open=True, first_in_days=-8)
    db.commit()
    client.set_cookie("lang", "en")
    page = client.get("/kurs").get_data(as_text=True)
    assert "The course has begun. Next time:" in page and run.meetings[2].starts_at.isoformat() in page
