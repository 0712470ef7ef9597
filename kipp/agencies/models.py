from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kipp.agencies.kinds import AgencyType, Cluster, RegionLevel, region_kind
from kipp.db import TimestampMixin, enum_column, intpk, str255
from kipp.extensions import db


class Region(db.Model):
    """A province or kabupaten/kota with its official Kemendagri code."""

    __tablename__ = "regions"
    __table_args__ = (
        sa.CheckConstraint("level IN (1, 2)", name="level_known"),
        sa.CheckConstraint("(level = 1) = (parent_code IS NULL)", name="only_provinces_have_no_parent"),
    )

    code: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    name: Mapped[str255]
    level: Mapped[int] = mapped_column(sa.SmallInteger)
    parent_code: Mapped[str | None] = mapped_column(sa.ForeignKey("regions.code"), index=True)

    parent: Mapped["Region | None"] = relationship(remote_side=[code])

    @property
    def is_province(self) -> bool:
        return self.level == RegionLevel.PROVINCE

    @property
    def province(self) -> "Region":
        return self if self.parent is None else self.parent

    @property
    def kind(self) -> str:
        return region_kind(self.code)

    @property
    def full_name(self) -> str:
        return self.name if self.parent is None else f"{self.name}, {self.parent.name}"


class Agency(TimestampMixin, db.Model):
    """An instansi: a ministry, institution, regional government or state enterprise."""

    __tablename__ = "agencies"

    id: Mapped[intpk]
    name: Mapped[str255] = mapped_column(unique=True)
    type: Mapped[AgencyType] = enum_column(AgencyType)
    cluster: Mapped[Cluster] = enum_column(Cluster, index=True)
    region_code: Mapped[str | None] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    is_3t: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    region: Mapped[Region | None] = relationship()
    units: Mapped[list["Unit"]] = relationship(
        back_populates="agency", order_by="Unit.name", cascade="all, delete-orphan"
    )

    @property
    def province(self) -> Region | None:
        return self.region.province if self.region else None


class Unit(TimestampMixin, db.Model):
    """A unit (UPP, Unit Penyelenggara Pelayanan) that drafts proposals for its agency."""

    __tablename__ = "units"
    __table_args__ = (sa.UniqueConstraint("agency_id", "name"),)

    id: Mapped[intpk]
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    name: Mapped[str255]
    active: Mapped[bool] = mapped_column(default=True)

    agency: Mapped[Agency] = relationship(back_populates="units")
