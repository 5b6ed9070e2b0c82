"""The responsible therapist on the referral page (triage) and the episode page: chosen from the
team's therapists and team leads, handed over with a note, the history shown; refused posts
keep what was typed and change nothing."""
from __future__ import annotations

import html
import re

from sqlalchemy import select

from rph_pwa.db import utcnow
from rph_pwa.models import Episode, ResponsibleChange, Role
from rph_pwa.services import responsibility
from tests.conftest import post_form, refresh
from tests.factories import make_referral, make_staff, make_team


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def _options(page: str) -> dict[str, str]:
    """The responsible form's choices: value -> label."""
    select_html = re.search(r'<select[^>]*name="responsible-therapist".*?</select>', page, re.S).group(0)
    return dict(re.findall(r'<option[^>]*value="(\d+)"[^>]*>([^<]*)</option>', select_html))


def _responsible(db, episode_id: int) -> int | None:
    refresh(db)
    return db.get(Episode, episode_id).responsible_id


def _setup(db, actions):
    team, other = make_team(db), make_team(db)
    lead, _ = make_staff(db, role=Role.TEAM_LEAD, teams=[team])
    admin, _ = make_staff(db, role=Role.ADMIN, teams=[team])
    elsewhere, _ = make_staff(db, teams=[other])
    referral = make_referral(db, team=team)
    me = actions.login_staff(db, team)
    return referral, me, lead, admin, elsewhere


def test_chosen_at_triage_and_handed_over_with_a_note_on_the_episode_page(db, actions, client):
    referral, me, lead, admin, elsewhere = _setup(db, actions)
    episode_id = referral.episode.id
    url, episode_url = f"/therapist/referrals/{referral.id}", f"/therapist/episodes/{episode_id}"
    page = _page(client, url)
    assert re.search(r'id="responsible-name">Not chosen yet<', page)
    # Only the team's therapists and team leads: not its admin, not another team's therapist.
    assert _options(page) == {"0": "Choose", str(me.id): me.display_name, str(lead.id): lead.display_name}

    # The first choice needs no note.
    response = post_form(client, f"{url}/responsible", {"therapist": str(me.id), "note": ""}, prefix="responsible")
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    assert _responsible(db, episode_id) == me.id
    page = _page(client, url)
    assert f'id="responsible-name">{me.display_name}<' in page
    assert "The responsible therapist is saved." in page

    # A hand-over without a note is refused on the note field; the choice stays as chosen.
    response = post_form(client, f"{episode_url}/responsible", {"therapist": str(lead.id), "note": "  "},
                         prefix="responsible")
    assert response.status_code == 400
    body = html.unescape(response.get_data(as_text=True))
    assert "Write a short note on why another therapist takes over." in body
    assert re.search(rf'<option selected value="{lead.id}"|<option value="{lead.id}" selected', body)
    assert _responsible(db, episode_id) == me.id

    response = post_form(client, f"{episode_url}/responsible",
                         {"therapist": str(lead.id), "note": "Jeg har permisjon; teamleder tar over veiledningen."},
                         prefix="responsible")
    assert response.status_code == 302 and response.headers["Location"].endswith(episode_url)
    assert _responsible(db, episode_id) == lead.id
    page = _page(client, episode_url)
    assert f'id="responsible-name">{lead.display_name}<' in page
    history = re.search(r'<ol id="responsible-changes">(.*?)</ol>', page, re.S).group(1)
    assert f"{me.display_name}: {me.display_name} became responsible" in history
    assert f"{me.display_name}: from {me.display_name} to {lead.display_name}" in history
    assert "Jeg har permisjon; teamleder tar over veiledningen." in history
    assert history.index("became responsible") < history.index("from ")
    # The referral page says who is responsible now, and the start note names them.
    assert f'id="responsible-name">{lead.display_name}<' in _page(client, url)
    assert f"Ansvarlig terapeut: {lead.display_name}" in page


def test_a_refused_post_keeps_the_typed_note_and_changes_nothing(db, actions, client):
    referral, me, lead, admin, elsewhere = _setup(db, actions)
    episode_id = referral.episode.id
    url = f"/therapist/episodes/{episode_id}"
    note = "Overtar fordi vi møtes på Leknes & det passer bedre."
    cases = [
        ({"therapist": "0", "note": note}, "Choose the responsible therapist."),
        ({"therapist": str(elsewhere.id), "note": note}, None),  # not a choice: another team's therapist
        ({"therapist": str(admin.id), "note": note}, None),  # an admin is no therapist
        ({"therapist": "x", "note": note}, None),
        ({"therapist": str(me.id), "note": note + "x" * 1000}, "Use at most 1000 characters."),
        ({"therapist": str(me.id), "note": "Ny\x1bterapeut"}, "invisible control character"),
    ]
    for data, message in cases:
        response = post_form(client, f"{url}/responsible", data, prefix="responsible")
        assert response.status_code == 400, data
        body = html.unescape(response.get_data(as_text=True))
        assert 'id="error-summary"' in body
        if message:
            assert message in body
        if "\x1b" not in data["note"]:
            assert data["note"] in body, "the typed note is kept"
        assert _responsible(db, episode_id) is None
    assert db.scalars(select(ResponsibleChange).where(ResponsibleChange.episode_id == episode_id)).all() == []


def test_posts_without_the_forms_csrf_token_are_refused(db, actions, client):
    referral, me, *_ = _setup(db, actions)
    for url in (f"/therapist/referrals/{referral.id}/responsible",
                f"/therapist/episodes/{referral.episode.id}/responsible"):
        response = client.post(url, data={"responsible-therapist": str(me.id), "responsible-note": ""})
        assert response.status_code == 400
    assert _responsible(db, referral.episode.id) is None


def test_another_teams_staff_get_404_and_change_nothing(db, actions, client):
    team, other = make_team(db), make_team(db)
    therapist, _ = make_staff(db, teams=[team])
    referral = make_referral(db, team=team)
    actions.login_staff(db, other)
    token_page = "/therapist/"
    for url in (f"/therapist/referrals/{referral.id}/responsible",
                f"/therapist/episodes/{referral.episode.id}/responsible"):
        response = post_form(client, url, {"therapist": str(therapist.id), "note": ""}, prefix="responsible",
                             page=token_page)
        assert response.status_code == 404
    assert _responsible(db, referral.episode.id) is None


def test_an_ended_episode_shows_its_history_but_offers_no_change(db, actions, client):
    referral, me, lead, *_ = _setup(db, actions)
    episode = referral.episode
    responsibility.set_responsible(db, actor=me, episode_id=episode.id, therapist_id=me.id)
    episode.discharged_at = utcnow()
    db.commit()
    url = f"/therapist/episodes/{episode.id}"
    page = _page(client, url)
    assert 'name="responsible-therapist"' not in page and 'id="responsible-changes"' in page
    response = post_form(client, f"{url}/responsible", {"therapist": str(lead.id), "note": "Tar over."},
                         prefix="responsible", follow=True)
    assert response.status_code == 200
    assert "The episode has ended, so the responsible therapist stays as it was." in html.unescape(
        response.get_data(as_text=True))
    assert _responsible(db, episode.id) == me.id
