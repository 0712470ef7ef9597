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


def upgrade():
    pass


def downgrade():
    pass
