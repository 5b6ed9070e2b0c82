"""The staff pages of guided self-help: assigning from an episode and to a group, ending, the
library and a programme in full, the team's own programmes, and the sleep window; access and
hostile input."""
from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from rph_pwa.localtime import local_today
from rph_pwa.models import Appointment, AuditEvent, ExternalProgramme, SelfHelpAssignment, SleepWindow, Worksheet
from rph_pwa.selfhelp import content
from tests.conftest import post_form, refresh
from tests.factories import make_monitored_episode, make_resident, make_selfhelp, make_team, unique


def _page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def _episode(db, team, therapist, name=None):
    resident = make_resident(db, team=team, name=name or unique("Beboer"))
    episode = make_monitored_episode(db, team=team, resident=resident)
    episode.responsible_id = therapist.id
    db.commit()
    return episode


def _assign_data(programme="sovn", weekday=None, pace="weekly", starts_on=None):
    return {"programme": programme, "weekday": str(local_today().weekday() if weekday is None else weekday),
            "pace": pace, "starts_on": (starts_on or local_today()).isoformat()}


def _open(db, episode_id):
    refresh(db)
    return db.scalars(select(SelfHelpAssignment).where(SelfHelpAssignment.open_episode_id == episode_id)).first()


def test_assign_from_the_episode_books_the_first_check_in_and_shows_the_modules(db, actions, client):
    team = make_team(db)
    me = actions.login_staff(db, team)
    episode = _episode(db, team, me, name="Kari Søvnløs")
    assert "/selfhelp" in _page(client, f"/therapist/episodes/{episode.id}")  # linked from the episode page
    url = f"/therapist/episodes/{episode.id}/selfhelp"
    page = _page(client, url)
    assert "Guided self-help: Kari Søvnløs" in page and "Søvn" in page and "Programmes in the app" in page
    weekday = (local_today().weekday() + 3) % 7
    response = post_form(client, url, _assign_data(weekday=weekday), prefix="assign")
    assert response.status_code == 302, response.get_data(as_text=True)
    assignment = _open(db, episode.id)
    assert (assignment.programme, assignment.checkin_weekday, assignment.pace) == ("sovn", weekday, "weekly")
    check_in = db.scalars(select(Appointment).where(Appointment.episode_id == episode.id,
                                                    Appointment.kind == "check_in")).one()
    assert check_in.starts_at is not None
    page = _page(client, url)
    assert "The programme is assigned and the first check-in is booked." in page
    assert "End programme" in page and "Not open yet" in page and "Sleep diary and sleep window" in page
    events = db.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == episode.resident_id)).all()
    assert "view_selfhelp" in events

    again = post_form(client, url, _assign_data(), prefix="assign", follow=True)
    assert "a programme is already open in it" in html.unescape(again.get_data(as_text=True))

    ended = post_form(client, f"{url}/end", {}, page=url, follow=True)
    assert "The programme is ended." in html.unescape(ended.get_data(as_text=True))
    assert _open(db, episode.id) is None
    twice = post_form(client, f"{url}/end", {}, page=url, follow=True)
    assert "No programme is open in this episode." in html.unescape(twice.get_data(as_text=True))


@pytest.mark.parametrize("changes, message", [
    ({"weekday": "9"}, "Choose a day from Monday to Sunday."),
    ({"weekday": "x"}, "Choose a day from Monday to Sunday."),
    ({"weekday": ""}, "Choose the check-in day."),
    ({"programme": "../../etc"}, "Choose one of the programmes in the list."),
    ({"pace": "fast"}, "Choose how the modules open."),
    ({"starts_on": "1999-01-01"}, "Choose a start date from today"),
    ({"starts_on": "not a date"}, "Not a valid date value"),
])
def test_hostile_assign_input_is_refused_and_changes_nothing(db, actions, client, changes, message):
    team = make_team(db)
    me = actions.login_staff(db, team)
    episode = _episode(db, team, me)
    url = f"/therapist/episodes/{episode.id}/selfhelp"
    response = post_form(client, url, {**_assign_data(), **changes}, prefix="assign")
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))
    assert _open(db, episode.id) is None


def test_another_teams_episode_and_programme_are_not_found(db, actions, client):
    team, other = make_team(db), make_team(db)
    actions.login_staff(db, team)
    _assignment, foreign, _therapist = make_selfhelp(db, team=other)
    db.commit()
    for url in (f"/therapist/episodes/{foreign.id}/selfhelp", f"/therapist/episodes/{foreign.id}/sleep-window"):
        assert client.get(url).status_code == 404
    assert post_form(client, f"/therapist/episodes/{foreign.id}/selfhelp/end", {},
                     page="/therapist/programmes").status_code == 404
    assert _open(db, foreign.id) is not None
    assert client.get("/therapist/programmes/no-such-programme").status_code == 404


def test_residents_are_refused(db, actions, client):
    actions.login_resident_without_referral(db)
    for url in ("/therapist/programmes", "/therapist/programmes/sovn", "/therapist/selfhelp/group",
                "/therapist/programmes/external"):
        assert client.get(url).status_code == 403


def test_drafts_hidden_means_an_unsigned_programme_cannot_be_assigned(app, db, actions, client, monkeypatch):
    team = make_team(db)
    me = actions.login_staff(db, team)
    episode = _episode(db, team, me)
    unsigned = next(slug for slug, p in content.programmes().items()
                    if all(m.is_draft for m in p.modules if m.programme == slug))
    monkeypatch.setitem(app.config, "SELFHELP_HIDE_DRAFTS", True)
    url = f"/therapist/episodes/{episode.id}/selfhelp"
    response = post_form(client, url, _assign_data(programme=unsigned), prefix="assign")
    assert response.status_code == 400
    assert "No module of this programme is signed off" in html.unescape(response.get_data(as_text=True))
    assert _open(db, episode.id) is None


def test_group_assign_gives_each_chosen_resident_the_programme(db, actions, client):
    team = make_team(db)
    me = actions.login_staff(db, team)
    first, second = _episode(db, team, me, name="Aase Gruppe"), _episode(db, team, me, name="Bjørn Gruppe")
    taken = _episode(db, team, me, name="Cecilie Gruppe")
    url = "/therapist/selfhelp/group"
    assert post_form(client, f"/therapist/episodes/{taken.id}/selfhelp", _assign_data(),
                     prefix="assign").status_code == 302
    page = _page(client, url)
    assert "Aase Gruppe" in page and "Bjørn Gruppe" in page and "Cecilie Gruppe" not in page
    refused = post_form(client, url, {**_assign_data(), "episodes": [str(first.id), str(taken.id)]}, prefix="group")
    assert refused.status_code == 400
    assert "Choose residents from the list." in html.unescape(refused.get_data(as_text=True))
    assert _open(db, first.id) is None
    nobody = post_form(client, url, _assign_data(), prefix="group")
    assert "Choose at least one resident." in html.unescape(nobody.get_data(as_text=True))

    response = post_form(client, url, {**_assign_data(pace="all"), "episodes": [str(first.id), str(second.id)]},
                         prefix="group", follow=True)
    assert "assigned to 2 residents" in html.unescape(response.get_data(as_text=True))
    assert _open(db, first.id).pace == "all" and _open(db, second.id).pace == "all"
    refresh(db)
    assert db.scalar(select(func.count(Appointment.id)).where(Appointment.episode_id.in_([first.id, second.id]),
                                                              Appointment.kind == "check_in")) == 2


def test_a_conflict_in_the_group_rolls_everything_back(db, actions, client, monkeypatch):
    from rph_pwa.services import selfhelp, selfhelp_library

    team = make_team(db)
    me = actions.login_staff(db, team)
    first, second = _episode(db, team, me), _episode(db, team, me)
    # The second gets a programme in another tab between the page and the post (a race): the
    # form still offers it, so the service's conflict must roll the first one back.
    monkeypatch.setattr(selfhelp_library, "group_candidates",
                        lambda session, actor: [selfhelp_library.GroupCandidate(first.id, "A", team.id),
                                                selfhelp_library.GroupCandidate(second.id, "B", team.id)])
    selfhelp.assign_programme(db, actor=me, episode_id=second.id, programme="stress", checkin_weekday=1)
    db.commit()
    data = {**_assign_data(), "episodes": [str(first.id), str(second.id)]}
    response = post_form(client, "/therapist/selfhelp/group", data, prefix="group")
    assert response.status_code == 400
    assert "Nobody got it." in html.unescape(response.get_data(as_text=True))
    assert _open(db, first.id) is None
    refresh(db)
    assert db.scalar(select(func.count(Appointment.id)).where(Appointment.episode_id == first.id)) == 0


def test_library_lists_every_programme_with_status_and_team_ratings(db, actions, client):
    team = make_team(db)
    me = actions.login_staff(db, team)
    assignment, _episode_, _t = make_selfhelp(db, team=team, therapist=me)
    from rph_pwa.services import selfhelp

    first_key = selfhelp.programme_modules(assignment)[0].key
    selfhelp.progress_row(db, assignment=assignment, module_key=first_key).rating = 4
    other, _e, _t2 = make_selfhelp(db, team=team, therapist=me)
    selfhelp.progress_row(db, assignment=other, module_key=first_key).rating = 5
    foreign, _e3, _t3 = make_selfhelp(db)  # another team's rating is not counted
    selfhelp.progress_row(db, assignment=foreign, module_key=first_key).rating = 1
    db.commit()
    page = _page(client, "/therapist/programmes")
    for programme in content.programmes().values():
        assert programme.title in page
    assert "2 ratings, mean 4.5 of 5" in page
    assert "Draft: not yet reviewed by a clinician" in page
    full = _page(client, "/therapist/programmes/sovn")
    sovn = content.programme("sovn")
    assert all(m.title in full for m in sovn.modules)
    assert "Exercise:" in full and "<h2" in full


def test_library_ratings_are_one_query(db, actions, client):
    team = make_team(db)
    me = actions.login_staff(db, team)
    from rph_pwa.services import selfhelp_library

    make_selfhelp(db, team=team, therapist=me)
    db.commit()
    from rph_pwa.db import get_session

    with client.application.app_context():
        session = get_session()
        actor = session.get(type(me), me.id)
        from tests.conftest import recorded_statements

        selfhelp_library.module_ratings(session, actor=actor)  # warm the team cache
        with recorded_statements(session.get_bind()) as statements:
            selfhelp_library.module_ratings(session, actor=actor)
        assert len([s for s in statements if s.startswith("SELECT")]) == 1


def test_register_and_retire_an_external_programme_then_assign_it(db, actions, client):
    team = make_team(db)
    me = actions.login_staff(db, team)
    url = "/therapist/programmes/external"
    lines = "Kapittel 1 | https://example.org/kap1\nKapittel 2 | sidene 34–51\nKapittel 3 | javascript:alert(1)"
    response = post_form(client, url, {"team": str(team.id), "title": "Bok om bekymring", "weeks": "5",
                                       "modules": lines}, prefix="external")
    assert response.status_code == 302, response.get_data(as_text=True)
    refresh(db)
    programme = db.scalars(select(ExternalProgramme).where(ExternalProgramme.team_id == team.id)).one()
    page = _page(client, url)
    assert '<a href="https://example.org/kap1"' in page and "javascript:alert(1)" in page
    assert 'href="javascript' not in page

    episode = _episode(db, team, me)
    assign_url = f"/therapist/episodes/{episode.id}/selfhelp"
    assert "Bok om bekymring" in _page(client, assign_url)
    response = post_form(client, assign_url, _assign_data(programme=f"team:{programme.id}"), prefix="assign")
    assert response.status_code == 302
    assert _open(db, episode.id).external_programme_id == programme.id
    page = _page(client, assign_url)
    assert "Kapittel 2" in page and "sidene 34–51" in page

    assert post_form(client, f"{url}/{programme.id}/retire", {}, page=url).status_code == 302
    refresh(db)
    assert db.get(ExternalProgramme, programme.id).retired_at is not None
    other = _episode(db, team, me)
    assert "Bok om bekymring" not in _page(client, f"/therapist/episodes/{other.id}/selfhelp")


@pytest.mark.parametrize("changes, message", [
    ({"title": "x" * 201}, "Use at most 200 characters."),
    ({"title": ""}, "Enter the title."),
    ({"weeks": "27"}, "Enter a number of weeks from 1 to 26."),
    ({"modules": "\n".join(f"Del {i} | side {i}" for i in range(41))}, "Write at most 40 modules."),
    ({"modules": " | https://example.org"}, "Line 1 has no title"),
    ({"modules": "Del 1 | " + "s" * 301}, "too long: use at most 300"),
    ({"modules": "y" * 201}, "The title on line 1 is too long"),
    ({"modules": "  \n "}, "Write at least one module"),
    ({"team": "999999"}, "Choose one of your teams."),
])
def test_hostile_external_programme_input(db, actions, client, changes, message):
    team = make_team(db)
    actions.login_staff(db, team)
    data = {"team": str(team.id), "title": "Bok", "weeks": "6", "modules": "Kapittel 1 | sidene 1-10", **changes}
    response = post_form(client, "/therapist/programmes/external", data, prefix="external")
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))
    refresh(db)
    assert db.scalar(select(func.count(ExternalProgramme.id)).where(ExternalProgramme.team_id == team.id)) == 0


def test_another_teams_external_programme_cannot_be_retired(db, actions, client):
    from rph_pwa.services import external_programmes

    team, other = make_team(db), make_team(db)
    actions.login_staff(db, team)
    _a, _e, stranger = make_selfhelp(db, team=other)
    foreign = external_programmes.register(db, actor=stranger, team_id=other.id, title="Deres bok", weeks=4,
                                           modules="Del 1 | side 1")
    db.commit()
    assert post_form(client, f"/therapist/programmes/external/{foreign.id}/retire", {},
                     page="/therapist/programmes/external").status_code == 404
    refresh(db)
    assert db.get(ExternalProgramme, foreign.id).retired_at is None
    assert "Deres bok" not in _page(client, "/therapist/programmes")


def _diary(db, resident_id, nights=7, **times):
    today = local_today()
    values = {"bedtime": "23:00", "lights_out": "23:00", "minutes_to_sleep": 30, "minutes_awake": 30,
              "woke": "06:00", "rose": "06:30", **times}
    for i in range(1, nights + 1):
        night = today - timedelta(days=i)
        db.add(Worksheet(resident_id=resident_id, kind="sleep_diary", client_key=unique("k"), for_date=night,
                         content={"night": night.isoformat(), **values}))
    db.commit()


ALL_CHECKED = ["bipolar", "epilepsy", "apnoea", "pregnancy", "sleepiness"]


def test_sleep_window_suggestion_checklist_and_approval(db, actions, client):
    team = make_team(db)
    me = actions.login_staff(db, team)
    assignment, episode, _t = make_selfhelp(db, team=team, therapist=me)
    _diary(db, episode.resident_id)
    url = f"/therapist/episodes/{episode.id}/sleep-window"
    page = _page(client, url)
    # 7.5 h in bed, 6 h asleep: efficiency 80 %; the first window is the mean time asleep.
    assert "80 percent over 7 nights" in page and "00:30–06:30" in page and "No window is approved yet." in page
    assert 'value="00:30"' in page and "bipolar disorder" in page and "pregnant" in page

    unchecked = post_form(client, url, {"bedtime": "00:30", "rise": "06:30", "checked": ALL_CHECKED[:4]},
                          prefix="window")
    assert unchecked.status_code == 400
    assert "Confirm each point" in html.unescape(unchecked.get_data(as_text=True))
    for bad in ({"bedtime": "25:00"}, {"rise": "6.30"}, {"bedtime": "<script>"}):
        response = post_form(client, url, {"bedtime": "00:30", "rise": "06:30", "checked": ALL_CHECKED, **bad},
                             prefix="window")
        assert response.status_code == 400
        assert "Write the time as HH:MM" in html.unescape(response.get_data(as_text=True))
    short = post_form(client, url, {"bedtime": "02:00", "rise": "06:30", "checked": ALL_CHECKED}, prefix="window")
    assert short.status_code == 400
    assert "at least 5 hours" in html.unescape(short.get_data(as_text=True))
    refresh(db)
    assert db.scalar(select(func.count(SleepWindow.id)).where(SleepWindow.assignment_id == assignment.id)) == 0

    done = post_form(client, url, {"bedtime": "00:15", "rise": "06:30", "checked": ALL_CHECKED}, prefix="window")
    assert done.status_code == 302, done.get_data(as_text=True)
    refresh(db)
    window = db.scalars(select(SleepWindow).where(SleepWindow.assignment_id == assignment.id)).one()
    assert (window.window["bedtime"], window.window["minutes"], window.window["suggested"]["bedtime"]) == (
        "00:15", 375, "00:30")
    page = _page(client, url)
    assert "00:15–06:30, approved" in page and "Narrow" in page  # 80 % narrows the approved window
    actions_seen = set(db.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == episode.resident_id)))
    assert {"view_sleep_diary", "approve_sleep_window"} <= actions_seen


def test_sleep_window_with_too_few_nights_says_so(db, actions, client):
    team = make_team(db)
    me = actions.login_staff(db, team)
    _assignment, episode, _t = make_selfhelp(db, team=team, therapist=me)
    _diary(db, episode.resident_id, nights=3)
    page = _page(client, f"/therapist/episodes/{episode.id}/sleep-window")
    assert "Not enough nights yet" in page and "the diary has 3" in page
