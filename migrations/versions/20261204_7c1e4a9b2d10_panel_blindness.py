"""panel blindness: a forced plenary list keeps its reason

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
    pass


def downgrade():
    pass
