"""What an agency may see of its proposal's way through the selection rounds, and from when.

The rounds decide before they announce: a frozen nominee list or plenary decision moves the
proposals' states at once, but an agency learns that it is a finalist only when the finalist
list is announced (the objection window opens), and that it won only when the results are
published. Until then its pages show the last state that is already public. The secretariat
sees the real state; a judge sees a round's state once the scored stages that decided it are
open to them (their blindness: :func:`kipp.scoring.services.sees_colleague_figures`), before
that as the agency does.

This module is the only way from a proposal to what an agency reads about its state: its
status, who holds it, its history and when it last changed. Every page, PDF, JSON answer and
notice an Admin Lokal or a UPP can reach takes them from :func:`disclosed` (templates through
the ``disclosed`` global), never from the proposal's own ``status``, ``holder``, ``events`` or
``updated_at``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user

from kipp.accounts.roles import Role
from kipp.editions.kinds import StageKind, StageStatus
from kipp.extensions import db
from kipp.progress.stages import status_of
from kipp.proposals.states import HOLDER, Action, Holder, ProposalStatus
from kipp.scoring.services import scheme_for, sees_colleague_figures
from kipp.selection.models import Shortlist, ShortlistKind

# States decided before the finalists are announced, shown until then as "passed screening".
_UNTIL_ANNOUNCED = frozenset({ProposalStatus.NOMINATED, ProposalStatus.NOT_NOMINATED, ProposalStatus.FINALIST,
                              ProposalStatus.NOT_FINALIST})
# States of the final result, shown until publication as the state the final round found them in.
_UNTIL_PUBLISHED = frozenset({ProposalStatus.WINNER, ProposalStatus.FINALIST_ONLY})
_ACTIONS_UNTIL_ANNOUNCED = frozenset({Action.NOMINATE.value, Action.PASS_OVER_NOMINATION.value,
                                      Action.MAKE_FINALIST.value, Action.PASS_OVER_FINALIST.value})
_ACTIONS_UNTIL_PUBLISHED = frozenset({Action.AWARD.value, Action.CLOSE_AS_FINALIST.value})
# The scored stages whose judges' sheets decided each round state.
_FINAL_STAGES = (StageKind.EVALUATION, StageKind.PANEL_REVIEW, StageKind.PRESENTATION)
_DECIDED_BY = {**dict.fromkeys((ProposalStatus.NOMINATED, ProposalStatus.NOT_NOMINATED), (StageKind.EVALUATION,)),
               **dict.fromkeys((ProposalStatus.FINALIST, ProposalStatus.NOT_FINALIST), (StageKind.PANEL_REVIEW,)),
               **dict.fromkeys((ProposalStatus.WINNER, ProposalStatus.FINALIST_ONLY), _FINAL_STAGES)}


@dataclass(frozen=True)
class Disclosed:
    """A proposal's state as its reader may know it."""

    status: ProposalStatus
    holder: Holder
    events: list[Any]  # ProposalEvent, oldest first
    last_change: dt.datetime | None
    masked: bool  # the real state is not announced yet


def _announced_and_published(edition_id: int, edition: Any) -> tuple[bool, bool]:
    """(finalists announced, results published) for the edition, once per request."""
    # Kept on the request (not ``g``, which a test's requests share with their app context).
    cache = request.environ.setdefault("kipp.disclosed", {}) if has_request_context() else {}
    if edition_id not in cache:
        announced = status_of(edition, StageKind.OBJECTION) in (StageStatus.OPEN, StageStatus.CLOSED)
        published = db.session.scalar(sa.select(Shortlist.published_at).where(
            Shortlist.edition_id == edition_id, Shortlist.kind == ShortlistKind.WINNERS)) is not None
        cache[edition_id] = (announced, published)
    return cache[edition_id]


def _sees_everything(proposal: Any) -> bool:
    if not has_request_context() or not current_user.is_authenticated:
        return True
    if current_user.role.is_judge:
        return all(sees_colleague_figures(current_user, scheme_for(proposal.edition, stage, with_aspects=False))
                   for stage in _DECIDED_BY.get(proposal.status, ()))
    return current_user.role not in (Role.ADMIN_LOKAL, Role.UPP)


def _everything(proposal: Any) -> Disclosed:
    return Disclosed(proposal.status, proposal.holder, list(proposal.events), proposal.updated_at, masked=False)


def shown_to_agency(proposal: Any) -> Disclosed:
    """What the proposal's agency may know of it now, whoever asks (a notice's job has no reader)."""
    status = proposal.status
    if status not in _UNTIL_ANNOUNCED | _UNTIL_PUBLISHED:
        return _everything(proposal)
    announced, published = _announced_and_published(proposal.edition_id, proposal.edition)
    hidden = (set() if announced else _ACTIONS_UNTIL_ANNOUNCED) | (set() if published else _ACTIONS_UNTIL_PUBLISHED)
    if status in _UNTIL_ANNOUNCED and not announced:
        shown = ProposalStatus.ADMIN_PASSED
    elif status in _UNTIL_PUBLISHED and not published:
        # Presented, did not present or confirmed: where the final round found it, as the agency saw it.
        result = next((e for e in proposal.events if e.action in _ACTIONS_UNTIL_PUBLISHED and e.from_status), None)
        shown = ProposalStatus(result.from_status) if result is not None else ProposalStatus.CONFIRMED
    else:
        return _everything(proposal)
    events = [e for e in proposal.events if e.action not in hidden]
    # The hidden decision changed the proposal too: its last change is the last one the agency knows of.
    last_change = max((e.at for e in events), default=proposal.submitted_at or proposal.created_at)
    return Disclosed(shown, HOLDER[shown], events, last_change, masked=True)


def disclosed(proposal: Any) -> Disclosed:
    """The proposal's state as the person of this request may know it (all of it, but for an agency)."""
    if _sees_everything(proposal):
        return _everything(proposal)
    return shown_to_agency(proposal)


def agency_status(proposal: Any) -> ProposalStatus:
    return disclosed(proposal).status


def agency_holder(proposal: Any) -> Holder:
    return disclosed(proposal).holder
