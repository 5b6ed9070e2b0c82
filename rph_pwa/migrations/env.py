"""Alembic environment: uses the Flask app's engine, so DATABASE_URL decides the database."""
from __future__ import annotations

from alembic import context
from flask import current_app

from rph_pwa import models  # noqa: F401 - registers every table
from rph_pwa.db import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = current_app.extensions["rph_db"].engine
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table (create, copy, drop, rename). With foreign keys enforced,
            # dropping a table other rows point to fails, or cascades deletes into them. SQLite
            # switches enforcement only outside a transaction: off here, checked before commit.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise RuntimeError("the migration left rows whose foreign keys point nowhere")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


run_migrations_online()
