"""Presentation and interview slots of the confirmed finalists (kipp-domain §1)."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kipp.accounts.models import User
from kipp.db import TimestampMixin, enum_column, intpk
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.proposals.models import Proposal, StoredFile


class Attendance(str, enum.Enum):
    SCHEDULED = "scheduled"
    PRESENTED = "presented"
    NO_SHOW = "no_show"


class PresentationSlot(TimestampMixin, db.Model):
    __tablename__ = "presentation_slots"
    __table_args__ = (
        sa.UniqueConstraint("edition_id", "proposal_id"),
        sa.CheckConstraint("presentation_minutes > 0 AND interview_minutes >= 0", name="lengths_positive"),
        sa.CheckConstraint("(confirmed_at IS NULL) = (confirmed_by_id IS NULL)", name="confirmed_by_someone"),
        sa.Index("ix_presentation_slots_edition_start", "edition_id", "starts_at"),
    )

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id"))
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id"), index=True)
    starts_at: Mapped[dt.datetime]
    presentation_minutes: Mapped[int]
    interview_minutes: Mapped[int]
    meeting_url: Mapped[str | None] = mapped_column(sa.String(500))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    # The Admin Lokal confirms attendance (at least ``edition.confirm_hours`` ahead) and
    # sends the materials: slides as a file, the video as a link.
    confirmed_at: Mapped[dt.datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    presenter_name: Mapped[str | None] = mapped_column(sa.String(255))
    slides_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_files.id"))
    video_url: Mapped[str | None] = mapped_column(sa.String(500))
    attendance: Mapped[Attendance] = enum_column(Attendance, default=Attendance.SCHEDULED)
    attendance_note: Mapped[str | None] = mapped_column(sa.Text)
    attendance_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    attendance_at: Mapped[dt.datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    edition: Mapped[Edition] = relationship()
    proposal: Mapped[Proposal] = relationship()
    slides: Mapped[StoredFile | None] = relationship()
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.presentation_minutes + self.interview_minutes)
