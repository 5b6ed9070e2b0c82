"""What a hostile or careless visitor sends to the self-help endpoints: odd JSON, huge or wrongly
typed input, huge numbers in URLs, control characters. Always a clear 4xx, never a 500, and
nothing stored that should not be."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from rph_pwa.models import CheckInReport, User, Worksheet
from tests.conftest import csrf_token, refresh
from tests.factories import make_selfhelp


@pytest.fixture
def resident(db, actions, client):
    return actions.login_resident_with_programme(db)[0]


def _token(client, path: str) -> str:
    return csrf_token(client.get(path).get_data(as_text=True))


def _count(db, model, resident_id: int) -> int:
    refresh(db)
    return db.scalar(select(func.count()).select_from(model).where(model.resident_id == resident_id))


@pytest.mark.parametrize("body", [
    "not json", "[]", "null", '{"kind": [3], "client_key": "k", "answers": {}}',
    '{"kind": 3, "client_key": {"a": 1}, "answers": {}}', '{"kind": 3, "client_key": "k", "answers": [1, 2]}',
    '{"kind": 3, "client_key": "' + "x" * 5000 + '", "answers": {"night": "2026-11-30"}}',
    '{"kind": 99999999999999999999999, "client_key": "k", "answers": {}}',
    '{"kind": 3, "client_key": "k", "answers": {"note": "' + "å" * 20000 + '"}, "partial": true}',
    '{"kind": 3, "client_key": "k", "answers": {"minutes_awake": "1e9"}, "partial": true}',
])
def test_odd_worksheet_json_is_refused_clearly(db, client, resident, body):
    headers = {"X-CSRFToken": _token(client, "/me/selfhelp/worksheets"), "Content-Type": "application/json",
               "Accept": "application/json"}
    answer = client.post("/me/selfhelp/worksheets/save", data=body, headers=headers)
    assert 400 <= answer.status_code < 500, (answer.status_code, body[:80])
    assert _count(db, Worksheet, resident.id) == 0


@pytest.mark.parametrize("path", ["/me/selfhelp/modules/99999999999999999999", "/me/selfhelp/modules/0",
                                  "/me/selfhelp/worksheets/99999999999999999999",
                                  "/me/selfhelp/worksheets/new/99999999999999999999",
                                  "/me/selfhelp/worksheets/new/0"])
def test_huge_or_zero_numbers_in_urls_are_not_found(client, resident, path):
    assert client.get(path).status_code == 404


def test_a_check_in_with_control_characters_or_huge_text_is_refused_and_kept(db, client, resident):
    token = _token(client, "/me/selfhelp/check-in")
    for text in ("Hei\x00du", "x" * 50_000):
        answer = client.post("/me/selfhelp/check-in", data={"csrf_token": token, "checkin-worked_on": text,
                                                            "worked_on": text})
        assert answer.status_code in (400, 413), answer.status_code
    assert _count(db, CheckInReport, resident.id) == 0


def test_a_worksheet_key_of_someone_else_never_reaches_their_row(db, client, resident, actions):
    other_assignment, _e, _t = make_selfhelp(db)
    other = db.get(User, other_assignment.resident_id)
    key = str(uuid.uuid4())
    db.add(Worksheet(resident_id=other.id, kind="weekly_goal", client_key=key, content={"goal": "Mitt mål"}))
    db.commit()
    headers = {"X-CSRFToken": _token(client, "/me/selfhelp/worksheets"), "Accept": "application/json"}
    answer = client.post("/me/selfhelp/worksheets/save", headers=headers,
                         json={"kind": 6, "client_key": key, "answers": {"goal": "Overskrevet"}})
    assert answer.status_code in (200, 201)
    refresh(db)
    theirs = db.scalars(select(Worksheet).where(Worksheet.resident_id == other.id)).one()
    assert theirs.content == {"goal": "Mitt mål"}
    mine = db.scalars(select(Worksheet).where(Worksheet.resident_id == resident.id)).one()
    assert mine.content == {"goal": "Overskrevet"}


@pytest.mark.parametrize("origin, stored", [("https://localhost", True), ("https://evil.example", False),
                                            ("null", False), (None, False)])
def test_a_device_save_over_https_must_come_from_our_own_pages(db, client, resident, origin, stored):
    token = csrf_token(client.get("/me/selfhelp/worksheets", base_url="https://localhost").get_data(as_text=True))
    headers = {"X-CSRFToken": token, "Accept": "application/json", **({"Origin": origin} if origin else {})}
    answer = client.post("/me/selfhelp/worksheets/save", base_url="https://localhost", headers=headers,
                         json={"kind": 6, "client_key": str(uuid.uuid4()), "answers": {"goal": "Gå tur"}})
    assert (answer.status_code == 200) is stored and answer.status_code < 500
    assert _count(db, Worksheet, resident.id) == (1 if stored else 0)
