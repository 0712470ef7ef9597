from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kipp.accounts.models import User
from kipp.agencies.models import Agency, Region
from kipp.db import TimestampMixin, enum_column, intpk, str80, str255, utcnow
from kipp.editions.kinds import StageKind
from kipp.editions.models import Category, Edition
from kipp.extensions import db
from kipp.proposals.models import Proposal


class InvitationStatus(str, enum.Enum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class ConflictKind(str, enum.Enum):
    AGENCY = "agency"
    REGION = "region"
    PROPOSAL = "proposal"


class Severity(str, enum.Enum):
    HARD = "hard"  # never assigned
    SOFT = "soft"  # assigned only with a warning


member_expertise = sa.Table(
    "pool_member_expertise",
    db.metadata,
    sa.Column("member_id", sa.ForeignKey("pool_members.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("category_id", sa.ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
)


class Team(db.Model):
    """A team of a stage's pool (TE teams, TPI pairs) that can be assigned as one."""

    __tablename__ = "teams"
    __table_args__ = (sa.UniqueConstraint("edition_id", "stage", "name"),)

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id"), index=True)
    stage: Mapped[StageKind] = enum_column(StageKind)
    name: Mapped[str255]
    max_load: Mapped[int | None]

    members: Mapped[list["PoolMember"]] = relationship(back_populates="team")


class PoolMember(TimestampMixin, db.Model):
    """An evaluator or panelist invited to a stage of an edition."""

    __tablename__ = "pool_members"
    __table_args__ = (
        sa.UniqueConstraint("edition_id", "stage", "user_id"),
        sa.CheckConstraint("max_load IS NULL OR max_load >= 0", name="max_load_not_negative"),
    )

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id"), index=True)
    stage: Mapped[StageKind] = enum_column(StageKind)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    status: Mapped[InvitationStatus] = enum_column(InvitationStatus, default=InvitationStatus.INVITED)
    max_load: Mapped[int | None]
    home_region_code: Mapped[str | None] = mapped_column(sa.ForeignKey("regions.code"))
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id"))
    # The team's chair sees its consolidation and may ask its judges to reconcile.
    is_chair: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    invited_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    responded_at: Mapped[dt.datetime | None]

    edition: Mapped[Edition] = relationship()
    user: Mapped[User] = relationship()
    home_region: Mapped[Region | None] = relationship()
    team: Mapped[Team | None] = relationship(back_populates="members")
    expertise: Mapped[list[Category]] = relationship(secondary=member_expertise, order_by="Category.position")


class ConflictDeclaration(db.Model):
    """A conflict of interest a judge declared: with an agency, a region or one proposal."""

    __tablename__ = "conflict_declarations"
    __table_args__ = (
        sa.CheckConstraint(
            "(kind = 'agency') = (agency_id IS NOT NULL) AND (kind = 'region') = (region_code IS NOT NULL) "
            "AND (kind = 'proposal') = (proposal_id IS NOT NULL)",
            name="target_matches_kind",
        ),
    )

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[ConflictKind] = enum_column(ConflictKind)
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"))
    region_code: Mapped[str | None] = mapped_column(sa.ForeignKey("regions.code"))
    proposal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("proposals.id"))
    severity: Mapped[Severity] = enum_column(Severity, default=Severity.HARD)
    reason: Mapped[str] = mapped_column(sa.Text)
    declared_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
    agency: Mapped[Agency | None] = relationship()
    region: Mapped[Region | None] = relationship()
    proposal: Mapped[Proposal | None] = relationship()


class RunStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    INFEASIBLE = "infeasible"
    FAILED = "failed"


class AssignmentRun(db.Model):
    """One solve of a stage's assignment: its inputs, solver, objective, status and duration."""

    __tablename__ = "assignment_runs"

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id"), index=True)
    stage: Mapped[StageKind] = enum_column(StageKind)
    status: Mapped[RunStatus] = enum_column(RunStatus, default=RunStatus.QUEUED)
    progress: Mapped[int] = mapped_column(default=0)
    params: Mapped[dict[str, Any]]
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(sa.Text)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    published_at: Mapped[dt.datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class AssignmentState(str, enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    REMOVED = "removed"


class Assignment(db.Model):
    """A proposal given to a judge (or a team) in a stage."""

    __tablename__ = "assignments"
    __table_args__ = (
        sa.CheckConstraint("(member_id IS NULL) != (team_id IS NULL)", name="judge_or_team"),
        sa.Index("ix_assignments_stage_state", "edition_id", "stage", "state"),
    )

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id"))
    stage: Mapped[StageKind] = enum_column(StageKind)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pool_members.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("assignment_runs.id"))
    pinned: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str80] = mapped_column(default="solver")
    state: Mapped[AssignmentState] = enum_column(AssignmentState, default=AssignmentState.DRAFT)
    explanation: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship()
    member: Mapped[PoolMember | None] = relationship()
    team: Mapped[Team | None] = relationship()
