"""Email transport: SMTP when KIPP_SMTP_URL is set, the development outbox otherwise."""

from __future__ import annotations

import datetime as dt
import hashlib
import smtplib
import ssl
from email.message import EmailMessage as MimeMessage
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit


def parse_smtp_url(url: str) -> dict[str, object]:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("KIPP_SMTP_URL must start with smtp:// or smtps://")
    query = parse_qs(parts.query)
    return {
        "host": parts.hostname or "localhost",
        "port": parts.port or (465 if parts.scheme == "smtps" else 25),
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "ssl": parts.scheme == "smtps",
        "starttls": query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
    }


def message_id_for(outbox_id: int, created_at: dt.datetime, recipient: str, sender: str) -> str:
    """One Message-ID for every delivery of an outbox message, so a receiver can drop a second copy.

    The creation time keeps ids apart across databases that reuse outbox ids (a restored backup,
    a staging copy); the recipient is hashed, not shown.
    """
    domain = parseaddr(sender)[1].rpartition("@")[2] or "kipp.local"
    digest = hashlib.sha256(f"{recipient.lower()}|{int(created_at.timestamp())}".encode()).hexdigest()[:16]
    return f"<kipp.{outbox_id}.{digest}@{domain}>"


def is_temporary_failure(error: BaseException) -> bool:
    """The server is away or answered "try again later" (4xx): the same message may go through soon."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _text in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, smtplib.SMTPException):
        return isinstance(error, smtplib.SMTPServerDisconnected)
    return isinstance(error, OSError)  # refused, reset, timed out, unreachable


def send_smtp(url: str, sender: str, recipient: str, subject: str, body: str, *, message_id: str) -> None:
    settings = parse_smtp_url(url)
    message = MimeMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message.set_content(body)
    host, port = str(settings["host"]), int(settings["port"])  # type: ignore[call-overload]
    smtp: smtplib.SMTP
    if settings["ssl"]:
        smtp = smtplib.SMTP_SSL(host, port, timeout=20, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=20)
    with smtp:
        if settings["starttls"]:
            smtp.starttls(context=ssl.create_default_context())
        if settings["username"]:
            smtp.login(str(settings["username"]), str(settings["password"] or ""))
        smtp.send_message(message)
