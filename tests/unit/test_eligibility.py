"""Eligibility of an innovation for a group (kipp.innovations.rules): pure, no app, no database."""

from __future__ import annotations

import datetime as dt

import pytest

from kipp.editions.kinds import GroupCode
from kipp.innovations import rules
from kipp.innovations.kinds import AwardTier

pytestmark = pytest.mark.unit

D = dt.date
T99, T45, OA = AwardTier.TOP_99, AwardTier.TOP_45, AwardTier.OUTSTANDING
FK, T15R, T5R = AwardTier.FINALIST_KHUSUS, AwardTier.TOP_15_REPLIKASI, AwardTier.TOP_5_REPLIKASI
CLOSING = D(2027, 5, 6)
OLD = D(2020, 1, 1)  # old enough for any group


def facts(group: GroupCode = GroupCode.UMUM, **kwargs: object) -> rules.EligibilityFacts:
    values: dict[str, object] = {"start_date": OLD, "closing_date": CLOSING, "min_age_months": 24}
    values.update(kwargs)
    return rules.EligibilityFacts(group=group, **values)  # type: ignore[arg-type]


# --- month arithmetic ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 1, 15), 0, D(2026, 1, 15)),
        (D(2026, 1, 15), 1, D(2026, 2, 15)),
        (D(2026, 8, 31), 6, D(2027, 2, 28)),   # month end into a short February
        (D(2027, 8, 31), 6, D(2028, 2, 29)),   # ... a leap February
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2026, 3, 31), 1, D(2026, 4, 30)),
        (D(2026, 1, 30), 1, D(2026, 2, 28)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),  # a leap day a year on
        (D(2024, 2, 29), 48, D(2028, 2, 29)),
        (D(2026, 11, 30), 3, D(2027, 2, 28)),
        (D(2026, 12, 15), 1, D(2027, 1, 15)),  # across the year
        (D(2025, 5, 6), 24, D(2027, 5, 6)),
        (D(2027, 3, 31), -1, D(2027, 2, 28)),  # backwards
        (D(2027, 1, 15), -1, D(2026, 12, 15)),
        (D(2027, 5, 6), -24, D(2025, 5, 6)),
    ],
)
def test_add_months(day: dt.date, months: int, expected: dt.date) -> None:
    assert rules.add_months(day, months) == expected


@pytest.mark.parametrize(
    ("start", "closing", "months", "old_enough"),
    [
        (D(2025, 5, 6), D(2027, 5, 6), 24, True),     # exactly 24 months on the closing day
        (D(2025, 5, 7), D(2027, 5, 6), 24, False),    # one day short
        (D(2026, 1, 1), D(2027, 5, 6), 24, False),
        (D(2026, 8, 31), D(2027, 2, 28), 6, True),    # 31 Aug + 6 months = 28 Feb
        (D(2026, 8, 31), D(2027, 2, 27), 6, False),
        (D(2026, 8, 30), D(2027, 2, 28), 6, True),
        (D(2026, 9, 1), D(2027, 2, 28), 6, False),
        (D(2027, 8, 31), D(2028, 2, 29), 6, True),    # leap year
        (D(2027, 8, 31), D(2028, 2, 28), 6, False),
        (D(2025, 2, 28), D(2026, 2, 28), 12, True),
        (D(2024, 2, 29), D(2025, 2, 28), 12, True),   # a leap-day start is a year old on 28 Feb
        (D(2027, 5, 6), D(2027, 5, 6), 0, True),      # no minimum age
        (D(2027, 5, 7), D(2027, 5, 6), 0, False),     # ... but not started yet
    ],
)
def test_is_old_enough(start: dt.date, closing: dt.date, months: int, old_enough: bool) -> None:
    assert rules.is_old_enough(start, closing, months) is old_enough


@pytest.mark.parametrize(
    ("closing", "months", "latest"),
    [
        (D(2027, 5, 6), 24, D(2025, 5, 6)),
        (D(2027, 2, 28), 6, D(2026, 8, 31)),   # closing on a month end: the earlier month's end
        (D(2028, 2, 29), 6, D(2027, 8, 31)),
        (D(2027, 4, 30), 2, D(2027, 2, 28)),
        (D(2027, 4, 29), 2, D(2027, 2, 28)),   # 29 Feb 2027 does not exist
        (D(2027, 3, 30), 1, D(2027, 2, 28)),
        (D(2027, 3, 31), 1, D(2027, 2, 28)),
        (D(2027, 5, 6), 0, D(2027, 5, 6)),
    ],
)
def test_latest_start_date(closing: dt.date, months: int, latest: dt.date) -> None:
    assert rules.latest_start_date(closing, months) == latest


@pytest.mark.parametrize("months", [1, 2, 6, 12, 24])
@pytest.mark.parametrize("closing", [D(2027, 2, 28), D(2028, 2, 29), D(2027, 3, 30), D(2027, 3, 31),
                                     D(2027, 5, 6), D(2027, 12, 31), D(2027, 1, 31)])
def test_latest_start_date_is_the_exact_boundary(closing: dt.date, months: int) -> None:
    """Every start up to the latest date is old enough; every later one is not."""
    latest = rules.latest_start_date(closing, months)
    day = closing - dt.timedelta(days=800)
    while day <= closing:
        assert rules.is_old_enough(day, closing, months) is (day <= latest), day
        day += dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("start", "problem"),
    [(None, "start_date_missing"), (D(2026, 1, 1), "too_young"), (D(2025, 5, 7), "too_young"),
     (D(2025, 5, 6), None), (OLD, None)],
)
@pytest.mark.parametrize("group", list(GroupCode))
def test_age_applies_to_every_group(group: GroupCode, start: dt.date | None, problem: str | None) -> None:
    problems = rules.check(facts(group, start_date=start, has_khusus_invitation=True, awards=[(2019, T45)],
                                 replicated_awards=[(2019, T99)]))
    age_codes = {"start_date_missing", "too_young"}
    assert [p for p in problems if p in age_codes] == ([problem] if problem else [])


def test_group_minimum_age_is_used() -> None:
    young = D(2026, 3, 1)
    assert rules.check(facts(GroupCode.REPLIKASI, start_date=young, min_age_months=12,
                             replicated_awards=[(2019, T99)])) == []
    assert rules.check(facts(GroupCode.REPLIKASI, start_date=young, min_age_months=24,
                             replicated_awards=[(2019, T99)])) == ["too_young"]


# --- umum ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("awards", "expected"),
    [
        ([], []),
        ([(2019, T99)], []),                                      # once Top 99: may try again
        ([(2019, T99), (2019, T99)], []),                         # the same year twice is one year
        ([(2018, T99), (2021, T99)], ["top99_twice"]),
        ([(2019, T99), (2019, T45)], ["already_winner"]),         # Top 45 is a winner
        ([(2018, T99), (2019, T99), (2019, T45)], ["already_winner", "top99_twice"]),
        ([(2018, T99), (2019, T45)], ["already_winner", "top99_twice"]),  # Top 45 implies Top 99 that year
        ([(2019, T45)], ["already_winner"]),
        ([(2021, OA)], ["already_winner"]),
        ([(2021, T5R)], ["already_winner"]),
        ([(2021, T15R)], []),                                     # a replikasi finalist did not win
        ([(2020, FK)], []),
        ([(2020, FK), (2022, FK)], []),                           # khusus finalist years are not Top 99 years
        ([(2018, T99), (2020, FK)], []),
    ],
)
def test_umum(awards: list[tuple[int, AwardTier]], expected: list[str]) -> None:
    assert rules.check(facts(GroupCode.UMUM, awards=awards)) == expected


def test_top99_years_counts_top45_years() -> None:
    assert rules.top99_years([(2019, T45), (2018, T99), (2019, T99), (2021, FK)]) == [2018, 2019]


def test_umum_ignores_invitations_and_replication() -> None:
    assert rules.check(facts(GroupCode.UMUM, has_khusus_invitation=True, replicated_awards=[])) == []


# --- khusus ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("awards", "invited", "expected"),
    [
        ([(2019, T99), (2019, T45)], True, []),
        ([(2019, T45)], True, []),
        ([(2019, T45), (2020, FK)], True, []),                    # one khusus final: may try again
        ([(2019, T45)], False, ["khusus_needs_invitation"]),
        ([], True, ["khusus_needs_top45"]),
        ([(2018, T99), (2019, T99)], True, ["khusus_needs_top45"]),
        ([(2021, T5R)], True, ["khusus_needs_top45"]),            # Top 5 replikasi is not a Top 45
        ([(2019, T45), (2021, OA)], True, ["khusus_already_outstanding"]),
        ([(2019, T45), (2020, FK), (2022, FK)], True, ["khusus_finalist_twice"]),
        ([(2019, T45), (2020, FK), (2021, OA)], True, ["khusus_already_outstanding", "khusus_finalist_twice"]),
        ([(2019, T45), (2020, FK), (2020, FK)], True, []),        # the same year counts once
        ([], False, ["khusus_needs_top45", "khusus_needs_invitation"]),
    ],
)
def test_khusus(awards: list[tuple[int, AwardTier]], invited: bool, expected: list[str]) -> None:
    assert rules.check(facts(GroupCode.KHUSUS, awards=awards, has_khusus_invitation=invited)) == expected


@pytest.mark.parametrize(
    ("awards", "may"),
    [([(2019, T45)], True), ([(2019, T99)], False), ([(2019, T45), (2022, OA)], False),
     ([(2019, T45), (2020, FK), (2023, FK)], False), ([(2019, T45), (2020, FK)], True), ([], False)],
)
def test_may_be_invited_to_khusus(awards: list[tuple[int, AwardTier]], may: bool) -> None:
    assert rules.may_be_invited_to_khusus(awards) is may


# --- replikasi -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"replicated_awards": [(2019, T99)]}, []),
        ({"replicated_awards": [(2019, T45)]}, []),
        ({"replicated_awards": [(2020, FK)]}, []),
        ({"replicated_awards": [(2021, T15R)]}, []),
        ({"replicated_awards": None}, ["replikasi_needs_source"]),
        ({"replicated_awards": []}, ["replikasi_source_not_top"]),
        ({"replicated_awards": [(2019, T99)], "innovation_id": 7, "replicated_id": 7},
         ["replikasi_same_innovation"]),
        ({"replicated_awards": [], "innovation_id": 7, "replicated_id": 7},
         ["replikasi_same_innovation", "replikasi_source_not_top"]),
        ({"replicated_awards": [(2019, T99)], "innovation_id": 7, "replicated_id": 8}, []),
        ({"replicated_awards": [(2019, T99)], "innovation_id": None, "replicated_id": 8}, []),  # a new innovation
        ({"replicated_awards": [(2019, T99)], "awards": [(2018, T45)]}, []),  # its own history does not matter
    ],
)
def test_replikasi(kwargs: dict[str, object], expected: list[str]) -> None:
    assert rules.check(facts(GroupCode.REPLIKASI, **kwargs)) == expected


def test_group_code_may_be_given_as_text() -> None:
    assert rules.check(facts("khusus", awards=[(2019, T45)], has_khusus_invitation=True)) == []  # type: ignore[arg-type]


def test_all_problems_are_reported_together() -> None:
    assert rules.check(facts(GroupCode.UMUM, start_date=None, awards=[(2018, T99), (2019, T45)])) == [
        "start_date_missing", "already_winner", "top99_twice"]
    assert set(rules.PROBLEM_CODES) >= set(rules.check(facts(GroupCode.KHUSUS, start_date=D(2027, 1, 1))))


# --- numbers for the messages ----------------------------------------------------------------


def test_problem_params_name_the_numbers() -> None:
    young = facts(GroupCode.UMUM, start_date=D(2026, 1, 1))
    assert rules.problem_params("too_young", young) == {
        "months": 24, "closing": CLOSING, "start": D(2026, 1, 1), "latest": D(2025, 5, 6)}
    history = facts(GroupCode.UMUM, awards=[(2021, OA), (2018, T99), (2019, T45), (2019, T99)])
    assert rules.problem_params("already_winner", history) == {"awards": [(2019, T45), (2021, OA)]}
    assert rules.problem_params("top99_twice", history) == {"years": [2018, 2019], "max": 2}
    khusus = facts(GroupCode.KHUSUS, awards=[(2019, T45), (2020, FK), (2022, OA)])
    assert rules.problem_params("khusus_already_outstanding", khusus) == {"years": [2022]}
    assert rules.problem_params("khusus_finalist_twice", khusus) == {"years": [2020, 2022], "max": 2}
    assert rules.problem_params("khusus_needs_invitation", khusus) == {}
