"""A new resident on a phone refers themselves, makes a passkey, and the referral reaches the right
team's triage queue; item 9 shows crisis help before anything is sent."""
from __future__ import annotations

from sqlalchemy import select

from rph_pwa.models import Referral
from tests.browser.conftest import answer_contact_step, answer_first_step, answer_instrument, staff_page
from tests.factories import make_staff, make_team


def _fill(page, municipality: str, assert_accessible, item9: int = 0, name: str = "Ingrid") -> None:
    page.goto("/")
    assert_accessible(page)
    page.locator("main a[href='/referral/']").first.click()
    assert_accessible(page)
    page.locator("main a[href='/referral/step/1']").click()
    assert_accessible(page)
    answer_first_step(page, municipality, age=34)

    page.wait_for_url("**/referral/step/2")
    assert_accessible(page)
    page.locator("input[name=problems][value='anxiety']").check()
    page.locator("#own_words").fill("Jeg er urolig hele tiden.")
    page.locator("input[name=duration][value='3_12m']").check()
    page.locator("#goals").fill("Klare å handle uten panikk.")
    page.locator("main form button[type=submit]").click()

    page.wait_for_url("**/referral/step/3")
    assert_accessible(page)
    page.locator("input[name=work_status][value='working']").check()
    page.locator("input[name=sick_leave][value='none']").check()
    page.locator("input[name=return_to_work][value='not_relevant']").check()
    page.locator("main form button[type=submit]").click()

    page.wait_for_url("**/referral/step/4")
    if item9:
        assert page.locator("#crisis-panel").is_hidden()
        page.locator(f"input[name=item9][value='{item9}']").check()
        assert page.locator("#crisis-panel").is_visible()  # at once, before anything is sent
    answer_instrument(page, "PHQ-9", 2, assert_accessible, {"item9": item9})
    for number, code in ((5, "GAD-7"), (6, "WSAS"), (7, "AUDIT-C"), (8, "DUDIT-C")):
        page.wait_for_url(f"**/referral/step/{number}")
        if item9:
            assert page.locator("#crisis-panel").is_visible()
        answer_instrument(page, code, 1, assert_accessible)

    page.wait_for_url("**/referral/step/9")
    assert_accessible(page)
    answer_contact_step(page, name, voicemail_ok="no", gp_consent="yes")
    page.wait_for_url("**/referral/review")
    assert_accessible(page)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/referral/account")
    assert_accessible(page)


def _therapist_queue(db, browser, live_server, team):
    therapist, secret = make_staff(db, teams=[team])
    db.commit()
    context, page = staff_page(browser, live_server, therapist, secret)
    page.goto("/therapist/triage")
    return context, page


def test_whole_referral_with_passkey_reaches_the_right_queue(db, browser, live_server, page, authenticator,
                                                            assert_accessible):
    team, other = make_team(db), make_team(db)
    municipality = team.municipalities[0].name
    db.commit()
    _fill(page, municipality, assert_accessible, name="Ingrid Queue")
    page.locator("button[data-passkey=register]").click()
    page.wait_for_url("**/referral/sent")
    assert_accessible(page)

    referral = db.scalars(select(Referral).where(Referral.team_id == team.id)).one()
    assert not referral.urgent
    context, staff = _therapist_queue(db, browser, live_server, team)
    html = staff.content()
    assert "Ingrid Queue" in html
    # Eight PHQ-9 items answered 2 and item 9 answered 0: 16, "moderately severe"; GAD-7 all 1: 7, mild.
    assert "PHQ-9: 16 (Moderat alvorlig)" in html
    assert "GAD-7: 7 (Mild)" in html and "WSAS: 5 (" in html
    assert_accessible(staff)
    staff.locator(f"a[href='/therapist/referrals/{referral.id}']").first.click()
    assert_accessible(staff)
    context.close()

    context, outsider = _therapist_queue(db, browser, live_server, other)
    assert "Ingrid Queue" not in outsider.content()
    context.close()


def test_item9_shows_crisis_help_and_puts_the_referral_first(db, browser, live_server, page, authenticator,
                                                             mailbox, assert_accessible):
    team = make_team(db)
    db.commit()
    _fill(page, team.municipalities[0].name, assert_accessible, item9=1, name="Urgent Person")
    assert page.locator("#crisis-panel").is_visible()
    page.locator("button[data-passkey=register]").click()
    page.wait_for_url("**/referral/sent")
    notice = mailbox.to(team.inbox_email)[-1]
    body = (notice["Subject"] + notice.get_body(("plain",)).get_content()).lower()
    for word in ("urgent person", "phq", "psyk", "selvmord", "depres"):
        assert word not in body

    context, staff = _therapist_queue(db, browser, live_server, team)
    first_card = staff.locator("main article").first
    assert "Urgent Person" in first_card.inner_text()
    assert first_card.locator(".badge--urgent").count() >= 1  # "urgent", and item 9 highlighted
    context.close()


def test_staff_referral_pages_are_accessible(db, browser, live_server, assert_accessible):
    from tests.factories import make_referral

    team = make_team(db)
    referral = make_referral(db, team=team, urgent=True, item9=2)
    db.commit()
    context, page = _therapist_queue(db, browser, live_server, team)
    assert_accessible(page)
    for path in (f"/therapist/referrals/{referral.id}", "/therapist/directory", "/therapist/reach", "/therapist/"):
        page.goto(path)
        assert_accessible(page)
    context.close()


def test_resume_after_closing_the_browser(db, browser, live_server, assert_accessible, tmp_path):
    from tests.browser.conftest import PHONE

    team = make_team(db)
    db.commit()
    first = browser.new_context(base_url=live_server, **PHONE)
    page = first.new_page()
    page.goto("/referral/step/1")
    answer_first_step(page, team.municipalities[0].name, age=52)
    page.wait_for_url("**/referral/step/2")
    page.locator("#goals").fill("Komme meg ut av sofaen igjen")
    page.locator("main form button[type=submit]").click()  # incomplete: saved as a draft with errors
    state = tmp_path / "state.json"
    saved = first.storage_state()
    first.close()
    # Closing a browser drops session cookies: keep only the persistent ones, as a phone would.
    saved["cookies"] = [c for c in saved["cookies"] if c.get("expires", -1) > 0]
    assert saved["cookies"], "the draft's cookie must be persistent"
    state.write_text(__import__("json").dumps(saved))

    second = browser.new_context(base_url=live_server, storage_state=str(state), **PHONE)
    page = second.new_page()
    page.goto("/referral/")
    assert_accessible(page)
    page.locator("main a[href='/referral/step/2']").click()
    assert page.locator("#goals").input_value() == "Komme meg ut av sofaen igjen"
    second.close()
