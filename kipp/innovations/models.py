from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kipp.agencies.models import Agency, Unit
from kipp.db import TimestampMixin, enum_column, intpk, str80, str255, utcnow
from kipp.extensions import db
from kipp.innovations.kinds import AwardTier


class Innovation(TimestampMixin, db.Model):
    """An agency's innovation. It outlives editions and carries its award history."""

    __tablename__ = "innovations"
    __table_args__ = (sa.Index("ix_innovations_agency_title", "agency_id", "title"),)

    id: Mapped[intpk]
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    title: Mapped[str255]
    start_date: Mapped[dt.date | None]
    innovator_decree: Mapped[str255 | None]  # the SK naming the innovator(s)

    agency: Mapped[Agency] = relationship()
    unit: Mapped[Unit | None] = relationship()
    awards: Mapped[list["Award"]] = relationship(
        back_populates="innovation", order_by="Award.year", cascade="all, delete-orphan"
    )


class Award(db.Model):
    """One line of an innovation's award history (imported or written by a final result)."""

    __tablename__ = "awards"
    __table_args__ = (sa.UniqueConstraint("innovation_id", "year", "tier"),)

    id: Mapped[intpk]
    innovation_id: Mapped[int] = mapped_column(sa.ForeignKey("innovations.id", ondelete="CASCADE"), index=True)
    year: Mapped[int]
    tier: Mapped[AwardTier] = enum_column(AwardTier)
    decree_number: Mapped[str255 | None]
    source: Mapped[str80] = mapped_column(default="import")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    innovation: Mapped[Innovation] = relationship(back_populates="awards")
