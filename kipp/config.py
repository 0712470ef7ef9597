"""Configuration from environment variables with the ``KIPP_`` prefix.

Two shapes exist. The *embedded* default (no ``KIPP_DATABASE_URL``) keeps
everything in the instance folder: a SQLite database, a generated secret key,
tasks run in-process and mail lands in the development outbox. The
*production* shape (``KIPP_ENV=production``) refuses to start unless the
database, Redis and the secret key are given explicitly.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping


class ConfigError(RuntimeError):
    """A required setting is missing or malformed; the message says which."""


@dataclass(frozen=True)
class Setting:
    name: str
    description: str
    default: str | None = None
    required_in_production: bool = False


# The single list of settings: the README's configuration table is checked
# against it by a test, so documentation and code cannot drift apart.
SETTINGS: tuple[Setting, ...] = (
    Setting("KIPP_ENV", "`production`, `development` or `test`", "development"),
    Setting("KIPP_SECRET_KEY", "Signs sessions and CSRF tokens. Embedded default: generated into `instance/secret_key`", None, True),
    Setting("KIPP_DATABASE_URL", "SQLAlchemy URL, e.g. `postgresql+psycopg://kipp@db/kipp`. Embedded default: SQLite in `instance/kipp.sqlite3`", None, True),
    Setting("KIPP_REDIS_URL", "Redis for the Celery broker and the login rate limit. Unset: tasks run in-process", None, True),
    Setting("KIPP_SMTP_URL", "`smtp://user:pass@host:port` (`smtps://` for TLS, `?starttls=1` for STARTTLS). Unset: mail goes to the development outbox", None),
    Setting("KIPP_MAIL_FROM", "Sender address of outgoing mail", "KIPP <no-reply@kipp.local>"),
    Setting("KIPP_BASE_URL", "Public address used in links inside emails", "http://127.0.0.1:5000"),
    Setting("KIPP_INSTANCE_PATH", "Folder for the embedded database, the generated secret and uploads", None),
    Setting("KIPP_COOKIE_SECURE", "Send the session cookie over HTTPS only (`1`/`0`)", None),
    Setting("KIPP_LOGIN_RATE_LIMIT", "Login attempts allowed per client address (each account also waits longer "
            "after repeated failures, counted in the database)", "10 per minute;50 per hour"),
    Setting("KIPP_OBJECTION_RATE_LIMIT", "Public objections a client address may file (the objection window's form)",
            "5 per hour;20 per day"),
    Setting("KIPP_RESET_TOKEN_HOURS", "Lifetime of a password-reset link, in hours", "2"),
    Setting("KIPP_INVITE_TOKEN_DAYS", "Lifetime of an invitation link, in days", "7"),
    Setting("KIPP_PROXY_HOPS", "Number of reverse proxies in front of the app (for client address and HTTPS detection)", "0"),
    Setting("KIPP_OUTBOX_RETRY_SECONDS", "Delay before an undelivered outbox message is published again; also the first of the doubling delays between its failed attempts (at most an hour)", "120"),
    Setting("KIPP_OUTBOX_SWEEP_SECONDS", "How often beat runs the outbox sweep, in seconds", "60"),
    Setting("KIPP_OUTBOX_RETRY_WINDOW_HOURS", "How long a failing outbox message (e.g. an email the SMTP server refuses) is "
            "retried, at growing intervals, before it is marked failed for the secretariat to resend (a fraction "
            "such as `0.25` is allowed)", "48"),
)

_BOOL_TRUE = {"1", "true", "yes", "on"}


def _read(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None or value.strip() == "":
        default = next(s.default for s in SETTINGS if s.name == name)
        return default
    return value.strip()


def _secret_from_instance(instance_path: Path) -> str:
    """Generate the embedded default's secret once and keep it in the instance folder."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    return secret


def load_config(instance_path: Path, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the Flask configuration dictionary; raise ConfigError with a clear message."""
    env = os.environ if env is None else env
    mode = _read(env, "KIPP_ENV")
    if mode not in {"production", "development", "test"}:
        raise ConfigError(f"KIPP_ENV must be production, development or test, not {mode!r}")
    if mode == "production":
        missing = [s.name for s in SETTINGS if s.required_in_production and not _read(env, s.name)]
        if missing:
            raise ConfigError(
                "kipp cannot start in production without: " + ", ".join(missing)
                + ". Set them in the environment (see the configuration table in README.md)."
            )

    instance_override = _read(env, "KIPP_INSTANCE_PATH")
    if instance_override:
        instance_path = Path(instance_override)
    instance_path.mkdir(parents=True, exist_ok=True)

    secret = _read(env, "KIPP_SECRET_KEY") or _secret_from_instance(instance_path)
    if len(secret) < 32:
        raise ConfigError("KIPP_SECRET_KEY must be at least 32 characters long")

    database_url = _read(env, "KIPP_DATABASE_URL") or f"sqlite:///{instance_path / 'kipp.sqlite3'}"
    if database_url.startswith("postgres://") or database_url.startswith("postgresql://"):
        # psycopg 3 is the driver kipp installs; accept the common short forms.
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]

    redis_url = _read(env, "KIPP_REDIS_URL")
    cookie_secure_raw = _read(env, "KIPP_COOKIE_SECURE")
    cookie_secure = (
        cookie_secure_raw.lower() in _BOOL_TRUE if cookie_secure_raw is not None else mode == "production"
    )
    try:
        reset_hours = int(_read(env, "KIPP_RESET_TOKEN_HOURS") or "2")
        invite_days = int(_read(env, "KIPP_INVITE_TOKEN_DAYS") or "7")
        proxy_hops = int(_read(env, "KIPP_PROXY_HOPS") or "0")
        outbox_retry = int(_read(env, "KIPP_OUTBOX_RETRY_SECONDS") or "120")
        outbox_sweep = int(_read(env, "KIPP_OUTBOX_SWEEP_SECONDS") or "60")
        outbox_window = float(_read(env, "KIPP_OUTBOX_RETRY_WINDOW_HOURS") or "48")
    except ValueError as exc:
        raise ConfigError(f"A numeric KIPP_ setting is not a whole number: {exc}") from exc

    return {
        "KIPP_ENV": mode,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "KIPP_REDIS_URL": redis_url,
        "KIPP_SMTP_URL": _read(env, "KIPP_SMTP_URL"),
        "KIPP_MAIL_FROM": _read(env, "KIPP_MAIL_FROM"),
        "KIPP_BASE_URL": (_read(env, "KIPP_BASE_URL") or "").rstrip("/"),
        "KIPP_UPLOAD_PATH": str(instance_path / "uploads"),
        "KIPP_RESET_TOKEN_HOURS": reset_hours,
        "KIPP_INVITE_TOKEN_DAYS": invite_days,
        "KIPP_PROXY_HOPS": proxy_hops,
        "KIPP_OUTBOX_RETRY_SECONDS": outbox_retry,
        "KIPP_OUTBOX_SWEEP_SECONDS": outbox_sweep,
        "KIPP_OUTBOX_RETRY_WINDOW_HOURS": outbox_window,
        "KIPP_LOGIN_RATE_LIMIT": _read(env, "KIPP_LOGIN_RATE_LIMIT"),
        "KIPP_OBJECTION_RATE_LIMIT": _read(env, "KIPP_OBJECTION_RATE_LIMIT"),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        # Logging in must not depend on Redis: when it is down each node counts in its own memory,
        # and a refused connection fails fast instead of holding the login.
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5} if redis_url else {},
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": cookie_secure,
        "SESSION_COOKIE_NAME": "kipp_session",
        "REMEMBER_COOKIE_SECURE": cookie_secure,
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        "WTF_CSRF_TIME_LIMIT": None,  # the session's own lifetime bounds the token
        "BABEL_DEFAULT_LOCALE": "id",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Jakarta",
        "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
        "TESTING": mode == "test",
    }
