"""Frozen lists of the selection rounds: the nominees, the finalists, the winners.

A list is built from a ranking as a draft, adjusted (each departure from the proposal
with a reason), then frozen: from then on it is a snapshot that later score edits cannot
change. Every candidate is kept with the score it had, chosen or not, so that the list
can always be explained: who was ranked where, who entered by which rule, who was left out.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kipp.accounts.models import User
from kipp.agencies.kinds import Cluster
from kipp.db import TimestampMixin, enum_column, intpk, str80, str255
from kipp.editions.kinds import GroupCode
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.innovations.kinds import AwardTier
from kipp.proposals.models import Proposal


class ShortlistKind(str, enum.Enum):
    NOMINEES = "nominees"  # from the evaluation ranking (Nominasi Finalis)
    FINALISTS = "finalists"  # the panel's plenary decision (Finalis Top Inovasi)
    WINNERS = "winners"  # the final result (Top 45, Outstanding Achievement, Top 5 replikasi)


class Shortlist(TimestampMixin, db.Model):
    __tablename__ = "shortlists"
    __table_args__ = (
        sa.UniqueConstraint("edition_id", "kind"),
        sa.CheckConstraint("(frozen_at IS NULL) = (frozen_by_id IS NULL)", name="frozen_by_someone"),
        sa.CheckConstraint("confirmed_at IS NULL OR frozen_at IS NOT NULL", name="confirmed_after_frozen"),
        sa.CheckConstraint("published_at IS NULL OR frozen_at IS NOT NULL", name="published_after_frozen"),
        sa.CheckConstraint("(forced_reason IS NULL) = (forced_missing IS NULL)", name="forced_with_reason"),
    )

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id"), index=True)
    kind: Mapped[ShortlistKind] = enum_column(ShortlistKind)
    # The scoring scheme whose ranking the list was built from (none for the final result,
    # which combines several).
    scheme_id: Mapped[int | None] = mapped_column(sa.ForeignKey("scoring_schemes.id"))
    # What the list was built with, per group: size, places, 3T minimum, passing grade,
    # weights; and what building it found: shortfalls, each rule's cost.
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    minutes: Mapped[str | None] = mapped_column(sa.Text)  # berita acara of the plenary
    built_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # A plenary list built while panel sheets were missing (the secretariat's, never the panel's):
    # the written reason and how many sheets were missing then.
    forced_reason: Mapped[str | None] = mapped_column(sa.Text)
    forced_missing: Mapped[int | None]
    frozen_at: Mapped[dt.datetime | None]
    frozen_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decree_number: Mapped[str255 | None]  # the Kepmen confirming the list
    decree_date: Mapped[dt.date | None]
    # Finalists: confirmed after the objection window; winners: published.
    confirmed_at: Mapped[dt.datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    published_at: Mapped[dt.datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    edition: Mapped[Edition] = relationship()
    frozen_by: Mapped[User | None] = relationship(foreign_keys=[frozen_by_id])
    built_by: Mapped[User | None] = relationship(foreign_keys=[built_by_id])
    entries: Mapped[list["ShortlistEntry"]] = relationship(
        back_populates="shortlist", cascade="all, delete-orphan",
        order_by="(ShortlistEntry.group_code, ShortlistEntry.rank, ShortlistEntry.id)")

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None


class ShortlistEntry(db.Model):
    """One candidate of a list, as it stood when the list was built."""

    __tablename__ = "shortlist_entries"
    __table_args__ = (
        sa.UniqueConstraint("shortlist_id", "proposal_id"),
        sa.CheckConstraint("chosen = proposed OR reason IS NOT NULL", name="departure_has_reason"),
    )

    id: Mapped[intpk]
    shortlist_id: Mapped[int] = mapped_column(sa.ForeignKey("shortlists.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), index=True)
    group_code: Mapped[GroupCode] = enum_column(GroupCode)
    rank: Mapped[int]  # in the ranking the list was built from, within the group
    score: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    # Final result: each stage's total and its weight; other lists: the ranking's figures.
    components: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cluster: Mapped[Cluster] = enum_column(Cluster)
    is_3t: Mapped[bool] = mapped_column(default=False)
    province_code: Mapped[str | None] = mapped_column(sa.String(5))
    # What the rules (or the ranking) proposed, and what was decided; a difference needs a reason.
    proposed: Mapped[bool] = mapped_column(default=False)
    chosen: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    # Why the rules took it over a better-ranked one: "cluster:kota", "3t" (nominees).
    entered_by: Mapped[str80 | None]
    displaced_proposal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("proposals.id"))
    tier: Mapped[AwardTier | None] = enum_column(AwardTier, nullable=True)
    # Share of bootstrap resamples in which the proposal stays inside the cut.
    stability: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 4))

    shortlist: Mapped[Shortlist] = relationship(back_populates="entries")
    proposal: Mapped[Proposal] = relationship(foreign_keys=[proposal_id])
    displaced_proposal: Mapped[Proposal | None] = relationship(foreign_keys=[displaced_proposal_id])
