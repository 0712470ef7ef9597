"""Outbox handlers for notifications (run by the worker, or in-process)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale

from kipp.accounts.models import User
from kipp.extensions import db
from kipp.notifications.mail import is_temporary_failure, message_id_for, send_smtp
from kipp.notifications.models import EmailMessage
from kipp.outbox.dispatch import begin_external_send, scrub_payload
from kipp.outbox.models import OutboxMessage
from kipp.outbox.registry import SEND_EMAIL, TransientFailure, handles


def render_email(template: str, locale: str, **context: Any) -> tuple[str, str]:
    with force_locale(locale):
        text = render_template(f"emails/{template}.txt", **context)
    first, _, body = text.lstrip().partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"email template {template} must start with a Subject: line")
    return first.removeprefix("Subject:").strip(), body.strip() + "\n"


@handles(SEND_EMAIL)
def send_email(outbox_id: int, *, user_id: int, template: str, secret_url: str | None, context: dict[str, Any]) -> None:
    already = db.session.scalar(sa.select(EmailMessage.id).where(EmailMessage.outbox_id == outbox_id))
    if already is not None:
        return
    user = db.session.get(User, user_id)
    if user is None:
        return
    subject, body = render_email(
        template, user.locale, user=user, secret_url=secret_url, base_url=current_app.config["KIPP_BASE_URL"], **context
    )
    smtp_url = current_app.config.get("KIPP_SMTP_URL")
    copy = EmailMessage(outbox_id=outbox_id, user_id=user.id, recipient=user.email, subject=subject, body_text=body,
                        transport="smtp" if smtp_url else "outbox")
    if not smtp_url:
        db.session.add(copy)
        return
    outbox = db.session.get(OutboxMessage, outbox_id)
    sender, recipient = current_app.config["KIPP_MAIL_FROM"], user.email
    message_id = message_id_for(outbox_id, outbox.created_at, recipient, sender)  # type: ignore[union-attr]
    begin_external_send(outbox_id)
    try:
        send_smtp(smtp_url, sender, recipient, subject, body, message_id=message_id)
    except Exception as error:
        if is_temporary_failure(error):
            raise TransientFailure(f"the mail server did not take the message: {error!r}") from error
        raise
    # The server's acceptance is the commit point: it is recorded at once, in a transaction of its
    # own, and a redelivery that finds the copy does not send again. A duplicate remains possible
    # only if the process dies, or the database fails, in the milliseconds between the server's
    # "250 OK" and this commit; the redelivery then sends the same Message-ID, which the receiving
    # server or mail client can drop as a copy.
    if secret_url:
        copy.body_text = body.replace(secret_url, "[one-time link removed]")
        scrub_payload(outbox_id, "secret_url")
    db.session.add(copy)
    db.session.commit()

