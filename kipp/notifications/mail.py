"""Email transport: SMTP when KIPP_SMTP_URL is set, the development outbox otherwise."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage as MimeMessage
from email.utils import make_msgid
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


def send_smtp(url: str, sender: str, recipient: str, subject: str, body: str) -> None:
    settings = parse_smtp_url(url)
    message = MimeMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="kipp")
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
