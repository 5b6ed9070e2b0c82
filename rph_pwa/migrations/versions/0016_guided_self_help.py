"""guided self-help: assigned programmes (`selfhelp_assignment`) and the resident's progress
(`module_progress`), worksheets with an idempotency key (`worksheet`), approved sleep windows,
weekly check-in reports and their review (`check_in_report`), teams' external programmes and
feedback phrase banks, and `user.away_until` (cover for an absent therapist)

Revision ID: 0016_guided_self_help
Revises: 0015_home_and_day
Create Date: 2026-12-01 19:48:58.800000
"""
from alembic import op
import sqlalchemy as sa
import rph_pwa.crypto
import rph_pwa.db


revision = '0016_guided_self_help'
down_revision = '0015_home_and_day'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('external_programme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('modules', sa.JSON(), nullable=False),
    sa.Column('weeks', sa.Integer(), server_default='6', nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', rph_pwa.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retired_at', rph_pwa.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_external_programme_created_by_id_user')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_external_programme_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_programme'))
    )
    with op.batch_alter_table('external_programme', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_programme_team_id'), ['team_id'], unique=False)

    op.create_table('feedback_phrase',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', rph_pwa.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_feedback_phrase_created_by_id_user')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_feedback_phrase_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_phrase'))
    )
    with op.batch_alter_table('feedback_phrase', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_phrase_team_id'), ['team_id'], unique=False)

    op.create_table('selfhelp_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('programme', sa.String(length=60), nullable=True),
    sa.Column('external_programme_id', sa.Integer(), nullable=True),
    sa.Column('checkin_weekday', sa.SmallInteger(), nullable=False),
    sa.Column('pace', sa.String(length=10), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=False),
    sa.Column('assigned_at', rph_pwa.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', rph_pwa.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('open_episode_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("pace IN ('weekly', 'all')", name=op.f('ck_selfhelp_assignment_pace_known')),
    sa.CheckConstraint('(ended_at IS NULL) = (open_episode_id IS NOT NULL)', name=op.f('ck_selfhelp_assignment_open_while_not_ended')),
    sa.CheckConstraint('(programme IS NULL) != (external_programme_id IS NULL)', name=op.f('ck_selfhelp_assignment_one_programme')),
    sa.CheckConstraint('checkin_weekday >= 0 AND checkin_weekday <= 6', name=op.f('ck_selfhelp_assignment_weekday_known')),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['user.id'], name=op.f('fk_selfhelp_assignment_assigned_by_id_user')),
    sa.ForeignKeyConstraint(['episode_id'], ['episode.id'], name=op.f('fk_selfhelp_assignment_episode_id_episode')),
    sa.ForeignKeyConstraint(['external_programme_id'], ['external_programme.id'], name=op.f('fk_selfhelp_assignment_external_programme_id_external_programme')),
    sa.ForeignKeyConstraint(['resident_id'], ['user.id'], name=op.f('fk_selfhelp_assignment_resident_id_user')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_selfhelp_assignment_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_selfhelp_assignment')),
    sa.UniqueConstraint('open_episode_id', name=op.f('uq_selfhelp_assignment_open_episode_id'))
    )
    with op.batch_alter_table('selfhelp_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_selfhelp_assignment_episode_id'), ['episode_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_selfhelp_assignment_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_selfhelp_assignment_team_id'), ['team_id'], unique=False)

    op.create_table('worksheet',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('client_key', sa.String(length=64), nullable=False),
    sa.Column('for_date', sa.Date(), nullable=True),
    sa.Column('content', rph_pwa.crypto.EncryptedJSON(), nullable=False),
    sa.Column('revision', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', rph_pwa.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', rph_pwa.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['episode_id'], ['episode.id'], name=op.f('fk_worksheet_episode_id_episode')),
    sa.ForeignKeyConstraint(['resident_id'], ['user.id'], name=op.f('fk_worksheet_resident_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_worksheet')),
    sa.UniqueConstraint('resident_id', 'client_key', name='uq_worksheet_client_key')
    )
    with op.batch_alter_table('worksheet', schema=None) as batch_op:
        batch_op.create_index('ix_worksheet_resident_kind_date', ['resident_id', 'kind', 'for_date'], unique=False)
        batch_op.create_index('ix_worksheet_resident_updated', ['resident_id', 'updated_at'], unique=False)

    op.create_table('check_in_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=True),
    sa.Column('answers', rph_pwa.crypto.EncryptedJSON(), nullable=False),
    sa.Column('talk_sooner', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('sent_at', rph_pwa.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('review_started_at', rph_pwa.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reviewed_at', rph_pwa.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('feedback', rph_pwa.crypto.EncryptedText(), nullable=True),
    sa.Column('by_phone', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('feedback_seen_at', rph_pwa.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_check_in_report_appointment_id_appointment')),
    sa.ForeignKeyConstraint(['assignment_id'], ['selfhelp_assignment.id'], name=op.f('fk_check_in_report_assignment_id_selfhelp_assignment')),
    sa.ForeignKeyConstraint(['episode_id'], ['episode.id'], name=op.f('fk_check_in_report_episode_id_episode')),
    sa.ForeignKeyConstraint(['resident_id'], ['user.id'], name=op.f('fk_check_in_report_resident_id_user')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['user.id'], name=op.f('fk_check_in_report_reviewed_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_in_report')),
    sa.UniqueConstraint('appointment_id', name=op.f('uq_check_in_report_appointment_id'))
    )
    with op.batch_alter_table('check_in_report', schema=None) as batch_op:
        batch_op.create_index('ix_check_in_report_episode', ['episode_id', 'sent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_check_in_report_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index('ix_check_in_report_waiting', ['reviewed_at', 'sent_at'], unique=False)

    op.create_table('module_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('module_key', sa.String(length=80), nullable=False),
    sa.Column('opened_at', rph_pwa.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('first_read_at', rph_pwa.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', rph_pwa.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rating', sa.SmallInteger(), nullable=True),
    sa.CheckConstraint('rating IS NULL OR (rating >= 1 AND rating <= 5)', name=op.f('ck_module_progress_rating_range')),
    sa.ForeignKeyConstraint(['assignment_id'], ['selfhelp_assignment.id'], name=op.f('fk_module_progress_assignment_id_selfhelp_assignment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['opened_by_id'], ['user.id'], name=op.f('fk_module_progress_opened_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_module_progress')),
    sa.UniqueConstraint('assignment_id', 'module_key', name='uq_module_progress_module')
    )
    op.create_table('sleep_window',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('window', rph_pwa.crypto.EncryptedJSON(), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=False),
    sa.Column('approved_at', rph_pwa.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['user.id'], name=op.f('fk_sleep_window_approved_by_id_user')),
    sa.ForeignKeyConstraint(['assignment_id'], ['selfhelp_assignment.id'], name=op.f('fk_sleep_window_assignment_id_selfhelp_assignment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sleep_window'))
    )
    with op.batch_alter_table('sleep_window', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sleep_window_assignment_id'), ['assignment_id'], unique=False)

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('away_until', sa.Date(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('away_until')

    with op.batch_alter_table('sleep_window', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sleep_window_assignment_id'))

    op.drop_table('sleep_window')
    op.drop_table('module_progress')
    with op.batch_alter_table('check_in_report', schema=None) as batch_op:
        batch_op.drop_index('ix_check_in_report_waiting')
        batch_op.drop_index(batch_op.f('ix_check_in_report_resident_id'))
        batch_op.drop_index('ix_check_in_report_episode')

    op.drop_table('check_in_report')
    with op.batch_alter_table('worksheet', schema=None) as batch_op:
        batch_op.drop_index('ix_worksheet_resident_updated')
        batch_op.drop_index('ix_worksheet_resident_kind_date')

    op.drop_table('worksheet')
    with op.batch_alter_table('selfhelp_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_selfhelp_assignment_team_id'))
        batch_op.drop_index(batch_op.f('ix_selfhelp_assignment_resident_id'))
        batch_op.drop_index(batch_op.f('ix_selfhelp_assignment_episode_id'))

    op.drop_table('selfhelp_assignment')
    with op.batch_alter_table('feedback_phrase', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_phrase_team_id'))

    op.drop_table('feedback_phrase')
    with op.batch_alter_table('external_programme', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_programme_team_id'))

    op.drop_table('external_programme')
