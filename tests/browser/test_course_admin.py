"""Course administration on a phone: a therapist makes a course template with its first
meeting's content, a run of it with two leaders, and enrols a resident from the run page; every
page axe clean."""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from rph_pwa.localtime import local_today
from tests.browser.conftest import staff_page
from tests.factories import make_monitored_episode, make_staff, make_team, unique


def test_a_therapist_makes_a_template_and_a_run_and_enrols_someone(db, browser, live_server, assert_accessible):
    team = make_team(db)
    therapist, secret = make_staff(db, teams=[team])
    colleague, _ = make_staff(db, teams=[team])
    therapist.locale = "en"
    therapist.display_name, colleague.display_name = unique("Tone Terapeut"), unique("Kari Kollega")
    episode = make_monitored_episode(db, team=team, offerings="course")
    db.commit()
    title = unique("Kurs i mestring av depresjon")

    context, page = staff_page(browser, live_server, therapist, secret)
    try:
        page.goto("/therapist/courses")
        assert_accessible(page)
        page.get_by_role("link", name="New course or group").click()
        page.locator("#template-title").fill(title)
        page.locator("#template-meeting_count").fill("4")
        page.locator("#template-meetings-0-title").fill("Hva er depresjon?")
        page.locator("#template-meetings-0-content").fill("Tanker, følelser og handlinger.")
        assert_accessible(page)
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".flash--success")).to_contain_text("The template is saved.")
        expect(page.locator("h1")).to_have_text(title)
        assert_accessible(page)

        page.get_by_role("link", name="New run").click()
        page.locator("#run-first_day").fill((local_today() + timedelta(days=14)).isoformat())
        page.locator("#run-time").fill("17:00")
        page.locator("#run-place").fill("Kulturhuset, sal 2")
        page.get_by_label(colleague.display_name).check()
        assert_accessible(page)
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".flash--success")).to_contain_text("The run is saved.")
        expect(page.locator("#meetings li")).to_have_count(4)
        page.locator("#enrol-episode").select_option(str(episode.id))
        page.get_by_role("button", name="Enrol", exact=True).click()
        expect(page.locator(".flash--success")).to_contain_text("The person is enrolled.")
        expect(page.locator("#run-places")).to_contain_text("1 of 20 places taken")
        page.locator("#meetings summary").first.click()
        assert_accessible(page)

        page.goto("/therapist/courses")
        expect(page.locator("#runs-coming")).to_contain_text(title)
        assert_accessible(page)
    finally:
        context.close()
