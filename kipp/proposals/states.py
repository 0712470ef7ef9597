"""Proposal states and the transitions between them (a leaf: imports nothing of kipp).

kipp-domain §9's state machine: the agency's draft, submission, administrative
screening, then the selection rounds (nominees, finalists, the objection window,
presentations, the final result). Every change of state goes through
``proposals.services._transition``, which checks this table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ProposalStatus(str, enum.Enum):
    DRAFT = "draft"  # with the UPP
    WITH_ADMIN_LOKAL = "with_admin_lokal"
    RETURNED = "returned"  # back with the UPP, with comments
    SUBMITTED = "submitted"  # to the ministry; read-only to the agency
    WITHDRAWN = "withdrawn"
    NOT_SUBMITTED = "not_submitted"  # still with the agency when the stage closed
    # Administrative screening
    ADMIN_PASSED = "admin_passed"
    IN_CORRECTION = "in_correction"  # failed, back with the Admin Lokal for the correction window
    ADMIN_FAILED = "admin_failed"
    # Selection rounds (kipp.selection, kipp.objections, kipp.presentations)
    NOMINATED = "nominated"  # on the frozen nominee list of the evaluation
    NOT_NOMINATED = "not_nominated"
    FINALIST = "finalist"  # chosen by the panel's plenary; open to public objection
    NOT_FINALIST = "not_finalist"
    CONFIRMED = "confirmed"  # a finalist confirmed by decree after the objection window
    DISQUALIFIED = "disqualified"  # an objection was upheld
    PRESENTED = "presented"
    NO_SHOW = "no_show"  # did not come to its presentation
    WINNER = "winner"  # Top 45, Outstanding Achievement or Top 5 replikasi (the tier is on its award)
    FINALIST_ONLY = "finalist_only"  # a confirmed finalist that did not win


class Holder(str, enum.Enum):
    UPP = "upp"
    ADMIN_LOKAL = "admin_lokal"
    SECRETARIAT = "secretariat"
    NOBODY = "nobody"


HOLDER = {
    ProposalStatus.DRAFT: Holder.UPP,
    ProposalStatus.RETURNED: Holder.UPP,
    ProposalStatus.WITH_ADMIN_LOKAL: Holder.ADMIN_LOKAL,
    ProposalStatus.SUBMITTED: Holder.SECRETARIAT,
    ProposalStatus.WITHDRAWN: Holder.NOBODY,
    ProposalStatus.NOT_SUBMITTED: Holder.NOBODY,
    ProposalStatus.ADMIN_PASSED: Holder.SECRETARIAT,
    ProposalStatus.IN_CORRECTION: Holder.ADMIN_LOKAL,
    ProposalStatus.ADMIN_FAILED: Holder.NOBODY,
    ProposalStatus.NOMINATED: Holder.SECRETARIAT,
    ProposalStatus.NOT_NOMINATED: Holder.NOBODY,
    ProposalStatus.FINALIST: Holder.SECRETARIAT,
    ProposalStatus.NOT_FINALIST: Holder.NOBODY,
    ProposalStatus.CONFIRMED: Holder.SECRETARIAT,
    ProposalStatus.DISQUALIFIED: Holder.NOBODY,
    ProposalStatus.PRESENTED: Holder.SECRETARIAT,
    ProposalStatus.NO_SHOW: Holder.SECRETARIAT,
    ProposalStatus.WINNER: Holder.NOBODY,
    ProposalStatus.FINALIST_ONLY: Holder.NOBODY,
}

# States of a proposal that passed the administrative screening, at any later round.
PASSED_SCREENING = frozenset({
    ProposalStatus.ADMIN_PASSED, ProposalStatus.NOMINATED, ProposalStatus.NOT_NOMINATED, ProposalStatus.FINALIST,
    ProposalStatus.NOT_FINALIST, ProposalStatus.CONFIRMED, ProposalStatus.DISQUALIFIED, ProposalStatus.PRESENTED,
    ProposalStatus.NO_SHOW, ProposalStatus.WINNER, ProposalStatus.FINALIST_ONLY,
})
# ... that the panel made finalists (whatever happened to them afterwards).
CHOSEN_AS_FINALIST = frozenset({
    ProposalStatus.FINALIST, ProposalStatus.CONFIRMED, ProposalStatus.DISQUALIFIED, ProposalStatus.PRESENTED,
    ProposalStatus.NO_SHOW, ProposalStatus.WINNER, ProposalStatus.FINALIST_ONLY,
})
# Confirmed finalists still in the running for the final result.
IN_FINAL_ROUND = frozenset({ProposalStatus.CONFIRMED, ProposalStatus.PRESENTED, ProposalStatus.NO_SHOW})

# States that carry a proposal number (given at the first submission).
NUMBERED = frozenset({
    ProposalStatus.SUBMITTED, ProposalStatus.WITHDRAWN, ProposalStatus.IN_CORRECTION, ProposalStatus.ADMIN_FAILED,
}) | PASSED_SCREENING

# States in which the agency can still change the proposal's content.
EDITABLE_BY_UPP = frozenset({ProposalStatus.DRAFT, ProposalStatus.RETURNED})
EDITABLE_BY_ADMIN_LOKAL = frozenset({ProposalStatus.WITH_ADMIN_LOKAL})
STILL_WITH_AGENCY = frozenset({ProposalStatus.DRAFT, ProposalStatus.RETURNED, ProposalStatus.WITH_ADMIN_LOKAL})


class Action(str, enum.Enum):
    SEND_TO_ADMIN_LOKAL = "send_to_admin_lokal"
    RETURN_TO_UPP = "return_to_upp"
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    CLOSE_UNSUBMITTED = "close_unsubmitted"
    PASS_SCREENING = "pass_screening"
    FAIL_SCREENING = "fail_screening"
    RETURN_FOR_CORRECTION = "return_for_correction"
    RESUBMIT_CORRECTION = "resubmit_correction"
    CLOSE_CORRECTION = "close_correction"
    NOMINATE = "nominate"
    PASS_OVER_NOMINATION = "pass_over_nomination"
    MAKE_FINALIST = "make_finalist"
    PASS_OVER_FINALIST = "pass_over_finalist"
    CONFIRM_FINALIST = "confirm_finalist"
    DISQUALIFY = "disqualify"
    RECORD_PRESENTED = "record_presented"
    RECORD_NO_SHOW = "record_no_show"
    AWARD = "award"
    CLOSE_AS_FINALIST = "close_as_finalist"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[ProposalStatus]
    target: ProposalStatus
    needs_open_stage: bool


TRANSITIONS: dict[Action, Transition] = {
    Action.SEND_TO_ADMIN_LOKAL: Transition(
        frozenset({ProposalStatus.DRAFT, ProposalStatus.RETURNED}), ProposalStatus.WITH_ADMIN_LOKAL, True
    ),
    Action.RETURN_TO_UPP: Transition(frozenset({ProposalStatus.WITH_ADMIN_LOKAL}), ProposalStatus.RETURNED, True),
    # The Admin Lokal may also submit a draft it wrote itself or took over.
    Action.SUBMIT: Transition(
        frozenset({ProposalStatus.WITH_ADMIN_LOKAL, ProposalStatus.DRAFT, ProposalStatus.RETURNED}),
        ProposalStatus.SUBMITTED,
        True,
    ),
    Action.WITHDRAW: Transition(frozenset({ProposalStatus.SUBMITTED}), ProposalStatus.WITHDRAWN, False),
    Action.CLOSE_UNSUBMITTED: Transition(STILL_WITH_AGENCY, ProposalStatus.NOT_SUBMITTED, False),
    Action.PASS_SCREENING: Transition(frozenset({ProposalStatus.SUBMITTED}), ProposalStatus.ADMIN_PASSED, False),
    Action.FAIL_SCREENING: Transition(frozenset({ProposalStatus.SUBMITTED}), ProposalStatus.ADMIN_FAILED, False),
    Action.RETURN_FOR_CORRECTION: Transition(
        frozenset({ProposalStatus.SUBMITTED}), ProposalStatus.IN_CORRECTION, False
    ),
    Action.RESUBMIT_CORRECTION: Transition(
        frozenset({ProposalStatus.IN_CORRECTION}), ProposalStatus.SUBMITTED, False
    ),
    Action.CLOSE_CORRECTION: Transition(frozenset({ProposalStatus.IN_CORRECTION}), ProposalStatus.ADMIN_FAILED, False),
    Action.NOMINATE: Transition(frozenset({ProposalStatus.ADMIN_PASSED}), ProposalStatus.NOMINATED, False),
    Action.PASS_OVER_NOMINATION: Transition(
        frozenset({ProposalStatus.ADMIN_PASSED}), ProposalStatus.NOT_NOMINATED, False),
    Action.MAKE_FINALIST: Transition(frozenset({ProposalStatus.NOMINATED}), ProposalStatus.FINALIST, False),
    Action.PASS_OVER_FINALIST: Transition(frozenset({ProposalStatus.NOMINATED}), ProposalStatus.NOT_FINALIST, False),
    Action.CONFIRM_FINALIST: Transition(frozenset({ProposalStatus.FINALIST}), ProposalStatus.CONFIRMED, False),
    # An upheld objection, or false data found later (kipp-domain §9: any later state).
    Action.DISQUALIFY: Transition(
        frozenset({ProposalStatus.FINALIST, ProposalStatus.CONFIRMED, ProposalStatus.PRESENTED,
                   ProposalStatus.NO_SHOW}), ProposalStatus.DISQUALIFIED, False),
    # Attendance can be corrected until the final result is frozen.
    Action.RECORD_PRESENTED: Transition(IN_FINAL_ROUND, ProposalStatus.PRESENTED, False),
    Action.RECORD_NO_SHOW: Transition(IN_FINAL_ROUND, ProposalStatus.NO_SHOW, False),
    Action.AWARD: Transition(frozenset({ProposalStatus.PRESENTED}), ProposalStatus.WINNER, False),
    Action.CLOSE_AS_FINALIST: Transition(IN_FINAL_ROUND, ProposalStatus.FINALIST_ONLY, False),
}


class InvalidTransition(ValueError):
    def __init__(self, status: ProposalStatus, action: Action) -> None:
        super().__init__(f"cannot {action.value} a proposal that is {status.value}")
        self.status = status
        self.action = action


def next_status(status: ProposalStatus, action: Action) -> ProposalStatus:
    transition = TRANSITIONS[action]
    if status not in transition.sources:
        raise InvalidTransition(status, action)
    return transition.target
