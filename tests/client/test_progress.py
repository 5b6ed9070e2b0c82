"""Min fremgang: only this course of care, and a rise invites the person to tell their therapist."""
from __future__ import annotations

from datetime import timedelta

from rph_pwa.db import utcnow
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
