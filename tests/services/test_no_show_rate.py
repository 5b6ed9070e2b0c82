"""The no-show rate in the team statistics (issue 13): missed contacts / (attended + missed) of
the contacts starting in the period, per team and for all teams in scope, in the service, the
CSV/JSON export, the page and the yearly report. Hand-made contacts with known answers."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rph_pwa.db import utcnow
from rph_pwa.services.statistics import statistics_dict, statistics_rows, team_statistics
from tests.factories import (
    add_episode_contact,
    make_monitored_episode,
    make_municipality,
    make_staff,
    make_team,
    statistics_period,
)

OSLO = ZoneInfo("Europe/Oslo")


def _two_teams(db):
    """North: 3 attended, 1 missed, 1 cancelled, 1 still booked in the period, and a missed one
    long before it (not counted): 25.0 %. South: 1 attended, 2 missed: 66.7 %. Empty team: none.
    All teams: 4 attended, 3 missed: 42.9 %."""
    municipality = make_municipality(db)
    north = make_team(db, municipalities=[municipality], name=None)
    south = make_team(db, municipalities=[municipality])
    empty = make_team(db, municipalities=[municipality])
    staff, _ = make_staff(db, teams=[north, south, empty])
    now = utcnow()
    one = make_monitored_episode(db, team=north)
    for days, status in ((3, "attended"), (5, "attended"), (7, "attended"), (9, "no_show"), (11, "cancelled"),
                         (13, "booked"), (200, "no_show")):
        add_episode_contact(db, episode=one, staff=staff, starts_at=now - timedelta(days=days), status=status)
    two = make_monitored_episode(db, team=south)
    for days, status in ((2, "attended"), (4, "no_show"), (6, "no_show")):
        add_episode_contact(db, episode=two, staff=staff, starts_at=now - timedelta(days=days), status=status)
    db.commit()
    return north, south, empty, staff, municipality


def test_no_show_rate_per_team_and_in_all(db):
    north, south, empty, staff, _m = _two_teams(db)
    since, until = statistics_period()
    stats = team_statistics(db, actor=staff, since=since, until=until)
    a = stats.attendance
    assert (a.attended, a.no_shows, a.no_show_pct) == (4, 3, 42.9)
    by_team = {t.team_id: (t.attended, t.no_shows, t.no_show_pct) for t in a.by_team}
    assert by_team == {north.id: (3, 1, 25.0), south.id: (1, 2, 66.7), empty.id: (0, 0, None)}
    one = team_statistics(db, actor=staff, since=since, until=until, team_id=south.id).attendance
    assert (one.attended, one.no_shows, one.no_show_pct) == (1, 2, 66.7)
    none = team_statistics(db, actor=staff, since=since, until=until, team_id=empty.id).attendance
    assert (none.attended, none.no_shows, none.no_show_pct) == (0, 0, None)


def test_no_show_rate_in_csv_and_json(db):
    north, *_rest, staff, _m = _two_teams(db)
    since, until = statistics_period()
    stats = team_statistics(db, actor=staff, since=since, until=until, team_id=north.id)
    rows = {(s, m): v for s, m, v in statistics_rows(stats)}
    assert (rows[("attendance", "attended")], rows[("attendance", "no_shows")],
            rows[("attendance", "no_show_pct")]) == ("3", "1", "25.0")
    assert statistics_dict(stats)["attendance"] == {"attended": 3, "no_shows": 1, "no_show_pct": 25.0}
    empty = statistics_dict(team_statistics(db, actor=staff, since=since, until=until, team_id=_rest[1].id))
    assert empty["attendance"]["no_show_pct"] is None


def test_no_show_rate_on_the_page_the_downloads_and_the_yearly_report(db, actions, client):
    north, south, _empty, _staff, municipality = _two_teams(db)
    actions.login_staff(db, north, south)
    since, until = statistics_period()
    query = f"since={since.isoformat()}&until={(until - timedelta(days=1)).isoformat()}"
    page = client.get(f"/therapist/statistics?{query}").get_data(as_text=True)
    assert "<caption>Attended and missed contacts (no-show rate)</caption>" in page
    assert f'<th scope="row">{north.name}</th><td>3</td><td>1</td><td>25.0%</td>' in page
    assert '<th scope="row">All teams</th><td>4</td><td>3</td><td>42.9%</td>' in page
    rows = list(csv.reader(io.StringIO(client.get(f"/therapist/statistics.csv?{query}").get_data(as_text=True))))
    assert ["attendance", "no_show_pct", "42.9"] in rows
    data = json.loads(client.get(f"/therapist/statistics.json?{query}").get_data(as_text=True))
    assert data["attendance"] == {"attended": 4, "no_shows": 3, "no_show_pct": 42.9}
    year = datetime.now(OSLO).year
    report = client.get(f"/therapist/statistics/report?year={year}&municipality={municipality.id}")
    assert report.status_code == 200
    assert '<th scope="row">No-show rate (missed contacts)</th>' in report.get_data(as_text=True)
