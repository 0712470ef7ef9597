"""Read helpers for notifications."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_login import current_user

from kipp.accounts.models import User
from kipp.extensions import db
from kipp.notifications.models import EmailMessage, Notification
from kipp.outbox.models import OutboxMessage


def unread_count() -> int:
    """The logged-in person's unread notifications (0 for anyone else)."""
    if not current_user.is_authenticated:
        return 0
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Notification).where(
            Notification.user_id == current_user.id, Notification.read_at.is_(None)
        )
    ) or 0


def readable_body(message: EmailMessage, reader: User | None) -> str:
    """An email's text as ``reader`` may read it.

    A one-time link (the ``secret_url`` an invitation or a password reset was queued with) opens
    an account, so only the email's recipient reads it; anyone else, the secretariat looking
    through the development outbox included, reads a placeholder. Mail sent by SMTP is stored
    without the link already; in the development outbox the link stays in the database, for the
    ``flask kipp dev-mail`` command.
    """
    if message.outbox_id is None or (reader is not None and reader.id == message.user_id):
        return message.body_text
    payload = db.session.scalar(sa.select(OutboxMessage.payload).where(OutboxMessage.id == message.outbox_id))
    secret = (payload or {}).get("secret_url")
    if not secret:
        return message.body_text
    return message.body_text.replace(secret, _("[one-time link, shown only to its recipient]"))
