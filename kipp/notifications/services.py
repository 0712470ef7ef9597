"""Queueing notifications. Services call these; nothing is sent before commit."""

from __future__ import annotations

from typing import Any

from kipp.accounts.models import User
from kipp.outbox.dispatch import enqueue
from kipp.outbox.models import OutboxMessage
from kipp.outbox.registry import SEND_EMAIL

# Templates under templates/emails/; the first line of each is "Subject: …".
EMAIL_TEMPLATES = {"invitation", "password_reset"}


def queue_email(user: User, template: str, *, secret_url: str | None = None, **context: Any) -> OutboxMessage:
    """Email ``user`` with ``template`` in their own language, after commit.

    ``secret_url`` (a one-time link) is kept out of the stored copy once sent.
    """
    if template not in EMAIL_TEMPLATES:
        raise ValueError(f"unknown email template {template}")
    return enqueue(SEND_EMAIL, user_id=user.id, template=template, secret_url=secret_url, context=context)
