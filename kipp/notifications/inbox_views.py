"""Everyone's in-app notifications."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from kipp.db import utcnow
from kipp.extensions import db
from kipp.notifications.models import Notification
from kipp.web import get_or_404, paginate

bp = Blueprint("inbox", __name__, url_prefix="/notifications")


@bp.before_request
@login_required
def _logged_in() -> None:
    return None


@bp.route("/")
def index() -> Any:
    query = sa.select(Notification).where(Notification.user_id == current_user.id).order_by(Notification.id.desc())
    return render_template("notifications/inbox.html", page=paginate(query, per_page=30))


@bp.route("/<int:notification_id>/open", methods=["POST"])
def open_notification(notification_id: int) -> Any:
    item = get_or_404(Notification, notification_id, where=Notification.user_id == current_user.id)
    if item.read_at is None:
        item.read_at = utcnow()
        db.session.commit()
    return redirect(item.link or url_for("inbox.index"))


@bp.route("/read-all", methods=["POST"])
def read_all() -> Any:
    db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return redirect(url_for("inbox.index"))
