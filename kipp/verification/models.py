"""Field verification (verifikasi/observasi lapangan) of finalists, when the edition holds it.

Who visits is an assignment of the FIELD_VERIFICATION stage (kipp.judging.models.Assignment):
at least one panelist and one evaluator per visited finalist."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kipp.accounts.models import User
from kipp.db import TimestampMixin, intpk
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.proposals.models import Proposal


class FieldVisit(TimestampMixin, db.Model):
    __tablename__ = "field_visits"
    __table_args__ = (
        sa.UniqueConstraint("edition_id", "proposal_id"),
        sa.CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_on_scale"),
        sa.CheckConstraint("(recorded_at IS NULL) = (score IS NULL)", name="recorded_with_score"),
    )

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id"), index=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), index=True)
    visit_date: Mapped[dt.date | None]
    location: Mapped[str | None] = mapped_column(sa.String(255))
    findings: Mapped[str | None] = mapped_column(sa.Text)
    score: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime | None]

    edition: Mapped[Edition] = relationship()
    proposal: Mapped[Proposal] = relationship()
    recorded_by: Mapped[User | None] = relationship()
