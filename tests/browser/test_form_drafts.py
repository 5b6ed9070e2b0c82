"""Forms before a contact keep partial answers: through a reload, offline, and never for the next person."""
from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from rph_pwa.measures import get
from rph_pwa.models import FormRequest
from rph_pwa.services import outcomes
from tests.browser.conftest import sign_in_by_code
from tests.factories import make_booked_contact, make_staff, make_team

DRAFT_KEYS = "() => Object.keys(localStorage).filter(k => k.startsWith('rph-draft:'))"


def _resident_with_open_forms(db, team, therapist) -> str:
    """The address of a resident of `team` with a contact booked in 20 hours (its forms open)."""
    return make_booked_contact(db, hours_ahead=20, team=team, therapist=therapist)[3]


def _open_first_form(page) -> tuple[int, list[str]]:
    page.goto("/me")
    page.locator("main a[href^='/me/forms/']").first.click()
    page.wait_for_url(re.compile(r".*/me/forms/\d+$"))
    request_id = int(re.search(r"/me/forms/(\d+)", page.url).group(1))
    code = next(c for c in ("PHQ-9", "GAD-7", "WSAS") if c in page.locator("h1").inner_text())
    return request_id, [item.key for item in get(code).items]


def _answer(page, key: str, value: int) -> None:
    page.locator(f"input[name={key}][value='{value}']").check()


def _checked(page, key: str, value: int):
    return expect(page.locator(f"input[name={key}][value='{value}']"))


def _server_draft(db, request_id: int, wanted: dict[str, str], timeout: float = 10) -> dict:
    """Wait until the server's draft holds the wanted answers; the draft as it is then."""
    deadline = time.monotonic() + timeout
    while True:
        db.rollback()
        draft = outcomes.form_draft(db.get(FormRequest, request_id))
        if all(draft.get(k) == [v] for k, v in wanted.items()) or time.monotonic() > deadline:
            return draft
        time.sleep(0.2)


def test_a_form_is_kept_through_a_reload_and_while_offline(db, live_server, context, page, mailbox):
    team = make_team(db)
    therapist, _ = make_staff(db, teams=[team])
    address = _resident_with_open_forms(db, team, therapist)
    sign_in_by_code(page, mailbox, address)
    request_id, keys = _open_first_form(page)

    _answer(page, keys[0], 2)
    assert _server_draft(db, request_id, {keys[0]: "2"}).get(keys[0]) == ["2"]  # sent as they answer
    _answer(page, keys[1], 3)
    page.reload()  # leaving the page right after answering loses nothing
    _checked(page, keys[0], 2).to_be_checked()
    _checked(page, keys[1], 3).to_be_checked()
    assert _server_draft(db, request_id, {keys[1]: "3"}).get(keys[1]) == ["3"]

    context.set_offline(True)
    _answer(page, keys[2], 1)
    expect(page.locator("[data-draft-offline]")).to_be_visible()
    # Kept on the device under a key that names neither the person nor the form.
    stored = page.evaluate(DRAFT_KEYS)
    assert len(stored) == 1 and re.fullmatch(r"rph-draft:[0-9a-f]{32}", stored[0])
    time.sleep(1)
    assert keys[2] not in _server_draft(db, request_id, {}, timeout=0)

    context.set_offline(False)  # the `online` event sends what was kept
    assert _server_draft(db, request_id, {keys[2]: "1"}).get(keys[2]) == ["1"]
    expect(page.locator("[data-draft-offline]")).to_be_hidden()
    page.wait_for_function("() => !Object.keys(localStorage).some(k => k.startsWith('rph-draft:'))")
    page.reload()
    for key, value in ((keys[0], 2), (keys[1], 3), (keys[2], 1)):
        _checked(page, key, value).to_be_checked()
    # The service worker never keeps the form page.
    cached = page.evaluate("""async () => { const urls = [];
        for (const name of await caches.keys()) {
            for (const r of await (await caches.open(name)).keys()) urls.push(r.url); }
        return urls; }""")
    assert not any("/me/forms" in url for url in cached)


def test_signing_out_with_unsent_answers_asks_and_the_next_person_never_sees_them(db, live_server, context, page,
                                                                                   mailbox):
    team = make_team(db)
    therapist, _ = make_staff(db, teams=[team])
    first = _resident_with_open_forms(db, team, therapist)
    second = _resident_with_open_forms(db, team, therapist)
    sign_in_by_code(page, mailbox, first)
    request_id, keys = _open_first_form(page)

    context.set_offline(True)
    _answer(page, keys[0], 3)
    page.locator("header form[action='/logout'] button").click()
    dialog = page.locator("#draft-signout")
    expect(dialog).to_be_visible()  # says what would be lost and lets the person choose
    expect(dialog).to_contain_text(re.compile(r"team", re.I))
    dialog.locator("[data-draft-stay]").click()
    expect(dialog).to_be_hidden()
    assert page.url.endswith(f"/me/forms/{request_id}")

    context.set_offline(False)
    assert _server_draft(db, request_id, {keys[0]: "3"}).get(keys[0]) == ["3"]
    page.wait_for_function("() => !Object.keys(localStorage).some(k => k.startsWith('rph-draft:'))")
    page.locator("header form[action='/logout'] button").click()  # nothing unsent: signs out at once
    page.wait_for_url("**/signed-out")

    # Unsent answers left behind when the session ended without signing out (cookies gone).
    sign_in_by_code(page, mailbox, first)
    _open_first_form(page)
    context.set_offline(True)
    _answer(page, keys[1], 2)
    assert len(page.evaluate(DRAFT_KEYS)) == 1
    context.clear_cookies()
    context.set_offline(False)

    sign_in_by_code(page, mailbox, second)  # the next person on the same phone
    assert page.evaluate(DRAFT_KEYS) == []
    _open_first_form(page)
    assert page.locator("main form input[type=radio]:checked").count() == 0
    assert page.evaluate(DRAFT_KEYS) == []


def test_the_signed_out_page_removes_answers_kept_on_the_device(live_server, page):
    page.goto("/about")
    page.evaluate("() => localStorage.setItem('rph-draft:abc', JSON.stringify({owner: 'x', answers: []}))")
    page.goto("/signed-out")
    page.wait_for_function("() => localStorage.getItem('rph-draft:abc') === null")
