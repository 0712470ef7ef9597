"""The secretariat's view of outgoing mail and of the task outbox."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kipp.accounts.roles import Role
from kipp.extensions import db
from kipp.notifications.models import EmailMessage
from kipp.outbox.dispatch import sweep
from kipp.outbox.models import OutboxMessage
from kipp.web import audience, get_or_404, paginate

bp = Blueprint("notifications", __name__, url_prefix="/admin/mail")
audience(bp, Role.SECRETARIAT)


@bp.route("/")
def mailbox() -> Any:
    query = sa.select(EmailMessage).order_by(EmailMessage.id.desc())
    recipient = request.args.get("to", "").strip().lower()
    if recipient:
        query = query.where(EmailMessage.recipient.contains(recipient))
    pending = db.session.execute(
        sa.select(OutboxMessage.task, sa.func.count())
        .where(OutboxMessage.processed_at.is_(None))
        .group_by(OutboxMessage.task)
    ).all()
    failed = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.processed_at.is_(None), OutboxMessage.last_error.is_not(None))
        .order_by(OutboxMessage.id.desc())
        .limit(20)
    ).all()
    return render_template(
        "notifications/mailbox.html",
        page=paginate(query),
        pending=pending,
        failed=failed,
        smtp=bool(current_app.config.get("KIPP_SMTP_URL")),
    )


@bp.route("/<int:message_id>")
def message(message_id: int) -> Any:
    return render_template("notifications/message.html", message=get_or_404(EmailMessage, message_id))


@bp.route("/retry", methods=["POST"])
def retry() -> Any:
    count = sweep(current_app._get_current_object(), now=None)  # type: ignore[attr-defined]
    flash(_("%(n)s waiting messages were sent again.", n=count), "info")
    return redirect(url_for("notifications.mailbox"))
