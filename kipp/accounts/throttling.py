"""Failed logins counted per account in the database, so every web node sees the same count
with or without Redis. Services flush; the caller commits."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from kipp.accounts import rules
from kipp.accounts.models import LoginFailure
from kipp.extensions import db


def _account_key(email: str) -> str:
    # Keyed, so the table does not list the addresses people typed.
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, email.strip().lower().encode(), hashlib.sha256).hexdigest()


def retry_at(email: str, now: dt.datetime) -> dt.datetime | None:
    """When this account may be tried again, or None if it may be tried now."""
    row = db.session.get(LoginFailure, _account_key(email))
    if row is None:
        return None
    return rules.login_retry_at(row.failures, row.last_failed_at, now)


def record_failure(email: str, now: dt.datetime) -> None:
    # Forgotten failures go first (this one's included), so guesses at made-up addresses do not pile up.
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.last_failed_at < now - rules.LOGIN_FAILURE_MEMORY))
    # One statement, so two nodes failing the same account at once both count.
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(LoginFailure).values(account_key=_account_key(email), failures=1, last_failed_at=now)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=[LoginFailure.account_key],
        set_={"failures": LoginFailure.failures + 1, "last_failed_at": now},
    ))


def forget_failures(email: str) -> None:
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.account_key == _account_key(email)))
