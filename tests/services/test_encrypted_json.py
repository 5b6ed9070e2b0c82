"""EncryptedJSON columns (referral answers, drafts, item answers, safety plans): services handle plain
dicts and lists, the database holds a Fernet token, and rows written before the column type (the
token of `json.dumps(value)`, made by hand in each service) read back the same."""
from __future__ import annotations

import json

from sqlalchemy import text

from rph_pwa.crypto import EncryptedJSON, encrypted_columns, field_crypto
from rph_pwa.db import Base
from rph_pwa.models import MeasureResponse, Referral
from tests.factories import make_referral, make_team

SENTINEL = "Sentinel-ord-9Q7"


def _raw(db, table: str, column: str, row_id: int) -> str:
    return db.execute(text(f"SELECT {column} FROM {table} WHERE id = :id"), {"id": row_id}).scalar_one()


def test_a_value_is_stored_as_a_token_and_read_as_json(db):
    referral = make_referral(db, team=make_team(db), answers={"troubles": {"own_words": SENTINEL, "goals": "Sove"}})
    db.commit()
    raw = _raw(db, "referral", "answers", referral.id)
    assert SENTINEL not in raw and not raw.lstrip().startswith("{")
    assert json.loads(field_crypto().decrypt(raw))["troubles"]["own_words"] == SENTINEL
    db.expire_all()
    assert db.get(Referral, referral.id).answers["troubles"] == {"own_words": SENTINEL, "goals": "Sove"}
    response = db.get(Referral, referral.id).responses[0]
    assert isinstance(response.answers, list) and all(isinstance(v, int) for v in response.answers)
    assert not _raw(db, "measure_response", "answers", response.id).startswith("[")


def test_rows_written_in_the_old_format_read_back(db):
    referral = make_referral(db, team=make_team(db))
    db.commit()
    crypto = field_crypto()
    old_answers = {"troubles": {"own_words": "Sover dårlig", "problems": ["sleep"]}, "contact": {"gp_consent": True}}
    response_id = referral.responses[0].id
    # What the services wrote before the column type: the token of json.dumps(...) (ASCII escapes).
    db.execute(text("UPDATE referral SET answers = :token WHERE id = :id"),
               {"token": crypto.encrypt(json.dumps(old_answers)), "id": referral.id})
    db.execute(text("UPDATE measure_response SET answers = :token WHERE id = :id"),
               {"token": crypto.encrypt(json.dumps([1, 2, 0])), "id": response_id})
    db.commit()
    db.expire_all()
    assert db.get(Referral, referral.id).answers == old_answers
    assert db.get(MeasureResponse, response_id).answers == [1, 2, 0]


def test_none_stays_null_and_every_json_column_is_rotated():
    column = EncryptedJSON()
    assert column.process_bind_param(None, None) is None and column.process_result_value(None, None) is None
    rotated = {table.name: set(names) for table, names in encrypted_columns(Base.metadata.sorted_tables)}
    for table, name in (("referral", "answers"), ("referral_draft", "data"), ("measure_response", "answers"),
                        ("form_request", "draft"), ("safety_plan_version", "content")):
        assert isinstance(Base.metadata.tables[table].c[name].type, EncryptedJSON)
        assert name in rotated[table]
