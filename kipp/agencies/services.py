"""Everything that changes an agency or a unit. Services flush and audit; the caller commits.

``actor`` None means the system (the command line, a seeder). The secretariat
manages agencies; units are managed by the secretariat and by the Admin Lokal
of the unit's own agency.
"""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa
from flask_babel import gettext as _

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.agencies.kinds import AGENCY_TYPE_LABELS, DEFAULT_CLUSTER, AgencyType, Cluster, region_problem
from kipp.agencies.models import Agency, Region, Unit
from kipp.audit.services import record, snapshot
from kipp.errors import DomainError, NotAllowed
from kipp.extensions import db

NAME_MAX = 255


class Person(Protocol):
    role: Role
    agency_id: int | None


# --- who (pure predicates; None is the system) -------------------------------------------


def can_manage_agencies(actor: Person | None) -> bool:
    """Create, edit, deactivate and import agencies."""
    return actor is None or actor.role is Role.SECRETARIAT


def can_manage_units(actor: Person | None, agency_id: int | None) -> bool:
    """Add, rename, deactivate and reactivate the units of agency ``agency_id``."""
    if actor is None or actor.role is Role.SECRETARIAT:
        return True
    return actor.role is Role.ADMIN_LOKAL and agency_id is not None and actor.agency_id == agency_id


def require_agency_manager(actor: User | None) -> None:
    if not can_manage_agencies(actor):
        raise NotAllowed(_("You may not manage agencies."))


def require_unit_manager(actor: User | None, agency: Agency) -> None:
    if not can_manage_units(actor, agency.id):
        raise NotAllowed(_("You may not manage the units of this agency."))


# --- messages ----------------------------------------------------------------------------


def normalise_name(name: str | None) -> str:
    """Trimmed, with runs of white space made one space."""
    return " ".join((name or "").split())


def region_problem_message(problem: str, *, agency_type: AgencyType, code: str | None) -> str:
    """The translated sentence for a code returned by ``kinds.region_problem``."""
    label = AGENCY_TYPE_LABELS[agency_type]
    if problem == "region_required":
        return _("An agency of type %(type)s needs a region.", type=label)
    if problem == "region_code_invalid":
        return _("The region code %(code)s is not a province code (like 71) or a kabupaten/kota code "
                 "(like 71.71).", code=code)
    if problem == "region_must_be_provinsi":
        return _("A %(type)s must have a province as its region, not %(code)s.", type=label, code=code)
    if problem == "region_must_be_kabupaten":
        return _("A %(type)s must have a kabupaten as its region, not %(code)s.", type=label, code=code)
    if problem == "region_must_be_kota":
        return _("A %(type)s must have a kota as its region, not %(code)s.", type=label, code=code)
    return problem


def unknown_region_message(code: str) -> str:
    return _("There is no region with code %(code)s.", code=code)


def name_problem_message(name: str) -> str | None:
    if not name:
        return _("The agency name is missing.")
    if len(name) > NAME_MAX:
        return _("The name is longer than %(n)s characters.", n=NAME_MAX)
    return None


# --- queries -----------------------------------------------------------------------------


def find_agency_by_name(name: str, *, exclude_id: int | None = None) -> Agency | None:
    """The agency with this name, ignoring case and extra spaces."""
    wanted = normalise_name(name).lower()
    query = sa.select(Agency).where(sa.func.lower(Agency.name) == wanted)
    if exclude_id is not None:
        query = query.where(Agency.id != exclude_id)
    found = db.session.scalars(query).first()
    if found is not None:
        return found
    # SQLite's lower() folds ASCII only; compare in Python as a fallback for the rest.
    if wanted.isascii():
        return None
    for agency in db.session.scalars(sa.select(Agency)):
        if agency.id != exclude_id and normalise_name(agency.name).lower() == wanted:
            return agency
    return None


def region_codes() -> set[str]:
    return set(db.session.scalars(sa.select(Region.code)))


# --- agencies ----------------------------------------------------------------------------


def _validated_fields(
    *, name: str, type: AgencyType, region_code: str | None, is_3t: bool, cluster: Cluster | None,
    exclude_id: int | None = None,
) -> dict[str, Any]:
    name = normalise_name(name)
    problem = name_problem_message(name)
    if problem:
        raise DomainError(problem, code="name_invalid")
    type = AgencyType(type)
    region_code = (region_code or "").strip() or None
    problem = region_problem(type, region_code)
    if problem:
        raise DomainError(region_problem_message(problem, agency_type=type, code=region_code), code=problem)
    if region_code is not None and db.session.get(Region, region_code) is None:
        raise DomainError(unknown_region_message(region_code), code="region_unknown")
    clash = find_agency_by_name(name, exclude_id=exclude_id)
    if clash is not None:
        raise DomainError(_("An agency named %(name)s already exists.", name=clash.name), code="name_taken")
    return {
        "name": name,
        "type": type,
        "cluster": Cluster(cluster) if cluster else DEFAULT_CLUSTER[type],
        "region_code": region_code,
        "is_3t": bool(is_3t),
    }


def create_agency(
    actor: User | None,
    *,
    name: str,
    type: AgencyType,
    region_code: str | None,
    is_3t: bool = False,
    cluster: Cluster | None = None,
) -> Agency:
    """A new active agency; ``cluster`` None takes the type's default cluster."""
    require_agency_manager(actor)
    fields = _validated_fields(name=name, type=type, region_code=region_code, is_3t=is_3t, cluster=cluster)
    agency = Agency(active=True, **fields)
    db.session.add(agency)
    db.session.flush()
    record(actor, "agency.created", agency, after=snapshot(agency))
    return agency


def update_agency(
    actor: User | None,
    agency: Agency,
    *,
    name: str,
    type: AgencyType,
    region_code: str | None,
    is_3t: bool,
    cluster: Cluster | None = None,
) -> bool:
    """Change an agency's details; ``cluster`` None takes the type's default. True if anything changed."""
    require_agency_manager(actor)
    fields = _validated_fields(
        name=name, type=type, region_code=region_code, is_3t=is_3t, cluster=cluster, exclude_id=agency.id
    )
    before = snapshot(agency)
    for key, value in fields.items():
        setattr(agency, key, value)
    db.session.flush()
    after = snapshot(agency)
    if after == before:
        return False
    record(actor, "agency.updated", agency, before=before, after=after)
    return True


def set_agency_active(actor: User | None, agency: Agency, active: bool) -> bool:
    """Deactivate or reactivate an agency. Its accounts and units are left as they are.

    True if the status changed.
    """
    require_agency_manager(actor)
    if agency.active == active:
        return False
    before = snapshot(agency)
    agency.active = active
    db.session.flush()
    record(actor, "agency.activated" if active else "agency.deactivated", agency,
           before=before, after=snapshot(agency))
    return True


# --- units -------------------------------------------------------------------------------


def _unit_name(agency: Agency, name: str, *, exclude_id: int | None = None) -> str:
    name = normalise_name(name)
    if not name:
        raise DomainError(_("The unit name is missing."), code="name_invalid")
    if len(name) > NAME_MAX:
        raise DomainError(_("The name is longer than %(n)s characters.", n=NAME_MAX), code="name_invalid")
    query = sa.select(Unit).where(Unit.agency_id == agency.id)
    if exclude_id is not None:
        query = query.where(Unit.id != exclude_id)
    wanted = name.lower()
    for unit in db.session.scalars(query):
        if normalise_name(unit.name).lower() == wanted:
            raise DomainError(
                _("This agency already has a unit named %(name)s.", name=unit.name), code="name_taken"
            )
    return name


def create_unit(actor: User | None, agency: Agency, *, name: str) -> Unit:
    require_unit_manager(actor, agency)
    unit = Unit(agency=agency, name=_unit_name(agency, name), active=True)
    db.session.add(unit)
    db.session.flush()
    record(actor, "unit.created", unit, after=snapshot(unit))
    return unit


def rename_unit(actor: User | None, unit: Unit, *, name: str) -> bool:
    """True if the name changed."""
    require_unit_manager(actor, unit.agency)
    new_name = _unit_name(unit.agency, name, exclude_id=unit.id)
    if new_name == unit.name:
        return False
    before = snapshot(unit)
    unit.name = new_name
    db.session.flush()
    record(actor, "unit.renamed", unit, before=before, after=snapshot(unit))
    return True


def set_unit_active(actor: User | None, unit: Unit, active: bool) -> bool:
    """Deactivate or reactivate a unit; its UPP accounts are left as they are. True if changed.

    A deactivated unit is no longer offered for new UPP accounts.
    """
    require_unit_manager(actor, unit.agency)
    if unit.active == active:
        return False
    before = snapshot(unit)
    unit.active = active
    db.session.flush()
    record(actor, "unit.activated" if active else "unit.deactivated", unit, before=before, after=snapshot(unit))
    return True


def active_upp_count(unit: Unit) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(User).where(User.unit_id == unit.id, User.active)
    ) or 0
