"""The resident's access log says what a staff member did, no more; the about page matches the handbook."""
from __future__ import annotations

import re
from pathlib import Path

from rph_pwa.client.views import ACCESS_ACTIONS
from rph_pwa.services import urgent_flags
from rph_pwa.services.residents import open_resident
from tests.factories import email, make_resident, make_staff, make_team

ROOT = Path(__file__).resolve().parents[2]


def test_opening_an_urgent_flag_is_not_called_following_it_up(db, actions, client):
    team = make_team(db)
    therapist, _ = make_staff(db, teams=[team])
    address = email()
    resident = make_resident(db, team=team, email=address)
    flag = urgent_flags.raise_flag(db, resident_id=resident.id, team_id=team.id, reason="item9")
    db.commit()
    urgent_flags.view_flag(db, actor=therapist, flag_id=flag.id)
    open_resident(db, actor=therapist, resident_id=resident.id)
    db.commit()

    client.set_cookie("lang", "en")
    actions.resident_login(address)
    page = client.get("/me/access-log").get_data(as_text=True)
    assert "Opened the notice that you may need quick contact" in page
    assert "Opened your contact details" in page
    assert "Followed up" not in page and "view_urgent_flag" not in page


def test_every_audited_action_has_a_plain_sentence_for_the_resident():
    source = "\n".join(p.read_text() for p in (ROOT / "rph_pwa").rglob("*.py"))
    used = set(re.findall(r"\baction=\"([a-z_]+)\"", source))
    assert used and used <= set(ACCESS_ACTIONS), used - set(ACCESS_ACTIONS)
    # No sentence claims the team acted on something; an event only says what was opened or saved.
    for key, sentence in ACCESS_ACTIONS.items():
        assert not re.search(r"follow|contacted|handled|dealt", str(sentence), re.IGNORECASE), key


def test_about_page_describes_courses_as_four_weekly_two_hour_meetings(client):
    client.set_cookie("lang", "en")
    page = client.get("/about").get_data(as_text=True)
    assert "four meetings of two hours, one a week" in page
    assert "evening" not in page.lower()
