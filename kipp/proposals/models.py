from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kipp.accounts.models import User
from kipp.agencies.models import Agency, Unit
from kipp.db import TimestampMixin, enum_column, intpk, str80, str255, utcnow
from kipp.editions.models import Category, Edition, EditionGroup, RequiredDocument, Sdg, Section
from kipp.extensions import db
from kipp.innovations.models import Innovation
from kipp.proposals.states import HOLDER, Holder, ProposalStatus

proposal_sdgs = sa.Table(
    "proposal_sdgs",
    db.metadata,
    sa.Column("proposal_id", sa.ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("sdg_number", sa.ForeignKey("sdgs.number"), primary_key=True),
)


class Proposal(TimestampMixin, db.Model):
    """One innovation's entry in one edition, from the UPP's draft to its submission."""

    __tablename__ = "proposals"
    __table_args__ = (
        sa.Index("ix_proposals_edition_status", "edition_id", "status"),
        sa.Index("ix_proposals_edition_agency", "edition_id", "agency_id"),
        sa.CheckConstraint(
            "(status IN ('draft', 'with_admin_lokal', 'returned', 'not_submitted')) = (number IS NULL)",
            name="number_once_submitted",
        ),
        sa.CheckConstraint("status != 'withdrawn' OR withdrawn_reason IS NOT NULL", name="withdrawal_has_reason"),
    )

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id"), index=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("edition_groups.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    # Set when the draft names an innovation already known (imported history,
    # an earlier edition); a new innovation is created at submission.
    innovation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("innovations.id"), index=True)
    replicates_id: Mapped[int | None] = mapped_column(sa.ForeignKey("innovations.id"))
    title: Mapped[str255] = mapped_column(default="")
    innovation_start_date: Mapped[dt.date | None]
    video_url: Mapped[str | None] = mapped_column(sa.String(500))
    is_application: Mapped[bool | None]
    spbe: Mapped[dict[str, Any] | None]
    status: Mapped[ProposalStatus] = enum_column(ProposalStatus, default=ProposalStatus.DRAFT)
    number: Mapped[str80 | None] = mapped_column(unique=True)
    submitted_at: Mapped[dt.datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    withdrawn_reason: Mapped[str | None] = mapped_column(sa.Text)
    correction_due_at: Mapped[dt.datetime | None]
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    # Optimistic concurrency: a save from a stale page is refused, not merged.
    version: Mapped[int] = mapped_column(default=1)

    edition: Mapped[Edition] = relationship()
    group: Mapped[EditionGroup] = relationship()
    category: Mapped[Category | None] = relationship()
    agency: Mapped[Agency] = relationship()
    unit: Mapped[Unit] = relationship()
    innovation: Mapped[Innovation | None] = relationship(foreign_keys=[innovation_id])
    replicates: Mapped[Innovation | None] = relationship(foreign_keys=[replicates_id])
    sdgs: Mapped[list[Sdg]] = relationship(secondary=proposal_sdgs, order_by="Sdg.number")
    answers: Mapped[list["ProposalAnswer"]] = relationship(back_populates="proposal", cascade="all, delete-orphan")
    files: Mapped[list["ProposalFile"]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="ProposalFile.id"
    )
    events: Mapped[list["ProposalEvent"]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="ProposalEvent.id"
    )
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def holder(self) -> Holder:
        return HOLDER[self.status]

    def answer_for(self, section_id: int) -> "ProposalAnswer | None":
        return next((a for a in self.answers if a.section_id == section_id), None)


class ProposalAnswer(db.Model):
    __tablename__ = "proposal_answers"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "section_id"),)

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[int] = mapped_column(sa.ForeignKey("sections.id"))
    text: Mapped[str] = mapped_column(sa.Text, default="")
    word_count: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="answers")
    section: Mapped[Section] = relationship()


class ProposalFile(db.Model):
    """An uploaded file: evidence for a section, or a required document.

    Stored outside the web root under a server-generated name; the original
    name is kept only to offer a safe download name.
    """

    __tablename__ = "proposal_files"
    __table_args__ = (
        sa.CheckConstraint("(section_id IS NULL) != (document_id IS NULL)", name="evidence_or_document"),
    )

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sections.id"))
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("required_documents.id"))
    original_name: Mapped[str255]
    stored_name: Mapped[str80] = mapped_column(unique=True)
    content_type: Mapped[str80]
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="files")
    section: Mapped[Section | None] = relationship()
    document: Mapped[RequiredDocument | None] = relationship()


class ProposalEvent(db.Model):
    """The proposal's own history as agencies see it: who moved it where, with comments."""

    __tablename__ = "proposal_events"

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(sa.ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str80]
    from_status: Mapped[str80 | None]
    to_status: Mapped[str80 | None]
    comment: Mapped[str | None] = mapped_column(sa.Text)

    proposal: Mapped[Proposal] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class DeadlineExtension(db.Model):
    """A later submission deadline, for the whole edition (agency NULL) or one agency."""

    __tablename__ = "deadline_extensions"

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    closes_at: Mapped[dt.datetime]
    reason: Mapped[str] = mapped_column(sa.Text)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    agency: Mapped[Agency | None] = relationship()
    created_by: Mapped[User] = relationship()


class KhususInvitation(db.Model):
    """The secretariat's invitation for an earlier Top winner to enter kelompok khusus."""

    __tablename__ = "khusus_invitations"
    __table_args__ = (sa.UniqueConstraint("edition_id", "innovation_id"),)

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id"), index=True)
    innovation_id: Mapped[int] = mapped_column(sa.ForeignKey("innovations.id"))
    invited_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    innovation: Mapped[Innovation] = relationship()


class SubmissionReminder(db.Model):
    """A deadline reminder already sent to an agency, so the schedule sends each once."""

    __tablename__ = "submission_reminders"
    __table_args__ = (sa.UniqueConstraint("edition_id", "agency_id", "deadline"),)

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id"))
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"))
    deadline: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class StoredFile(db.Model):
    """A file uploaded outside a proposal's sections: objection evidence, presentation slides.

    Stored like proposal files (kipp.proposals.uploads), under a server-made name."""

    __tablename__ = "stored_files"

    id: Mapped[intpk]
    original_name: Mapped[str255]
    stored_name: Mapped[str80] = mapped_column(unique=True)
    content_type: Mapped[str80]
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))  # None: the public
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
