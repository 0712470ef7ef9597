"""What an agency may see of its proposal's way through the selection rounds, and from when.

The rounds decide before they announce: a frozen nominee list or plenary decision moves the
proposals' states at once, but an agency learns that it is a finalist only when the finalist
list is announced (the objection window opens), and that it won only when the results are
published. Until then its pages show the last state that is already public. The secretariat
and the judges see the real state.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user

from kipp.accounts.roles import Role
from kipp.editions.kinds import StageKind, StageStatus
from kipp.extensions import db
from kipp.progress.stages import status_of
from kipp.proposals.states import Action, ProposalStatus
from kipp.selection.models import Shortlist, ShortlistKind

# States decided before the finalists are announced, shown until then as "passed screening".
_UNTIL_ANNOUNCED = frozenset({ProposalStatus.NOMINATED, ProposalStatus.NOT_NOMINATED, ProposalStatus.FINALIST,
                              ProposalStatus.NOT_FINALIST})
# States of the final result, shown until publication as "confirmed finalist".
_UNTIL_PUBLISHED = frozenset({ProposalStatus.WINNER, ProposalStatus.FINALIST_ONLY})
_ACTIONS_UNTIL_ANNOUNCED = frozenset({Action.NOMINATE.value, Action.PASS_OVER_NOMINATION.value,
                                      Action.MAKE_FINALIST.value, Action.PASS_OVER_FINALIST.value})
_ACTIONS_UNTIL_PUBLISHED = frozenset({Action.AWARD.value, Action.CLOSE_AS_FINALIST.value})


def _disclosed(edition_id: int, edition: Any) -> tuple[bool, bool]:
    """(finalists announced, results published) for the edition, once per request."""
    # Kept on the request (not ``g``, which a test's requests share with their app context).
    cache = request.environ.setdefault("kipp.disclosed", {})
    if edition_id not in cache:
        announced = status_of(edition, StageKind.OBJECTION) in (StageStatus.OPEN, StageStatus.CLOSED)
        published = db.session.scalar(sa.select(Shortlist.published_at).where(
            Shortlist.edition_id == edition_id, Shortlist.kind == ShortlistKind.WINNERS)) is not None
        cache[edition_id] = (announced, published)
    return cache[edition_id]


def _sees_everything() -> bool:
    if not has_request_context():
        return True
    return not current_user.is_authenticated or current_user.role not in (Role.ADMIN_LOKAL, Role.UPP)


def agency_status(proposal: Any) -> ProposalStatus:
    status = proposal.status
    if _sees_everything() or status not in _UNTIL_ANNOUNCED | _UNTIL_PUBLISHED:
        return status
    announced, published = _disclosed(proposal.edition_id, proposal.edition)
    if status in _UNTIL_ANNOUNCED and not announced:
        return ProposalStatus.ADMIN_PASSED
    if status in _UNTIL_PUBLISHED and not published:
        return ProposalStatus.CONFIRMED
    return status


def agency_events(proposal: Any) -> list[Any]:
    events = list(proposal.events)
    if _sees_everything():
        return events
    announced, published = _disclosed(proposal.edition_id, proposal.edition)
    hidden = (set() if announced else _ACTIONS_UNTIL_ANNOUNCED) | (set() if published else _ACTIONS_UNTIL_PUBLISHED)
    return [e for e in events if e.action not in hidden]
