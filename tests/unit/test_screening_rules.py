"""The pure rules of administrative screening: decisions, claims, the queue's order, the correction window."""

from __future__ import annotations

import datetime as dt

import pytest

from kipp.screening import rules
from kipp.screening.defaults import DEFAULT_REASONS
from kipp.screening.rules import AfterFailure, Item, QueueState

pytestmark = pytest.mark.unit

NOW = dt.datetime(2031, 4, 20, 3, 0, tzinfo=dt.timezone.utc)
REQUIRED = [1, 2, 3]


def test_every_item_passed_is_a_pass():
    result = rules.outcome([Item(1, True), Item(2, True), Item(3, True)], REQUIRED)
    assert result.decision == rules.PASSED
    assert result.failed == ()
    assert result.valid


def test_one_failed_item_with_a_note_is_a_failure():
    result = rules.outcome([Item(1, True), Item(2, False, "SK inovator tidak ada"), Item(3, True)], REQUIRED)
    assert result.decision == rules.FAILED
    assert result.failed == (2,)
    assert result.valid


def test_a_failed_item_needs_a_note():
    result = rules.outcome([Item(1, True), Item(2, False, "  "), Item(3, False, None)], REQUIRED)
    assert result.notes_missing == (2, 3)
    assert not result.valid


def test_no_decision_until_every_item_is_answered():
    result = rules.outcome([Item(1, False, "judul ganda"), Item(2, None)], REQUIRED)
    assert result.decision is None
    assert result.unanswered == (2, 3)
    assert result.failed == (1,)


def test_items_outside_the_checklist_are_ignored():
    result = rules.outcome([Item(1, True), Item(2, True), Item(3, True), Item(9, False, "old reason")], REQUIRED)
    assert result.decision == rules.PASSED


def test_an_empty_checklist_decides_nothing():
    assert rules.outcome([], []).decision is None


def test_the_one_who_decided_cannot_confirm():
    assert not rules.can_confirm(7, 7)
    assert rules.can_confirm(8, 7)
    assert not rules.can_confirm(8, None)


@pytest.mark.parametrize(("round_", "days", "expected"), [
    (1, 7, AfterFailure.CORRECTION),
    (1, 0, AfterFailure.FAIL),
    (2, 7, AfterFailure.FAIL),
])
def test_a_failure_goes_to_correction_only_in_round_one_with_a_window(round_, days, expected):
    assert rules.after_failure(round_, days) is expected


def test_the_correction_window():
    due = rules.correction_due(NOW, 5)
    assert due == NOW + dt.timedelta(days=5)
    assert rules.correction_open(due, NOW)
    assert not rules.correction_open(due, due)
    assert not rules.correction_open(None, NOW)


def test_a_claim_lapses_after_its_time_without_activity():
    fresh = NOW - rules.CLAIM_TTL + dt.timedelta(seconds=1)
    stale = NOW - rules.CLAIM_TTL
    assert rules.claim_holder(5, fresh, NOW) == 5
    assert rules.claim_holder(5, stale, NOW) is None
    assert rules.claim_holder(None, None, NOW) is None
    assert rules.claim_expires_at(NOW) == NOW + dt.timedelta(minutes=30)


def test_who_may_take_a_proposal():
    live = NOW - dt.timedelta(minutes=5)
    assert rules.may_take(5, 5, live, NOW)  # one's own claim
    assert not rules.may_take(6, 5, live, NOW)  # another's live claim
    assert rules.may_take(6, 5, NOW - dt.timedelta(hours=1), NOW)  # lapsed
    assert rules.may_take(6, None, None, NOW)


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"pending": False, "decision": "passed", "claimed_by_id": None}, QueueState.DECIDED),
    ({"pending": True, "decision": None, "claimed_by_id": None}, QueueState.UNCLAIMED),
    ({"pending": True, "decision": None, "claimed_by_id": 1}, QueueState.MINE),
    ({"pending": True, "decision": None, "claimed_by_id": 2}, QueueState.CLAIMED),
    ({"pending": True, "decision": "failed", "claimed_by_id": None}, QueueState.AWAITING),
])
def test_queue_state(kwargs, expected):
    claimed_at = NOW - dt.timedelta(minutes=1) if kwargs["claimed_by_id"] else None
    assert rules.queue_state(user_id=1, claimed_at=claimed_at, now=NOW, **kwargs) is expected


def test_a_lapsed_claim_is_unclaimed_in_the_queue():
    state = rules.queue_state(user_id=1, pending=True, decision=None, claimed_by_id=2,
                              claimed_at=NOW - dt.timedelta(hours=2), now=NOW)
    assert state is QueueState.UNCLAIMED


def test_previous_and_next_follow_the_queue_order():
    keys = sorted([rules.sort_key("2031-U-00003", 3), rules.sort_key("2031-U-00001", 1),
                   rules.sort_key("2031-K-00009", 9), rules.sort_key("2031-U-00007", 7)])
    assert [k[1] for k in keys] == [9, 1, 3, 7]
    assert rules.neighbours(keys, rules.sort_key("2031-U-00001", 1)) == (keys[0], keys[2])
    assert rules.neighbours(keys, keys[0]) == (None, keys[1])
    assert rules.neighbours(keys, keys[-1]) == (keys[-2], None)


def test_previous_and_next_of_a_proposal_that_left_the_filtered_queue():
    keys = [rules.sort_key("2031-U-00001", 1), rules.sort_key("2031-U-00005", 5)]
    # Proposal 3 was just decided and is no longer in the "unclaimed" queue: its place is kept.
    assert rules.neighbours(keys, rules.sort_key("2031-U-00003", 3)) == (keys[0], keys[1])
    assert rules.neighbours([], rules.sort_key("2031-U-00003", 3)) == (None, None)


@pytest.mark.parametrize(("number", "problem"), [
    ("B/187/PP.00.05/2022", None),
    ("  ", "empty"),
    ("B/" + "1" * 90, "too_long"),
    ("B/187\n/2022", "format"),
])
def test_announcement_numbers(number, problem):
    assert rules.announcement_number_problem(number) == problem


def test_the_default_checklist_is_the_eight_reasons_of_the_domain_facts():
    assert [r.code for r in DEFAULT_REASONS] == [f"A{i}" for i in range(1, 9)]
    assert all(r.title_id and r.title_en and r.guidance_id and r.guidance_en for r in DEFAULT_REASONS)
