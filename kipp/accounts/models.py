from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kipp.accounts.roles import Role
from kipp.db import TimestampMixin, enum_column, intpk, str80, str255, utcnow
from kipp.extensions import db

if TYPE_CHECKING:
    from kipp.agencies.models import Agency, Unit


class User(TimestampMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(
            "role NOT IN ('admin_lokal', 'upp') OR agency_id IS NOT NULL", name="agency_people_have_agency"
        ),
        sa.CheckConstraint("role != 'upp' OR unit_id IS NOT NULL", name="upp_has_unit"),
        sa.CheckConstraint("role IN ('upp') OR unit_id IS NULL", name="only_upp_has_unit"),
        sa.CheckConstraint("locale IN ('id', 'en')", name="locale_known"),
    )

    id: Mapped[intpk]
    email: Mapped[str255] = mapped_column(unique=True)
    name: Mapped[str255]
    phone: Mapped[str80 | None]
    role: Mapped[Role] = enum_column(Role, index=True)
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"), index=True)
    # Affiliation text for judges (a university or organisation); agency-bound
    # affiliations use agency_id.
    affiliation: Mapped[str255 | None]
    password_hash: Mapped[str255 | None]
    must_change_password: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(sa.String(2), default="id")
    last_login_at: Mapped[dt.datetime | None]
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    agency: Mapped[Agency | None] = relationship(foreign_keys=[agency_id])
    unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id])

    # flask-login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role.value}>"


class TokenPurpose(str, enum.Enum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"


class AccountToken(db.Model):
    """A single-use, expiring link sent by email. Only a hash of the token is stored."""

    __tablename__ = "account_tokens"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    purpose: Mapped[TokenPurpose] = enum_column(TokenPurpose)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()


class SessionEndReason(str, enum.Enum):
    LOGOUT = "logout"
    ENDED_BY_OWNER = "ended_by_owner"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    TEMPORARY_PASSWORD = "temporary_password"
    DEACTIVATED = "deactivated"


class LoginSession(db.Model):
    """One logged-in browser. The signed cookie carries a random token; only its hash is stored,
    and a session the server has ended stays ended whatever cookie is replayed."""

    __tablename__ = "login_sessions"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Shown to the person as an approximate place; never the full address.
    masked_address: Mapped[str | None] = mapped_column(sa.String(64))
    device: Mapped[str | None] = mapped_column(sa.String(80))
    ended_at: Mapped[dt.datetime | None]
    ended_reason: Mapped[SessionEndReason | None] = enum_column(SessionEndReason, nullable=True)

    user: Mapped[User] = relationship()


class LoginFailure(db.Model):
    """Consecutive failed logins for one email address, known account or not (so the delay
    does not tell which addresses have accounts). Keyed by a keyed hash of the address."""

    __tablename__ = "login_failures"

    account_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int]
    last_failed_at: Mapped[dt.datetime] = mapped_column(index=True)
