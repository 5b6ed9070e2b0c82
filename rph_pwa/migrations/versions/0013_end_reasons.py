"""end reasons: `episode.end_reason`, why an episode ended (recorded at discharge, coded, for statistics)

Revision ID: 0013_end_reasons
Revises: 0012_episode_details
Create Date: 2026-12-01 12:50:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_end_reasons'
down_revision = '0012_episode_details'
branch_labels = None
depends_on = None

END_REASONS = ('completed', 'guided_onward', 'dropped_out', 'declined', 'other')


def upgrade() -> None:
    with op.batch_alter_table('episode', schema=None) as batch_op:
        batch_op.add_column(sa.Column('end_reason', sa.String(length=20), nullable=True))
        batch_op.create_check_constraint('end_reason_known', f"end_reason IS NULL OR end_reason IN {END_REASONS!r}")


def downgrade() -> None:
    with op.batch_alter_table('episode', schema=None) as batch_op:
        batch_op.drop_constraint('end_reason_known', type_='check')
        batch_op.drop_column('end_reason')
