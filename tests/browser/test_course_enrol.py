"""A resident on a phone finds an open course on the public page, signs in from it, comes back to
the short screen, enrols, and sees the course on /me/courses (with "Courses" in the menu); every
page passes axe. Selectors are ids and addresses, so the test holds in any language."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import PHONE, sign_in_by_code
from tests.factories import email, make_course_run, make_resident, make_team


def test_resident_enrols_from_the_public_page_and_sees_the_course(db, page, mailbox, assert_accessible):
    team = make_team(db)
    run, _leaders = make_course_run(db, team=team, is_open=True)
    address = email()
    resident = make_resident(db, team=team, email=address)
    resident.locale = "en"
    db.commit()
    assert PHONE["viewport"]["width"] == 390

    page.goto("/")
    page.locator("main a[href='/kurs']").click()
    page.wait_for_url("**/kurs")
    expect(page.locator(f"#course-{run.id}")).to_have_text(run.template.title)
    assert_accessible(page)

    page.locator(f"main a[href='/kurs/{run.id}']").click()
    page.wait_for_url(f"**/kurs/{run.id}")
    expect(page.locator("main ol")).to_contain_text("Møte 4")
    assert_accessible(page)

    # Not signed in: sign in (by e-mail code), and come back to the screen.
    page.locator(f"main a[href='/login?next=/me/courses/enrol/{run.id}']").click()
    page.wait_for_url(re.compile(r".*/login\?next=.*"))
    sign_in_by_code(page, mailbox, address, lands_on=f"**/me/courses/enrol/{run.id}")
    expect(page.locator("#municipality")).to_have_value(str(team.municipalities[0].id))  # filled in from the account
    expect(page.locator("#crisis-panel")).to_be_hidden()
    assert_accessible(page)

    page.locator("input[name=role][value=participant]").check()
    page.locator("#age").fill("34")
    page.locator("input[name=crisis][value=no]").check()
    page.locator("input[name=item9][value='0']").check()
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/me/courses$"))

    main = page.locator("main")
    expect(main.locator("h2").first).to_have_text(run.template.title)
    expect(main).to_contain_text("Innhold 1")
    expect(page.locator("nav.tab-bar a[aria-current=page]")).to_have_attribute("href", "/me/courses")
    assert_accessible(page)
    # Six menu entries still fit the phone's width, each a large enough target.
    links = page.locator("nav.tab-bar a")
    assert links.count() == 6
    for i in range(6):
        box = links.nth(i).bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44 and box["x"] + box["width"] <= 390, (i, box)
