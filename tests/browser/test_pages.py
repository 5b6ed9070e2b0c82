"""Every page passes axe-core (no serious or critical violations), and the PWA is installable:
the service worker controls the page, and an offline reload shows the offline page."""
from __future__ import annotations

import pytest

from tests.browser.conftest import answer_first_step
from tests.factories import email, make_resident, make_team

PUBLIC_PAGES = ["/", "/hjelp", "/offline", "/personvern", "/login", "/register", "/login/code",
                "/staff/login", "/signed-out", "/no-such-page", "/about", "/find-team", "/referral/",
                "/referral/step/1", "/kurs"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_are_accessible(page, path, assert_accessible):
    page.goto(path)
    assert_accessible(page)


@pytest.mark.parametrize("lang", ["nn", "en"])
def test_other_languages_are_accessible(page, lang, assert_accessible):
    page.goto("/")
    page.locator("#lang-select").select_option(lang)
    page.locator(".lang-switch button").click()
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == lang
    assert_accessible(page)


def test_resident_pages_are_accessible_and_show_errors_clearly(db, page, mailbox, assert_accessible):
    address = email()
    make_resident(db, team=make_team(db), email=address)
    db.commit()
    page.goto("/login/code")
    page.locator("#email").fill(address)
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/login/code/verify")
    page.locator("#code").fill("12")
    page.locator("main button[type=submit]").click()
    assert page.locator("#error-summary").is_visible()
    assert page.locator("#code").get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    page.locator("#code").fill(mailbox.last_code(address))
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/account/passkeys")

    for path in ("/me", "/me/profile", "/me/access-log", "/account/email"):
        page.goto(path)
        assert_accessible(page)

    page.goto("/me/profile")
    long_text = "Ring meg gjerne. " * 80  # over 1000 characters
    page.locator("#contact_note").fill(long_text)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state("load")
    assert page.locator("#contact_note").input_value() == long_text  # nothing typed is lost
    assert page.locator("#contact_note").get_attribute("aria-invalid") == "true"
    assert_accessible(page)

    page.goto("/account/email")
    page.locator("#email").fill(email())
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/account/email/confirm")
    assert_accessible(page)


def offline_heading(app) -> str:
    """The offline page's heading as the bokmål page shows it (whatever words the catalog has)."""
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale("nb"):
        return gettext("You are offline")


def test_installable_service_worker_controls_page_and_offline_reload(app, browser_type, live_server, tmp_path):
    # Installability needs a normal (not incognito) profile, so this test uses a persistent one.
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE

    context = browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, base_url=live_server,
        locale="nb-NO", **PHONE)
    try:
        page = context.new_page()
        page.goto("/")
        page.evaluate("async () => { await navigator.serviceWorker.ready; }")
        page.reload()
        assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith("/service-worker.js")

        cdp = context.new_cdp_session(page)
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == [], errors
        assert cdp.send("Page.getAppManifest")["errors"] == []

        context.set_offline(True)
        page.reload()
        assert offline_heading(app) in page.content()
        page.goto("/hjelp")
        assert "116 123" in page.content()
        page.goto("/me/profile")
        assert offline_heading(app) in page.content()
    finally:
        context.close()


def test_find_team_and_the_not_eligible_pages_are_accessible(db, page, assert_accessible):
    from tests.factories import make_municipality

    team = make_team(db)
    lonely = make_municipality(db, name="Utenteam")
    db.commit()
    for municipality in (team.municipalities[0], lonely):
        page.goto(f"/find-team?municipality={municipality.id}")
        assert_accessible(page)
    assert "Utenteam" in page.content()
    for age, municipality in ((15, team.municipalities[0]), (40, lonely)):
        page.goto("/referral/step/1")
        answer_first_step(page, municipality.name, age=age)
        page.wait_for_load_state("load")
        assert page.locator("h1").count() == 1
        assert_accessible(page)
