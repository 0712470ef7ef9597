"""Scoring: each stage's scheme (scale, aspects, rubric, settings), the judges' sheets,
and the aggregates the workers compute from them."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kipp.accounts.models import User
from kipp.db import enum_column, intpk, str80, str255, utcnow
from kipp.editions.kinds import GroupCode, StageKind
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.judging.models import PoolMember, RunStatus
from kipp.proposals.models import Proposal


class Visibility(str, enum.Enum):
    """When a judge may see the other judges' scores of a proposal."""

    BLIND = "blind"  # only once the secretariat opens consolidation
    AFTER_OWN = "after_own"  # once the judge has submitted their own sheet
    OPEN = "open"  # always


class ScoringScheme(db.Model):
    """How one stage of an edition is scored: scale, aspects, rubric and the aggregation settings."""

    __tablename__ = "scoring_schemes"
    __table_args__ = (
        sa.UniqueConstraint("edition_id", "stage"),
        sa.CheckConstraint("scale_max > scale_min", name="scale_ordered"),
        sa.CheckConstraint("normalise_min_sheets >= 2", name="normalise_needs_two"),
        sa.CheckConstraint("disagreement_threshold >= 0", name="threshold_not_negative"),
    )

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id", ondelete="CASCADE"), index=True)
    stage: Mapped[StageKind] = enum_column(StageKind)
    scale_min: Mapped[int] = mapped_column(default=0)
    scale_max: Mapped[int] = mapped_column(default=100)
    passing_grade: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    # A proposal is flagged when its judges' totals have a standard deviation above this.
    disagreement_threshold: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2), default=Decimal("10"))
    normalise: Mapped[bool] = mapped_column(default=False)
    normalise_min_sheets: Mapped[int] = mapped_column(default=5)
    # Aspect keys, in order, whose weighted mean breaks a tie of totals (higher first).
    tie_break: Mapped[str255] = mapped_column(default="signifikansi")
    visibility: Mapped[Visibility] = enum_column(Visibility, default=Visibility.BLIND)
    revealed_at: Mapped[dt.datetime | None]
    # Empty means the stage's own closing time.
    deadline: Mapped[dt.datetime | None]
    reminder_days: Mapped[int] = mapped_column(default=2)
    closed: Mapped[bool] = mapped_column(default=False)  # no more saving or submitting
    # The cached ranking: whether a sheet changed since it was computed, and how it was computed.
    ranking_stale: Mapped[bool] = mapped_column(default=True)
    ranked_at: Mapped[dt.datetime | None]
    ranking_params: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    edition: Mapped[Edition] = relationship()
    aspects: Mapped[list["ScoringAspect"]] = relationship(
        back_populates="scheme", order_by="(ScoringAspect.group_code, ScoringAspect.position)",
        cascade="all, delete-orphan")

    def aspects_of(self, group: GroupCode) -> list["ScoringAspect"]:
        return [a for a in self.aspects if a.group_code == group]


class ScoringAspect(db.Model):
    """A scored aspect of a group's proposals in a stage (for the evaluation: the weighted sections)."""

    __tablename__ = "scoring_aspects"
    __table_args__ = (
        sa.UniqueConstraint("scheme_id", "group_code", "key"),
        sa.CheckConstraint("weight > 0 AND weight <= 100", name="weight_is_percentage"),
    )

    id: Mapped[intpk]
    scheme_id: Mapped[int] = mapped_column(sa.ForeignKey("scoring_schemes.id", ondelete="CASCADE"), index=True)
    group_code: Mapped[GroupCode] = enum_column(GroupCode)
    key: Mapped[str80]
    title_id: Mapped[str255]
    title_en: Mapped[str255]
    weight: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2))
    position: Mapped[int] = mapped_column(default=0)
    # The proposal section this aspect scores, shown beside it on the scoring page.
    section_key: Mapped[str80 | None]

    scheme: Mapped[ScoringScheme] = relationship(back_populates="aspects")
    bands: Mapped[list["RubricBand"]] = relationship(
        back_populates="aspect", order_by="RubricBand.low.desc()", cascade="all, delete-orphan")


class RubricBand(db.Model):
    """What a range of scores means for an aspect (e.g. 81–100: the change is large and measured)."""

    __tablename__ = "rubric_bands"
    __table_args__ = (sa.CheckConstraint("high >= low", name="band_ordered"),)

    id: Mapped[intpk]
    aspect_id: Mapped[int] = mapped_column(sa.ForeignKey("scoring_aspects.id", ondelete="CASCADE"), index=True)
    low: Mapped[int]
    high: Mapped[int]
    description_id: Mapped[str] = mapped_column(sa.Text)
    description_en: Mapped[str] = mapped_column(sa.Text)

    aspect: Mapped[ScoringAspect] = relationship(back_populates="bands")


class SheetStatus(str, enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    DISCARDED = "discarded"  # the judge declared a conflict with the proposal


class ScoreSheet(db.Model):
    """One judge's scores of one proposal in a stage.

    ``scores`` maps an aspect key to ``{"value": "85", "comment": "…"}`` (values
    as decimal strings); the sheet is read and written whole, under a version check."""

    __tablename__ = "score_sheets"
    __table_args__ = (
        sa.UniqueConstraint("scheme_id", "proposal_id", "member_id"),
        sa.CheckConstraint("(status = 'submitted') = (submitted_at IS NOT NULL)", name="submitted_has_time"),
        sa.Index("ix_score_sheets_scheme_status", "scheme_id", "status"),
    )

    id: Mapped[intpk]
    scheme_id: Mapped[int] = mapped_column(sa.ForeignKey("scoring_schemes.id", ondelete="CASCADE"))
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("pool_members.id"), index=True)
    status: Mapped[SheetStatus] = enum_column(SheetStatus, default=SheetStatus.DRAFT)
    scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    weighted_total: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[dt.datetime | None]
    reopened_count: Mapped[int] = mapped_column(default=0)

    scheme: Mapped[ScoringScheme] = relationship()
    proposal: Mapped[Proposal] = relationship()
    member: Mapped[PoolMember] = relationship()

    __mapper_args__ = {"version_id_col": version}


class ProposalScore(db.Model):
    """A proposal's aggregate in a stage, as the workers last computed it."""

    __tablename__ = "proposal_scores"
    __table_args__ = (sa.UniqueConstraint("scheme_id", "proposal_id"),)

    id: Mapped[intpk]
    scheme_id: Mapped[int] = mapped_column(sa.ForeignKey("scoring_schemes.id", ondelete="CASCADE"))
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), index=True)
    sheets: Mapped[int] = mapped_column(default=0)  # submitted sheets counted
    raw_total: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    normalised_total: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    std_dev: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    spread: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))  # max - min of the judges' totals
    disagreement: Mapped[bool] = mapped_column(default=False)
    # Weighted mean per aspect key (for tie-breaks and the consolidation view).
    aspect_means: Mapped[dict[str, Any]] = mapped_column(default=dict)
    rank: Mapped[int | None]  # within the proposal's group, by the chosen total
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship()


class AggregationRun(db.Model):
    """A full recomputation of a stage's aggregates and ranking (one task, with progress)."""

    __tablename__ = "aggregation_runs"

    id: Mapped[intpk]
    scheme_id: Mapped[int] = mapped_column(sa.ForeignKey("scoring_schemes.id", ondelete="CASCADE"), index=True)
    status: Mapped[RunStatus] = enum_column(RunStatus, default=RunStatus.QUEUED)
    progress: Mapped[int] = mapped_column(default=0)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(sa.Text)


class Reconciliation(db.Model):
    """The secretariat or a team chair asked a proposal's judges to reconcile their scores."""

    __tablename__ = "reconciliations"

    id: Mapped[intpk]
    scheme_id: Mapped[int] = mapped_column(sa.ForeignKey("scoring_schemes.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    requested_by: Mapped[User] = relationship()


class ScoreReminder(db.Model):
    """A reminder sent to a judge with unfinished sheets (automatic ones at most once a day)."""

    __tablename__ = "score_reminders"

    id: Mapped[intpk]
    scheme_id: Mapped[int] = mapped_column(sa.ForeignKey("scoring_schemes.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("pool_members.id"), index=True)
    unfinished: Mapped[int]
    automatic: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

