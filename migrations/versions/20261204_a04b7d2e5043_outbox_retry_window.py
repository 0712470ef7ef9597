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


def upgrade():
    pass


def downgrade():
    pass
