from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kipp.db import intpk, str80, utcnow
from kipp.extensions import db


class OutboxMessage(db.Model):
    """A task written in the same transaction as the change that caused it.

    A rollback therefore queues nothing, and a message whose publication to
    Redis failed is still here for the sweep to publish again. A message that
    keeps failing is retried, further and further apart, until ``retry_until``;
    then it is marked failed and waits, visible to the secretariat, for a resend.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (sa.Index("ix_outbox_messages_pending", "processed_at", "created_at"),)

    id: Mapped[intpk]
    task: Mapped[str80]
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_at: Mapped[dt.datetime | None]
    processed_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    # When the sweep may publish it (again); empty once it is done or failed.
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    # The end of its retry window: a failure after this marks it failed.
    retry_until: Mapped[dt.datetime]
    failed_at: Mapped[dt.datetime | None]
    # A delivery is talking to an outside server (SMTP) for it since then; cleared when that ends.
    sending_at: Mapped[dt.datetime | None]

    @property
    def status(self) -> str:
        if self.processed_at:
            return "done"
        if self.failed_at:
            return "failed"
        if self.last_error:
            return "retrying"
        if self.published_at:
            return "queued"
        return "pending"
