"""Who may manage whom (pure predicates over people; no database access)."""

from __future__ import annotations

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
