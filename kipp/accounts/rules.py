"""Who may manage whom, and how long a much-guessed account waits (pure; no database access)."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from kipp.accounts.roles import Role


class Person(Protocol):
    id: int
    role: Role
    agency_id: int | None
    active: bool


def can_create_account(actor: Person, role: Role, agency_id: int | None) -> bool:
    if actor.role is Role.SECRETARIAT:
        return role is not Role.UPP or agency_id is not None
    if actor.role is Role.ADMIN_LOKAL:
        return role is Role.UPP and agency_id == actor.agency_id
    return False


def can_manage_account(actor: Person, person: Person) -> bool:
    """Deactivate, reactivate, resend an invitation, issue a temporary password."""
    if actor.id == person.id:
        return False
    if actor.role is Role.SECRETARIAT:
        return True
    if actor.role is Role.ADMIN_LOKAL:
        return person.role is Role.UPP and person.agency_id == actor.agency_id
    return False


def can_see_agency(actor: Person, agency_id: int) -> bool:
    if actor.role is Role.SECRETARIAT:
        return True
    return actor.role.belongs_to_agency and actor.agency_id == agency_id


# A person who mistypes a few times is never slowed; after that each further failure doubles
# the wait, up to a ceiling, so guessing is slow and nobody can lock an account out for good.
FREE_LOGIN_FAILURES = 5
FIRST_LOGIN_DELAY = dt.timedelta(seconds=15)
LONGEST_LOGIN_DELAY = dt.timedelta(minutes=15)
# Failures older than this are forgotten: last week's typos do not add to today's.
LOGIN_FAILURE_MEMORY = dt.timedelta(hours=24)


def login_delay(failures: int) -> dt.timedelta:
    if failures < FREE_LOGIN_FAILURES:
        return dt.timedelta(0)
    return min(FIRST_LOGIN_DELAY * 2 ** (failures - FREE_LOGIN_FAILURES), LONGEST_LOGIN_DELAY)


def login_retry_at(failures: int, last_failed_at: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """When the account may be tried again, or None if it may be tried now."""
    if now - last_failed_at > LOGIN_FAILURE_MEMORY:
        return None
    retry_at = last_failed_at + login_delay(failures)
    return retry_at if retry_at > now else None
