"""the resident's home and the therapist's day: published slots for first conversations
(`assessment_slot`, `team.self_booking`), residents' change and cancel requests
(`appointment_request`), the appointment's video link and self-booking counts, and
`user.phone_lookup` (filled for every stored phone number) to find a resident by phone

Revision ID: 0015_home_and_day
Revises: 0014_responsible_therapist
Create Date: 2026-12-01 16:59:47.849987
"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

import rph_pwa.crypto
import rph_pwa.db
from rph_pwa.models.people import phone_lookup_key


revision = '0015_home_and_day'
down_revision = '0014_responsible_therapist'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('appointment_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('reason', rph_pwa.crypto.EncryptedText(), nullable=True),
    sa.Column('created_at', rph_pwa.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('open_appointment_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', rph_pwa.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answer', sa.String(length=10), nullable=True),
    sa.Column('answer_note', rph_pwa.crypto.EncryptedText(), nullable=True),
    sa.CheckConstraint("answer IS NULL OR answer IN ('moved', 'cancelled', 'kept')", name=op.f('ck_appointment_request_answer_known')),
    sa.CheckConstraint("kind IN ('change', 'cancel')", name=op.f('ck_appointment_request_kind_known')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['user.id'], name=op.f('fk_appointment_request_answered_by_id_user')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_appointment_request_appointment_id_appointment')),
    sa.ForeignKeyConstraint(['resident_id'], ['user.id'], name=op.f('fk_appointment_request_resident_id_user')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_appointment_request_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment_request')),
    sa.UniqueConstraint('open_appointment_id', name=op.f('uq_appointment_request_open_appointment_id'))
    )
    with op.batch_alter_table('appointment_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointment_request_appointment_id'), ['appointment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_request_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_request_team_id'), ['team_id'], unique=False)

    op.create_table('assessment_slot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', rph_pwa.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), server_default='45', nullable=False),
    sa.Column('mode', sa.String(length=10), server_default='phone', nullable=False),
    sa.Column('place', rph_pwa.crypto.EncryptedText(), nullable=True),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', rph_pwa.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', rph_pwa.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("mode IN ('phone', 'office', 'video')", name=op.f('ck_assessment_slot_mode_known')),
    sa.CheckConstraint('duration_minutes > 0 AND duration_minutes <= 600', name=op.f('ck_assessment_slot_duration_sane')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_assessment_slot_appointment_id_appointment')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_assessment_slot_created_by_id_user')),
    sa.ForeignKeyConstraint(['staff_id'], ['user.id'], name=op.f('fk_assessment_slot_staff_id_user')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_assessment_slot_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_slot')),
    sa.UniqueConstraint('appointment_id', name=op.f('uq_assessment_slot_appointment_id'))
    )
    with op.batch_alter_table('assessment_slot', schema=None) as batch_op:
        batch_op.create_index('ix_assessment_slot_team_starts', ['team_id', 'starts_at'], unique=False)

    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.create_index('ix_appointment_staff_starts', ['staff_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_appointment_status_episode', ['status', 'episode_id'], unique=False)
        batch_op.create_index('ix_appointment_episode_summary', ['episode_id', 'kind', 'status', 'duration_minutes'],
                              unique=False)
        batch_op.add_column(sa.Column('video_link', rph_pwa.crypto.EncryptedText(), nullable=True))
        batch_op.add_column(sa.Column('booked_by_resident', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('resident_moves', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('self_booking', sa.Boolean(), server_default='1', nullable=False))

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_lookup', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_phone_lookup'), ['phone_lookup'], unique=False)
    crypto = current_app.extensions['rph_crypto']
    connection = op.get_bind()
    rows = connection.execute(sa.text('SELECT id, phone FROM "user" WHERE phone IS NOT NULL')).all()
    params = [{"row_id": row.id, "lookup": phone_lookup_key(crypto.decrypt(row.phone))} for row in rows]
    if params:
        connection.execute(sa.text('UPDATE "user" SET phone_lookup = :lookup WHERE id = :row_id'), params)



def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_phone_lookup'))
        batch_op.drop_column('phone_lookup')

    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_column('self_booking')

    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_index('ix_appointment_episode_summary')
        batch_op.drop_index('ix_appointment_status_episode')
        batch_op.drop_index('ix_appointment_staff_starts')
        batch_op.drop_column('resident_moves')
        batch_op.drop_column('booked_by_resident')
        batch_op.drop_column('video_link')

    with op.batch_alter_table('assessment_slot', schema=None) as batch_op:
        batch_op.drop_index('ix_assessment_slot_team_starts')

    op.drop_table('assessment_slot')
    with op.batch_alter_table('appointment_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_request_team_id'))
        batch_op.drop_index(batch_op.f('ix_appointment_request_resident_id'))
        batch_op.drop_index(batch_op.f('ix_appointment_request_appointment_id'))

    op.drop_table('appointment_request')
