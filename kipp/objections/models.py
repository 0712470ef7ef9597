"""Public objections (sanggahan) against finalists during the objection window (uji publik)."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kipp.accounts.models import User
from kipp.db import enum_column, intpk, str80, str255, utcnow
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.proposals.models import Proposal, StoredFile


class ObjectionStatus(str, enum.Enum):
    PENDING = "pending"
    REJECTED = "rejected"
    UPHELD = "upheld"  # the finalist is disqualified


class Objection(db.Model):
    """An objection anyone may file, without an account, against a finalist."""

    __tablename__ = "objections"
    __table_args__ = (
        sa.CheckConstraint("(status = 'pending') = (ruled_at IS NULL)", name="ruled_unless_pending"),
        sa.CheckConstraint("status = 'pending' OR ruling IS NOT NULL", name="ruling_has_reason"),
        sa.Index("ix_objections_edition_status", "edition_id", "status"),
    )

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id"))
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), index=True)
    reference: Mapped[str80] = mapped_column(unique=True)  # the receipt number the filer keeps
    name: Mapped[str255]
    contact: Mapped[str255]  # email or telephone
    reason: Mapped[str] = mapped_column(sa.Text)
    evidence_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_files.id"))
    # A keyed hash of the client address: enough to see abuse, not to identify anyone.
    client_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    locale: Mapped[str] = mapped_column(sa.String(8), default="id")
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[ObjectionStatus] = enum_column(ObjectionStatus, default=ObjectionStatus.PENDING)
    ruling: Mapped[str | None] = mapped_column(sa.Text)
    ruled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    ruled_at: Mapped[dt.datetime | None]

    edition: Mapped[Edition] = relationship()
    proposal: Mapped[Proposal] = relationship()
    evidence: Mapped[StoredFile | None] = relationship()
    ruled_by: Mapped[User | None] = relationship()
