"""Read helpers for editions shared by several pages."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from kipp.editions.models import Edition
from kipp.extensions import db


def current_edition() -> Edition | None:
    """The newest edition: the one agencies and judges work in."""
    return db.session.scalar(
        sa.select(Edition).options(selectinload(Edition.stages)).order_by(Edition.year.desc()).limit(1)
    )


def edition_of_year(year: int) -> Edition | None:
    """The edition of a year (years are unique): how the public pages name an edition."""
    return db.session.scalar(sa.select(Edition).where(Edition.year == year))
