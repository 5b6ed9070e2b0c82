"""The responsible therapist on a phone: chosen on the referral page, handed over with a note on
the episode page (refused without one, the note field marked), the history shown; axe clean."""
from __future__ import annotations

from playwright.sync_api import expect

from rph_pwa.models import Role
from tests.browser.conftest import staff_page
from tests.factories import make_referral, make_staff, make_team


def test_the_therapist_chooses_and_hands_over_the_responsibility(db, browser, live_server, assert_accessible):
    team = make_team(db)
    therapist, secret = make_staff(db, teams=[team])
    therapist.locale = "en"
    lead, _ = make_staff(db, role=Role.TEAM_LEAD, teams=[team])
    referral = make_referral(db, team=team)
    db.commit()
    referral_id, episode_id, me, other = referral.id, referral.episode.id, therapist.display_name, lead.display_name

    context, page = staff_page(browser, live_server, therapist, secret)
    page.goto(f"/therapist/referrals/{referral_id}")
    expect(page.locator("#responsible-name")).to_have_text("Not chosen yet")
    assert_accessible(page)
    page.locator("#responsible-therapist").select_option(label=me)
    page.locator("#responsible button[type=submit]").click()
    expect(page.locator("#responsible-name")).to_have_text(me)

    page.goto(f"/therapist/episodes/{episode_id}")
    page.locator("#responsible-therapist").select_option(label=other)
    page.locator("#responsible button[type=submit]").click()
    expect(page.locator("#responsible-note-error")).to_be_visible()
    expect(page.locator("#responsible-name")).to_have_text(me)
    assert_accessible(page)
    page.locator("#responsible-note").fill("Permisjon; teamleder tar over veiledningen.")
    page.locator("#responsible button[type=submit]").click()
    expect(page.locator("#responsible-name")).to_have_text(other)
    expect(page.locator("#responsible-changes li")).to_have_count(2)
    expect(page.locator("#responsible-changes")).to_contain_text("Permisjon; teamleder tar over veiledningen.")
    assert_accessible(page)
    context.close()
