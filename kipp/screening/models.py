from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kipp.accounts.models import User
from kipp.db import TimestampMixin, enum_column, intpk, str80, str255, utcnow
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.proposals.models import Proposal


class ScreeningDecision(str, enum.Enum):
    PASSED = "passed"
    FAILED = "failed"


class ScreeningReason(db.Model):
    """One item of an edition's administrative checklist, with its reason code (kipp-domain §6)."""

    __tablename__ = "screening_reasons"
    __table_args__ = (sa.UniqueConstraint("edition_id", "code"),)

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id", ondelete="CASCADE"), index=True)
    code: Mapped[str80]
    title_id: Mapped[str255]
    title_en: Mapped[str255]
    guidance_id: Mapped[str | None] = mapped_column(sa.Text)
    guidance_en: Mapped[str | None] = mapped_column(sa.Text)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    edition: Mapped[Edition] = relationship()


class ScreeningReview(TimestampMixin, db.Model):
    """The secretariat's screening of one proposal in one round (round 2 after a correction)."""

    __tablename__ = "screening_reviews"
    __table_args__ = (
        sa.UniqueConstraint("proposal_id", "round"),
        sa.CheckConstraint("confirmed_by_id IS NULL OR confirmed_by_id != decided_by_id", name="four_eyes"),
        sa.CheckConstraint("(decision IS NULL) = (decided_by_id IS NULL)", name="decision_has_screener"),
    )

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), index=True)
    round: Mapped[int] = mapped_column(default=1)
    claimed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    claimed_at: Mapped[dt.datetime | None]
    decision: Mapped[ScreeningDecision | None] = enum_column(ScreeningDecision, nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None]
    note: Mapped[str | None] = mapped_column(sa.Text)
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    confirmed_at: Mapped[dt.datetime | None]

    proposal: Mapped[Proposal] = relationship()
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
    checks: Mapped[list["ScreeningCheck"]] = relationship(back_populates="review", cascade="all, delete-orphan")


class ScreeningCheck(db.Model):
    """One checklist item of a review: passed or failed, with a note."""

    __tablename__ = "screening_checks"
    __table_args__ = (sa.UniqueConstraint("review_id", "reason_id"),)

    id: Mapped[intpk]
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("screening_reviews.id", ondelete="CASCADE"), index=True)
    reason_id: Mapped[int] = mapped_column(sa.ForeignKey("screening_reasons.id"))
    passed: Mapped[bool]
    note: Mapped[str | None] = mapped_column(sa.Text)

    review: Mapped[ScreeningReview] = relationship(back_populates="checks")
    reason: Mapped[ScreeningReason] = relationship()


announcement_entries = sa.Table(
    "announcement_entries",
    db.metadata,
    sa.Column("announcement_id", sa.ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("proposal_id", sa.ForeignKey("proposals.id"), primary_key=True),
)


class Announcement(db.Model):
    """A numbered public announcement (e.g. B/187/PP.00.05/2022) listing proposals."""

    __tablename__ = "announcements"

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id"), index=True)
    kind: Mapped[str80]
    number: Mapped[str80] = mapped_column(unique=True)
    title: Mapped[str255]
    body: Mapped[str | None] = mapped_column(sa.Text)
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))

    edition: Mapped[Edition] = relationship()
    proposals: Mapped[list[Proposal]] = relationship(secondary=announcement_entries, order_by="Proposal.number")
