"""responsible therapist: `episode.responsible_id` and `responsible_change`, the history of who was
responsible for an episode, with a note on each hand-over

Revision ID: 0014_responsible_therapist
Revises: 0013_end_reasons
Create Date: 2026-12-01 15:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0014_responsible_therapist'
down_revision = '0013_end_reasons'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('episode', schema=None) as batch_op:
        batch_op.add_column(sa.Column('responsible_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_episode_responsible_id'), ['responsible_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_episode_responsible_id_user'), 'user', ['responsible_id'], ['id'])
    op.create_table(
        'responsible_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('episode_id', sa.Integer(), nullable=False),
        sa.Column('from_id', sa.Integer(), nullable=True),
        sa.Column('to_id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['episode_id'], ['episode.id'], name=op.f('fk_responsible_change_episode_id_episode')),
        sa.ForeignKeyConstraint(['from_id'], ['user.id'], name=op.f('fk_responsible_change_from_id_user')),
        sa.ForeignKeyConstraint(['to_id'], ['user.id'], name=op.f('fk_responsible_change_to_id_user')),
        sa.ForeignKeyConstraint(['staff_id'], ['user.id'], name=op.f('fk_responsible_change_staff_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_responsible_change')),
    )
    op.create_index(op.f('ix_responsible_change_episode_id'), 'responsible_change', ['episode_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_responsible_change_episode_id'), table_name='responsible_change')
    op.drop_table('responsible_change')
    with op.batch_alter_table('episode', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_episode_responsible_id_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_episode_responsible_id'))
        batch_op.drop_column('responsible_id')
