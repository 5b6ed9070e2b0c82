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
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
