"""audit_shown: the rows a list page showed, under the page view's one audit event (the triage
queue writes one event per page view naming every referral shown, instead of one event per row)

Revision ID: 0019_audit_shown
Revises: 0018_courses
Create Date: 2026-12-02 05:45:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0019_audit_shown'
down_revision = '0018_courses'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_shown',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['audit_event.id'], name=op.f('fk_audit_shown_event_id_audit_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subject_id'], ['user.id'], name=op.f('fk_audit_shown_subject_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_shown'))
    )
    with op.batch_alter_table('audit_shown', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_shown_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_audit_shown_subject_id_event', ['subject_id', 'event_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_shown', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_shown_subject_id_event')
        batch_op.drop_index(batch_op.f('ix_audit_shown_event_id'))
    op.drop_table('audit_shown')
