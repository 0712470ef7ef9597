from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kipp.db import intpk, str80, str255, utcnow
from kipp.extensions import db


class EmailMessage(db.Model):
    """Every email kipp has sent, or kept in the development outbox when no SMTP is set."""

    __tablename__ = "email_messages"

    id: Mapped[intpk]
    # One email per outbox message: a redelivered task finds its email here and
    # does not send it twice.
    outbox_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox_messages.id"), unique=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    recipient: Mapped[str255]
    subject: Mapped[str255]
    body_text: Mapped[str] = mapped_column(sa.Text)
    transport: Mapped[str80]  # "smtp" or "outbox"
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class Notification(db.Model):
    """An in-app notification; the same event usually also goes out by email."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[str80]
    message: Mapped[str] = mapped_column(sa.Text)
    link: Mapped[str255 | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None]
