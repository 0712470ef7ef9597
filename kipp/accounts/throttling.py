"""Failed logins counted per account in the database, so every web node sees the same count
with or without Redis. Services flush; the caller commits.

A browser that has logged into an account before carries a signed device cookie for it; its
attempts are counted apart from everyone else's. Someone guessing at an account from elsewhere
slows down only the strangers, never the owner's own browser."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from kipp.accounts import rules
from kipp.accounts.models import LoginFailure
from kipp.db import dialect_insert
from kipp.extensions import db

DEVICE_COOKIE = "kipp_device"
DEVICE_COOKIE_LIFETIME = dt.timedelta(days=180)


def _keyed(text: str) -> str:
    # Keyed, so the table does not list the addresses people typed.
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()


def _account(email: str) -> str:
    return email.strip().lower()


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="kipp-login-device")


def device_cookie(email: str, device: str | None) -> str:
    """The cookie a browser gets when it logs into this account: its device id, or a new one."""
    return _signer().dumps({"account": _keyed(_account(email)), "device": device or secrets.token_urlsafe(12)})


def known_device(cookie: str | None, email: str) -> str | None:
    """The device id in a valid cookie for this account, or None."""
    if not cookie:
        return None
    try:
        data = _signer().loads(cookie, max_age=int(DEVICE_COOKIE_LIFETIME.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("account") != _keyed(_account(email)):
        return None
    return str(data.get("device") or "") or None


def _counter(email: str, device: str | None) -> str:
    return _keyed(_account(email) if device is None else f"{_account(email)}\n{device}")


def retry_at(email: str, now: dt.datetime, *, device: str | None = None) -> dt.datetime | None:
    """When this account may be tried again from this device (or by strangers), or None if now."""
    row = db.session.get(LoginFailure, _counter(email, device))
    if row is None:
        return None
    return rules.login_retry_at(row.failures, row.last_failed_at, now)


def record_failure(email: str, now: dt.datetime, *, device: str | None = None) -> None:
    # Forgotten failures go first (this one's included), so guesses at made-up addresses do not pile up.
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.last_failed_at < now - rules.LOGIN_FAILURE_MEMORY))
    # One statement, so two nodes failing the same account at once both count.
    statement = dialect_insert(db.session, LoginFailure).values(account_key=_counter(email, device), failures=1, last_failed_at=now)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=[LoginFailure.account_key],
        set_={"failures": LoginFailure.failures + 1, "last_failed_at": now},
    ))


def forget_failures(email: str, *, device: str | None = None) -> None:
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.account_key == _counter(email, device)))
