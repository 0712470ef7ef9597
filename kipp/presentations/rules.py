"""Pure rules of the presentation schedule (no database, no Flask): the generator's arithmetic,
the confirmation deadline and the links the agencies give.

Times are aware datetimes in UTC in and out; days and hours of the working day are read in WIB,
the competition's time zone, so a 06:00 WIB start on a Monday is still a Monday (in UTC it is
Sunday evening) and a weekend is a WIB weekend.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Iterable, Sequence
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")
URL_MAX = 500
# The generator looks this many days ahead at most before it gives up.
MAX_SCHEDULE_DAYS = 366
# Generated slots start on a round minute of this many minutes (e.g. 08:00, 08:05, 08:10).
ROUND_MINUTES = 5
MAX_SLOT_MINUTES = 240
MAX_BREAK_MINUTES = 240


@dataclass(frozen=True)
class DayPlan:
    """How the generator lays slots out: from ``first_day`` on, each day from ``day_start`` to
    ``day_end`` (WIB), ``break_minutes`` between two slots, weekends skipped or not."""

    first_day: dt.date
    day_start: dt.time
    day_end: dt.time
    presentation_minutes: int
    interview_minutes: int
    break_minutes: int = 0
    skip_weekends: bool = True

    @property
    def slot_minutes(self) -> int:
        return self.presentation_minutes + self.interview_minutes


class ScheduleProblem(ValueError):
    """The plan cannot give the slots asked for; ``code`` says why (the caller words it)."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def wib_moment(day: dt.date, time: dt.time) -> dt.datetime:
    """A WIB date and time of day as an aware UTC datetime."""
    return dt.datetime.combine(day, time, tzinfo=WIB).astimezone(dt.timezone.utc)


def wib_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(WIB).date()


def round_up(moment: dt.datetime, minutes: int = ROUND_MINUTES) -> dt.datetime:
    """The first moment at or after ``moment`` on a whole multiple of ``minutes`` (WIB is a whole
    number of hours from UTC, so rounding in UTC rounds the WIB clock too)."""
    step = minutes * 60
    seconds = moment.timestamp()
    return dt.datetime.fromtimestamp(math.ceil(seconds / step) * step, tz=dt.timezone.utc)


def plan_problem(plan: DayPlan) -> str | None:
    """A code for a plan that cannot work, or None."""
    if plan.presentation_minutes < 1 or plan.interview_minutes < 0:
        return "lengths"
    if plan.slot_minutes > MAX_SLOT_MINUTES:
        return "too_long"
    if not 0 <= plan.break_minutes <= MAX_BREAK_MINUTES:
        return "break"
    if plan.day_end <= plan.day_start:
        return "day_order"
    if wib_moment(plan.first_day, plan.day_start) + dt.timedelta(minutes=plan.slot_minutes) > wib_moment(
            plan.first_day, plan.day_end):
        return "day_too_short"
    return None


def overlaps(start: dt.datetime, end: dt.datetime, busy: Iterable[tuple[dt.datetime, dt.datetime]]) -> \
        tuple[dt.datetime, dt.datetime] | None:
    """The first busy interval that [start, end) overlaps, or None."""
    for busy_start, busy_end in sorted(busy):
        if start < busy_end and busy_start < end:
            return busy_start, busy_end
    return None


def generate_starts(count: int, plan: DayPlan, *, earliest: dt.datetime,
                    busy: Sequence[tuple[dt.datetime, dt.datetime]] = ()) -> list[dt.datetime]:
    """``count`` start times (UTC) laid out by ``plan``: none before ``earliest``, none overlapping
    a ``busy`` interval (other slots) nor closer to one than the break, every slot ending by the
    day's end, the days counted in WIB. Raises ScheduleProblem when it cannot."""
    problem = plan_problem(plan)
    if problem:
        raise ScheduleProblem(problem)
    if count <= 0:
        return []
    length = dt.timedelta(minutes=plan.slot_minutes)
    gap = dt.timedelta(minutes=plan.break_minutes)
    # A busy interval widened by the break on both sides keeps the break around other slots.
    blocked = sorted((s - gap, e + gap) for s, e in busy)
    day = max(plan.first_day, wib_date(earliest))
    last_day = day + dt.timedelta(days=MAX_SCHEDULE_DAYS)
    starts: list[dt.datetime] = []
    while len(starts) < count:
        if day > last_day:
            raise ScheduleProblem("no_room", placed=len(starts), count=count, days=MAX_SCHEDULE_DAYS)
        if plan.skip_weekends and day.weekday() >= 5:
            day += dt.timedelta(days=1)
            continue
        cursor = wib_moment(day, plan.day_start)
        day_end = wib_moment(day, plan.day_end)
        if cursor < earliest:
            cursor = round_up(earliest)
        while len(starts) < count and cursor + length <= day_end:
            clash = overlaps(cursor, cursor + length, blocked)
            if clash is not None:
                cursor = round_up(clash[1])
                continue
            starts.append(cursor)
            cursor = cursor + length + gap
        day += dt.timedelta(days=1)
    return starts


def confirmation_deadline(starts_at: dt.datetime, confirm_hours: int) -> dt.datetime:
    """The last moment the Admin Lokal may confirm attendance (kipp-domain §1: 24 hours ahead in 2020)."""
    return starts_at - dt.timedelta(hours=confirm_hours)


def may_confirm(now: dt.datetime, starts_at: dt.datetime, confirm_hours: int) -> bool:
    return now <= confirmation_deadline(starts_at, confirm_hours)


def earliest_start(now: dt.datetime, confirm_hours: int) -> dt.datetime:
    """The soonest a slot may start so that its agency still has time to confirm."""
    return now + dt.timedelta(hours=confirm_hours)


def link_problem(url: str | None) -> str | None:
    """None for an acceptable link (http or https, with a host name), else a problem code."""
    text = (url or "").strip()
    if not text:
        return "missing"
    if len(text) > URL_MAX:
        return "too_long"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or "." not in parts.hostname:
        return "not_a_link"
    if any(c.isspace() for c in text):
        return "not_a_link"
    return None
