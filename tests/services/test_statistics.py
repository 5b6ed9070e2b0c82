"""Team statistics: every figure on a hand-made data set with known answers, "No data" instead of
0 or an error, access limited to the actor's teams, and the page, CSV, JSON and yearly report."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rph_pwa.models import Role
from rph_pwa.services.errors import NotFound
from rph_pwa.services.statistics import statistics_dict, statistics_rows, team_statistics
from tests.factories import make_episode_with_scores, make_municipality, make_staff, make_team, statistics_period

OSLO = ZoneInfo("Europe/Oslo")


def _known_team(db):
    """A team serving North and South with five episodes of its own and one of another team.

    Outcomes (measures.outcome): E1 recovered with reliable improvement; E2 not a case at start and
    reliably worse (GAD-7 +5); E3 has one PHQ-9 only (not eligible); E5 reliably better but still a
    case (GAD-7 12); E4 has not ended.
    """
    north, south = make_municipality(db, name="Nordkommune"), make_municipality(db, name="Sørkommune")
    team = make_team(db, municipalities=[north, south])
    staff, _secret = make_staff(db, teams=[team])
    common = {"team": team, "staff": staff}
    make_episode_with_scores(  # E1
        db, **common, municipality=north, referred_days_ago=50, first_contact_days=2, first_treatment_days=10,
        discharged_days_ago=5, offerings="individual,group", work_start="working", sick_start="graded",
        work_end="working", sick_end="none", phq9=[15, 12, 6], gad7=[12, 10, 5], wsas=[20, 8],
        attended_minutes=[60, 45])
    make_episode_with_scores(  # E2
        db, **common, municipality=north, referred_days_ago=40, first_contact_days=4, first_treatment_days=20,
        discharged_days_ago=2, offerings="course", work_start="job_seeking", sick_start="none",
        work_end="working", sick_end="none", phq9=[8, 9], gad7=[6, 11], wsas=[12],
        attended_minutes=[15, 15], cancelled_minutes=[45])
    make_episode_with_scores(  # E3: guided onward after first contact, no treatment
        db, **common, municipality=south, referred_days_ago=30, first_contact_days=6, discharged_days_ago=10,
        work_start="retired", sick_start="none", phq9=[12], gad7=[9, 7])
    make_episode_with_scores(  # E4: still in treatment
        db, **common, municipality=north, referred_days_ago=20, first_contact_days=1, first_treatment_days=3,
        offerings="guided_self_help,individual", work_start="working", sick_start="full",
        phq9=[20, 18], gad7=[15, 14], attended_minutes=[45, 45, 45])
    make_episode_with_scores(  # E5: referred long before the period, ended in it
        db, **common, municipality=north, referred_days_ago=200, first_contact_days=10, first_treatment_days=30,
        discharged_days_ago=30, offerings="individual", work_start="benefits", sick_start="none",
        work_end="benefits", sick_end="none", phq9=[18, 8], gad7=[16, 12], wsas=[25, 15, 10],
        attended_minutes=[60, 60])
    other = make_team(db)
    make_episode_with_scores(db, team=other, referred_days_ago=10, first_contact_days=1, first_treatment_days=2,
                             discharged_days_ago=1, offerings="course", work_start="working", phq9=[20, 2],
                             gad7=[20, 2], attended_minutes=[600])
    db.commit()
    return team, staff, north, south, other


def test_every_figure_on_a_known_data_set(db):
    team, staff, *_ = _known_team(db)
    since, until = statistics_period()
    stats = team_statistics(db, actor=staff, since=since, until=until)
    assert stats.team_ids == (team.id,) and stats.team_names == (team.name,) and stats.municipality_id is None
    assert stats.referrals_received == 4 and stats.episodes_referred == 4
    # First contact after 2, 4, 6 and 1 days; first treatment after 10, 20 and 3 days.
    first_contact = stats.first_contact
    assert (first_contact.mean_days, first_contact.median_days, first_contact.episodes) == (3.3, 3.0, 4)
    assert (stats.first_treatment.mean_days, stats.first_treatment.median_days,
            stats.first_treatment.episodes) == (11.0, 10.0, 3)
    assert (stats.episodes_started, stats.episodes_ended) == (3, 4)
    # 60 + 45 + 15 + 15 + 3 × 45 minutes; E2's cancelled and E5's (before the period) do not count.
    assert stats.treatment_hours == 4.5
    assert dict(stats.hours_by_kind) == {"assessment": 0.0, "treatment": 4.5, "check_in": 0.0, "course_meeting": 0.0}
    assert dict(stats.offerings) == {"course": 1, "guided_self_help": 1, "group": 1, "individual": 2, "none": 1}
    o = stats.outcomes
    assert (o.eligible, o.caseness_start, o.wsas_episodes) == (3, 2, 2)
    assert (o.phq9_first_mean, o.phq9_last_mean) == (13.7, 7.7)  # 41/3, 23/3
    assert (o.gad7_first_mean, o.gad7_last_mean) == (11.3, 9.3)  # 34/3, 28/3
    assert (o.wsas_first_mean, o.wsas_last_mean) == (22.5, 9.0)  # E1 and E5 only
    assert (o.recovered, o.reliably_improved, o.reliably_recovered, o.reliably_deteriorated) == (1, 2, 1, 1)
    assert o.recovery_pct == 50.0  # 1 of the 2 cases at start
    assert (o.reliable_improvement_pct, o.reliable_recovery_pct, o.reliable_deterioration_pct) == (66.7, 33.3, 33.3)
    assert dict(stats.work_status_start) == {"working": 2, "studying": 0, "job_seeking": 1, "benefits": 0,
                                             "retired": 1, "other": 0, "not_recorded": 0}
    assert dict(stats.sick_leave_start) == {"none": 2, "graded": 1, "full": 1, "not_recorded": 0}
    assert dict(stats.work_status_end) == {"working": 2, "studying": 0, "job_seeking": 0, "benefits": 1,
                                           "retired": 0, "other": 0, "not_recorded": 1}
    assert dict(stats.sick_leave_end) == {"none": 3, "graded": 0, "full": 0, "not_recorded": 1}


def test_one_municipality_counts_only_its_residents(db):
    team, staff, north, south, _other = _known_team(db)
    since, until = statistics_period()
    stats = team_statistics(db, actor=staff, since=since, until=until, municipality_id=north.id)
    assert (stats.municipality_name, stats.municipality_number) == ("Nordkommune", north.number)
    assert (stats.referrals_received, stats.episodes_referred, stats.episodes_ended) == (3, 3, 3)
    assert stats.outcomes.eligible == 3 and stats.treatment_hours == 4.5
    south_stats = team_statistics(db, actor=staff, since=since, until=until, municipality_id=south.id, team_id=team.id)
    assert (south_stats.referrals_received, south_stats.episodes_ended, south_stats.treatment_hours) == (1, 1, 0.0)
    assert south_stats.first_contact.median_days == 6.0 and south_stats.first_treatment.episodes == 0


def test_no_data_is_none_never_zero_or_an_error(db):
    team = make_team(db)
    staff, _secret = make_staff(db, teams=[team])
    # Ended, but with one PHQ-9 only: counted as ended, not as an outcome.
    make_episode_with_scores(db, team=team, staff=staff, referred_days_ago=20, discharged_days_ago=1,
                             phq9=[15], gad7=[10, 5], wsas=[20, 10])
    since, until = statistics_period()
    stats = team_statistics(db, actor=staff, since=since, until=until)
    assert stats.episodes_ended == 1 and stats.treatment_hours == 0.0
    first_contact = stats.first_contact
    assert (first_contact.mean_days, first_contact.median_days, first_contact.episodes) == (None, None, 0)
    assert stats.first_treatment.mean_days is None and stats.first_treatment.median_days is None
    o = stats.outcomes
    assert o.eligible == 0 and o.wsas_episodes == 0
    assert [o.phq9_first_mean, o.phq9_last_mean, o.gad7_first_mean, o.gad7_last_mean, o.wsas_first_mean,
            o.wsas_last_mean, o.recovery_pct, o.reliable_improvement_pct, o.reliable_recovery_pct,
            o.reliable_deterioration_pct] == [None] * 10
    rows = {(section, metric): value for section, metric, value in statistics_rows(stats)}
    assert rows[("outcomes", "recovery_pct")] == "" and rows[("waiting", "first_contact_days_mean")] == ""
    assert rows[("outcomes", "eligible_episodes")] == "0" and rows[("treatment", "hours")] == "0.0"
    assert statistics_dict(stats)["outcomes"]["recovery_pct"] is None


def test_recovery_has_no_denominator_when_no_one_was_a_case(db):
    team = make_team(db)
    staff, _secret = make_staff(db, teams=[team])
    make_episode_with_scores(db, team=team, staff=staff, referred_days_ago=20, discharged_days_ago=1,
                             phq9=[5, 3], gad7=[4, 2], attended_minutes=[45, 45])
    since, until = statistics_period()
    o = team_statistics(db, actor=staff, since=since, until=until).outcomes
    assert (o.eligible, o.caseness_start, o.recovery_pct, o.reliable_improvement_pct) == (1, 0, None, 0.0)


def test_rows_and_dict_carry_the_same_keys(db):
    _team, staff, *_ = _known_team(db)
    since, until = statistics_period()
    stats = team_statistics(db, actor=staff, since=since, until=until)
    rows = statistics_rows(stats)
    as_dict = statistics_dict(stats)
    assert [(s, m) for s, m, _v in rows] == [(s, m) for s, metrics in as_dict.items() for m in metrics]
    values = {(s, m): v for s, m, v in rows}
    assert values[("scope", "first_day")] == since.isoformat()
    assert values[("scope", "last_day")] == (until - timedelta(days=1)).isoformat()
    assert values[("outcomes", "reliable_improvement_pct")] == "66.7" and values[("referrals", "received")] == "4"
    assert as_dict["waiting"]["first_contact_days_mean"] == 3.3 and as_dict["offerings"]["individual"] == 2


def test_other_teams_and_their_municipalities_are_not_found(db):
    team, staff, _north, _south, other = _known_team(db)
    since, until = statistics_period()
    with pytest.raises(NotFound):
        team_statistics(db, actor=staff, since=since, until=until, team_id=other.id)
    with pytest.raises(NotFound):
        team_statistics(db, actor=staff, since=since, until=until, municipality_id=other.municipalities[0].id)
    with pytest.raises(NotFound):
        team_statistics(db, actor=staff, since=since, until=until, municipality_id=999_999)
    admin, _secret = make_staff(db, role=Role.ADMIN, teams=[team])
    with pytest.raises(NotFound):
        team_statistics(db, actor=admin, since=since, until=until)


# --- HTTP ----------------------------------------------------------------------------------------

def _query():
    since, until = statistics_period()
    return f"since={since.isoformat()}&until={(until - timedelta(days=1)).isoformat()}"


def test_page_shows_the_figures_and_links_the_downloads(db, actions, client):
    team, _staff, *_ = _known_team(db)
    actions.login_staff(db, team)
    response = client.get(f"/therapist/statistics?{_query()}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<caption>Recovery and reliable change</caption>' in page and 'role="region"' in page
    assert '<th scope="row">Referrals received</th><td>4</td>' in page
    assert '<th scope="row">Recovery</th><td>1</td><td>2</td><td>50.0%</td>' in page
    assert "/therapist/statistics.csv?" in page and "/therapist/statistics.json?" in page
    assert "<script>" not in page and "style=" not in page


def test_page_says_no_data_and_defaults_to_this_calendar_year(db, actions, client):
    actions.login_staff(db, make_team(db))
    page = client.get("/therapist/statistics").get_data(as_text=True)
    year = datetime.now(OSLO).year
    assert f'value="{year}-01-01"' in page and f'value="{year}-12-31"' in page
    assert '<th scope="row">Days to first contact, mean</th><td>No data</td>' in page
    assert '<th scope="row">Recovery</th><td>0</td><td>0</td><td>No data</td>' in page


def test_csv_download(db, actions, client):
    team, *_ = _known_team(db)
    actions.login_staff(db, team)
    response = client.get(f"/therapist/statistics.csv?{_query()}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["section", "metric", "value"]
    assert ["outcomes", "recovery_pct", "50.0"] in rows and ["treatment", "hours", "4.5"] in rows
    assert all(len(row) == 3 for row in rows)
    assert team.name not in response.get_data(as_text=True)  # ids, never names


def test_json_download(db, actions, client):
    team, _staff, north, *_ = _known_team(db)
    actions.login_staff(db, team)
    response = client.get(f"/therapist/statistics.json?{_query()}&municipality={north.id}")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.get_data(as_text=True))
    assert data["referrals"]["received"] == 3 and data["scope"]["municipality_number"] == north.number
    assert data["waiting"]["first_treatment_days_median"] == 10.0


def test_other_team_or_municipality_is_404(db, actions, client):
    team, _staff, _north, _south, other = _known_team(db)
    actions.login_staff(db, team)
    for url in (f"/therapist/statistics?team={other.id}", f"/therapist/statistics.csv?team={other.id}",
                f"/therapist/statistics.json?municipality={other.municipalities[0].id}",
                f"/therapist/statistics/report?year=2025&municipality={other.municipalities[0].id}"):
        assert client.get(url).status_code == 404, url


def test_admin_has_no_statistics(db, actions, client):
    team = make_team(db)
    actions.login_staff(db, team, role=Role.ADMIN)
    assert client.get("/therapist/statistics").status_code == 404
    assert client.get("/therapist/statistics.csv").status_code == 404


@pytest.mark.parametrize("query, message", [
    ("since=2026-02-31", "Not a valid date value"),
    ("since=2026-05-01&until=2026-04-01", "The end date must be on or after the start date."),
    ("until=1900-01-01", "Enter a date between the years 2000 and 2100."),
    ("team=abc", "Invalid Choice"),
])
def test_bad_parameters_give_a_message_not_a_500(db, actions, client, query, message):
    actions.login_staff(db, make_team(db))
    for path in ("/therapist/statistics", "/therapist/statistics.csv", "/therapist/statistics.json"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400 and message in response.get_data(as_text=True), path


def test_yearly_report_for_a_municipality(db, actions, client):
    team, _staff, north, *_ = _known_team(db)
    actions.login_staff(db, team)
    year = datetime.now(OSLO).year
    response = client.get(f"/therapist/statistics/report?year={year}&municipality={north.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("Nordkommune", team.name, f"January 1, {year}", f"December 31, {year}", "Made",
                 "<caption>Key figures for residents of Nordkommune", '<th scope="row">Referrals received</th>',
                 "do not publish any figure below 5", "referred themselves to"):
        assert text in page, text
    assert "<script" not in page and "style=" not in page


@pytest.mark.parametrize("url, message", [
    ("/therapist/statistics/report?year=1999&municipality=1", "Enter a year between 2000 and 2100."),
    ("/therapist/statistics/report?year=abc&municipality=1", "Not a valid integer value"),
    ("/therapist/statistics/report?year=2025", "Choose a municipality."),
    ("/therapist/reach?since=2026-02-31", "Not a valid date value"),
    ("/therapist/reach?since=yesterday&until=today", "Not a valid date value"),
    ("/therapist/reach?since=2026-05-01&until=2026-04-01", "The end date must be on or after the start date."),
    ("/therapist/reach?until=1900-01-01", "Enter a date between the years 2000 and 2100."),
    ("/therapist/reach?since=2099-01-01", "The end date must be on or after the start date."),
])
def test_bad_report_and_reach_parameters_give_a_message_not_a_500(db, actions, client, url, message):
    """The yearly report's and the reach page's query strings (the reach page's other tests are in
    tests/therapist/test_triage.py)."""
    actions.login_staff(db, make_team(db))
    response = client.get(url)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_answers_given_at_the_same_moment_are_ordered_by_id(db):
    """First is the earliest answer (lowest id on a tie), last the latest (highest id on a tie)."""
    from sqlalchemy import select

    from rph_pwa.models import MeasureResponse

    team = make_team(db)
    staff, _secret = make_staff(db, teams=[team])
    episode = make_episode_with_scores(db, team=team, staff=staff, referred_days_ago=20, discharged_days_ago=1,
                                       phq9=[15, 6], gad7=[12, 5], attended_minutes=[45, 45])
    last = db.scalars(select(MeasureResponse).where(MeasureResponse.episode_id == episode.id,
                                                    MeasureResponse.instrument_code == "PHQ-9")
                      .order_by(MeasureResponse.submitted_at.desc())).first()
    tied = MeasureResponse(resident_id=last.resident_id, referral_id=last.referral_id, episode_id=episode.id,
                           instrument_code="PHQ-9", instrument_version=last.instrument_version, answers=last.answers,
                           total=21, band="severe", flags="", submitted_at=last.submitted_at)
    db.add(tied)
    db.flush()
    since, until = statistics_period()
    o = team_statistics(db, actor=staff, since=since, until=until).outcomes
    assert (o.eligible, o.phq9_first_mean, o.phq9_last_mean) == (1, 15.0, 21.0)
    assert (o.reliably_deteriorated, o.recovered) == (1, 0)
