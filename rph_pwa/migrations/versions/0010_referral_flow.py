"""team.urgent_response_days: the working days within which a team answers an urgent referral
(shown on the receipt of an urgent referral)

Revision ID: 0010_referral_flow
Revises: 0009_flag_reason_encrypted
Create Date: 2026-12-01 13:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_referral_flow'
down_revision = '0009_flag_reason_encrypted'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('urgent_response_days', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_column('urgent_response_days')
