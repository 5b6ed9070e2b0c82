"""urgent flag reasons encrypted: `urgent_flag.reason` becomes EncryptedText, and one open flag per
resident and reason is kept by a unique keyed hash (`open_key`) instead of an index on the reason
in clear

Revision ID: 0009_flag_reason_encrypted
Revises: 0008_form_once
Create Date: 2026-12-01 12:45:00.000000
"""
from alembic import op
import sqlalchemy as sa
from flask import current_app


revision = '0009_flag_reason_encrypted'
down_revision = '0008_form_once'
branch_labels = None
depends_on = None

REASONS = ('item9', 'crisis')


def _rows(connection):
    return connection.execute(sa.text("SELECT id, resident_id, reason, closed_at FROM urgent_flag ORDER BY id")).all()


def upgrade() -> None:
    crypto = current_app.extensions['rph_crypto']
    op.drop_index('uq_urgent_flag_open_reason', table_name='urgent_flag')
    with op.batch_alter_table('urgent_flag', schema=None) as batch_op:
        batch_op.drop_constraint('reason_known', type_='check')
        batch_op.alter_column('reason', existing_type=sa.String(length=10), type_=sa.Text(), existing_nullable=False,
                              postgresql_using='reason::text')
        batch_op.add_column(sa.Column('open_key', sa.String(length=64), nullable=True))
    connection = op.get_bind()
    params = [{"row_id": row.id, "reason": crypto.encrypt(row.reason),
               "open_key": None if row.closed_at is not None
               else crypto.lookup_hash(f"urgent_flag:{row.resident_id}:{row.reason}")}
              for row in _rows(connection)]
    if params:
        connection.execute(sa.text("UPDATE urgent_flag SET reason = :reason, open_key = :open_key WHERE id = :row_id"),
                           params)
    with op.batch_alter_table('urgent_flag', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_urgent_flag_open_key'), ['open_key'])
        batch_op.create_check_constraint('open_key_while_open', '(closed_at IS NULL) = (open_key IS NOT NULL)')


def downgrade() -> None:
    crypto = current_app.extensions['rph_crypto']
    with op.batch_alter_table('urgent_flag', schema=None) as batch_op:
        batch_op.drop_constraint('open_key_while_open', type_='check')
        batch_op.drop_constraint(batch_op.f('uq_urgent_flag_open_key'), type_='unique')
        batch_op.drop_column('open_key')
    connection = op.get_bind()
    params = [{"row_id": row.id, "reason": crypto.decrypt(row.reason)} for row in _rows(connection)]
    if params:
        connection.execute(sa.text("UPDATE urgent_flag SET reason = :reason WHERE id = :row_id"), params)
    with op.batch_alter_table('urgent_flag', schema=None) as batch_op:
        batch_op.alter_column('reason', existing_type=sa.Text(), type_=sa.String(length=10), existing_nullable=False,
                              postgresql_using='reason::varchar(10)')
        batch_op.create_check_constraint('reason_known', f"reason IN {REASONS!r}")
    op.create_index('uq_urgent_flag_open_reason', 'urgent_flag', ['resident_id', 'reason'], unique=True,
                    sqlite_where=sa.text('closed_at IS NULL'), postgresql_where=sa.text('closed_at IS NULL'))
