"""Everything that changes an account. Services flush and audit; the caller commits."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from kipp.accounts import rules, sessions, throttling
from kipp.accounts.models import AccountToken, LoginSession, SessionEndReason, TokenPurpose, User
from kipp.accounts.passwords import (
    generate_temporary_password,
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)
from kipp.accounts.roles import Role
from kipp.agencies.models import Agency, Unit
from kipp.audit.services import record, snapshot
from kipp.db import utcnow
from kipp.errors import DomainError, NotAllowed
from kipp.extensions import db
from kipp.i18n import wib_time
from kipp.notifications.services import queue_email
from kipp.urls import external_url

PASSWORD_MESSAGES = {
    "too_short": "The password must be at least 10 characters long.",
    "surrounding_spaces": "The password must not start or end with a space.",
    "contains_email": "The password must not contain your email name.",
    "too_repetitive": "The password needs at least 4 different characters.",
}


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


class LoginDelayed(DomainError):
    """Too many failed logins for this account: no attempt is checked before ``retry_at``."""

    def __init__(self, retry_at: dt.datetime, now: dt.datetime) -> None:
        self.retry_at = retry_at
        self.seconds = max(1, int((retry_at - now).total_seconds() + 0.999))
        super().__init__(
            _("Too many failed attempts for this account. Try again after %(time)s (in %(seconds)s seconds).",
              time=wib_time(retry_at), seconds=self.seconds),
            code="login_delayed",
        )


@dataclass(frozen=True)
class Entry:
    user: User
    session_token: str
    device_cookie: str


def log_in(email: str, password: str, *, address: str | None, user_agent: str | None,
           device_cookie: str | None) -> Entry | None:
    """The person with their new session, or None for wrong credentials (the failure is counted
    against the account, or against this browser if it has logged into the account before).
    LoginDelayed while the account waits, whatever the password."""
    now = utcnow()
    device = throttling.known_device(device_cookie, email)
    retry_at = throttling.retry_at(email, now, device=device)
    if retry_at is not None:
        raise LoginDelayed(retry_at, now)
    user = authenticate(email, password)
    if user is None:
        throttling.record_failure(email, now, device=device)
        return None
    throttling.forget_failures(email, device=device)
    return Entry(user, sessions.start(user, address=address, user_agent=user_agent),
                 throttling.device_cookie(email, device))


def log_out(login_session: LoginSession | None) -> None:
    if login_session is not None:
        sessions.end(login_session, SessionEndReason.LOGOUT)


def authenticate(email: str, password: str) -> User | None:
    """The active person with these credentials, or None (the same answer for every failure)."""
    user = find_by_email(email)
    ok = verify_password(user.password_hash if user else None, password)
    if not (user and ok and user.active):
        return None
    if needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def check_password_policy(password: str, *, email: str) -> None:
    problems = password_problems(password, email=email)
    if problems:
        raise DomainError(" ".join(_(PASSWORD_MESSAGES[p]) for p in problems), code="weak_password")


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _issue_token(user: User, purpose: TokenPurpose) -> str:
    now = utcnow()
    # A new link replaces the earlier ones of the same purpose.
    for old in db.session.scalars(
        sa.select(AccountToken).where(
            AccountToken.user_id == user.id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None)
        )
    ):
        old.used_at = now
    if purpose is TokenPurpose.INVITATION:
        lifetime = dt.timedelta(days=current_app.config["KIPP_INVITE_TOKEN_DAYS"])
    else:
        lifetime = dt.timedelta(hours=current_app.config["KIPP_RESET_TOKEN_HOURS"])
    raw = secrets.token_urlsafe(32)
    db.session.add(AccountToken(user=user, purpose=purpose, token_hash=_hash_token(raw), expires_at=now + lifetime))
    return raw


def token_holder(raw: str, purpose: TokenPurpose) -> User:
    """The person a still-valid link belongs to; DomainError says why a link is not valid."""
    token = db.session.scalar(sa.select(AccountToken).where(AccountToken.token_hash == _hash_token(raw)))
    if token is None or token.purpose is not purpose:
        raise DomainError(_("This link is not valid. Ask for a new one."), code="token_invalid")
    if token.used_at is not None:
        raise DomainError(_("This link has already been used. Ask for a new one."), code="token_used")
    if token.expires_at <= utcnow():
        raise DomainError(_("This link has expired. Ask for a new one."), code="token_expired")
    if not token.user.active:
        raise DomainError(_("This account has been deactivated."), code="account_inactive")
    return token.user


def redeem_token(raw: str, purpose: TokenPurpose, new_password: str) -> User:
    """Set a password through an invitation or reset link, once."""
    user = token_holder(raw, purpose)
    check_password_policy(new_password, email=user.email)
    token = db.session.scalar(sa.select(AccountToken).where(AccountToken.token_hash == _hash_token(raw)))
    assert token is not None
    token.used_at = utcnow()
    _set_password(user, new_password)
    sessions.end_all(user, SessionEndReason.PASSWORD_RESET)
    record(user, f"account.{purpose.value}_redeemed", user)
    return user


def _set_password(user: User, new_password: str) -> None:
    user.password_hash = hash_password(new_password)
    user.must_change_password = False


def change_password(user: User, *, current_password: str, new_password: str, current: LoginSession | None) -> None:
    """Set a new password; every session of this person but ``current`` ends."""
    if not verify_password(user.password_hash, current_password):
        raise DomainError(_("The current password is not correct."), code="wrong_password")
    if current_password == new_password:
        raise DomainError(_("The new password must differ from the current one."), code="same_password")
    check_password_policy(new_password, email=user.email)
    _set_password(user, new_password)
    sessions.end_all(user, SessionEndReason.PASSWORD_CHANGED, keep=current)
    record(user, "account.password_changed", user)


def request_password_reset(email: str) -> None:
    """Email a reset link if an active account has this address; say nothing either way."""
    user = find_by_email(email)
    if user is None or not user.active:
        return
    raw = _issue_token(user, TokenPurpose.PASSWORD_RESET)
    queue_email(
        user,
        "password_reset",
        secret_url=external_url("auth.reset_password", token=raw),
        hours=current_app.config["KIPP_RESET_TOKEN_HOURS"],
    )
    record(None, "account.password_reset_requested", user)


def invite(
    actor: User,
    *,
    email: str,
    name: str,
    role: Role,
    agency: Agency | None = None,
    unit: Unit | None = None,
    affiliation: str | None = None,
    phone: str | None = None,
) -> User:
    """Create an account without a password and email its owner a link to set one."""
    if unit is not None:
        agency = unit.agency
    if not rules.can_create_account(actor, role, agency.id if agency else None):
        raise NotAllowed(_("You may not create this account."))
    if role is Role.ADMIN_LOKAL and agency is None:
        raise DomainError(_("An Admin Lokal account belongs to an agency."), code="agency_required")
    if role is Role.UPP and unit is None:
        raise DomainError(_("A UPP account belongs to a unit."), code="unit_required")
    email = normalise_email(email)
    if find_by_email(email) is not None:
        raise DomainError(_("An account with this email address already exists."), code="email_taken")
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        agency_id=agency.id if agency else None,
        unit_id=unit.id if unit else None,
        affiliation=affiliation,
        phone=phone,
        invited_by_id=actor.id,
        locale=actor.locale,
    )
    db.session.add(user)
    db.session.flush()
    _send_invitation(actor, user)
    record(actor, "account.invited", user, after=snapshot(user))
    return user


def _send_invitation(actor: User, user: User) -> None:
    raw = _issue_token(user, TokenPurpose.INVITATION)
    queue_email(
        user,
        "invitation",
        secret_url=external_url("auth.accept_invitation", token=raw),
        inviter=actor.name,
        days=current_app.config["KIPP_INVITE_TOKEN_DAYS"],
    )


def resend_invitation(actor: User, user: User) -> None:
    if not rules.can_manage_account(actor, user):
        raise NotAllowed(_("You may not manage this account."))
    if user.has_password:
        raise DomainError(_("This person has already set a password."), code="already_active")
    _send_invitation(actor, user)
    record(actor, "account.invitation_resent", user)


def issue_temporary_password(actor: User, user: User) -> str:
    """For the helpdesk: a password to read out, which must be changed at first login."""
    if not rules.can_manage_account(actor, user):
        raise NotAllowed(_("You may not manage this account."))
    if not user.active:
        raise DomainError(_("Reactivate the account first."), code="inactive")
    temporary = generate_temporary_password()
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    sessions.end_all(user, SessionEndReason.TEMPORARY_PASSWORD)
    record(actor, "account.temporary_password_issued", user)
    return temporary


def create_with_password(
    *, email: str, name: str, role: Role, password: str, must_change: bool, actor: User | None = None, **fields: object
) -> User:
    """Accounts made from the command line (the first secretariat, the demo)."""
    email = normalise_email(email)
    if find_by_email(email) is not None:
        raise DomainError(_("An account with this email address already exists."), code="email_taken")
    user = User(email=email, name=name, role=role, password_hash=hash_password(password),
                must_change_password=must_change, **fields)
    db.session.add(user)
    db.session.flush()
    record(actor, "account.created", user, after=snapshot(user))
    return user


def set_active(actor: User, user: User, active: bool) -> None:
    if not rules.can_manage_account(actor, user):
        raise NotAllowed(_("You may not manage this account."))
    if user.active == active:
        return
    before = snapshot(user)
    user.active = active
    if not active:
        sessions.end_all(user, SessionEndReason.DEACTIVATED)
    record(actor, "account.activated" if active else "account.deactivated", user, before=before, after=snapshot(user))


def set_locale(user: User, locale: str) -> None:
    if locale not in ("id", "en"):
        raise DomainError(_("Unknown language."), code="locale")
    user.locale = locale


def update_profile(user: User, *, name: str, phone: str | None) -> None:
    before = snapshot(user)
    user.name = name.strip()
    user.phone = phone or None
    record(user, "account.profile_updated", user, before=before, after=snapshot(user))
