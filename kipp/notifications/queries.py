"""Read helpers for notifications."""

from __future__ import annotations

import sqlalchemy as sa
from flask_login import current_user

from kipp.extensions import db
from kipp.notifications.models import Notification


def unread_count() -> int:
    """The logged-in person's unread notifications (0 for anyone else)."""
    if not current_user.is_authenticated:
        return 0
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Notification).where(
            Notification.user_id == current_user.id, Notification.read_at.is_(None)
        )
    ) or 0
