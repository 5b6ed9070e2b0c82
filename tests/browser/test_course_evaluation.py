"""A course participant fills in the anonymous evaluation on a phone through their link, without
signing in (what they type survives a reload and is cleared once sent); a leader's results page
then shows the answer with its mean and mode. Both pages are axe clean at 390 px."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from rph_pwa.models import CourseAttendanceMark, EvaluationLink
from rph_pwa.services import course_evaluation, courses
from tests.browser.conftest import staff_page
from tests.factories import enrol_participant, make_course_run, make_staff, make_team


def test_participant_answers_anonymously_and_the_leader_sees_mean_and_mode(db, page, browser, live_server,
                                                                           assert_accessible):
    team = make_team(db)
    leader, secret = make_staff(db, teams=[team])
    run, _ = make_course_run(db, team=team, leaders=[leader, make_staff(db, teams=[team])[0]], first_in_days=-30)
    participant = enrol_participant(db, run=run)
    courses.mark_attendance(db, meeting=run.meetings[-1], participant=participant, attended=True)
    course_evaluation.open_evaluation(db, run=run)
    db.commit()
    token = db.scalar(select(EvaluationLink.token).where(EvaluationLink.run_id == run.id))
    assert db.scalar(select(CourseAttendanceMark.status).where(CourseAttendanceMark.participant_id == participant.id))

    page.goto(f"/evaluering/{token}")
    assert_accessible(page)
    page.locator("input[name=relevance][value='4']").check()
    page.locator("input[name=delivery][value='5']").check()
    page.locator("#useful").fill("Pusteøvelsene og arbeidsboka.")
    page.reload()  # what was typed and ticked is kept on the phone
    expect(page.locator("#useful")).to_have_value("Pusteøvelsene og arbeidsboka.")
    expect(page.locator("input[name=delivery][value='5']")).to_be_checked()
    page.locator("main form button[type=submit]").click()  # the third question is missing
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("#useful")).to_have_value("Pusteøvelsene og arbeidsboka.")
    assert_accessible(page)
    page.locator("input[name=material][value='4']").check()
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1[data-evaluation-done]")).to_be_visible()
    assert_accessible(page)
    assert page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('rph-evaluation:')).length") == 0
    assert page.goto(f"/evaluering/{token}").status == 404  # used: the neutral page

    context, staff = staff_page(browser, live_server, leader, secret)
    try:
        staff.goto(f"/therapist/courses/runs/{run.id}/results")
        staff.locator("a[data-show-figures]").click()
        expect(staff.locator("[data-mean]").first).to_have_text("4,0")
        expect(staff.locator("[data-mode]").nth(1)).to_have_text("5")
        expect(staff.locator("#results-n")).to_have_text("1")
        expect(staff.locator("main")).to_contain_text("Pusteøvelsene og arbeidsboka.")
        expect(staff.locator("main")).to_contain_text("100,0")
        assert_accessible(staff)
    finally:
        context.close()
