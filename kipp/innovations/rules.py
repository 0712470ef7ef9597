"""Eligibility of an innovation for a competition group (a leaf module: no Flask, no database).

kipp-domain §2. Plain facts in (:class:`EligibilityFacts`), a list of stable
problem *codes* out (:func:`check`); an empty list means the innovation may be
submitted in the group. :func:`problem_params` gives the numbers a message about
a code needs (months, dates, years, tiers); ``kipp.innovations.services.
eligibility_message`` turns code and numbers into a translated sentence.

The rules:

- age (every group): the innovation is at least the group's ``min_age_months``
  old on the closing date of the submission stage: start date + N months <=
  closing date, where adding months keeps the day and falls back to the last
  day of a shorter month (31 Aug + 6 months = 28 or 29 Feb).
- umum: never a winner (Top 45/Top Terpuji, Outstanding Achievement, Top 5
  replikasi), and not Top 99 in two different years (a Top 45 year counts as a
  Top 99 year: the Top 45 are chosen from the Top 99).
- khusus: an earlier Top 45; never Outstanding Achievement; not a khusus
  finalist in two different years (an Outstanding year counts as a finalist
  year); and invited by the secretariat for this edition.
- replikasi: names the replicated innovation, which has some award (a past Top
  innovation) and is not the innovation itself.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kipp.editions.kinds import GroupCode
from kipp.innovations.kinds import WINNER_TIERS, AwardTier

# Problem codes, in the order ``check`` reports them.
START_DATE_MISSING = "start_date_missing"
TOO_YOUNG = "too_young"
ALREADY_WINNER = "already_winner"
TOP99_TWICE = "top99_twice"
KHUSUS_NEEDS_TOP45 = "khusus_needs_top45"
KHUSUS_ALREADY_OUTSTANDING = "khusus_already_outstanding"
KHUSUS_FINALIST_TWICE = "khusus_finalist_twice"
KHUSUS_NEEDS_INVITATION = "khusus_needs_invitation"
REPLIKASI_NEEDS_SOURCE = "replikasi_needs_source"
REPLIKASI_SOURCE_NOT_TOP = "replikasi_source_not_top"
REPLIKASI_SAME_INNOVATION = "replikasi_same_innovation"

PROBLEM_CODES = (
    START_DATE_MISSING, TOO_YOUNG, ALREADY_WINNER, TOP99_TWICE, KHUSUS_NEEDS_TOP45, KHUSUS_ALREADY_OUTSTANDING,
    KHUSUS_FINALIST_TWICE, KHUSUS_NEEDS_INVITATION, REPLIKASI_NEEDS_SOURCE, REPLIKASI_SOURCE_NOT_TOP,
    REPLIKASI_SAME_INNOVATION,
)

# Reaching Top 99 this many times (in different years) closes kelompok umum.
UMUM_MAX_TOP99_YEARS = 2
# Being a khusus finalist this many times (in different years) closes kelompok khusus.
KHUSUS_MAX_FINALIST_YEARS = 2

# A year in which an innovation held one of these tiers was a Top 99 year.
_TOP99_YEAR_TIERS = frozenset({AwardTier.TOP_99, AwardTier.TOP_45})
# ... and a year with one of these, a kelompok khusus finalist year.
_KHUSUS_FINALIST_YEAR_TIERS = frozenset({AwardTier.FINALIST_KHUSUS, AwardTier.OUTSTANDING})

AwardLine = tuple[int, AwardTier]


@dataclass(frozen=True)
class EligibilityFacts:
    """Everything the rules look at, for one innovation in one group of one edition.

    ``awards`` and ``replicated_awards`` are (year, tier) pairs; ``replicated_awards``
    None means no replicated innovation is named. The ids only serve to tell
    whether a replication names the innovation itself (None: not known yet).
    """

    group: GroupCode
    start_date: dt.date | None
    closing_date: dt.date
    min_age_months: int
    awards: Sequence[AwardLine] = ()
    has_khusus_invitation: bool = False
    replicated_awards: Sequence[AwardLine] | None = None
    innovation_id: int | None = None
    replicated_id: int | None = None


# --- dates -----------------------------------------------------------------------------------


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` (may be negative), keeping the day of the month where it
    exists and taking the month's last day where it does not (31 Aug + 6 = 28/29 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, _last_day(year, month)))


def is_old_enough(start_date: dt.date, closing_date: dt.date, min_age_months: int) -> bool:
    """At least ``min_age_months`` old on ``closing_date`` (the day itself counts)."""
    return add_months(start_date, min_age_months) <= closing_date


def latest_start_date(closing_date: dt.date, min_age_months: int) -> dt.date:
    """The last start date that is old enough on ``closing_date``.

    The inverse of :func:`add_months` under its month-end rule: with a closing
    date on the last day of a month, every start date up to the last day of the
    month N months earlier is old enough (31 Aug + 6 months = 28 Feb).
    """
    earlier = add_months(closing_date, -min_age_months)
    if closing_date.day == _last_day(closing_date.year, closing_date.month):
        return earlier.replace(day=_last_day(earlier.year, earlier.month))
    return earlier


def age_problem(start_date: dt.date | None, closing_date: dt.date, min_age_months: int) -> str | None:
    if start_date is None:
        return START_DATE_MISSING
    if not is_old_enough(start_date, closing_date, min_age_months):
        return TOO_YOUNG
    return None


# --- award history ---------------------------------------------------------------------------


def _years_with(awards: Iterable[AwardLine], tiers: frozenset[AwardTier]) -> list[int]:
    return sorted({year for year, tier in awards if tier in tiers})


def top99_years(awards: Iterable[AwardLine]) -> list[int]:
    """The distinct years in which the innovation reached Top 99 (Top 45 included)."""
    return _years_with(awards, _TOP99_YEAR_TIERS)


def khusus_finalist_years(awards: Iterable[AwardLine]) -> list[int]:
    """The distinct years in which the innovation was a kelompok khusus finalist (OA included)."""
    return _years_with(awards, _KHUSUS_FINALIST_YEAR_TIERS)


def winner_awards(awards: Iterable[AwardLine]) -> list[AwardLine]:
    return sorted({(year, tier) for year, tier in awards if tier in WINNER_TIERS}, key=_award_order)


def _award_order(line: AwardLine) -> tuple[int, str]:
    return line[0], line[1].value


def has_tier(awards: Iterable[AwardLine], tier: AwardTier) -> bool:
    return any(t is tier for _year, t in awards)


def umum_problems(awards: Sequence[AwardLine]) -> list[str]:
    problems = []
    if winner_awards(awards):
        problems.append(ALREADY_WINNER)
    if len(top99_years(awards)) >= UMUM_MAX_TOP99_YEARS:
        problems.append(TOP99_TWICE)
    return problems


def khusus_history_problems(awards: Sequence[AwardLine]) -> list[str]:
    """The khusus rules about the award history alone (the invitation aside)."""
    problems = []
    if not has_tier(awards, AwardTier.TOP_45):
        problems.append(KHUSUS_NEEDS_TOP45)
    if has_tier(awards, AwardTier.OUTSTANDING):
        problems.append(KHUSUS_ALREADY_OUTSTANDING)
    if len(khusus_finalist_years(awards)) >= KHUSUS_MAX_FINALIST_YEARS:
        problems.append(KHUSUS_FINALIST_TWICE)
    return problems


def may_be_invited_to_khusus(awards: Sequence[AwardLine]) -> bool:
    """An earlier Top 45 that has not won OA nor been a khusus finalist twice."""
    return not khusus_history_problems(awards)


def replikasi_problems(
    replicated_awards: Sequence[AwardLine] | None,
    *,
    innovation_id: int | None = None,
    replicated_id: int | None = None,
) -> list[str]:
    if replicated_awards is None:
        return [REPLIKASI_NEEDS_SOURCE]
    problems = []
    if innovation_id is not None and innovation_id == replicated_id:
        problems.append(REPLIKASI_SAME_INNOVATION)
    if not replicated_awards:
        problems.append(REPLIKASI_SOURCE_NOT_TOP)
    return problems


def check(facts: EligibilityFacts) -> list[str]:
    """Every reason the innovation may not be submitted in the group; [] when it may."""
    problems: list[str] = []
    age = age_problem(facts.start_date, facts.closing_date, facts.min_age_months)
    if age:
        problems.append(age)
    group = GroupCode(facts.group)
    if group is GroupCode.UMUM:
        problems += umum_problems(facts.awards)
    elif group is GroupCode.KHUSUS:
        problems += khusus_history_problems(facts.awards)
        if not facts.has_khusus_invitation:
            problems.append(KHUSUS_NEEDS_INVITATION)
    elif group is GroupCode.REPLIKASI:
        problems += replikasi_problems(
            facts.replicated_awards, innovation_id=facts.innovation_id, replicated_id=facts.replicated_id
        )
    return problems


def problem_params(code: str, facts: EligibilityFacts) -> dict[str, Any]:
    """The numbers a message about ``code`` names (dates as ``date``, tiers as ``AwardTier``)."""
    if code in (START_DATE_MISSING, TOO_YOUNG):
        return {
            "months": facts.min_age_months,
            "closing": facts.closing_date,
            "start": facts.start_date,
            "latest": latest_start_date(facts.closing_date, facts.min_age_months),
        }
    if code == ALREADY_WINNER:
        return {"awards": winner_awards(facts.awards)}
    if code == TOP99_TWICE:
        return {"years": top99_years(facts.awards), "max": UMUM_MAX_TOP99_YEARS}
    if code == KHUSUS_ALREADY_OUTSTANDING:
        return {"years": _years_with(facts.awards, frozenset({AwardTier.OUTSTANDING}))}
    if code == KHUSUS_FINALIST_TWICE:
        return {"years": khusus_finalist_years(facts.awards), "max": KHUSUS_MAX_FINALIST_YEARS}
    return {}
