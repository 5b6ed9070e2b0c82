"""The installed app opened without a connection: the offline page shows crisis help to everyone
and, on the device of a signed-in resident, their team's phone and a link that opens the saved
safety plan; after sign-out the device shows crisis help only."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import PHONE, back_online, sign_in_by_code, sign_out_and_wait_until_cleared
from tests.factories import email, make_resident, make_safety_plan, make_team

#: The installed app's start page (static/manifest.webmanifest's start_url).
START_URL = "/?source=pwa"
CRISIS_NUMBERS = ("tel:113", "tel:116117", "tel:116123", "tel:22400040")

CARD_SAVED = """async () => { for (let i = 0; i < 100; i++) {
    if (await caches.match('/me/contact-card', {cacheName: 'rph-user-contact-card'})) { return true; }
    await new Promise(resolve => setTimeout(resolve, 100)); }
  return false; }"""


def _open_offline(page) -> None:
    """Open the start page (offline: the worker's offline page) and wait for its script's look-up."""
    page.goto(START_URL)
    expect(page.locator("[data-offline-saved]")).to_have_attribute("data-offline-checked", "yes")


def _assert_crisis_help(page) -> None:
    for href in CRISIS_NUMBERS:
        expect(page.locator(f"main a[href='{href}']")).to_be_visible()
    assert "Denne appen er ikke en nødtjeneste" in page.locator("main").inner_text()


def test_offline_the_app_shows_the_team_phone_and_opens_the_saved_plan(db, context, page, mailbox,
                                                                          assert_accessible):
    address = email()
    resident = make_resident(db, team=make_team(db, name="Psykisk helse Testby"), email=address)
    make_safety_plan(db, resident=resident, reasons_for_living="Hunden min, Tinka.")
    db.commit()
    sign_in_by_code(page, mailbox, address)
    page.goto("/")
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    page.goto("/me/safety-plan")  # kept by the worker
    page.goto("/me")  # the worker keeps the contact card
    assert page.evaluate(CARD_SAVED)

    context.set_offline(True)
    _open_offline(page)
    _assert_crisis_help(page)
    team = page.locator("#offline-team")
    expect(team).to_be_visible()
    expect(team).to_contain_text("Psykisk helse Testby")
    expect(team.locator("a[href='tel:22334455']")).to_have_text("22 33 44 55")
    plan_link = page.locator("#offline-plan a[href='/me/safety-plan']")
    expect(plan_link).to_be_visible()
    assert_accessible(page)
    plan_link.click()
    page.wait_for_url("**/me/safety-plan")
    expect(page.locator("main")).to_contain_text("Hunden min, Tinka.")

    back_online(context, page, "/me")
    sign_out_and_wait_until_cleared(page)
    context.set_offline(True)
    _open_offline(page)
    _assert_crisis_help(page)
    expect(page.locator("#offline-team")).to_be_hidden()
    expect(page.locator("#offline-plan")).to_be_hidden()
    assert "22 33 44 55" not in page.content() and "Testby" not in page.content()


def test_offline_a_new_visitor_sees_crisis_help_only(page, context, assert_accessible):
    page.goto("/")
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    page.goto("/me")  # sent to sign in: the worker keeps no card
    page.wait_for_url("**/login**")
    names = page.evaluate("caches.keys()")
    assert not [name for name in names if name.startswith("rph-user-")]
    context.set_offline(True)
    _open_offline(page)
    expect(page.locator("h1")).to_be_visible()
    _assert_crisis_help(page)
    expect(page.locator("#offline-team")).to_be_hidden()
    expect(page.locator("#offline-plan")).to_be_hidden()
    assert_accessible(page)


def test_without_javascript_the_offline_page_shows_crisis_help(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="nb-NO", java_script_enabled=False, **PHONE)
    try:
        page = context.new_page()
        page.goto("/offline")
        _assert_crisis_help(page)
        expect(page.locator("#offline-team")).to_be_hidden()
        expect(page.locator("#offline-plan")).to_be_hidden()
    finally:
        context.close()
