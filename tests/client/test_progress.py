"""Min fremgang: only this course of care, and a rise invites the person to tell their therapist."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import insert

from rph_pwa.charts import MAX_POINTS
from rph_pwa.client.progress import RECENT_ROWS
from rph_pwa.db import utcnow
from rph_pwa.measures import score
from rph_pwa.models import MeasureResponse
from tests.factories import add_episode_response, email, make_referral, make_resident, make_team


def _page(client, actions, address: str) -> str:
    client.set_cookie("lang", "en")
    actions.resident_login(address)
    return client.get("/me/progress").get_data(as_text=True)


def test_progress_is_per_episode_and_a_rise_shows_where_to_get_help(db, actions, client):
    team = make_team(db)
    address = email()
    resident = make_resident(db, team=team, email=address)
    earlier = make_referral(db, team=team, resident=resident, submitted_days_ago=300)  # PHQ-9 16 at its start
    add_episode_response(db, episode=earlier.episode, code="PHQ-9", total=4, at=utcnow() - timedelta(days=250))
    earlier.episode.discharged_at = utcnow() - timedelta(days=240)
    now = make_referral(db, team=team, resident=resident, submitted_days_ago=10)  # PHQ-9 16, GAD-7 14 again
    add_episode_response(db, episode=now.episode, code="PHQ-9", total=19, at=utcnow() - timedelta(days=2))
    db.commit()

    page = _page(client, actions, address)
    assert "from 16 to 19 since you started this time" in page  # not 4 (the earlier course) nor its start
    assert ">4<" not in page
    assert "data-scores-risen" in page and "tell your therapist" in page.lower()
    assert 'href="/hjelp"' in page and 'href="tel:113"' in page and 'href="tel:116123"' in page
    assert 'href="tel:22400040"' in page and 'href="tel:116117"' in page


def test_falling_scores_show_no_warning(db, actions, client):
    team = make_team(db)
    address = email()
    resident = make_resident(db, team=team, email=address)
    referral = make_referral(db, team=team, resident=resident, submitted_days_ago=10)
    add_episode_response(db, episode=referral.episode, code="PHQ-9", total=9, at=utcnow() - timedelta(days=2))
    db.commit()

    page = _page(client, actions, address)
    assert "from 16 to 9 since you started this time" in page
    assert "data-scores-risen" not in page


def test_progress_with_500_points_stays_small_and_keeps_its_sentences(db, actions, client):
    team = make_team(db)
    address = email()
    resident = make_resident(db, team=team, email=address)
    episode = make_referral(db, team=team, resident=resident, submitted_days_ago=520).episode
    results = {"PHQ-9": [score("PHQ-9", [v] * 8 + [0]) for v in (1, 2, 3)],
               "GAD-7": [score("GAD-7", [v] * 7) for v in (1, 2, 3)], "WSAS": [score("WSAS", [4] * 5)]}
    codes = ["WSAS" if i % 10 == 9 else ("PHQ-9", "GAD-7")[i % 2] for i in range(500)]
    start = utcnow() - timedelta(days=510)
    db.execute(insert(MeasureResponse.__table__), [
        {"resident_id": resident.id, "episode_id": episode.id, "instrument_code": code,
         "instrument_version": str(result.version), "answers": list(result.answers), "total": result.total,
         "band": result.band, "flags": "", "submitted_at": start + timedelta(days=i)}
        for i, (code, result) in enumerate((code, results[code][i % len(results[code])])
                                           for i, code in enumerate(codes))])
    db.commit()

    page = _page(client, actions, address)
    assert len(page.encode()) < 60 * 1024
    for svg in re.findall(r"<svg.*?</svg>", page, flags=re.S):
        assert svg.count("<circle") <= MAX_POINTS
    # The sentence still compares the start of this course of care with the latest answer.
    assert "Your low mood score has gone down from 16 to 8 since you started this time." in page
    recent, months = page.split("month by month")[0], page.count("<td>")
    assert recent.count("<tr><td>") == RECENT_ROWS  # the first scale's latest answers one by one
    assert "month by month" in page and months < 600
