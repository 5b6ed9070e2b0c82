"""Statistics a municipality can trust (issue 9): why episodes ended and the drop-out rate, outcomes
only for treated episodes (two attended treatment contacts, the assessment conversation not
counted), medians of contacts, hours and duration, and enquiries by channel. Hand-made episodes
with known answers; each figure is checked in the service, the CSV/JSON export and the page."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rph_pwa.services.statistics import statistics_dict, statistics_rows, team_statistics
from tests.factories import make_episode_with_scores, make_municipality, make_staff, make_team, statistics_period

OSLO = ZoneInfo("Europe/Oslo")


def _ended_team(db):
    """Seven episodes ended in the period and one still open, all referred in the period.

    | ep | end reason                 | treatment contacts (min) | PHQ-9 / GAD-7        | days referral→end |
    | A  | completed                  | 3 (45+45+45), + assessment | 15→6 / 12→5 (eligible, recovered) | 35 |
    | B  | guided_onward              | 0, assessment only        | 18→17 / 15→14 (two answers, never treated) | 10 |
    | C  | dropped_out                | 1 (45), + assessment      | 20→19 / 15→15        | 40 |
    | D  | declined                   | 0                         | 12 / —               | 5 |
    | E  | none recorded, referral guided onward (before end reasons) | 0 | — | 1 |
    | G  | dropped_out                | 2 (30+30)                 | 10 / 8 (one answer each) | 42 |
    | H  | none recorded              | 4 (60 × 4)                | —                    | 10 |
    | F  | still open                 | 1 (45)                    | 14→10 / 10→8         | — |

    Channels: B and E by phone, D on paper, the rest in the app. B and E live in South.
    """
    north, south = make_municipality(db, name="Nordkommune"), make_municipality(db, name="Sørkommune")
    team = make_team(db, municipalities=[north, south])
    staff, _secret = make_staff(db, teams=[team])
    common = {"team": team, "staff": staff}
    make_episode_with_scores(db, **common, municipality=north, referred_days_ago=40, discharged_days_ago=5,
                             end_reason="completed", phq9=[15, 12, 6], gad7=[12, 9, 5],
                             attended_minutes=[45, 45, 45], assessment_minutes=[60])  # A
    make_episode_with_scores(db, **common, municipality=south, referred_days_ago=30, discharged_days_ago=20,
                             end_reason="guided_onward", channel="phone", referral_status="guided_onward",
                             phq9=[18, 17], gad7=[15, 14], assessment_minutes=[60])  # B
    make_episode_with_scores(db, **common, municipality=north, referred_days_ago=50, discharged_days_ago=10,
                             end_reason="dropped_out", phq9=[20, 19], gad7=[15, 15], attended_minutes=[45],
                             assessment_minutes=[60])  # C
    make_episode_with_scores(db, **common, municipality=north, referred_days_ago=20, discharged_days_ago=15,
                             end_reason="declined", channel="paper", phq9=[12])  # D
    make_episode_with_scores(db, **common, municipality=south, referred_days_ago=25, discharged_days_ago=24,
                             channel="phone", referral_status="guided_onward")  # E
    make_episode_with_scores(db, **common, municipality=north, referred_days_ago=45, discharged_days_ago=3,
                             end_reason="dropped_out", phq9=[10], gad7=[8], attended_minutes=[30, 30])  # G
    make_episode_with_scores(db, **common, municipality=north, referred_days_ago=12, discharged_days_ago=2,
                             attended_minutes=[60, 60, 60, 60])  # H
    make_episode_with_scores(db, **common, municipality=north, referred_days_ago=15, phq9=[14, 10], gad7=[10, 8],
                             attended_minutes=[45])  # F, open
    db.commit()
    return team, staff, north, south


def test_end_reasons_and_drop_out_count_the_episodes_ended(db):
    _team, staff, *_ = _ended_team(db)
    since, until = statistics_period()
    stats = team_statistics(db, actor=staff, since=since, until=until)
    assert stats.episodes_ended == 7
    assert dict(stats.ended.end_reasons) == {"completed": 1, "guided_onward": 2, "dropped_out": 2, "declined": 1,
                                             "other": 0, "not_recorded": 1}
    assert stats.outcomes.dropped_out == 2 and stats.outcomes.dropout_pct == 28.6  # 2 of 7
    assert statistics_dict(stats)["end_reasons"] == dict(stats.ended.end_reasons)
    assert statistics_dict(stats)["outcomes"]["dropout_pct"] == 28.6


def test_outcomes_count_only_treated_episodes(db):
    """B (guided onward after the assessment) and C (one treatment contact) answered twice but were
    not treated: only A is in the recovery rate. The old rule counted all three."""
    _team, staff, *_ = _ended_team(db)
    since, until = statistics_period()
    o = team_statistics(db, actor=staff, since=since, until=until).outcomes
    assert (o.eligible, o.caseness_start, o.recovered, o.recovery_pct) == (1, 1, 1, 100.0)
    assert (o.phq9_first_mean, o.phq9_last_mean, o.gad7_first_mean, o.gad7_last_mean) == (15.0, 6.0, 12.0, 5.0)
    assert (o.reliably_deteriorated, o.reliable_deterioration_pct) == (0, 0.0)


def test_assessment_conversations_do_not_make_an_episode_eligible(db):
    team = make_team(db)
    staff, _secret = make_staff(db, teams=[team])
    make_episode_with_scores(db, team=team, staff=staff, referred_days_ago=20, discharged_days_ago=1,
                             end_reason="guided_onward", phq9=[15, 6], gad7=[12, 5], attended_minutes=[45],
                             assessment_minutes=[60, 60])
    since, until = statistics_period()
    stats = team_statistics(db, actor=staff, since=since, until=until)
    assert stats.outcomes.eligible == 0 and stats.outcomes.recovery_pct is None
    assert stats.ended.contacts_median == 1.0 and stats.ended.hours_median == 0.8  # 45 minutes, half up


def test_medians_of_contacts_hours_and_duration_of_ended_episodes(db):
    _team, staff, *_ = _ended_team(db)
    since, until = statistics_period()
    e = team_statistics(db, actor=staff, since=since, until=until).ended
    # Treatment contacts 3, 0, 1, 0, 0, 2, 4; minutes 135, 0, 45, 0, 0, 60, 240 (assessments not
    # counted, F still open); days 35, 10, 40, 5, 1, 42, 10.
    assert (e.contacts_median, e.hours_median, e.duration_days_median) == (1.0, 0.8, 10.0)


def test_medians_of_an_even_number_and_of_none(db):
    team = make_team(db)
    staff, _secret = make_staff(db, teams=[team])
    since, until = statistics_period()
    empty = team_statistics(db, actor=staff, since=since, until=until)
    assert (empty.ended.contacts_median, empty.ended.hours_median, empty.ended.duration_days_median) == (None,) * 3
    assert empty.outcomes.dropout_pct is None
    assert dict(empty.ended.end_reasons) == {"completed": 0, "guided_onward": 0, "dropped_out": 0, "declined": 0,
                                             "other": 0, "not_recorded": 0}
    make_episode_with_scores(db, team=team, staff=staff, referred_days_ago=20, discharged_days_ago=1,
                             end_reason="completed", attended_minutes=[45, 45])
    make_episode_with_scores(db, team=team, staff=staff, referred_days_ago=30, discharged_days_ago=1,
                             end_reason="other", attended_minutes=[60, 60, 60])
    db.commit()
    e = team_statistics(db, actor=staff, since=since, until=until).ended
    assert (e.contacts_median, e.hours_median, e.duration_days_median) == (2.5, 2.3, 24.0)  # (90+180)/2 min = 2.25 h


def test_enquiries_by_channel(db):
    _team, staff, _north, south = _ended_team(db)
    since, until = statistics_period()
    stats = team_statistics(db, actor=staff, since=since, until=until)
    assert stats.referrals_received == 8
    assert dict(stats.referrals_by_channel) == {"app": 5, "phone": 2, "paper": 1, "course": 0}
    assert statistics_dict(stats)["referrals"] == {"received": 8, "app": 5, "phone": 2, "paper": 1, "course": 0}


def test_one_municipality_keeps_end_reasons_and_channels_apart(db):
    """South has B (guided onward) and E (guided onward before end reasons were recorded)."""
    _team, staff, _north, south = _ended_team(db)
    since, until = statistics_period()
    stats = team_statistics(db, actor=staff, since=since, until=until, municipality_id=south.id)
    assert dict(stats.ended.end_reasons)["guided_onward"] == 2 and sum(n for _k, n in stats.ended.end_reasons) == 2
    assert dict(stats.referrals_by_channel) == {"app": 0, "phone": 2, "paper": 0, "course": 0}
    assert (stats.outcomes.eligible, stats.outcomes.dropout_pct) == (0, 0.0)


def test_new_keys_in_csv_rows(db):
    _team, staff, *_ = _ended_team(db)
    since, until = statistics_period()
    rows = {(s, m): v for s, m, v in statistics_rows(team_statistics(db, actor=staff, since=since, until=until))}
    assert rows[("end_reasons", "dropped_out")] == "2" and rows[("end_reasons", "other")] == "0"
    assert rows[("outcomes", "dropout_pct")] == "28.6" and rows[("outcomes", "eligible_episodes")] == "1"
    assert rows[("episodes", "contacts_median")] == "1.0" and rows[("episodes", "hours_median")] == "0.8"
    assert rows[("episodes", "duration_days_median")] == "10.0" and rows[("referrals", "paper")] == "1"


def test_readme_documents_every_key(db):
    from pathlib import Path

    _team, staff, *_ = _ended_team(db)
    since, until = statistics_period()
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Statistics CSV columns", 1)[1].split("\n## ", 1)[0]
    for section, metrics in statistics_dict(team_statistics(db, actor=staff, since=since, until=until)).items():
        for metric in metrics:
            assert f"`{metric}`" in table and f"| `{section}` |" in table, (section, metric)


# --- HTTP ----------------------------------------------------------------------------------------

def _query():
    since, until = statistics_period()
    return f"since={since.isoformat()}&until={(until - timedelta(days=1)).isoformat()}"


def test_page_csv_and_json_show_the_new_figures(db, actions, client):
    team, *_ = _ended_team(db)
    actions.login_staff(db, team)
    page = client.get(f"/therapist/statistics?{_query()}").get_data(as_text=True)
    for text in ("<caption>Why episodes ended</caption>", '<th scope="row">Dropped out</th><td>2</td>',
                 '<th scope="row">Dropped out</th><td>2</td><td>7</td><td>28.6%</td>',
                 '<th scope="row">Enquiries by phone</th><td>2</td>',
                 '<th scope="row">Treatment contacts per ended episode, median</th><td>1.0</td>',
                 '<th scope="row">Days from referral to end, median</th><td>10.0</td>'):
        assert text in page, text
    rows = list(csv.reader(io.StringIO(client.get(f"/therapist/statistics.csv?{_query()}").get_data(as_text=True))))
    assert ["end_reasons", "guided_onward", "2"] in rows and ["outcomes", "dropout_pct", "28.6"] in rows
    data = json.loads(client.get(f"/therapist/statistics.json?{_query()}").get_data(as_text=True))
    assert data["end_reasons"]["declined"] == 1 and data["episodes"]["hours_median"] == 0.8
    assert data["outcomes"]["eligible_episodes"] == 1 and data["referrals"]["phone"] == 2


def test_yearly_report_shows_drop_out_and_medians(db, actions, client):
    team, _staff, north, _south = _ended_team(db)
    actions.login_staff(db, team)
    year = datetime.now(OSLO).year
    page = client.get(f"/therapist/statistics/report?year={year}&municipality={north.id}").get_data(as_text=True)
    assert '<th scope="row">Treatment contacts per ended episode, median</th>' in page
    assert '<th scope="row">Dropped out</th>' in page and "after at least two treatment contacts" in page
