"""server-side sessions and per-account login throttling

Revision ID: 8d2f5b0c3e21
Revises: 7c1e4a9b2d10
Create Date: 2026-12-04 18:40:00

"""
from alembic import op
import sqlalchemy as sa

import kipp.db  # noqa: F401  custom column types used by autogenerate


# revision identifiers, used by Alembic.
revision = '8d2f5b0c3e21'
down_revision = '7c1e4a9b2d10'
branch_labels = None
depends_on = None

END_REASONS = ('logout', 'ended_by_owner', 'password_changed', 'password_reset', 'temporary_password', 'deactivated')


def upgrade():
    op.create_table('login_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', kipp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', kipp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('masked_address', sa.String(length=64), nullable=True),
    sa.Column('device', sa.String(length=80), nullable=True),
    sa.Column('ended_at', kipp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_reason', sa.Enum(*END_REASONS, name='sessionendreason', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_login_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_login_sessions_token_hash'))
    )
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('login_failures',
    sa.Column('account_key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', kipp.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('account_key', name=op.f('pk_login_failures'))
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failures_last_failed_at'), ['last_failed_at'], unique=False)

    # Sessions are now ended one by one on the server; the per-person version is gone. SQLite
    # (3.35+) drops the column in place: recreating `users` would trip every foreign key to it.
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('session_version')


def downgrade():
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failures_last_failed_at'))
    op.drop_table('login_failures')
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_sessions_user_id'))
    op.drop_table('login_sessions')
