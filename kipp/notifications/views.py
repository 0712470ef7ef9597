"""The secretariat's view of outgoing mail and of the task outbox."""

from __future__ import annotations

from typing import Any, Iterable

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.audit.services import record
from kipp.extensions import db
from kipp.notifications.models import EmailMessage
from kipp.notifications.queries import readable_body
from kipp.outbox.dispatch import failed_messages, resend, sweep
from kipp.outbox.models import OutboxMessage
from kipp.outbox.registry import SEND_EMAIL
from kipp.web import audience, get_or_404, paginate

bp = Blueprint("notifications", __name__, url_prefix="/admin/mail")
audience(bp, Role.SECRETARIAT)


def outbox_status_label(status: str) -> str:
    return {
        "done": _("Delivered"),
        "failed": _("Failed: no longer retried"),
        "retrying": _("Retrying after an error"),
        "queued": _("Queued again"),
        "pending": _("Waiting"),
    }[status]


def outbox_task_label(task: str) -> str:
    return _("Email") if task == SEND_EMAIL else _("Background job")


def _recipients(messages: Iterable[OutboxMessage]) -> dict[int, str]:
    """Each email message's recipient address, by outbox id."""
    user_ids = {m.id: m.payload.get("user_id") for m in messages if m.task == SEND_EMAIL}
    emails = dict(db.session.execute(
        sa.select(User.id, User.email).where(User.id.in_([u for u in user_ids.values() if u]))).all())
    return {outbox_id: emails[user_id] for outbox_id, user_id in user_ids.items() if user_id in emails}


@bp.route("/")
def mailbox() -> Any:
    query = sa.select(EmailMessage).order_by(EmailMessage.id.desc())
    recipient = request.args.get("to", "").strip().lower()
    if recipient:
        query = query.where(EmailMessage.recipient.contains(recipient))
    waiting = sa.and_(OutboxMessage.processed_at.is_(None), OutboxMessage.failed_at.is_(None))
    pending = db.session.execute(
        sa.select(OutboxMessage.task, sa.func.count()).where(waiting).group_by(OutboxMessage.task)
    ).all()
    retrying = db.session.scalars(
        sa.select(OutboxMessage).where(waiting, OutboxMessage.last_error.is_not(None))
        .order_by(OutboxMessage.id.desc()).limit(20)
    ).all()
    failed = db.session.scalars(failed_messages().limit(100)).all()
    failed_count = db.session.scalar(sa.select(sa.func.count()).select_from(failed_messages().subquery()))
    return render_template(
        "notifications/mailbox.html",
        page=paginate(query),
        pending=pending,
        retrying=retrying,
        failed=failed,
        failed_count=failed_count,
        recipients=_recipients([*retrying, *failed]),
        outbox_status_label=outbox_status_label,
        outbox_task_label=outbox_task_label,
        smtp=bool(current_app.config.get("KIPP_SMTP_URL")),
    )


@bp.route("/<int:message_id>")
def message(message_id: int) -> Any:
    found = get_or_404(EmailMessage, message_id)
    return render_template("notifications/message.html", message=found, body=readable_body(found, current_user))


@bp.route("/retry", methods=["POST"])
def retry() -> Any:
    count = sweep(current_app._get_current_object(), between_attempts=True)  # type: ignore[attr-defined]
    flash(_("%(n)s waiting messages were sent again.", n=count), "info")
    return redirect(url_for("notifications.mailbox"))


@bp.route("/outbox/<int:outbox_id>/resend", methods=["POST"])
def resend_failed_message(outbox_id: int) -> Any:
    return _resend([get_or_404(OutboxMessage, outbox_id)])


@bp.route("/outbox/resend-failed", methods=["POST"])
def resend_all_failed() -> Any:
    return _resend(db.session.scalars(failed_messages()).all())


def _resend(messages: list[OutboxMessage]) -> Any:
    """Queue failed messages again with a new retry window; they go out after the commit."""
    queued = resend(messages)
    for message in queued:
        record(current_user, "outbox.resent", message, label=outbox_task_label(message.task),
               after={"retry_until": message.retry_until.isoformat()})
    db.session.commit()
    flash(_("%(n)s failed messages were queued again.", n=len(queued)), "success" if queued else "info")
    return redirect(url_for("notifications.mailbox"))
