"""upload limits: files per section and per proposal (edition settings)

Revision ID: 9e3a6c1d4f32
Revises: 8d2f5b0c3e21
Create Date: 2026-12-04 18:40:00

"""
from alembic import op
import sqlalchemy as sa

import kipp.db  # noqa: F401  custom column types used by autogenerate


# revision identifiers, used by Alembic.
revision = '9e3a6c1d4f32'
down_revision = '8d2f5b0c3e21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('editions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_files_per_section', sa.Integer(), server_default='5', nullable=False))
        batch_op.add_column(sa.Column('max_files_per_proposal', sa.Integer(), server_default='20', nullable=False))


def downgrade():
    with op.batch_alter_table('editions', schema=None) as batch_op:
        batch_op.drop_column('max_files_per_proposal')
        batch_op.drop_column('max_files_per_section')
