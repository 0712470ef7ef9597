"""outbox: retries back off over a window; failed messages stay visible

Revision ID: a04b7d2e5043
Revises: 9e3a6c1d4f32
Create Date: 2026-12-04 18:40:00

"""
from alembic import op
import sqlalchemy as sa

import kipp.db  # noqa: F401  custom column types used by autogenerate


# revision identifiers, used by Alembic.
revision = 'a04b7d2e5043'
down_revision = '9e3a6c1d4f32'
branch_labels = None
depends_on = None

# The window a message created before this revision gets (the setting's default).
_WINDOW_HOURS = 48
# The attempt limit before this revision: such a message was abandoned without a word.
_OLD_MAX_ATTEMPTS = 5


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', kipp.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('retry_until', kipp.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failed_at', kipp.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sending_at', kipp.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_messages_next_attempt_at'), ['next_attempt_at'], unique=False)

    if op.get_bind().dialect.name == 'sqlite':
        window_end = f"datetime(created_at, '+{_WINDOW_HOURS} hours')"
    else:
        window_end = f"created_at + interval '{_WINDOW_HOURS} hours'"
    op.execute(f"UPDATE outbox_messages SET retry_until = {window_end}")
    # What the old limit gave up on becomes visibly failed (and can be resent); the rest is due now.
    op.execute("UPDATE outbox_messages SET failed_at = COALESCE(published_at, created_at) "
               f"WHERE processed_at IS NULL AND attempts >= {_OLD_MAX_ATTEMPTS}")
    op.execute("UPDATE outbox_messages SET next_attempt_at = created_at "
               "WHERE processed_at IS NULL AND failed_at IS NULL")

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.alter_column('retry_until', existing_type=kipp.db.UTCDateTime(timezone=True), nullable=False)


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_next_attempt_at'))
        batch_op.drop_column('sending_at')
        batch_op.drop_column('failed_at')
        batch_op.drop_column('retry_until')
        batch_op.drop_column('next_attempt_at')
