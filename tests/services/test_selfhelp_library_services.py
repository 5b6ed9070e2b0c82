"""Services for staff in guided self-help: a team's own programmes, the sleep window's suggestion
and approval, group assignments and the ratings aggregate."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from rph_pwa.localtime import local_today
from rph_pwa.models import AuditEvent, Role, SelfHelpAssignment, Worksheet
from rph_pwa.services import external_programmes, selfhelp, selfhelp_library, sleep_windows
from rph_pwa.services.errors import Conflict, NotFound
from rph_pwa.services.external_programmes import ModulesInvalid, is_link, parse_modules
from tests.factories import make_monitored_episode, make_selfhelp, make_staff, make_team, unique


def test_parse_modules_keeps_links_and_pages_and_refuses_what_does_not_fit():
    modules = parse_modules("Del 1 | https://example.org/a\n\nDel 2 | sidene 3-9\nDel 3\nDel 4 | javascript:alert(1)")
    assert [m["title"] for m in modules] == ["Del 1", "Del 2", "Del 3", "Del 4"]
    assert [is_link(m["where"]) for m in modules] == [True, False, False, False]
    assert not is_link("http://example.org") and not is_link("https://exa mple.org") and not is_link(None)
    for text, reason, line in [("", "none", 0), ("\n".join(f"D{i}" for i in range(41)), "too_many", 0),
                               ("Del 1\n| side 2", "no_title", 2), ("x" * 201, "title_long", 1),
                               ("Del | " + "y" * 301, "where_long", 1)]:
        with pytest.raises(ModulesInvalid) as error:
            parse_modules(text)
        assert (error.value.reason, error.value.line) == (reason, line)
    assert len(parse_modules("\n".join(f"D{i}" for i in range(40)))) == 40


def test_register_retire_and_list_only_my_teams(db):
    team, other = make_team(db), make_team(db)
    me, _ = make_staff(db, teams=[team])
    them, _ = make_staff(db, teams=[other])
    admin, _ = make_staff(db, role=Role.ADMIN, teams=[team])
    mine = external_programmes.register(db, actor=me, team_id=team.id, title="  Min   bok ", weeks=5,
                                        modules="Del 1 | side 1")
    theirs = external_programmes.register(db, actor=them, team_id=other.id, title="Deres", weeks=3,
                                          modules=[{"title": "Del 1", "where": ""}])
    assert mine.title == "Min bok" and theirs.modules == [{"title": "Del 1", "where": ""}]
    assert [r.programme.id for r in external_programmes.team_programmes(db, actor=me)] == [mine.id]
    with pytest.raises(NotFound):
        external_programmes.register(db, actor=me, team_id=other.id, title="X", weeks=3, modules="D")
    with pytest.raises(NotFound):
        external_programmes.register(db, actor=admin, team_id=team.id, title="X", weeks=3, modules="D")
    for title, weeks in (("", 3), ("x" * 201, 3), ("X", 0), ("X", 27)):
        with pytest.raises(ValueError):
            external_programmes.register(db, actor=me, team_id=team.id, title=title, weeks=weeks, modules="D")
    with pytest.raises(NotFound):
        external_programmes.retire(db, actor=me, programme_id=theirs.id)
    external_programmes.retire(db, actor=me, programme_id=mine.id)
    assert external_programmes.team_programmes(db, actor=me) == []
    assert len(external_programmes.team_programmes(db, actor=me, include_retired=True)) == 1


def test_an_external_programme_is_assigned_with_its_chapters(db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    programme = external_programmes.register(db, actor=me, team_id=team.id, title="Bok", weeks=4,
                                             modules="Kap 1 | sidene 1-10\nKap 2 | https://example.org")
    episode = make_monitored_episode(db, team=team)
    assignment = selfhelp_library.assign(db, actor=me, episode_id=episode.id, external_programme_id=programme.id,
                                         checkin_weekday=1, pace="weekly", starts_on=None, hide_drafts=True)
    items = selfhelp.programme_modules(assignment)
    assert [(i.title, i.where) for i in items] == [("Kap 1", "sidene 1-10"), ("Kap 2", "https://example.org")]


def _diary(db, resident_id, nights, **values):
    entry = {"bedtime": "23:00", "lights_out": "23:00", "minutes_to_sleep": 30, "minutes_awake": 30,
             "woke": "06:00", "rose": "06:30", **values}
    for i in range(1, nights + 1):
        day = local_today() - timedelta(days=i)
        db.add(Worksheet(resident_id=resident_id, kind="sleep_diary", client_key=unique("k"), for_date=day,
                         content={"night": day.isoformat(), **entry}))
    old = local_today() - timedelta(days=30)  # outside the last week: not read
    db.add(Worksheet(resident_id=resident_id, kind="sleep_diary", client_key=unique("k"), for_date=old,
                     content={"night": old.isoformat(), **entry, "minutes_awake": 400}))
    db.flush()


def test_suggestion_reads_the_last_week_in_one_query_and_is_audited(db):
    assignment, episode, me = make_selfhelp(db)
    _diary(db, episode.resident_id, 7)
    db.commit()
    from tests.conftest import recorded_statements

    with recorded_statements(db.get_bind()) as statements:
        sleep_windows.diary_entries(db, resident_id=episode.resident_id)
    assert len([s for s in statements if s.startswith("SELECT")]) == 1
    page = sleep_windows.suggestion_for(db, actor=me, assignment_id=assignment.id)
    assert len(page.nights) == 7 and page.suggestion.change == "start" and page.suggestion.efficiency == 80
    assert page.current is None
    assert db.scalars(select(AuditEvent).where(AuditEvent.subject_id == episode.resident_id,
                                               AuditEvent.action == "view_sleep_diary")).first() is not None


def test_approve_keeps_the_suggestion_and_the_latest_window_is_the_residents(db):
    assignment, episode, me = make_selfhelp(db)
    _diary(db, episode.resident_id, 7)
    first = sleep_windows.approve(db, actor=me, assignment_id=assignment.id, bedtime=time(0, 30), rise=time(6, 30))
    assert first.window["minutes"] == 360 and first.window["suggested"]["change"] == "start"
    second = sleep_windows.approve(db, actor=me, assignment_id=assignment.id, bedtime="00:15", rise="06:30")
    db.flush()
    assert sleep_windows.approved_window(db, assignment_id=assignment.id).id == second.id
    assert second.window["suggested"]["change"] == "narrow"  # 80 %: narrow the approved window
    with pytest.raises(ValueError):
        sleep_windows.approve(db, actor=me, assignment_id=assignment.id, bedtime="02:00", rise="06:30")
    with pytest.raises(ValueError):
        sleep_windows.approve(db, actor=me, assignment_id=assignment.id, bedtime="25:00", rise="06:30")


def test_sleep_window_access_and_an_ended_programme(db):
    assignment, _episode, me = make_selfhelp(db)
    stranger, _ = make_staff(db, teams=[make_team(db)])
    for call in (lambda: sleep_windows.suggestion_for(db, actor=stranger, assignment_id=assignment.id),
                 lambda: sleep_windows.approve(db, actor=stranger, assignment_id=assignment.id, bedtime="00:00",
                                               rise="06:00")):
        with pytest.raises(NotFound):
            call()
    selfhelp.end_assignment(db, actor=me, assignment_id=assignment.id)
    with pytest.raises(Conflict):
        sleep_windows.approve(db, actor=me, assignment_id=assignment.id, bedtime="00:00", rise="06:00")


def test_group_assignment_is_all_or_nothing(db):
    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    episodes = [make_monitored_episode(db, team=team) for _ in range(3)]
    for e in episodes:
        e.responsible_id = me.id
    db.flush()
    assert {c.episode_id for c in selfhelp_library.group_candidates(db, actor=me)} == {e.id for e in episodes}
    selfhelp.assign_programme(db, actor=me, episode_id=episodes[2].id, programme="stress", checkin_weekday=0)
    db.commit()
    assert episodes[2].id not in {c.episode_id for c in selfhelp_library.group_candidates(db, actor=me)}
    with pytest.raises(selfhelp_library.GroupConflict) as error:
        selfhelp_library.assign_group(db, actor=me, episode_ids=[e.id for e in episodes], programme="sovn",
                                      checkin_weekday=1, pace="weekly", starts_on=None, hide_drafts=False)
    assert error.value.episode_id == episodes[2].id
    db.rollback()
    assert db.scalars(select(SelfHelpAssignment).where(SelfHelpAssignment.episode_id == episodes[0].id)).first() is None
    done = selfhelp_library.assign_group(db, actor=me, episode_ids=[episodes[0].id, episodes[1].id],
                                         programme="sovn", checkin_weekday=1, pace="weekly", starts_on=None,
                                         hide_drafts=False)
    assert len(done) == 2
    with pytest.raises(ValueError):
        selfhelp_library.assign_group(db, actor=me, episode_ids=[], programme="sovn", checkin_weekday=1,
                                      pace="weekly", starts_on=None, hide_drafts=False)


def test_an_unsigned_programme_is_refused_only_when_drafts_are_hidden(db):
    from rph_pwa.selfhelp import content

    team = make_team(db)
    me, _ = make_staff(db, teams=[team])
    unsigned = next(slug for slug, p in content.programmes().items() if not selfhelp_library.signed_off(p))
    episode = make_monitored_episode(db, team=team)
    with pytest.raises(selfhelp_library.NotSignedOff):
        selfhelp_library.assign(db, actor=me, episode_id=episode.id, programme=unsigned, checkin_weekday=1,
                                pace="weekly", starts_on=None, hide_drafts=True)
    assert selfhelp_library.assign(db, actor=me, episode_id=episode.id, programme=unsigned, checkin_weekday=1,
                                   pace="weekly", starts_on=None, hide_drafts=False).programme == unsigned
