"""The enrolment screen sent several times at the same moment (a double tap, two tabs): one
referral, one episode, one participant, one urgent flag; every post gets an answer."""
from __future__ import annotations

from sqlalchemy import func, select

from rph_pwa.models import CourseParticipant, Episode, Referral, UrgentFlag
from tests.concurrency.conftest import run_together, same_browser
from tests.conftest import form_token
from tests.factories import email, make_course_run, make_resident, make_team

PARALLEL = 6


def test_parallel_submits_make_one_referral_episode_and_participant(app, db, actions, client):
    team = make_team(db)
    run, _ = make_course_run(db, team=team, is_open=True)
    address = email()
    resident = make_resident(db, team=team, email=address)
    db.commit()
    actions.resident_login(address)
    url = f"/me/courses/enrol/{run.id}"
    data = {"role": "participant", "age": "40", "municipality": str(team.municipalities[0].id), "crisis": "no",
            "item9": "1", "csrf_token": form_token(client, url)}
    tabs = [same_browser(app, client) for _ in range(PARALLEL)]
    results = run_together([(lambda tab=tab: tab.post(url, data=data)) for tab in tabs])

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert [r.status_code for r in results] == [200] * PARALLEL  # each shows the crisis help
    assert all("crisis-panel" in r.get_data(as_text=True) for r in results)
    db.expire_all()

    def count(model, column):
        return db.scalar(select(func.count()).select_from(model).where(column == resident.id))

    assert count(Referral, Referral.resident_id) == 1
    assert count(Episode, Episode.resident_id) == 1
    assert count(CourseParticipant, CourseParticipant.user_id) == 1
    assert count(UrgentFlag, UrgentFlag.resident_id) == 1
