"""Certificates of an edition's winners and finalists, generated in the background."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kipp.db import enum_column, intpk, str255, utcnow
from kipp.extensions import db
from kipp.judging.models import RunStatus


class CertificateBatch(db.Model):
    """One generation of every certificate of an edition: progress, and the archive it wrote."""

    __tablename__ = "certificate_batches"

    id: Mapped[intpk]
    edition_id: Mapped[int] = mapped_column(sa.ForeignKey("editions.id"), index=True)
    status: Mapped[RunStatus] = enum_column(RunStatus, default=RunStatus.QUEUED)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    archive_name: Mapped[str255 | None]  # under the instance's certificates folder
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(sa.Text)
