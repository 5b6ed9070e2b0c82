"""episode details: the full intake checklist, offering changes with their note, and every item-9
answer kept on its urgent flag

Revision ID: 0012_episode_details
Revises: 0011_team_flow
Create Date: 2026-12-01 13:00:00.000000
"""
from alembic import op
import sqlalchemy as sa



revision = '0012_episode_details'
down_revision = '0011_team_flow'
branch_labels = None
depends_on = None

CHECKLIST = ('why_now', 'expectations', 'development', 'functioning', 'family', 'earlier_help', 'resources',
             'change_information', 'children', 'minor_confidentiality')


def upgrade() -> None:
    # WSAS becomes one of the therapist's choices: every existing episode keeps asking it.
    with op.batch_alter_table('episode', schema=None) as batch_op:
        batch_op.alter_column('instruments', existing_type=sa.String(length=100), existing_nullable=False,
                              server_default='PHQ-9,GAD-7,WSAS')
    op.execute("UPDATE episode SET instruments = instruments || ',WSAS' WHERE instruments NOT LIKE '%WSAS%'")
    with op.batch_alter_table('intake_checklist', schema=None) as batch_op:
        for name in CHECKLIST:
            batch_op.add_column(sa.Column(name, sa.Boolean(), server_default='0', nullable=False))
    op.create_table(
        'offering_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('episode_id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('from_offerings', sa.String(length=100), nullable=False),
        sa.Column('to_offerings', sa.String(length=100), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['episode_id'], ['episode.id'], name=op.f('fk_offering_change_episode_id_episode')),
        sa.ForeignKeyConstraint(['staff_id'], ['user.id'], name=op.f('fk_offering_change_staff_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_offering_change')),
    )
    op.create_index(op.f('ix_offering_change_episode_id'), 'offering_change', ['episode_id'], unique=False)
    op.create_table(
        'urgent_flag_answer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('flag_id', sa.Integer(), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['flag_id'], ['urgent_flag.id'], name=op.f('fk_urgent_flag_answer_flag_id_urgent_flag'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_urgent_flag_answer')),
    )
    op.create_index(op.f('ix_urgent_flag_answer_flag_id'), 'urgent_flag_answer', ['flag_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_urgent_flag_answer_flag_id'), table_name='urgent_flag_answer')
    op.drop_table('urgent_flag_answer')
    op.drop_index(op.f('ix_offering_change_episode_id'), table_name='offering_change')
    op.drop_table('offering_change')
    with op.batch_alter_table('intake_checklist', schema=None) as batch_op:
        for name in reversed(CHECKLIST):
            batch_op.drop_column(name)
    op.execute("UPDATE episode SET instruments = REPLACE(REPLACE(instruments, ',WSAS', ''), 'WSAS', '')")
    with op.batch_alter_table('episode', schema=None) as batch_op:
        batch_op.alter_column('instruments', existing_type=sa.String(length=100), existing_nullable=False,
                              server_default='PHQ-9,GAD-7')
