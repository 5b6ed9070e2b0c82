"""health data encrypted at rest: item answers, the functioning answer, risk flags, urgent
reasons, passkey names and appointment places become EncryptedText; existing rows are encrypted
with the app's field keys (and decrypted again on downgrade)

Revision ID: 0006_health_encrypted
Revises: 0005_signin
Create Date: 2026-12-01 12:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
from flask import current_app


revision = '0006_health_encrypted'
down_revision = '0005_signin'
branch_labels = None
depends_on = None

#: (table, column, type before this revision, nullable)
COLUMNS = (
    ('measure_response', 'answers', sa.Text(), False),
    ('measure_response', 'functioning', sa.Integer(), True),
    ('measure_response', 'flags', sa.String(length=100), False),
    ('referral', 'urgent_reason', sa.String(length=30), True),
    ('passkey', 'name', sa.String(length=60), False),
    ('appointment', 'place', sa.String(length=200), True),
)
BATCH = 500


def _tables() -> dict[str, list[tuple[str, sa.types.TypeEngine, bool]]]:
    tables: dict[str, list] = {}
    for table, column, old_type, nullable in COLUMNS:
        tables.setdefault(table, []).append((column, old_type, nullable))
    return tables


def _convert(table: str, columns: list[str], change) -> None:
    """Rewrite every non-null value of `columns` with `change(text) -> text`, in batches by id."""
    connection = op.get_bind()
    names = ", ".join(columns)
    sets = ", ".join(f"{c} = :{c}" for c in columns)
    last = 0
    while True:
        rows = connection.execute(sa.text(f"SELECT id, {names} FROM {table} WHERE id > :last ORDER BY id LIMIT {BATCH}"),
                                  {"last": last}).all()
        if not rows:
            break
        params = [{"row_id": row[0], **{c: None if v is None else change(str(v)) for c, v in zip(columns, row[1:])}}
                  for row in rows]
        connection.execute(sa.text(f"UPDATE {table} SET {sets} WHERE id = :row_id"), params)
        last = rows[-1][0]


def upgrade() -> None:
    crypto = current_app.extensions['rph_crypto']
    for table, columns in _tables().items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, old_type, nullable in columns:
                if not isinstance(old_type, sa.Text):
                    batch_op.alter_column(column, existing_type=old_type, type_=sa.Text(),
                                          existing_nullable=nullable, postgresql_using=f'{column}::text')
        _convert(table, [c for c, _t, _n in columns], crypto.encrypt)


def downgrade() -> None:
    crypto = current_app.extensions['rph_crypto']
    for table, columns in _tables().items():
        _convert(table, [c for c, _t, _n in columns], crypto.decrypt)
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, old_type, nullable in columns:
                if not isinstance(old_type, sa.Text):
                    using = f'{column}::integer' if isinstance(old_type, sa.Integer) else f'{column}::varchar'
                    batch_op.alter_column(column, existing_type=sa.Text(), type_=old_type,
                                          existing_nullable=nullable, postgresql_using=using)
