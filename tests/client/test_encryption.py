"""Free text written through the app is encrypted at rest, and rotate-keys re-keys it."""
from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import text

from rph_pwa import create_app
from rph_pwa.config import TestConfig
from rph_pwa.db import get_session
from rph_pwa.models import User
from tests.factories import email, make_resident, make_team


def test_contact_note_is_not_stored_in_plain_text_and_survives_key_rotation(app, db, actions, client):
    address = email()
    resident = make_resident(db, team=make_team(db), email=address)
    db.commit()
    resident_id = resident.id
    actions.resident_login(address)
    secret_text = "Ring meg etter klokka 15, ikke legg igjen beskjed – SECRET-TEXT-7f3a"
    response = actions.post_form("/me/profile", {"display_name": "Kari", "phone": "412 34 567",
                                                 "contact_note": secret_text})
    assert response.status_code == 302

    raw = db.execute(text('SELECT contact_note FROM "user" WHERE id = :id'), {"id": resident_id}).scalar_one()
    assert "SECRET-TEXT-7f3a" not in raw and raw.startswith("gAAAA")  # a Fernet token
    url = app.config["SQLALCHEMY_DATABASE_URL"]
    if url.startswith("sqlite:///"):
        app.extensions["rph_db"].engine.dispose()  # checkpoint: everything is in the file
        for path in Path(url.removeprefix("sqlite:///")).parent.glob("test.sqlite3*"):
            assert b"SECRET-TEXT-7f3a" not in path.read_bytes()

    new_key = Fernet.generate_key().decode()
    old_keys = app.config["FIELD_KEYS"]
    rotating = create_app(TestConfig, SQLALCHEMY_DATABASE_URL=url, FIELD_KEYS=[new_key, *old_keys],
                          LOOKUP_KEY=app.config["LOOKUP_KEY"])
    # The CLI uses the pushed app context if there is one, so push the rotating app's.
    with rotating.app_context():
        result = rotating.test_cli_runner().invoke(args=["rotate-keys"])
    assert result.exit_code == 0, result.output
    rotating.extensions["rph_db"].engine.dispose()

    new_only = create_app(TestConfig, SQLALCHEMY_DATABASE_URL=url, FIELD_KEYS=[new_key],
                          LOOKUP_KEY=app.config["LOOKUP_KEY"])
    with new_only.app_context():
        assert get_session().get(User, resident_id).contact_note == secret_text
    new_only.extensions["rph_db"].engine.dispose()
    db.rollback()  # end the read transaction so the next read sees the rotated rows
    rotated = db.execute(text('SELECT contact_note FROM "user" WHERE id = :id'), {"id": resident_id}).scalar_one()
    assert rotated != raw

    # Put the shared test database back under the suite's key for the tests that follow.
    back = create_app(TestConfig, SQLALCHEMY_DATABASE_URL=url, FIELD_KEYS=[*old_keys, new_key],
                      LOOKUP_KEY=app.config["LOOKUP_KEY"])
    with back.app_context():
        assert back.test_cli_runner().invoke(args=["rotate-keys"]).exit_code == 0
    back.extensions["rph_db"].engine.dispose()
