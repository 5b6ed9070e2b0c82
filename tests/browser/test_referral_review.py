"""The referral's review page on a phone: every answer shown in words, "Change" opens the step and
saving returns to the review; "Back" keeps what was typed; coming back continues at the step left."""
from __future__ import annotations

from tests.browser.conftest import answer_contact_step, answer_first_step, answer_instrument
from tests.factories import make_team

INSTRUMENTS = ("PHQ-9", "GAD-7", "WSAS", "AUDIT-C", "DUDIT-C")


def _save(page) -> None:
    page.locator("main form button[type=submit]").click()


def test_review_shows_answers_edit_returns_and_resume_continues_where_left(db, page, assert_accessible):
    team = make_team(db)
    db.commit()
    page.goto("/referral/step/1")
    answer_first_step(page, team.municipalities[0].name, age=41)

    page.wait_for_url("**/referral/step/2")
    page.locator("input[name=problems][value='sleep']").check()
    page.locator("input[name=duration][value='gt_1y']").check()
    page.locator("#goals").fill("Sove gjennom natta igjen.")
    _save(page)

    # "Back" on a half-answered step keeps it: the choice is still there when the person returns.
    page.wait_for_url("**/referral/step/3")
    page.locator("input[name=work_status][value='studying']").check()
    page.locator("button[name=action][value=back]").click()
    page.wait_for_url("**/referral/step/2")
    _save(page)
    page.wait_for_url("**/referral/step/3")
    assert page.locator("input[name=work_status][value='studying']").is_checked()
    page.locator("input[name=sick_leave][value='none']").check()
    page.locator("input[name=return_to_work][value='not_relevant']").check()
    _save(page)

    # The person leaves at PHQ-9 and comes back later: "continue" opens PHQ-9, not step 2.
    page.wait_for_url("**/referral/step/4")
    page.goto("/")
    page.goto("/referral/")
    assert_accessible(page)
    page.locator("main a.button").first.click()
    page.wait_for_url("**/referral/step/4")

    for number, code in enumerate(INSTRUMENTS, start=4):
        page.wait_for_url(f"**/referral/step/{number}")
        answer_instrument(page, code, 1, assert_accessible)
    page.wait_for_url("**/referral/step/9")
    answer_contact_step(page, "Kari Review", voicemail_ok="yes", gp_consent="no")

    page.wait_for_url("**/referral/review")
    assert_accessible(page)
    main = page.locator("main")
    for typed in ("41", "Sove gjennom natta igjen.", "Kari Review", "412 34 567", team.municipalities[0].name):
        assert typed in main.inner_text()
    assert page.locator("section.review-part").count() == 9
    assert page.locator("section.review-part dd").count() > 40  # every question, each with its answer

    # "Change" opens the step; saving returns to the review with the new answer.
    page.locator("a[href='/referral/step/2?return=review']").click()
    page.wait_for_url("**/referral/step/2?return=review")
    assert_accessible(page)
    page.locator("#goals").fill("Orke å møte venner.")
    _save(page)
    page.wait_for_url("**/referral/review")
    assert "Orke å møte venner." in page.locator("main").inner_text()
    assert "Sove gjennom natta igjen." not in page.locator("main").inner_text()
    assert_accessible(page)

    # Reached the review: coming back continues there.
    page.goto("/referral/")
    page.locator("main a.button").first.click()
    page.wait_for_url("**/referral/review")
