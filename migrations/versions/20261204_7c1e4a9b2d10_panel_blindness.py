"""panel blindness: a forced plenary list keeps its reason

A plenary list built while panel sheets were still missing (only the secretariat may, with a
written reason) keeps that reason and how many sheets were missing; who built it is already
kept (built_by_id).

Revision ID: 7c1e4a9b2d10
Revises: 4be25018289a
Create Date: 2026-12-04 18:40:00

"""
from alembic import op
import sqlalchemy as sa

import kipp.db  # noqa: F401  custom column types used by autogenerate


# revision identifiers, used by Alembic.
revision = '7c1e4a9b2d10'
down_revision = '4be25018289a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('shortlists', schema=None) as batch_op:
        batch_op.add_column(sa.Column('forced_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('forced_missing', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            'forced_with_reason', '(forced_reason IS NULL) = (forced_missing IS NULL)')


def downgrade():
    with op.batch_alter_table('shortlists', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_shortlists_forced_with_reason'), type_='check')
        batch_op.drop_column('forced_missing')
        batch_op.drop_column('forced_reason')
