"""Outbox handlers for notifications (run by the worker, or in-process)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale

from kipp.accounts.models import User
from kipp.extensions import db
from kipp.notifications.mail import send_smtp
from kipp.notifications.models import EmailMessage
from kipp.outbox.dispatch import scrub_payload
from kipp.outbox.registry import SEND_EMAIL, handles


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
    if smtp_url:
        send_smtp(smtp_url, current_app.config["KIPP_MAIL_FROM"], user.email, subject, body)
        stored_body = body.replace(secret_url, "[one-time link removed]") if secret_url else body
        transport = "smtp"
    else:
        stored_body = body
        transport = "outbox"
    db.session.add(
        EmailMessage(
            outbox_id=outbox_id,
            user_id=user.id,
            recipient=user.email,
            subject=subject,
            body_text=stored_body,
            transport=transport,
        )
    )
    if secret_url and smtp_url:
        scrub_payload(outbox_id, "secret_url")
