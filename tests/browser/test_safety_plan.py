"""The safety plan works offline on the resident's phone (also after a restart), every number is a
one-tap tel: link, and after sign-out it is no longer readable offline. Therapist and resident
both edit; both authors' entries and the version history show."""
from __future__ import annotations

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    back_online,
    sign_in_by_code,
    sign_out_and_wait_until_cleared,
    staff_page,
)
from tests.factories import email, make_resident, make_staff, make_team


def _write_plan(page) -> None:
    page.goto("/me/safety-plan/edit")
    page.locator("#warning_signs").fill("Jeg slutter å svare på meldinger.")
    page.locator("#reasons_for_living").fill("Hunden min, Tinka.")
    page.locator("#people_to_ask-0-name").fill("Søster Anne")
    page.locator("#people_to_ask-0-phone").fill("+47 412 34 567")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url("**/me/safety-plan")


def test_plan_works_offline_after_restart_and_is_gone_after_sign_out(db, browser_type, live_server, mailbox,
                                                                     tmp_path, assert_accessible):
    address = email()
    make_resident(db, team=make_team(db), email=address)
    db.commit()
    profile = str(tmp_path / "phone")

    def launch():
        return browser_type.launch_persistent_context(profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                                      base_url=live_server, locale="nb-NO", **PHONE)

    context = launch()
    page = context.new_page()
    sign_in_by_code(page, mailbox, address)
    page.goto("/")
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    _write_plan(page)
    assert_accessible(page)
    page.reload()  # now the worker controls the page and keeps the plan
    assert page.evaluate("navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    page.reload()
    assert "Hunden min, Tinka." in page.content()
    page.goto("/hjelp")
    page.goto("/me/safety-plan")  # a fresh navigation, offline
    assert "Søster Anne" in page.content()
    assert page.locator("a[href='tel:+4741234567']").count() >= 1
    assert page.locator("a[href='tel:113']").count() >= 1
    assert page.locator("#plan-updated").inner_text().strip()
    context.close()

    context = launch()  # "the phone restarted", still without a network
    context.set_offline(True)
    page = context.new_page()
    page.goto("/me/safety-plan")
    assert "Hunden min, Tinka." in page.content()

    back_online(context, page, "/me")
    # The page asks the worker to delete the personal copy and waits for its answer.
    sign_out_and_wait_until_cleared(page)
    context.set_offline(True)
    page.goto("/me/safety-plan")
    assert "Hunden min" not in page.content()
    context.close()


def test_therapist_adds_to_the_plan_and_both_authors_show(db, browser, live_server, page, mailbox,
                                                           assert_accessible):
    team = make_team(db)
    therapist, secret = make_staff(db, teams=[team])
    address = email()
    resident = make_resident(db, team=team, email=address)
    db.commit()
    sign_in_by_code(page, mailbox, address)
    page.goto("/me/safety-plan")
    assert_accessible(page)  # no plan yet: the prefilled numbers
    page.goto("/me/safety-plan/edit")
    assert_accessible(page)
    _write_plan(page)

    staff_context, staff = staff_page(browser, live_server, therapist, secret)
    staff.goto(f"/therapist/residents/{resident.id}/safety-plan/edit")
    assert_accessible(staff)
    staff.locator("#coping_alone").fill("Gå en tur langs sjøen.")
    staff.locator("main form button[type=submit]").last.click()
    staff.wait_for_url(f"**/therapist/residents/{resident.id}/safety-plan")
    assert_accessible(staff)
    history = staff.locator("main").inner_text()
    assert therapist.display_name in history and "Test Testesen" in history
    staff_context.close()

    page.goto("/me/safety-plan")
    text = page.locator("main").inner_text()
    assert "Gå en tur langs sjøen." in text and "Hunden min, Tinka." in text
    assert_accessible(page)


def test_urgent_flag_pages_are_accessible_and_closing_needs_a_note(db, browser, live_server, assert_accessible):
    from rph_pwa.services.urgent_flags import raise_flag
    from tests.factories import make_referral

    team = make_team(db)
    therapist, secret = make_staff(db, teams=[team])
    referral = make_referral(db, team=team, item9=1)
    flag = raise_flag(db, resident_id=referral.resident_id, team_id=team.id, reason="item9",
                      referral_id=referral.id)
    db.commit()
    context, staff = staff_page(browser, live_server, therapist, secret)
    for path in ("/therapist/urgent", f"/therapist/urgent/{flag.id}"):
        staff.goto(path)
        assert_accessible(staff)
    context.close()
