"""Proposal states and the transitions between them (a leaf: imports nothing of kipp).

Only the first stage's states are here; screening and the selection rounds
add theirs as those stages are built (kipp-domain §9's state machine).
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
}

# States that carry a proposal number (given at the first submission).
NUMBERED = frozenset({
    ProposalStatus.SUBMITTED, ProposalStatus.WITHDRAWN, ProposalStatus.ADMIN_PASSED, ProposalStatus.IN_CORRECTION,
    ProposalStatus.ADMIN_FAILED,
})

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
