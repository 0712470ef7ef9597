"""Pure rules for edition settings (a leaf module: no Flask, no database).

Each check returns problem *codes*; the services turn them into translated
messages, and the unit tests check the codes.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Protocol

from kipp.editions.kinds import STAGE_ORDER, StageKind

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
KEY_MAX_LENGTH = 80
YEAR_MIN, YEAR_MAX = 2014, 2100
FULL_WEIGHT = Decimal("100")
WEIGHT_STEP = Decimal("0.01")


class _HasSections(Protocol):
    sections: Any


def key_problem(key: str) -> str | None:
    """A machine key (section key, category code, document key): lowercase letters, digits, underscore."""
    if not key:
        return "key_empty"
    if len(key) > KEY_MAX_LENGTH:
        return "key_too_long"
    if not KEY_PATTERN.match(key):
        return "key_format"
    return None


def year_problem(year: int) -> str | None:
    return None if YEAR_MIN <= year <= YEAR_MAX else "year_range"


def as_decimal(value: Any) -> Decimal | None:
    """A weight as typed or stored, as a Decimal; None when it is not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def weight_problem(weight: Any) -> str | None:
    """A section weight is a percentage from 0 to 100 with at most two decimals."""
    number = as_decimal(weight)
    if number is None:
        return "weight_not_number"
    if number < 0 or number > FULL_WEIGHT:
        return "weight_range"
    if number != number.quantize(WEIGHT_STEP):
        return "weight_precision"
    return None


def weight_total(weights: Iterable[Any]) -> Decimal:
    return sum((as_decimal(w) or Decimal("0") for w in weights), Decimal("0"))


def weight_problems(group_or_weights: _HasSections | Iterable[Any]) -> list[str]:
    """Warnings (not errors) about a group's section weights.

    Accepts a group (anything with ``sections`` whose items have ``weight``)
    or an iterable of weights. Codes: ``no_sections``, ``no_weight``,
    ``sum_not_100``. A form half-way through editing may break these, which is
    why they are warnings shown on the page and never block a save.
    """
    items = getattr(group_or_weights, "sections", group_or_weights)
    weights = [getattr(item, "weight", item) for item in items]
    if not weights:
        return ["no_sections"]
    total = weight_total(weights)
    if total == 0:
        return ["no_weight"]
    if total != FULL_WEIGHT:
        return ["sum_not_100"]
    return []


def tier_problems(nominees: int, finalists: int, winners: int) -> list[str]:
    """Tiers shrink: nominees >= finalists >= winners >= 0."""
    problems = []
    if min(nominees, finalists, winners) < 0:
        problems.append("tier_negative")
    if nominees < finalists:
        problems.append("nominees_below_finalists")
    if finalists < winners:
        problems.append("finalists_below_winners")
    return problems


def quota_problem(quota: int | None) -> str | None:
    """None (empty) means no quota; otherwise zero or more."""
    return "quota_negative" if quota is not None and quota < 0 else None


def min_age_problem(months: int) -> str | None:
    return "min_age_negative" if months < 0 else None


def word_limit_problem(limit: int | None) -> str | None:
    return "word_limit_not_positive" if limit is not None and limit <= 0 else None


def window_problem(opens_at: dt.datetime, closes_at: dt.datetime) -> str | None:
    return "closes_before_opens" if closes_at <= opens_at else None


def shift_years(value: dt.datetime, years: int) -> dt.datetime:
    """The same wall-clock time ``years`` later (or earlier); 29 February becomes 28 February."""
    target = value.year + years
    try:
        return value.replace(year=target)
    except ValueError:  # 29 February into a year that has none
        return value.replace(year=target, day=28)


def shift_window(opens_at: dt.datetime, closes_at: dt.datetime, years: int) -> tuple[dt.datetime, dt.datetime]:
    """Shift a stage window by whole years, keeping it a valid window.

    A window that ends on 29 February can otherwise collapse (opens 28 Feb
    10:00, closes 29 Feb 00:00 → closes 28 Feb 00:00); it then keeps its
    original length instead.
    """
    new_opens, new_closes = shift_years(opens_at, years), shift_years(closes_at, years)
    if new_closes <= new_opens:
        new_closes = new_opens + (closes_at - opens_at)
    return new_opens, new_closes


def stage_order_problems(stages: Iterable[Any]) -> list[StageKind]:
    """Stages that open before a stage that comes earlier in the KIPP order (a warning).

    ``stages`` are objects with ``kind`` and ``opens_at``.
    """
    ordered = sorted(stages, key=lambda s: STAGE_ORDER.index(s.kind))
    problems: list[StageKind] = []
    latest: dt.datetime | None = None
    for stage in ordered:
        if latest is not None and stage.opens_at < latest:
            problems.append(stage.kind)
        latest = stage.opens_at if latest is None else max(latest, stage.opens_at)
    return problems


def stage_status(opens_at: dt.datetime, closes_at: dt.datetime, now: dt.datetime) -> str:
    """``open``, ``closed`` or ``upcoming``; a window includes its opening and excludes its closing instant."""
    if now < opens_at:
        return "upcoming"
    if now >= closes_at:
        return "closed"
    return "open"


def group_codes_text(codes: Iterable[str]) -> str:
    """The stored form of a document's groups: sorted, comma-separated, empty for every group."""
    return ",".join(sorted({c.strip() for c in codes if c and c.strip()}))


def replace_year(text: str, old_year: int, new_year: int) -> str:
    """'Kompetisi … 2023' → 'Kompetisi … 2024', for the default name of a copy."""
    if str(old_year) in text:
        return text.replace(str(old_year), str(new_year))
    return f"{text} {new_year}".strip()
