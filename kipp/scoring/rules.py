"""The arithmetic of scoring, in one place (a leaf: no database, no Flask).

- A sheet's weighted total: sum(score x weight) / sum(weights), on the scheme's scale.
- A proposal's aggregate: the mean of its judges' totals, their population standard
  deviation and their spread (max - min); disagreement when the deviation exceeds
  the scheme's threshold.
- Normalisation (optional): a judge with at least N scored proposals has each total
  turned into a z-score against their own mean and deviation, then rescaled to the
  stage's pooled mean and deviation, clipped to the scale. Other judges keep raw totals.
- Ranking: by the chosen total (higher first), ties broken by the configured aspects'
  weighted means (higher first); proposals equal on all of them share a rank.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Hashable, Iterable, Mapping, Sequence

TWO_PLACES = Decimal("0.01")


def quantize(value: Decimal | float) -> Decimal:
    return Decimal(str(value)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Aspect:
    key: str
    weight: Decimal


@dataclass(frozen=True)
class Scale:
    low: int
    high: int

    def contains(self, value: Decimal) -> bool:
        return self.low <= value <= self.high

    def is_extreme(self, value: Decimal) -> bool:
        return value == self.low or value == self.high


def parse_score(text: object) -> Decimal | None:
    """A score as typed ("85", "85,5", "") or None when empty or not a number."""
    if text is None:
        return None
    cleaned = str(text).strip().replace(",", ".")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def weighted_total(values: Mapping[str, Decimal | None], aspects: Sequence[Aspect]) -> Decimal | None:
    """The sheet's total, or None while any weighted aspect is unscored."""
    total_weight = sum((a.weight for a in aspects), Decimal(0))
    if not aspects or total_weight <= 0:
        return None
    acc = Decimal(0)
    for aspect in aspects:
        value = values.get(aspect.key)
        if value is None:
            return None
        acc += value * aspect.weight
    return quantize(acc / total_weight)


def weighted_part(value: Decimal, aspect: Aspect, aspects: Sequence[Aspect]) -> Decimal:
    """What one aspect contributes to the total (e.g. Signifikansi 80 x 30% = 24)."""
    total_weight = sum((a.weight for a in aspects), Decimal(0))
    return quantize(value * aspect.weight / total_weight)


@dataclass(frozen=True)
class Problem:
    key: str  # an aspect key, or "" for the sheet
    code: str  # missing | out_of_range | not_a_number | comment_needed


def sheet_problems(raw_values: Mapping[str, object], comments: Mapping[str, str], aspects: Sequence[Aspect],
                   scale: Scale, *, complete: bool) -> list[Problem]:
    """What stops a sheet from being saved (``complete=False``: only bad numbers) or submitted
    (``complete=True``: every aspect scored, within the scale, a comment at either end)."""
    problems = []
    for aspect in aspects:
        raw = raw_values.get(aspect.key)
        value = parse_score(raw)
        if value is None:
            if raw not in (None, "") and str(raw).strip():
                problems.append(Problem(aspect.key, "not_a_number"))
            elif complete:
                problems.append(Problem(aspect.key, "missing"))
            continue
        if not scale.contains(value):
            problems.append(Problem(aspect.key, "out_of_range"))
        elif complete and scale.is_extreme(value) and not (comments.get(aspect.key) or "").strip():
            problems.append(Problem(aspect.key, "comment_needed"))
    return problems


@dataclass(frozen=True)
class Summary:
    sheets: int
    mean: Decimal | None
    std_dev: Decimal | None
    spread: Decimal | None
    disagreement: bool


def summarise(totals: Sequence[Decimal], threshold: Decimal) -> Summary:
    if not totals:
        return Summary(0, None, None, None, False)
    n = len(totals)
    mean = sum(totals, Decimal(0)) / n
    variance = sum(((t - mean) ** 2 for t in totals), Decimal(0)) / n
    std_dev = quantize(variance.sqrt())
    return Summary(n, quantize(mean), std_dev, quantize(max(totals) - min(totals)), n > 1 and std_dev > threshold)


JudgeKey = Hashable
ItemKey = Hashable


def normalise(totals: Mapping[tuple[JudgeKey, ItemKey], Decimal], *, min_sheets: int,
              scale: Scale) -> dict[tuple[JudgeKey, ItemKey], Decimal]:
    """Each (judge, item) total, normalised where the judge scored at least ``min_sheets`` items."""
    if not totals:
        return {}
    floats = {pair: float(value) for pair, value in totals.items()}
    pooled_mean, pooled_sd = _mean_sd(floats.values())
    by_judge: dict[JudgeKey, list[float]] = defaultdict(list)
    for (judge, _item), value in floats.items():
        by_judge[judge].append(value)
    stats = {judge: _mean_sd(values) for judge, values in by_judge.items() if len(values) >= min_sheets}
    result = {}
    for pair, value in floats.items():
        judge_stats = stats.get(pair[0])
        if judge_stats is None or judge_stats[1] == 0:
            result[pair] = totals[pair]
            continue
        z = (value - judge_stats[0]) / judge_stats[1]
        rescaled = min(max(pooled_mean + z * pooled_sd, scale.low), scale.high)
        result[pair] = quantize(rescaled)
    return result


def _mean_sd(values: Iterable[float]) -> tuple[float, float]:
    items = list(values)
    mean = math.fsum(items) / len(items)
    return mean, math.sqrt(math.fsum((v - mean) ** 2 for v in items) / len(items))


@dataclass(frozen=True)
class RankEntry:
    item: ItemKey
    total: Decimal | None
    tie_values: tuple[Decimal, ...] = ()
    order: tuple = field(default=())  # a stable display order among equals (e.g. the proposal number)


def rank(entries: Iterable[RankEntry]) -> list[tuple[int | None, RankEntry]]:
    """Entries best first with competition ranks (1, 2, 2, 4); unscored entries last, unranked."""
    scored = [e for e in entries if e.total is not None]
    unscored = [e for e in entries if e.total is None]
    scored.sort(key=lambda e: (-e.total, tuple(-v for v in e.tie_values), e.order))  # type: ignore[operator]
    ranked: list[tuple[int | None, RankEntry]] = []
    previous_key = None
    current = 0
    for position, entry in enumerate(scored, start=1):
        key = (entry.total, entry.tie_values)
        if key != previous_key:
            current, previous_key = position, key
        ranked.append((current, entry))
    ranked.extend((None, e) for e in sorted(unscored, key=lambda e: e.order))
    return ranked


def others_visible(visibility: str, *, revealed: bool, own_submitted: bool) -> bool:
    """Whether a judge may see the other judges' scores of a proposal (scheme setting)."""
    if visibility == "open":
        return True
    if visibility == "after_own":
        return own_submitted or revealed
    return revealed


def band_for(value: Decimal | None, bands: Sequence[tuple[int, int]]) -> int | None:
    """The index of the rubric band a score falls in."""
    if value is None:
        return None
    for index, (low, high) in enumerate(bands):
        if low <= value <= high:
            return index
    return None
