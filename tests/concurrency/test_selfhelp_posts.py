"""Many saves of one worksheet at the same moment (the device's retry racing the form, several
tabs) store one row; many sends of one check-in store one report and answer every post without an
error. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from rph_pwa.models import CheckInReport, UrgentFlag, User, Worksheet
from rph_pwa.services import check_ins
from tests.concurrency.conftest import PARALLEL, run_together, same_browser
from tests.conftest import form_token, refresh


def _signed_in(db, actions) -> User:
    return actions.login_resident_with_programme(db)[0]


def test_parallel_saves_of_one_worksheet_store_one_row(app, db, actions, client):
    resident = _signed_in(db, actions)
    token = form_token(client, "/me/selfhelp/worksheets/new/3")
    key = str(uuid.uuid4())
    tabs = [same_browser(app, client) for _ in range(PARALLEL)]

    def save(tab, i):
        answers = {"night": "2026-03-02", "note": f"Skrevet {i % 2}"}
        return lambda: tab.post("/me/selfhelp/worksheets/save", headers={"X-CSRFToken": token},
                                json={"kind": 3, "client_key": key, "answers": answers, "partial": True})

    results = run_together([save(tab, i) for i, tab in enumerate(tabs)])

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert sorted(r.status_code for r in results) == [200] * PARALLEL
    assert len({r.get_json()["id"] for r in results}) == 1
    refresh(db)
    rows = db.scalars(select(Worksheet).where(Worksheet.resident_id == resident.id)).all()
    assert len(rows) == 1
    assert rows[0].content["note"] in ("Skrevet 0", "Skrevet 1") and 1 <= rows[0].revision <= PARALLEL


def test_parallel_sends_of_one_check_in_store_one_report(app, db, actions, client):
    resident = _signed_in(db, actions)
    appointment = check_ins.current_check_in(db, resident=resident).appointment.id
    token = form_token(client, "/me/selfhelp/check-in")
    data = {"csrf_token": token, "appointment": str(appointment), "worked_on": "Dagboka", "talk_sooner": "y"}
    tabs = [same_browser(app, client) for _ in range(PARALLEL)]

    results = run_together([(lambda tab=tab: tab.post("/me/selfhelp/check-in", data=data)) for tab in tabs])

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(200) == 1 and statuses.count(302) == PARALLEL - 1, statuses
    refresh(db)
    assert len(db.scalars(select(CheckInReport).where(CheckInReport.appointment_id == appointment)).all()) == 1
    assert len(db.scalars(select(UrgentFlag).where(UrgentFlag.resident_id == resident.id,
                                                   UrgentFlag.closed_at.is_(None))).all()) == 1
