"""The migrations build exactly the schema the models describe (no model change without one)."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from rph_pwa.db import Base


def test_models_and_migrations_agree(app):
    engine = app.extensions["rph_db"].engine
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        assert compare_metadata(context, Base.metadata) == []
