"""Who may see and change a proposal (pure predicates; views and templates share them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from kipp.accounts.roles import Role
from kipp.proposals.states import EDITABLE_BY_ADMIN_LOKAL, EDITABLE_BY_UPP, ProposalStatus


def visible_to(user: Any) -> Any:
    """A WHERE clause limiting proposals to those ``user`` may see (None: all)."""
    from kipp.proposals.models import Proposal

    if user.role is Role.SECRETARIAT:
        return sa.true()
    if user.role is Role.ADMIN_LOKAL:
        return Proposal.agency_id == user.agency_id
    if user.role is Role.UPP:
        return Proposal.unit_id == user.unit_id
    return sa.false()  # judges see proposals through their assignments (a later stage)


def can_view(user: Any, proposal: Any) -> bool:
    if user.role is Role.SECRETARIAT:
        return True
    if user.role is Role.ADMIN_LOKAL:
        return proposal.agency_id == user.agency_id
    if user.role is Role.UPP:
        return proposal.unit_id == user.unit_id
    return False


def can_edit(user: Any, proposal: Any) -> bool:
    if user.role is Role.UPP:
        return proposal.unit_id == user.unit_id and proposal.status in EDITABLE_BY_UPP
    if user.role is Role.ADMIN_LOKAL:
        # The Admin Lokal corrects what it holds, may write a draft itself, and
        # corrects a proposal screening returned while the correction window lasts.
        return proposal.agency_id == user.agency_id and (
            proposal.status in EDITABLE_BY_ADMIN_LOKAL
            or (proposal.status in EDITABLE_BY_UPP and proposal.created_by_id == user.id)
            or in_correction(proposal)
        )
    return False


def in_correction(proposal: Any, now: dt.datetime | None = None) -> bool:
    return (
        proposal.status is ProposalStatus.IN_CORRECTION
        and proposal.correction_due_at is not None
        and (now or dt.datetime.now(dt.timezone.utc)) < proposal.correction_due_at
    )


def can_send(user: Any, proposal: Any) -> bool:
    return user.role is Role.UPP and can_edit(user, proposal)


def can_decide(user: Any, proposal: Any) -> bool:
    """Return to the UPP or submit to the ministry."""
    return (user.role is Role.ADMIN_LOKAL and can_edit(user, proposal)
            and proposal.status is not ProposalStatus.IN_CORRECTION)  # resubmitted from the correction page


def can_withdraw(user: Any, proposal: Any) -> bool:
    return (
        user.role is Role.ADMIN_LOKAL
        and proposal.agency_id == user.agency_id
        and proposal.status is ProposalStatus.SUBMITTED
    )
