"""The presentation schedule's arithmetic: slots laid out over WIB working days, the confirmation
deadline and the links, on hand-made times (WIB is UTC+7, with no daylight saving)."""

from __future__ import annotations

import datetime as dt

import pytest

from kipp.presentations import rules
from kipp.presentations.rules import DayPlan, ScheduleProblem, generate_starts

UTC = dt.timezone.utc
WIB = rules.WIB


def wib(year, month, day, hour, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=WIB).astimezone(UTC)


def as_wib(moments):
    return [m.astimezone(WIB).strftime("%a %d %H:%M") for m in moments]


# 2033-06-27 is a Monday.
MONDAY = dt.date(2033, 6, 27)


def plan(**changes):
    values = dict(first_day=MONDAY, day_start=dt.time(8, 0), day_end=dt.time(10, 0), presentation_minutes=7,
                  interview_minutes=13, break_minutes=10, skip_weekends=True)
    values.update(changes)
    return DayPlan(**values)


def test_slots_follow_each_other_with_the_break_and_end_by_the_day_end():
    # 20-minute slots with 10-minute breaks from 08:00: 08:00, 08:30, 09:00, 09:30 (ends 09:50); 10:00 would end
    # after the day's end, so the fifth goes to the next day.
    starts = generate_starts(5, plan(), earliest=wib(2033, 6, 1, 0))
    assert as_wib(starts) == ["Mon 27 08:00", "Mon 27 08:30", "Mon 27 09:00", "Mon 27 09:30", "Tue 28 08:00"]
    assert all(s.tzinfo is not None and s.utcoffset() == dt.timedelta(0) for s in starts)


def test_a_slot_that_ends_exactly_at_the_day_end_fits():
    starts = generate_starts(3, plan(day_end=dt.time(9, 20), break_minutes=10), earliest=wib(2033, 6, 1, 0))
    # 08:00-08:20, 08:30-08:50, 09:00-09:20 (exactly the end).
    assert as_wib(starts) == ["Mon 27 08:00", "Mon 27 08:30", "Mon 27 09:00"]


def test_weekends_are_wib_weekends_even_when_utc_is_on_another_day():
    # 06:00 WIB on Monday is 23:00 UTC on Sunday: still a working day. A Friday's last slot is
    # followed by Monday's first when weekends are skipped.
    early = plan(first_day=dt.date(2033, 7, 1), day_start=dt.time(6, 0), day_end=dt.time(6, 30),
                 break_minutes=0)  # 2033-07-01 is a Friday; one 20-minute slot a day
    starts = generate_starts(2, early, earliest=wib(2033, 6, 1, 0))
    assert as_wib(starts) == ["Fri 01 06:00", "Mon 04 06:00"]
    assert starts[1] == dt.datetime(2033, 7, 3, 23, 0, tzinfo=UTC)  # Sunday in UTC
    with_weekends = generate_starts(2, DayPlan(**{**early.__dict__, "skip_weekends": False}),
                                    earliest=wib(2033, 6, 1, 0))
    assert as_wib(with_weekends) == ["Fri 01 06:00", "Sat 02 06:00"]


def test_late_evening_wib_belongs_to_that_wib_day():
    # A working day 21:00-23:30 WIB runs from 14:00 to 16:30 UTC; days counted in WIB.
    late = plan(day_start=dt.time(21, 0), day_end=dt.time(23, 30), break_minutes=0)
    starts = generate_starts(8, late, earliest=wib(2033, 6, 1, 0))
    assert as_wib(starts) == ["Mon 27 21:00", "Mon 27 21:20", "Mon 27 21:40", "Mon 27 22:00", "Mon 27 22:20",
                              "Mon 27 22:40", "Mon 27 23:00", "Tue 28 21:00"]


def test_nothing_starts_before_the_earliest_moment_rounded_up():
    # The earliest allowed start is Monday 08:47:30 WIB (e.g. now + 24 hours): the first slot is at 08:50.
    earliest = wib(2033, 6, 27, 8, 47) + dt.timedelta(seconds=30)
    starts = generate_starts(3, plan(), earliest=earliest)
    assert as_wib(starts) == ["Mon 27 08:50", "Mon 27 09:20", "Tue 28 08:00"]


def test_a_first_day_in_the_past_starts_at_the_earliest_day():
    earliest = wib(2033, 6, 29, 12, 0)  # Wednesday noon, after that day's window
    starts = generate_starts(1, plan(first_day=dt.date(2033, 1, 3)), earliest=earliest)
    assert as_wib(starts) == ["Thu 30 08:00"]


def test_existing_slots_and_the_break_around_them_are_kept_free():
    busy = [(wib(2033, 6, 27, 8, 30), wib(2033, 6, 27, 8, 50))]
    starts = generate_starts(3, plan(), earliest=wib(2033, 6, 1, 0), busy=busy)
    # 08:00-08:20 fits (break until 08:30 is free); 08:30 is taken; after 08:50 + 10 minutes: 09:00, 09:30.
    assert as_wib(starts) == ["Mon 27 08:00", "Mon 27 09:00", "Mon 27 09:30"]


def test_plans_that_cannot_work_are_refused_with_a_reason():
    with pytest.raises(ScheduleProblem) as problem:
        generate_starts(1, plan(day_start=dt.time(10, 0), day_end=dt.time(9, 0)), earliest=wib(2033, 6, 1, 0))
    assert problem.value.code == "day_order"
    with pytest.raises(ScheduleProblem) as problem:
        generate_starts(1, plan(day_end=dt.time(8, 15)), earliest=wib(2033, 6, 1, 0))
    assert problem.value.code == "day_too_short"
    with pytest.raises(ScheduleProblem) as problem:
        generate_starts(1, plan(presentation_minutes=0), earliest=wib(2033, 6, 1, 0))
    assert problem.value.code == "lengths"
    with pytest.raises(ScheduleProblem) as problem:
        generate_starts(1, plan(break_minutes=-5), earliest=wib(2033, 6, 1, 0))
    assert problem.value.code == "break"
    assert generate_starts(0, plan(), earliest=wib(2033, 6, 1, 0)) == []


def test_a_schedule_that_does_not_fit_in_a_year_says_how_many_fit():
    one_a_day = plan(day_end=dt.time(8, 20))
    with pytest.raises(ScheduleProblem) as problem:
        generate_starts(400, one_a_day, earliest=wib(2033, 6, 1, 0))
    assert problem.value.code == "no_room"
    assert 0 < problem.value.params["placed"] < 400


def test_the_confirmation_deadline_is_hours_before_the_start():
    start = wib(2033, 6, 28, 9, 0)
    deadline = rules.confirmation_deadline(start, 24)
    assert deadline == wib(2033, 6, 27, 9, 0)
    assert rules.may_confirm(deadline, start, 24)
    assert not rules.may_confirm(deadline + dt.timedelta(seconds=1), start, 24)
    assert rules.earliest_start(wib(2033, 6, 26, 10, 0), 48) == wib(2033, 6, 28, 10, 0)


@pytest.mark.parametrize("url, problem", [
    ("https://zoom.us/j/123456", None),
    ("http://drive.google.com/file/d/abc", None),
    ("https://www.youtube.com/watch?v=abc", None),
    ("", "missing"),
    ("zoom.us/j/1", "not_a_link"),
    ("ftp://example.org/video", "not_a_link"),
    ("https://localhost/x", "not_a_link"),
    ("https://exa mple.org/x", "not_a_link"),
    ("https://example.org/" + "a" * 500, "too_long"),
])
def test_links(url, problem):
    assert rules.link_problem(url) == problem
