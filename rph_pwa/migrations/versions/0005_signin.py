"""sign-in integrity: e-mail codes bound to an address (also for referral drafts), TOTP lockout

Revision ID: 0005_signin
Revises: 0004_safety
Create Date: 2026-12-01 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_signin'
down_revision = '0004_safety'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('email_code', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('draft_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('email_lookup', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_email_code_draft_id_referral_draft'), 'referral_draft',
                                    ['draft_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index(batch_op.f('ix_email_code_draft_id'), ['draft_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_email_code_email_lookup'), ['email_lookup'], unique=False)
        batch_op.drop_constraint(op.f('ck_email_code_purpose_known'), type_='check')
        batch_op.create_check_constraint('purpose_known', "purpose IN ('signin', 'confirm_email', 'draft')")

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('totp_locked_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('totp_locked_until')
        batch_op.drop_column('totp_failures')

    op.execute("DELETE FROM email_code WHERE purpose = 'draft' OR user_id IS NULL")
    with op.batch_alter_table('email_code', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_email_code_purpose_known'), type_='check')
        batch_op.create_check_constraint('purpose_known', "purpose IN ('signin', 'confirm_email')")
        batch_op.drop_index(batch_op.f('ix_email_code_email_lookup'))
        batch_op.drop_index(batch_op.f('ix_email_code_draft_id'))
        batch_op.drop_constraint(batch_op.f('fk_email_code_draft_id_referral_draft'), type_='foreignkey')
        batch_op.drop_column('email_lookup')
        batch_op.drop_column('draft_id')
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
