"""A course leader on a phone (390 px): takes attendance with one tap per person (the page does
not reload), sees the participant flagged for item 9 above 0 with the action to book a talk, and
copies a record note; axe clean."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from rph_pwa.models import CourseAttendanceMark
from tests.browser.conftest import PHONE, staff_page
from tests.conftest import refresh
from tests.factories import answer_course_form, enrol_participant, make_course_run, make_staff, make_team


def test_leader_takes_attendance_with_taps_and_sees_a_flagged_participant(db, browser, live_server,
                                                                          assert_accessible):
    team = make_team(db)
    leader, secret = make_staff(db, teams=[team])
    leader.locale = "en"
    colleague, _ = make_staff(db, teams=[team])
    run, _ = make_course_run(db, team=team, leaders=[leader, colleague])
    flagged, calm = enrol_participant(db, run=run), enrol_participant(db, run=run)
    flagged.user.display_name, calm.user.display_name = "Kari Nordmann", "Ola Hansen"
    meeting = run.meetings[0]
    answer_course_form(db, participant=flagged, meeting=meeting, code="PHQ-9", total=9, item9=1)
    answer_course_form(db, participant=calm, meeting=meeting, code="PHQ-9", total=6)
    db.commit()
    meeting_id, flagged_id, calm_id = meeting.id, flagged.id, calm.id

    context, page = staff_page(browser, live_server, leader, secret)
    page.set_viewport_size(PHONE["viewport"])
    page.goto(f"/therapist/courses/meetings/{meeting_id}")
    page.evaluate("() => { window.notReloaded = true; }")
    kari = page.locator(f"#person-{flagged_id}")
    expect(kari).to_contain_text("Kari Nordmann")
    expect(kari.locator('[data-flag="item9"]')).to_have_text("Item 9 above 0")
    expect(page.locator(f"#person-{calm_id} [data-flag]")).to_have_count(0)
    came = kari.get_by_role("button", name="Came")
    box = came.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    assert_accessible(page)

    came.click()
    expect(came).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#tap-status")).to_have_text("Marked as came.")
    page.locator(f"#person-{calm_id}").get_by_role("button", name="Did not come").click()
    expect(page.locator(f"#person-{calm_id} [data-attendance-state]")).to_have_text("Did not come")
    assert page.evaluate("() => window.notReloaded === true")  # the taps did not reload the page

    scores = page.locator(f"#scores-{flagged_id}")
    expect(scores).to_contain_text("PHQ-9: 9")
    scores.locator("summary").click()
    expect(scores.get_by_role("button", name="Book the talk")).to_be_visible()
    expect(page.locator(f"#record-{flagged_id}")).to_have_value(re.compile("Oppmøte: møtt."))
    assert_accessible(page)
    context.close()

    refresh(db)
    assert db.get(CourseAttendanceMark, (meeting_id, flagged_id)).status == "attended"
    assert db.get(CourseAttendanceMark, (meeting_id, calm_id)).status == "absent"
