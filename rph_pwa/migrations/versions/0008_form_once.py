"""one response per form request, one open urgent flag per resident and reason

Revision ID: 0008_form_once
Revises: 0007_mail_outbox
Create Date: 2026-12-01 12:30:00.000000

`measure_response.form_request_id` (unique) lets the database refuse a second response to one
form, however many posts arrive at once; a partial unique index lets parallel raises of one
urgent flag reuse the open flag without locking the resident's row.

On SQLite the column is added with ALTER TABLE (no table rebuild: form_request points at
measure_response, and rebuilding a referenced table fails while foreign keys are on).
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_form_once'
down_revision = '0007_mail_outbox'
branch_labels = None
depends_on = None

OPEN = sa.text("closed_at IS NULL")


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE measure_response ADD COLUMN form_request_id INTEGER "
                   "CONSTRAINT fk_measure_response_form_request_id_form_request "
                   "REFERENCES form_request (id)")
    else:
        op.add_column('measure_response', sa.Column('form_request_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_measure_response_form_request_id_form_request'), 'measure_response',
                              'form_request', ['form_request_id'], ['id'])
    # Responses linked before this migration keep their link (form_request.response_id).
    op.execute("UPDATE measure_response SET form_request_id = "
               "(SELECT form_request.id FROM form_request WHERE form_request.response_id = measure_response.id)")
    op.create_index(op.f('ix_measure_response_form_request_id'), 'measure_response', ['form_request_id'],
                    unique=True)
    op.create_index('uq_urgent_flag_open_reason', 'urgent_flag', ['resident_id', 'reason'], unique=True,
                    sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index('uq_urgent_flag_open_reason', table_name='urgent_flag')
    op.drop_index(op.f('ix_measure_response_form_request_id'), table_name='measure_response')
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite cannot drop a column that has a foreign key, and rebuilding measure_response fails
        # while form_request rows point at it. Unlinked, the column is inert; a later rebuild of
        # the table (with foreign keys off) drops it.
        op.execute("UPDATE measure_response SET form_request_id = NULL")
    else:
        op.drop_constraint(op.f('fk_measure_response_form_request_id_form_request'), 'measure_response',
                           type_='foreignkey')
        op.drop_column('measure_response', 'form_request_id')
