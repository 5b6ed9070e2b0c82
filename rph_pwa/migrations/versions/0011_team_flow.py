"""team flow: guided onward keeps the episode open with a follow-up date (`episode.follow_up_at`),
and closing it records whether help started elsewhere (`onward_help_started`, `onward_outcome_note`)

Revision ID: 0011_team_flow
Revises: 0010_referral_flow
Create Date: 2026-12-01 12:55:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_team_flow'
down_revision = '0010_referral_flow'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('episode', schema=None) as batch_op:
        batch_op.add_column(sa.Column('follow_up_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('onward_help_started', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('onward_outcome_note', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_episode_follow_up_at'), ['follow_up_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('episode', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_episode_follow_up_at'))
        batch_op.drop_column('onward_outcome_note')
        batch_op.drop_column('onward_help_started')
        batch_op.drop_column('follow_up_at')
