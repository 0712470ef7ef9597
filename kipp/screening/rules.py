"""Pure rules of administrative screening (a leaf: no database, no Flask).

- the decision follows from the checklist items;
- claims on a proposal expire after a time without activity;
- the queue's previous/next by the queue's order;
- what a failed decision leads to (a correction window or a final failure).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any, Iterable, Sequence, TypeVar

PASSED = "passed"
FAILED = "failed"

# A claim lapses after this long without the holder saving anything, so a
# screener who walks away does not keep proposals from the others.
CLAIM_TTL = dt.timedelta(minutes=30)

# Limits of the edition settings the screening pages change.
MAX_CORRECTION_DAYS = 60
NOTE_MAX_LENGTH = 2000


# --- the decision -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One checklist item as a screener filled it in: passed True/False, or None when not answered yet."""

    reason_id: int
    passed: bool | None
    note: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What the items add up to.

    ``decision`` is None until every item is answered. ``notes_missing`` lists
    failed items without a note: a failure must say why, so such a review
    cannot be saved.
    """

    decision: str | None
    failed: tuple[int, ...]
    unanswered: tuple[int, ...]
    notes_missing: tuple[int, ...]

    @property
    def valid(self) -> bool:
        return not self.notes_missing


def outcome(items: Iterable[Item], required: Iterable[int]) -> Outcome:
    """The decision from the items: all of ``required`` passed → passed; any item failed → failed.

    A failed item decides "failed" only once every required item is answered
    (a screener finishes the list before the decision counts). Items outside
    ``required`` (a reason deactivated since) are ignored.
    """
    wanted = list(dict.fromkeys(required))
    given = {item.reason_id: item for item in items if item.reason_id in wanted}
    failed = tuple(r for r in wanted if r in given and given[r].passed is False)
    unanswered = tuple(r for r in wanted if r not in given or given[r].passed is None)
    notes_missing = tuple(r for r in failed if not (given[r].note or "").strip())
    decision = None
    if not unanswered and wanted:
        decision = FAILED if failed else PASSED
    return Outcome(decision=decision, failed=failed, unanswered=unanswered, notes_missing=notes_missing)


def needs_confirmation(four_eyes: bool) -> bool:
    return four_eyes


def can_confirm(user_id: int, decided_by_id: int | None) -> bool:
    """A second screener confirms; the one who decided never confirms their own decision."""
    return decided_by_id is not None and user_id != decided_by_id


class AfterFailure(str, enum.Enum):
    CORRECTION = "correction"  # back to the Admin Lokal for the window
    FAIL = "fail"  # final


def after_failure(round_: int, correction_days: int) -> AfterFailure:
    """A first-round failure goes back for correction when the edition has a window; anything else is final."""
    return AfterFailure.CORRECTION if round_ == 1 and correction_days > 0 else AfterFailure.FAIL


def correction_due(now: dt.datetime, days: int) -> dt.datetime:
    return now + dt.timedelta(days=days)


def correction_open(due_at: dt.datetime | None, now: dt.datetime) -> bool:
    return due_at is not None and now < due_at


# --- claims ---------------------------------------------------------------------------------------


def claim_expires_at(claimed_at: dt.datetime, ttl: dt.timedelta = CLAIM_TTL) -> dt.datetime:
    return claimed_at + ttl


def claim_cutoff(now: dt.datetime, ttl: dt.timedelta = CLAIM_TTL) -> dt.datetime:
    """Claims made before this moment have lapsed."""
    return now - ttl


def claim_holder(claimed_by_id: int | None, claimed_at: dt.datetime | None, now: dt.datetime,
                 ttl: dt.timedelta = CLAIM_TTL) -> int | None:
    """Who holds the claim now (None: nobody, or the claim lapsed)."""
    if claimed_by_id is None or claimed_at is None:
        return None
    return claimed_by_id if claimed_at > claim_cutoff(now, ttl) else None


def may_take(user_id: int, claimed_by_id: int | None, claimed_at: dt.datetime | None, now: dt.datetime,
             ttl: dt.timedelta = CLAIM_TTL) -> bool:
    """A proposal is free for ``user_id`` when nobody else holds a live claim on it."""
    holder = claim_holder(claimed_by_id, claimed_at, now, ttl)
    return holder is None or holder == user_id


class QueueState(str, enum.Enum):
    UNCLAIMED = "unclaimed"  # waiting for a screener
    MINE = "mine"  # I hold the claim
    CLAIMED = "claimed"  # someone else holds it
    AWAITING = "awaiting"  # decided, waiting for a second screener's confirmation
    DECIDED = "decided"  # final


def queue_state(*, user_id: int, pending: bool, decision: str | None, claimed_by_id: int | None,
                claimed_at: dt.datetime | None, now: dt.datetime) -> QueueState:
    """Where one proposal stands for ``user_id``. ``pending``: still submitted (not finally decided)."""
    if not pending:
        return QueueState.DECIDED
    holder = claim_holder(claimed_by_id, claimed_at, now)
    if holder is not None:
        return QueueState.MINE if holder == user_id else QueueState.CLAIMED
    if decision is not None:
        return QueueState.AWAITING
    return QueueState.UNCLAIMED


# --- previous / next --------------------------------------------------------------------------------

K = TypeVar("K")


def sort_key(number: str | None, proposal_id: int) -> tuple[str, int]:
    """The queue's order: by proposal number (submission order within a group), then id."""
    return (number or "", proposal_id)


def neighbours(keys: Sequence[K], current: Any) -> tuple[K | None, K | None]:
    """The entries just before and just after ``current`` in the sorted ``keys``.

    ``current`` need not be in ``keys`` (it may have left the filtered queue
    after being decided): its place is where it would sort.
    """
    previous = next_ = None
    for key in keys:
        if key < current:  # type: ignore[operator]
            previous = key
        elif key > current and next_ is None:  # type: ignore[operator]
            next_ = key
    return previous, next_


# --- announcements --------------------------------------------------------------------------------


def announcement_number_problem(number: str) -> str | None:
    """None for an acceptable announcement number, else a problem code.

    Official letter numbers (B/187/PP.00.05/2022) vary in form from year to
    year, so only emptiness, length and line breaks are refused.
    """
    value = number.strip()
    if not value:
        return "empty"
    if len(value) > 80:
        return "too_long"
    if any(ch in value for ch in "\r\n\t"):
        return "format"
    return None
