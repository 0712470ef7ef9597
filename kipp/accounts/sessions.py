"""Server-side login sessions: started at login, checked on every request, ended at logout, by
their owner, or when the password or the account changes. Services flush; the caller commits."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload
from flask_babel import gettext as _

from kipp.accounts.clients import describe_user_agent, mask_address
from kipp.accounts.models import LoginSession, SessionEndReason, User
from kipp.audit.services import record
from kipp.db import utcnow
from kipp.errors import NotAllowed
from kipp.extensions import db

# The key of the session token inside the signed cookie.
COOKIE_KEY = "login_session"
# Recording every request would write on every page view; a minute is precise enough to show.
LAST_SEEN_PRECISION = dt.timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _idle_limit() -> dt.timedelta:
    return current_app.permanent_session_lifetime  # the cookie's own lifetime, renewed at each request


def start(user: User, *, address: str | None, user_agent: str | None) -> str:
    """A new session for ``user``; its raw token, for the cookie and nowhere else."""
    token = secrets.token_urlsafe(32)
    login_session = LoginSession(user=user, token_hash=_hash(token), masked_address=mask_address(address),
                                 device=describe_user_agent(user_agent))
    db.session.add(login_session)
    return token


def live(token: str | None) -> LoginSession | None:
    """The session this token opens: not ended, not idle past the cookie's lifetime, its owner active."""
    if not token:
        return None
    login_session = db.session.scalar(sa.select(LoginSession).options(joinedload(LoginSession.user))
                                      .where(LoginSession.token_hash == _hash(token)))
    if login_session is None or login_session.ended_at is not None or not login_session.user.active:
        return None
    if utcnow() - login_session.last_seen_at > _idle_limit():
        return None
    return login_session


def touch(login_session: LoginSession) -> bool:
    """Note that the session was used now; True when that changed anything to commit."""
    now = utcnow()
    if now - login_session.last_seen_at < LAST_SEEN_PRECISION:
        return False
    login_session.last_seen_at = now
    return True


def _live_query(user: User) -> sa.Select[tuple[LoginSession]]:
    return sa.select(LoginSession).where(
        LoginSession.user_id == user.id,
        LoginSession.ended_at.is_(None),
        LoginSession.last_seen_at >= utcnow() - _idle_limit(),
    )


def active_sessions(user: User) -> list[LoginSession]:
    return list(db.session.scalars(_live_query(user).order_by(LoginSession.last_seen_at.desc())))


def end(login_session: LoginSession, reason: SessionEndReason) -> None:
    if login_session.ended_at is None:
        login_session.ended_at = utcnow()
        login_session.ended_reason = reason


def end_all(user: User, reason: SessionEndReason, *, keep: LoginSession | None = None) -> int:
    """End every live session of ``user`` except ``keep``; how many were ended."""
    query = _live_query(user)
    if keep is not None:
        query = query.where(LoginSession.id != keep.id)
    ended = list(db.session.scalars(query))
    for login_session in ended:
        end(login_session, reason)
    return len(ended)


def end_own(actor: User, session_id: int) -> None:
    """The person ends one of their own sessions from the account page."""
    login_session = db.session.get(LoginSession, session_id)
    if login_session is None or login_session.user_id != actor.id:
        raise NotAllowed(_("This session is not yours."))
    if login_session.ended_at is not None:
        return
    end(login_session, SessionEndReason.ENDED_BY_OWNER)
    record(actor, "account.session_ended", actor,
           after={"session": login_session.id, "device": login_session.device,
                  "place": login_session.masked_address})


def end_others(actor: User, current: LoginSession) -> int:
    count = end_all(actor, SessionEndReason.ENDED_BY_OWNER, keep=current)
    record(actor, "account.other_sessions_ended", actor, after={"count": count})
    return count
