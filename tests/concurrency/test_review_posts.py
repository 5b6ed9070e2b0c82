"""Many posts marking one check-in reviewed at once (a double tap, two tabs): it is completed
once with the first post's minutes, one next check-in is booked, and every post gets an answer
(the others a "already reviewed" message). Runs on SQLite and, with TEST_DATABASE_URL, on
PostgreSQL."""
from __future__ import annotations

from sqlalchemy import func, select

from rph_pwa.models import Appointment, CheckInReport
from tests.concurrency.conftest import PARALLEL, run_together, same_browser
from tests.conftest import form_token
from tests.factories import make_check_in_report, make_selfhelp, make_team


def test_parallel_reviews_of_one_check_in_complete_it_once(app, db, actions, client):
    team = make_team(db)
    therapist = actions.login_staff(db, team)
    _assignment, episode, _t = make_selfhelp(db, team=team, therapist=therapist)
    appointment = db.scalars(select(Appointment).where(Appointment.episode_id == episode.id)).one()
    make_check_in_report(db, appointment=appointment)
    db.commit()
    appointment_id, episode_id = appointment.id, episode.id
    page = f"/therapist/check-ins/{appointment_id}"
    token = form_token(client, page)
    tabs = [same_browser(app, client) for _ in range(PARALLEL)]

    results = run_together([
        lambda tab=tab, i=i: tab.post(f"{page}/reviewed", data={
            "done-feedback": f"Tilbakemelding {i}", "done-minutes": str(10 + i), "done-csrf_token": token})
        for i, tab in enumerate(tabs)])

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert {r.status_code for r in results} == {302}, sorted(r.status_code for r in results)
    db.expire_all()
    done = db.get(Appointment, appointment_id)
    report = db.scalars(select(CheckInReport).where(CheckInReport.appointment_id == appointment_id)).one()
    assert done.status == "attended" and done.duration_minutes == 10 + int(report.feedback.split()[-1])
    booked = db.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.episode_id == episode_id, Appointment.kind == "check_in", Appointment.status == "booked"))
    assert booked == 1
