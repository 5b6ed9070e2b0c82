"""Twenty therapists open the triage queue at the same moment, a few times over: no request
fails (on the embedded SQLite default as on PostgreSQL), and every read is in the audit log (one
event per page view, naming each referral shown)."""
from __future__ import annotations

from sqlalchemy import func, select

from rph_pwa.models import AuditEvent, AuditShown
from tests.concurrency.conftest import PARALLEL, run_together
from tests.conftest import Actions
from tests.factories import PASSWORD, make_referral, make_staff, make_team

ROUNDS = 3
REFERRALS = 3


def test_twenty_therapists_open_the_triage_queue_at_once(app, db, mailbox):
    team = make_team(db)
    referrals = [make_referral(db, team=team) for _ in range(REFERRALS)]
    staff = [make_staff(db, teams=[team]) for _ in range(PARALLEL)]
    db.commit()
    clients = []
    for user, secret in staff:  # each therapist signs in through the real forms, in their own browser
        client = app.test_client()
        Actions(client, mailbox).staff_login(user.username, PASSWORD, secret)
        assert client.get("/therapist/").status_code == 200
        clients.append(client)

    def open_queue(client):
        return lambda: client.get("/therapist/triage")

    for _ in range(ROUNDS):
        results = run_together([open_queue(client) for client in clients])
        errors = [r for r in results if isinstance(r, Exception)]
        assert not errors, errors[:3]
        assert [r.status_code for r in results] == [200] * PARALLEL
        assert all(f"/therapist/referrals/{referrals[0].id}" in r.get_data(as_text=True) for r in results)

    db.commit()  # end the test session's snapshot before counting
    page_views = select(AuditEvent.id).where(
        AuditEvent.actor_id.in_([user.id for user, _ in staff]), AuditEvent.action == "view_referral",
        AuditEvent.object_type == "triage_queue")
    assert db.scalar(select(func.count()).select_from(page_views.subquery())) == ROUNDS * PARALLEL  # one per view
    shown = db.scalar(select(func.count()).select_from(AuditShown).where(AuditShown.event_id.in_(page_views)))
    assert shown == ROUNDS * PARALLEL * REFERRALS
