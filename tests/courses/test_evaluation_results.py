"""The staff side of course evaluations: a leader sends the evaluation out and prints the links
(no names for an anonymous run), the results page with its warning below five answers and the
explicit step to show the figures, the CSV, runs side by side, the resident's own list of open
forms, and who may see what (a foreign team's staff get 404; reading results is audited)."""
from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from rph_pwa.models import AuditEvent, EvaluationLink
from rph_pwa.services import course_evaluation as svc
from rph_pwa.services import courses
from tests.conftest import Actions, form_token
from tests.factories import (
    PASSWORD,
    email,
    enrol_participant,
    make_course_run,
    make_resident,
    make_staff,
    make_team,
    unique,
)

GOOD = {"relevance": 5, "delivery": 4, "material": 4}


def _world(db, *, people=3, anonymous=True):
    team = make_team(db)
    leader, secret = make_staff(db, teams=[team])
    leader.locale = "en"  # the assertions use the English texts
    other, _s = make_staff(db, teams=[team])
    run, _ = make_course_run(db, team=team, leaders=[leader, other], first_in_days=-30, anonymous=anonymous)
    participants = [enrol_participant(db, run=run) for _ in range(people)]
    db.commit()
    return team, run, participants, (leader, secret)


def test_leader_sends_out_prints_and_reads_results_with_the_small_numbers_step(db, client, actions):
    team, run, participants, (leader, secret) = _world(db)
    actions.staff_login(leader.username, PASSWORD, secret)
    results_url = f"/therapist/courses/runs/{run.id}/results"
    token = form_token(client, results_url)
    sent = client.post(f"/therapist/courses/runs/{run.id}/evaluation",
                       data={"evaluation-round": "end", "evaluation-csrf_token": token})
    assert sent.status_code == 302
    sheet = client.get(sent.headers["Location"]).get_data(as_text=True)
    for participant in participants:
        assert participant.user.display_name not in sheet  # anonymous: no names on the sheet
    assert sheet.count("<svg") == 3 and "/evaluering/" in sheet
    db.expire_all()
    links = db.scalars(select(EvaluationLink).where(EvaluationLink.run_id == run.id)).all()
    for n, link in enumerate(links[:2]):
        svc.submit(db, token=link.token, scores={**GOOD, "material": 3 + n}, useful="=Øvelsene" if n else "Boka")
    db.commit()
    before = db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.object_id == run.id,
                                                                          AuditEvent.action == "view_course_results"))
    page = client.get(results_url).get_data(as_text=True)
    assert "fewer than 5 answers" in page and "Show the figures anyway" in page
    assert "data-mean" not in page and "Boka" in page and "=Øvelsene" in page
    shown = client.get(results_url + "?figures=shown").get_data(as_text=True)
    assert "<dd data-mean>5.0</dd>" in shown and "<dd data-mean>3.5</dd>" in shown
    assert "<dd data-mode>3, 4</dd>" in shown  # both modes of the tied item
    db.commit()
    after = db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.object_id == run.id,
                                                                         AuditEvent.action == "view_course_results"))
    assert after - before == 2 * len(participants)
    download = client.get(f"/therapist/courses/runs/{run.id}/results.csv")
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert rows[0] == ["item", "n", "mean", "modes", "count_1", "count_2", "count_3", "count_4", "count_5"]
    assert rows[3] == ["material", "2", "3.5", "3 4", "0", "0", "1", "1", "0"]
    assert ["'=Øvelsene", ""] in rows and ["Boka", ""] in rows
    side = client.get(f"/therapist/courses/templates/{run.template_id}/results")
    assert side.status_code == 200 and "n = 2" in side.get_data(as_text=True)


def test_another_teams_staff_and_non_leaders_are_refused(db, client, actions):
    _team, run, _participants, _leader = _world(db, people=1)
    stranger, secret = make_staff(db, teams=[make_team(db)])
    colleague, colleague_secret = make_staff(db, teams=[run.team])
    db.commit()
    actions.staff_login(stranger.username, PASSWORD, secret)
    for url in (f"/therapist/courses/runs/{run.id}/results", f"/therapist/courses/runs/{run.id}/results.csv",
                f"/therapist/courses/runs/{run.id}/evaluation/links",
                f"/therapist/courses/templates/{run.template_id}/results"):
        assert client.get(url).status_code == 404, url
    other = client.application.test_client()
    Actions(other, actions.mailbox).staff_login(colleague.username, PASSWORD, colleague_secret)
    assert other.get(f"/therapist/courses/runs/{run.id}/results").status_code == 200  # the team sees results
    assert other.get(f"/therapist/courses/runs/{run.id}/evaluation/links").status_code == 404  # leaders only
    assert other.get(f"/therapist/courses/runs/{run.id}/results?meeting=abc").status_code == 404


def test_named_sheet_names_each_participant_and_the_resident_sees_their_open_form(app, db, client, actions):
    _team, run, _participants, (leader, secret) = _world(db, people=0, anonymous=False)
    address = email()
    resident = make_resident(db, team=run.team, email=address, name=unique("Deltaker"))
    courses.enrol(db, run_id=run.id, user=resident, role="relative", episode=None)
    svc.open_evaluation(db, run=run)
    db.commit()
    actions.resident_login(address)
    page = client.get("/me/courses/evaluations").get_data(as_text=True)
    assert page.count('href="/evaluering/') == 1
    staff = app.test_client()
    Actions(staff, actions.mailbox).staff_login(leader.username, PASSWORD, secret)
    sheet = staff.get(f"/therapist/courses/runs/{run.id}/evaluation/links").get_data(as_text=True)
    assert resident.display_name in sheet and sheet.count("<svg") == 1
