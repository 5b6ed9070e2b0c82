"""The migrations build exactly the schema the models describe (no model change without one)."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import make_url

from rph_pwa import create_app
from rph_pwa.config import TestConfig
from rph_pwa.db import Base, get_session
from rph_pwa.models import Episode, User
from rph_pwa.services import responsibility


def test_models_and_migrations_agree(app):
    engine = app.extensions["rph_db"].engine
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        assert compare_metadata(context, Base.metadata) == []


#: An episode as stored at 0013_end_reasons (fixed ids: the database is new): a team with a
#: therapist and a team lead, a resident, a referral and its episode, an offering change.
ROWS_AT_0013 = [
    "INSERT INTO municipality (id, number, name) VALUES (1, '9902', 'Migrasjon')",
    "INSERT INTO team (id, name, created_at, response_days) VALUES (1, 'Team M', '2026-01-01 10:00:00', 5)",
    "INSERT INTO \"user\" (id, role, webauthn_user_handle, is_active, created_at, username) "
    "VALUES (1, 'resident', :b1, TRUE, '2026-01-01 10:00:00', NULL), "
    "(2, 'therapist', :b2, TRUE, '2026-01-01 10:00:00', 'terapeut'), "
    "(3, 'team_lead', :b3, TRUE, '2026-01-01 10:00:00', 'leder')",
    "INSERT INTO team_membership (user_id, team_id, created_at) "
    "VALUES (2, 1, '2026-01-01 10:00:00'), (3, 1, '2026-01-01 10:00:00')",
    "INSERT INTO referral (id, submission_key, resident_id, team_id, municipality_id, status, urgent, channel, "
    "age_band, gender, submitted_at, answers) VALUES (1, 'k', 1, 1, 1, 'accepted', FALSE, 'app', '25-34', "
    "'woman', '2026-01-01 10:00:00', 'x')",
    "INSERT INTO episode (id, referral_id, resident_id, team_id, referred_at, offerings, instruments, end_reason) "
    "VALUES (1, 1, 1, 1, '2026-01-01 10:00:00', 'individual', 'PHQ-9', NULL)",
    "INSERT INTO offering_change (id, episode_id, staff_id, from_offerings, to_offerings, note, at) "
    "VALUES (1, 1, 2, 'course', 'individual', 'x', '2026-01-02 10:00:00')",
]


def test_0014_adds_the_responsible_therapist_to_existing_episodes(app, tmp_path):
    """Upgrading from 0013 keeps every episode (none has a responsible therapist yet), the app can
    then choose and hand one over, and the downgrade keeps the episodes."""
    if make_url(app.config["SQLALCHEMY_DATABASE_URL"]).get_backend_name() != "sqlite":
        pytest.skip("runs on a SQLite file of its own")
    other = create_app(TestConfig, SQLALCHEMY_DATABASE_URL=f"sqlite:///{tmp_path / 'upgrade.sqlite3'}",
                       FIELD_KEYS=app.config["FIELD_KEYS"], LOOKUP_KEY=app.config["LOOKUP_KEY"])
    engine = other.extensions["rph_db"].engine
    try:
        with other.app_context():
            runner = other.test_cli_runner()
            assert runner.invoke(args=["db", "upgrade", "0013_end_reasons"]).exit_code == 0
            with engine.begin() as connection:
                for statement in ROWS_AT_0013:
                    connection.execute(text(statement), {f"b{i}": bytes([i]) for i in range(1, 4)
                                                         if f":b{i}" in statement})
            result = runner.invoke(args=["db", "upgrade", "0014_responsible_therapist"])
            assert result.exit_code == 0, result.output
            with engine.connect() as connection:
                assert connection.execute(text("SELECT id, offerings, responsible_id FROM episode")).all() == [
                    (1, "individual", None)]
                assert connection.execute(text("SELECT count(*) FROM responsible_change")).scalar_one() == 0

            # The models are those of the newest schema (later migrations may add columns).
            result = runner.invoke(args=["db", "upgrade", "heads"])
            assert result.exit_code == 0, result.output
            session = get_session()
            therapist, lead = session.get(User, 2), session.get(User, 3)
            responsibility.set_responsible(session, actor=therapist, episode_id=1, therapist_id=2)
            responsibility.set_responsible(session, actor=therapist, episode_id=1, therapist_id=3, note="Ferie.")
            session.commit()
            assert session.get(Episode, 1).responsible_id == lead.id
            session.close()

            result = runner.invoke(args=["db", "downgrade", "0013_end_reasons"])
            assert result.exit_code == 0, result.output
            with engine.connect() as connection:
                assert connection.execute(text("SELECT id, offerings FROM episode")).all() == [(1, "individual")]
                assert connection.execute(text("SELECT count(*) FROM offering_change")).scalar_one() == 1
                tables = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars()
                assert "responsible_change" not in set(tables)
    finally:
        engine.dispose()
