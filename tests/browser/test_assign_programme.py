"""Guided self-help on a phone, for the therapist: open an episode, assign Søvn with a check-in
day, see the first check-in booked on the episode; open the library and read a module in full;
the sleep window page. Axe clean on every page."""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from rph_pwa.localtime import local_date, local_today
from rph_pwa.models import Appointment
from rph_pwa.selfhelp import content
from rph_pwa.services.selfhelp import next_weekday
from tests.browser.conftest import staff_page
from tests.conftest import refresh
from tests.factories import make_monitored_episode, make_resident, make_staff, make_team


def test_the_therapist_assigns_sovn_and_reads_a_module(db, browser, live_server, assert_accessible):
    team = make_team(db)
    therapist, secret = make_staff(db, teams=[team])
    therapist.locale = "en"
    resident = make_resident(db, team=team, name="Siri Søvnig")
    episode = make_monitored_episode(db, team=team, resident=resident)
    episode.responsible_id = therapist.id
    db.commit()
    episode_id = episode.id
    weekday = (local_today().weekday() + 2) % 7

    context, page = staff_page(browser, live_server, therapist, secret)
    page.goto(f"/therapist/episodes/{episode_id}")
    page.locator("#selfhelp-link").click()
    expect(page.locator("h1")).to_contain_text("Siri Søvnig")
    assert_accessible(page)
    page.locator("#assign-programme").select_option(label="Søvn")
    page.locator(f"#assign-weekday-{weekday}").check()
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("the first check-in is booked")
    expect(page.locator("#open-programme")).to_contain_text("Søvn")
    expect(page.locator("#module-states tbody tr")).to_have_count(len(content.programme("sovn").modules))
    expect(page.locator("#sleep-window-link")).to_be_visible()
    assert_accessible(page)

    refresh(db)
    check_in = db.scalars(select(Appointment).where(Appointment.episode_id == episode_id,
                                                    Appointment.kind == "check_in")).one()
    expected = next_weekday(local_today(), weekday)
    assert local_date(check_in.starts_at) == expected
    page.goto(f"/therapist/episodes/{episode_id}")
    expect(page.locator("#contacts tbody tr")).to_have_count(1)
    expect(page.locator("#contacts")).to_contain_text("Guided self-help check-in")
    page.goto(f"/therapist/episodes/{episode_id}/sleep-window")
    expect(page.locator("#suggestion")).to_contain_text("Not enough nights yet")
    assert_accessible(page)

    page.goto("/therapist/programmes")
    expect(page.locator("#library-sovn")).to_contain_text("Søvn")
    assert_accessible(page)
    page.locator("#library-sovn a", has_text="Read the whole programme").click()
    first = content.programme("sovn").modules[0]
    page.locator("nav ol a", has_text=first.title).click()
    expect(page.locator("#module-1")).to_be_in_viewport()
    expect(page.locator("article").first).to_contain_text("søvnpress")
    assert_accessible(page)
    context.close()
    assert timedelta(0) <= expected - local_today() <= timedelta(days=6)
