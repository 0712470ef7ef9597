from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kipp.db import TimestampMixin, enum_column, intpk, str80, str255
from kipp.editions.kinds import GroupCode, PlacesMode, StageKind, StageStatus
from kipp.extensions import db


class Edition(TimestampMixin, db.Model):
    """One year's competition; every rule that changes from year to year lives under it."""

    __tablename__ = "editions"
    __table_args__ = (sa.CheckConstraint("year BETWEEN 2014 AND 2100", name="year_plausible"),)

    id: Mapped[intpk]
    year: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str255]
    theme: Mapped[str | None] = mapped_column(sa.Text)
    legal_basis: Mapped[str255 | None]
    copied_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("editions.id", ondelete="SET NULL"))
    # Upload limits and reminders for the submission stage.
    max_file_mb: Mapped[int] = mapped_column(default=10, server_default="10")
    max_proposal_mb: Mapped[int] = mapped_column(default=50, server_default="50")
    # Counted as well as weighed: a request of many small files stays within the sizes.
    max_files_per_section: Mapped[int] = mapped_column(default=5, server_default="5")
    max_files_per_proposal: Mapped[int] = mapped_column(default=20, server_default="20")
    reminder_days: Mapped[int] = mapped_column(default=3, server_default="3")
    # Administrative screening: a second screener confirms each decision; a
    # failed proposal may be corrected and resubmitted once within N days (0: no window).
    screening_four_eyes: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    correction_days: Mapped[int] = mapped_column(default=0, server_default="0")
    # Assignment: reviewers per proposal, balanced loads, and how a judge's
    # province relates to an agency in it (hard: never, soft: warned, off).
    reviewers_per_proposal: Mapped[int] = mapped_column(default=3, server_default="3")
    balanced_load: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    coi_same_province: Mapped[str] = mapped_column(sa.String(8), default="hard", server_default="hard")
    # Selection rounds (kipp-domain §1, §4; the combination of scores is [U], hence settings).
    # The final score: each stage's total weighted by these percentages (they add up to 100).
    weight_evaluation: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2), default=Decimal("30"), server_default="30")
    weight_panel: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2), default=Decimal("20"), server_default="20")
    weight_presentation: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2), default=Decimal("50"),
                                                         server_default="50")
    weight_field: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2), default=Decimal("0"), server_default="0")
    # Presentation and interview (2022: 7 + 13 minutes; the Admin Lokal confirms 24 hours ahead).
    presentation_minutes: Mapped[int] = mapped_column(default=7, server_default="7")
    interview_minutes: Mapped[int] = mapped_column(default=13, server_default="13")
    confirm_hours: Mapped[int] = mapped_column(default=24, server_default="24")
    # Field verification by at least one panelist and one evaluator (2019-2020; not since [U]).
    field_verification: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Resamples of the judges' sheets used to tell which places at a cut are not stable.
    bootstrap_samples: Mapped[int] = mapped_column(default=1000, server_default="1000")

    groups: Mapped[list["EditionGroup"]] = relationship(
        back_populates="edition", order_by="EditionGroup.position", cascade="all, delete-orphan"
    )
    categories: Mapped[list["Category"]] = relationship(
        back_populates="edition", order_by="Category.position", cascade="all, delete-orphan"
    )
    documents: Mapped[list["RequiredDocument"]] = relationship(
        back_populates="edition", order_by="RequiredDocument.position", cascade="all, delete-orphan"
    )
    stages: Mapped[list["Stage"]] = relationship(
        back_populates="edition", order_by="Stage.position", cascade="all, delete-orphan"
    )
    copied_from: Mapped["Edition | None"] = relationship(remote_side="Edition.id")

    def group(self, code: GroupCode) -> "EditionGroup | None":
        return next((g for g in self.groups if g.code == code), None)

    def stage(self, kind: StageKind) -> "Stage | None":
        return next((s for s in self.stages if s.kind == kind), None)


class EditionGroup(db.Model):
    """A competition group (umum, khusus, replikasi) with its eligibility numbers and tier sizes."""

    __tablename__ = "edition_groups"
    __table_args__ = (
        sa.UniqueConstraint("edition_id", "code"),
        sa.CheckConstraint("min_age_months >= 0", name="min_age_not_negative"),
        sa.CheckConstraint("quota_per_agency IS NULL OR quota_per_agency >= 0", name="quota_not_negative"),
        sa.CheckConstraint(
            "nominee_count >= finalist_count AND finalist_count >= winner_count AND winner_count >= 0",
            name="tiers_shrink",
        ),
    )

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id", ondelete="CASCADE"), index=True)
    code: Mapped[GroupCode] = enum_column(GroupCode)
    name_id: Mapped[str255]
    name_en: Mapped[str255]
    position: Mapped[int] = mapped_column(default=0)
    min_age_months: Mapped[int] = mapped_column(default=24)
    quota_per_agency: Mapped[int | None]
    by_invitation: Mapped[bool] = mapped_column(default=False)
    nominee_count: Mapped[int] = mapped_column(default=0)
    finalist_count: Mapped[int] = mapped_column(default=0)
    winner_count: Mapped[int] = mapped_column(default=0)
    winner_title: Mapped[str255] = mapped_column(default="Top Inovasi Pelayanan Publik")
    # The nominee list's composition: places per agency cluster in proportion to the
    # proposals that passed screening, set by hand (``cluster_places``), or none; and a
    # minimum of proposals from 3T regions (kipp-domain §2, §4).
    places_mode: Mapped[PlacesMode] = enum_column(PlacesMode, default=PlacesMode.PROPORTIONAL,
                                                  server_default=PlacesMode.PROPORTIONAL.value)
    cluster_places: Mapped[dict[str, Any] | None]
    min_3t: Mapped[int] = mapped_column(default=0, server_default="0")

    edition: Mapped[Edition] = relationship(back_populates="groups")
    sections: Mapped[list["Section"]] = relationship(
        back_populates="group", order_by="Section.position", cascade="all, delete-orphan"
    )

    @property
    def total_weight(self) -> Decimal:
        return sum((s.weight for s in self.sections), Decimal("0"))


class Category(db.Model):
    __tablename__ = "categories"
    __table_args__ = (sa.UniqueConstraint("edition_id", "code"),)

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id", ondelete="CASCADE"), index=True)
    code: Mapped[str80]
    name_id: Mapped[str255]
    name_en: Mapped[str255]
    position: Mapped[int] = mapped_column(default=0)

    edition: Mapped[Edition] = relationship(back_populates="categories")


class Sdg(db.Model):
    """The 17 Sustainable Development Goals (TPB); every proposal links to at least one."""

    __tablename__ = "sdgs"
    __table_args__ = (sa.CheckConstraint("number BETWEEN 1 AND 17", name="number_in_range"),)

    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name_id: Mapped[str255]
    name_en: Mapped[str255]


class Section(db.Model):
    """A question of the proposal form: its word limit, scoring weight and evidence rule."""

    __tablename__ = "sections"
    __table_args__ = (
        sa.UniqueConstraint("group_id", "key"),
        sa.CheckConstraint("word_limit IS NULL OR word_limit > 0", name="word_limit_positive"),
        sa.CheckConstraint("weight >= 0 AND weight <= 100", name="weight_is_percentage"),
    )

    id: Mapped[intpk]
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("edition_groups.id", ondelete="CASCADE"), index=True)
    key: Mapped[str80]
    title_id: Mapped[str255]
    title_en: Mapped[str255]
    guidance_id: Mapped[str | None] = mapped_column(sa.Text)
    guidance_en: Mapped[str | None] = mapped_column(sa.Text)
    word_limit: Mapped[int | None]
    weight: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2), default=Decimal("0"))
    evidence_required: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)

    group: Mapped[EditionGroup] = relationship(back_populates="sections")


class RequiredDocument(db.Model):
    """A document every proposal of a group must attach (SK innovator, statement letters …)."""

    __tablename__ = "required_documents"
    __table_args__ = (sa.UniqueConstraint("edition_id", "key"),)

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id", ondelete="CASCADE"), index=True)
    key: Mapped[str80]
    name_id: Mapped[str255]
    name_en: Mapped[str255]
    # Empty means every group; otherwise a comma-separated list of group codes.
    group_codes: Mapped[str80] = mapped_column(default="")
    mandatory: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    edition: Mapped[Edition] = relationship(back_populates="documents")

    def applies_to(self, code: GroupCode) -> bool:
        return not self.group_codes or code.value in self.group_codes.split(",")


class Stage(db.Model):
    """A step of the edition with its window in time (stored in UTC, shown in WIB)."""

    __tablename__ = "stages"
    __table_args__ = (
        sa.UniqueConstraint("edition_id", "kind"),
        sa.CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
    )

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[StageKind] = enum_column(StageKind)
    name_id: Mapped[str255]
    name_en: Mapped[str255]
    opens_at: Mapped[dt.datetime]
    closes_at: Mapped[dt.datetime]
    position: Mapped[int] = mapped_column(default=0)
    # Where the edition stands: the secretariat opens and closes each stage explicitly
    # (kipp.progress); the window above is the schedule, and bounds what agencies and the
    # public may do (the submission deadline, the objection window).
    status: Mapped[StageStatus] = enum_column(StageStatus, default=StageStatus.PLANNED,
                                              server_default=StageStatus.PLANNED.value)
    opened_at: Mapped[dt.datetime | None]
    opened_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    closed_at: Mapped[dt.datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Why a guard was overridden (e.g. scoring closed with sheets unsubmitted).
    forced_reason: Mapped[str | None] = mapped_column(sa.Text)

    edition: Mapped[Edition] = relationship(back_populates="stages")

    def is_open(self, now: dt.datetime) -> bool:
        return self.opens_at <= now < self.closes_at
