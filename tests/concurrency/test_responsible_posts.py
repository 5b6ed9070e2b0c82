"""Many posts choosing the same responsible therapist at once (a double tap, two tabs): one
change in the history, and every post gets an answer. Runs on SQLite and, with TEST_DATABASE_URL,
on PostgreSQL."""
from __future__ import annotations

from sqlalchemy import select

from rph_pwa.models import Episode, ResponsibleChange
from tests.concurrency.conftest import PARALLEL, run_together, same_browser
from tests.conftest import form_token
from tests.factories import make_referral, make_team


def test_parallel_posts_of_one_choice_record_one_change(app, db, actions, client):
    team = make_team(db)
    referral = make_referral(db, team=team)
    db.commit()
    episode_id = referral.episode.id
    therapist = actions.login_staff(db, team)
    page = f"/therapist/episodes/{episode_id}"
    data = {"responsible-therapist": str(therapist.id), "responsible-note": "",
            "responsible-csrf_token": form_token(client, page)}
    tabs = [same_browser(app, client) for _ in range(PARALLEL)]

    results = run_together([lambda tab=tab: tab.post(f"{page}/responsible", data=data) for tab in tabs])

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert {r.status_code for r in results} <= {302}, sorted(r.status_code for r in results)
    db.expire_all()
    assert db.get(Episode, episode_id).responsible_id == therapist.id
    changes = db.scalars(select(ResponsibleChange).where(ResponsibleChange.episode_id == episode_id)).all()
    assert len(changes) == 1, [(c.from_id, c.to_id) for c in changes]
