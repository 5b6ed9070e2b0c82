"""Browser fixtures: Debian's Chromium driven by Playwright, phone-sized, with axe-core. Every test
in this folder is marked `browser` here (and nowhere else), so `-m "not browser"` runs the suite
without Chromium."""
from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-gpu", "--no-first-run"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}
BROWSER_TESTS = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items) -> None:
    """Mark every test under tests/browser `browser` (the marker is registered in pyproject.toml)."""
    for item in items:
        if BROWSER_TESTS in item.path.resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `make test`, which installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright.chromium


@pytest.fixture(scope="session")
def browser(browser_type):
    browser = browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def context(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="nb-NO", **PHONE)
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def authenticator(page):
    """A virtual platform authenticator with user verification (CDP WebAuthn domain)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    result = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
    }})
    yield cdp, result["authenticatorId"]


_AXE_SOURCE: str | None = None


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the current page (WCAG 2.1 A/AA rules)."""
    global _AXE_SOURCE
    if _AXE_SOURCE is None:
        import axe_playwright_python

        _AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
    # Evaluated through the DevTools protocol, which the page's CSP does not apply to.
    page.evaluate(_AXE_SOURCE)
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def assert_accessible():
    def check(page) -> None:
        violations = axe_violations(page)
        assert violations == [], f"{page.url}: {violations}"
    return check


def staff_page(browser, live_server, user, secret: str):
    """A new phone-sized browser context with a staff member signed in (password + TOTP);
    returns (context, page) on the workspace."""
    import pyotp

    from tests.factories import PASSWORD

    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto("/staff/login")
    page.locator("#username").fill(user.username)
    page.locator("#password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.locator("#code").fill(pyotp.TOTP(secret).now())
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/therapist/")
    return context, page


def sign_in_by_code(page, mailbox, address: str, lands_on: str = "**/account/passkeys") -> None:
    """Sign a resident in with the e-mail code fallback (mail read from the loopback SMTP server);
    `lands_on` is where the sign-in leads (a page asked for with `next`, or making a passkey)."""
    page.goto("/login/code")
    page.locator("#email").fill(address)
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/login/code/verify")
    page.locator("#code").fill(mailbox.last_code(address))
    page.locator("main button[type=submit]").click()
    page.wait_for_url(lands_on)


def back_online(context, page, path: str) -> None:
    """Turn the network back on and open `path` (a signed-in page) from the server. Chromium may
    hand the service worker the change a moment after the page, and until then the worker answers
    a navigation with its offline copy; so the page is opened again until the server's page (the one
    with the sign-out button) is there."""
    context.set_offline(False)
    for _ in range(50):
        page.goto(path)
        if page.locator("header form[action='/logout'] button").count():
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"{path} still came from the offline copy 10 s after going back online")


def sign_out_and_wait_until_cleared(page) -> None:
    """Sign the resident out from the page open on `page` (Norwegian interface) and wait until the
    signed-out page says the service worker has deleted the per-user caches."""
    from playwright.sync_api import expect

    page.locator("button.button--link", has_text="Logg ut").click()
    page.wait_for_url("**/signed-out")
    expect(page.locator("[data-signed-out]")).to_have_attribute("data-offline-cleared", "yes")


# --- The referral's steps ----------------------------------------------------------------------

def answer_first_step(page, municipality: str, age: int, crisis: str = "no") -> None:
    """Step 1 of the referral (open on `page`) answered and sent: age, municipality (its name) and
    whether it is a crisis ("yes"/"no")."""
    page.locator("#age").fill(str(age))
    page.locator("#municipality").select_option(label=municipality)
    page.locator(f"input[name=crisis][value='{crisis}']").check()
    page.locator("main form button[type=submit]").click()


def answer_instrument(page, code: str, value: int, assert_accessible, overrides: dict | None = None) -> None:
    """A questionnaire step (open on `page`, checked with axe first) answered and sent: every item
    `value` unless `overrides` names it, the functioning question (if any) its first option."""
    from rph_pwa.measures import get

    instrument = get(code)
    assert_accessible(page)
    for item in instrument.items:
        chosen = (overrides or {}).get(item.key, value)
        page.locator(f"input[name={item.key}][value='{chosen}']").check()
    if instrument.functioning_question is not None:
        page.locator("input[name=functioning]").first.check()
    page.locator("main form button[type=submit]").click()


def answer_contact_step(page, name: str, *, voicemail_ok: str, gp_consent: str) -> None:
    """Step 9 of the referral (open on `page`) answered and sent: `name`, phone 412 34 567, SMS
    yes, no interpreter, a woman; voice mail and the GP's consent as given ("yes"/"no")."""
    page.locator("#name").fill(name)
    page.locator("#phone").fill("412 34 567")
    page.locator(f"input[name=voicemail_ok][value='{voicemail_ok}']").check()
    page.locator("input[name=sms_ok][value='yes']").check()
    page.locator(f"input[name=gp_consent][value='{gp_consent}']").check()
    page.locator("input[name=interpreter][value='no']").check()
    page.locator("input[name=gender][value='woman']").check()
    page.locator("main form button[type=submit]").click()


def answer_by_moving(page, *, days_ahead: int, at: str = "14:30", note: str = "Ny tid passer bedre.") -> None:
    """On a change request's page (staff): move the appointment to `days_ahead` days from today at
    `at` (local time), with a note to the resident, and wait for I dag."""
    from datetime import timedelta

    from rph_pwa.localtime import local_today

    page.get_by_label("Move it to a new time").check()
    page.locator("#day").fill((local_today() + timedelta(days=days_ahead)).isoformat())
    page.locator("#time").fill(at)
    page.locator("#note").fill(note)
    page.locator("#answer button[type=submit]").click()
    page.wait_for_url("**/therapist/")
