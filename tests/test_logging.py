"""Logs hold no health information: a database error inside a request is logged without its
query parameters (the answers it was writing) and without request data."""
from __future__ import annotations

import json
import logging
from contextlib import contextmanager

from sqlalchemy import select

from rph_pwa.measures import get
from rph_pwa.models import FormRequest
from tests.conftest import form_token
from tests.factories import make_booked_contact

#: Distinctive GAD-7 answers: the insert that carries them is made to fail.
ANSWERS = [3, 0, 2, 3, 1, 0, 2]
#: In the database's own error message, as PostgreSQL's "DETAIL: Failing row contains (...)".
ROW_IN_MESSAGE = "Failing row contains (SENTINEL-ROW-VALUE)"


def _fail_inserts_into_measure_response(connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("CREATE TRIGGER test_fail_measure_response BEFORE INSERT ON measure_response "
                                   f"BEGIN SELECT RAISE(ABORT, 'forced failure. {ROW_IN_MESSAGE}'); END")
    else:
        connection.exec_driver_sql("CREATE FUNCTION test_fail() RETURNS trigger AS $$ BEGIN "
                                   f"RAISE EXCEPTION 'forced failure' USING DETAIL = '{ROW_IN_MESSAGE}'; "
                                   "END $$ LANGUAGE plpgsql")
        connection.exec_driver_sql("CREATE TRIGGER test_fail_measure_response BEFORE INSERT ON measure_response "
                                   "FOR EACH ROW EXECUTE FUNCTION test_fail()")


def _restore(connection) -> None:
    connection.exec_driver_sql("DROP TRIGGER test_fail_measure_response"
                               + ("" if connection.dialect.name == "sqlite" else " ON measure_response"))
    if connection.dialect.name != "sqlite":
        connection.exec_driver_sql("DROP FUNCTION test_fail()")


@contextmanager
def _failing_measure_inserts(app):
    """Every insert into measure_response fails in the database while this block runs."""
    engine = app.extensions["rph_db"].engine
    with engine.begin() as connection:
        _fail_inserts_into_measure_response(connection)
    try:
        yield
    finally:
        with engine.begin() as connection:
            _restore(connection)


def test_a_database_error_in_a_request_logs_no_answers(app, db, actions, client, caplog, monkeypatch):
    team, therapist, resident, address, episode, contact = make_booked_contact(db)
    request_id = db.scalars(select(FormRequest.id).where(FormRequest.appointment_id == contact.id,
                                                         FormRequest.instrument_code == "GAD-7")).one()
    db.commit()
    actions.resident_login(address)
    url = f"/me/forms/{request_id}"
    token = form_token(client, url)
    instrument = get("GAD-7")
    data = {item.key: str(value) for item, value in zip(instrument.items, ANSWERS)}
    data["functioning"] = "2"
    monkeypatch.setitem(app.config, "PROPAGATE_TEST_ERRORS", False)  # answer as in production: a 500 page

    with _failing_measure_inserts(app), caplog.at_level(logging.DEBUG):
        response = client.post(url, data={**data, "csrf_token": token})

    assert response.status_code == 500
    log = caplog.text
    assert "Unhandled error" in log and "measure_response" in log  # the error and its statement are logged ...
    for form in (json.dumps(ANSWERS), json.dumps(ANSWERS, separators=(",", ":"))):
        assert form not in log  # ... but not the answers it was writing,
    assert "[parameters:" not in log and "gAAAA" not in log  # nor any other query parameter,
    assert "SENTINEL-ROW-VALUE" not in log  # nor values in the database's own message,
    assert "csrf_token" not in log and token not in log  # nor request data
    db.commit()
    assert db.get(FormRequest, request_id).response_id is None
