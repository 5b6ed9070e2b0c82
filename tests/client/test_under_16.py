"""Under 16: nothing is stored, and a young person in crisis gets one-tap help adapted to their age
before anything else (113, Alarmtelefonen 116 111, Kors på halsen 800 33 321 and its chat)."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from rph_pwa.models import ReferralDraft
from tests.client.referral_helpers import post_step
from tests.factories import make_team

YOUNG_CALLS = ("tel:113", "tel:116111", "tel:80033321")


def _drafts(db) -> int:
    db.commit()
    return db.scalar(select(func.count()).select_from(ReferralDraft))


def _panel_first(html: str) -> str:
    """The main content must open with the crisis panel, before the page's heading."""
    main = html[html.index("<main"):]
    panel, heading = main.find('id="crisis-panel"'), main.find("<h1")
    assert panel != -1, "no crisis panel"
    assert panel < heading, "the crisis panel must come before anything else"
    return main[panel:heading]


def test_under_16_in_crisis_gets_one_tap_calls_first_and_nothing_is_stored(db, client):
    team = make_team(db)
    db.commit()
    before = _drafts(db)
    response = post_step(client, 1, {"age": 15, "municipality": team.municipalities[0].id, "crisis": "yes"})
    assert response.status_code == 200
    panel = _panel_first(response.get_data(as_text=True))
    for href in YOUNG_CALLS:
        assert f'href="{href}"' in panel
    assert "korspahalsen.no" in panel and 'role="alert"' in panel
    assert _drafts(db) == before
    with client.session_transaction() as session:
        assert "referral_draft" not in session


def test_under_16_in_crisis_gets_help_even_before_the_step_is_complete(db, client):
    """A 14-year-old who skips the municipality still sees the crisis help, not a form error."""
    before = _drafts(db)
    response = post_step(client, 1, {"age": "14", "municipality": "0", "crisis": "yes"})
    assert response.status_code == 200
    panel = _panel_first(response.get_data(as_text=True))
    assert all(f'href="{href}"' in panel for href in YOUNG_CALLS)
    assert _drafts(db) == before


def test_under_16_without_crisis_gets_call_buttons_not_plain_text(db, client):
    team = make_team(db)
    db.commit()
    html = post_step(client, 1, {"age": 15, "municipality": team.municipalities[0].id, "crisis": "no"}
                     ).get_data(as_text=True)
    assert 'id="crisis-panel"' not in html
    for href in YOUNG_CALLS:
        assert f'href="{href}"' in html


def test_adult_in_crisis_with_an_unfinished_first_step_sees_crisis_help(db, client):
    response = post_step(client, 1, {"age": "", "municipality": "0", "crisis": "yes"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="crisis-panel"' in html and re.search(r'href="tel:113"', html)
    assert 'id="crisis-panel" role="alert" aria-labelledby="crisis-panel-title" hidden' not in html


def test_adult_in_crisis_in_an_unserved_municipality_sees_crisis_help_first(db, client):
    from tests.factories import make_municipality

    lonely = make_municipality(db, name="Utenteam")
    db.commit()
    html = post_step(client, 1, {"age": 40, "municipality": lonely.id, "crisis": "yes"}).get_data(as_text=True)
    panel = _panel_first(html)
    assert 'href="tel:113"' in panel and 'href="tel:116123"' in panel
    assert "crisis-panel" in panel and "Utenteam" in html
