"""Questionnaires on a phone (390 px): WSAS as five compact 0–8 scales with the printed end labels,
thumb-sized real radio buttons, axe clean; the PHQ-9 functioning question only with problems."""
from __future__ import annotations

from tests.browser.conftest import answer_first_step
from tests.factories import make_team


def _to_step_4(page, municipality: str) -> None:
    page.goto("/referral/step/1")
    answer_first_step(page, municipality, age=34)
    page.wait_for_url("**/referral/step/2")
    page.locator("input[name=problems][value='sleep']").check()
    page.locator("input[name=duration][value='gt_1y']").check()
    page.locator("#goals").fill("Sove hele natta.")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/referral/step/3")
    page.locator("input[name=work_status][value='working']").check()
    page.locator("input[name=sick_leave][value='none']").check()
    page.locator("input[name=return_to_work][value='not_relevant']").check()
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/referral/step/4")


def test_wsas_is_compact_thumb_sized_and_accessible_on_a_phone(db, page, assert_accessible):
    team = make_team(db)
    db.commit()
    _to_step_4(page, team.municipalities[0].name)

    # PHQ-9: the functioning question waits until a problem is reported (the server agrees).
    functioning = page.locator("[data-functioning]")
    for n in range(1, 10):
        page.locator(f"input[name=item{n}][value='0']").check()
    assert functioning.is_hidden()
    page.locator("input[name=item4][value='1']").check()
    assert functioning.is_visible()
    page.locator("input[name=item4][value='0']").check()
    assert functioning.is_hidden()
    assert_accessible(page)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/referral/step/5")
    for n in range(1, 8):
        page.locator(f"input[name=item{n}][value='1']").check()
    page.locator("input[name=functioning][value='1']").check()
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/referral/step/6")

    # WSAS: five fieldsets, each with the end labels and nine real radios, at least 44 x 44 px.
    assert_accessible(page)
    groups = page.locator("fieldset.scale-group")
    assert groups.count() == 5
    for index in range(5):
        group = groups.nth(index)
        assert group.locator("legend").is_visible()
        assert "0 = ikke svekket i det hele tatt" in group.inner_text()
        assert "8 = svært alvorlig svekket" in group.inner_text()
        radios = group.locator("input[type=radio]")
        assert radios.count() == 9
        for r in range(9):
            box = radios.nth(r).bounding_box()
            assert box["width"] >= 44 and box["height"] >= 44, box
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # no sideways scrolling
    width = page.evaluate("document.documentElement.scrollWidth")
    first, last = groups.nth(0).bounding_box(), groups.nth(4).bounding_box()
    questions = last["y"] + last["height"] - first["y"]
    assert width <= 390 and questions < 1800, (width, questions)  # the page was about 4,800 px

    # A tap on a number chooses it; the keyboard moves within one scale like any radio group.
    page.locator("input[name=item1][value='7']").tap()  # the whole numbered box is the radio
    assert page.locator("input[name=item1][value='7']").is_checked()
    page.locator("input[name=item1][value='7']").focus()
    page.keyboard.press("ArrowRight")
    assert page.locator("input[name=item1][value='8']").is_checked()
    for n in range(2, 6):
        page.locator(f"input[name=item{n}][value='{n}']").check()
    assert_accessible(page)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/referral/step/7")
    assert page.locator(".why-we-ask").is_visible()
    assert_accessible(page)
