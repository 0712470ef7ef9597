"""The final result's score and order (a leaf: no database, no Flask).

How KIPP combines its stages is not published (kipp-domain §4, [U]), so the edition says it:
each stage's total (0-100) is weighted by the edition's percentages — evaluation, panel review,
presentation, and the field verification when the edition holds it:

    total = sum(weight_i x score_i) / sum(weight_i), over the weighted stages the proposal has a score in

A proposal without a score in a weighted stage (no field visit, say) is scored on the stages it
has, their weights renormalised to 100%; :attr:`Combined.missing` names what was left out, so
that the page can flag it. Totals are rounded to two places (half up), as every other total.

Order (:func:`rank_group`): the higher total first; equal totals by the presentation score, then
the evaluation score (a missing score counts below any score), then the proposal number. Equal
totals with equal presentation and evaluation scores share a rank (1, 2, 2, 4); the proposed
winners are the first ``winners`` in that order, so a tie at the cut is settled by the number —
the panel's consensus adjustment, with its reason, is the place to decide it otherwise. Only
eligible finalists (those who presented) are ranked and proposed; the others are listed last.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Hashable, Mapping, Sequence

EVALUATION = "evaluation"
PANEL = "panel"
PRESENTATION = "presentation"
FIELD = "field"
COMPONENTS = (EVALUATION, PANEL, PRESENTATION, FIELD)
# Equal totals are ordered by these scores, in this order, then by the proposal number.
TIE_BREAK = (PRESENTATION, EVALUATION)

_CENT = Decimal("0.01")


def quantize(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Combined:
    total: Decimal | None
    # The weight (in %, renormalised over the stages used) each stage carried in ``total``.
    weights: Mapping[str, Decimal]
    # Weighted stages the proposal has no score in (their weight went to the others).
    missing: tuple[str, ...] = ()

    @property
    def renormalised(self) -> bool:
        return bool(self.missing) and self.total is not None


def combine(scores: Mapping[str, Decimal | None], weights: Mapping[str, Decimal]) -> Combined:
    """The weighted total of ``scores`` (stage -> total or None) under ``weights`` (stage -> %).

    A stage with weight 0 (or no weight) does not count; a weighted stage without a score is
    left out and its weight shared among the others in proportion."""
    for name, weight in weights.items():
        if Decimal(weight) < 0:
            raise ValueError(f"the weight of {name} is negative")
    counted = [name for name in _ordered(weights) if Decimal(weights[name]) > 0]
    present = [name for name in counted if scores.get(name) is not None]
    missing = tuple(name for name in counted if scores.get(name) is None)
    if not present:
        return Combined(None, {}, missing)
    weight_sum = sum((Decimal(weights[name]) for name in present), Decimal(0))
    total = sum((Decimal(scores[name]) * Decimal(weights[name]) for name in present), Decimal(0)) / weight_sum
    used = {name: quantize(Decimal(weights[name]) * 100 / weight_sum) for name in present}
    return Combined(quantize(total), used, missing)


def _ordered(weights: Mapping[str, Decimal]) -> list[str]:
    return [name for name in COMPONENTS if name in weights] + sorted(n for n in weights if n not in COMPONENTS)


@dataclass(frozen=True)
class Finalist:
    id: Hashable
    scores: Mapping[str, Decimal | None]  # stage -> the proposal's total in it
    number: str = ""
    eligible: bool = True  # presented; a finalist who did not cannot win


@dataclass(frozen=True)
class Placed:
    finalist: Finalist
    combined: Combined
    rank: int | None  # among the eligible finalists with a total (1, 2, 2, 4); None otherwise
    proposed: bool


def _tie_values(finalist: Finalist) -> tuple[tuple[int, Decimal], ...]:
    # (0, -score) sorts a present score before a missing one (1, 0), higher scores first.
    values = []
    for name in TIE_BREAK:
        score = finalist.scores.get(name)
        values.append((0, -Decimal(score)) if score is not None else (1, Decimal(0)))
    return tuple(values)


def rank_group(finalists: Sequence[Finalist], weights: Mapping[str, Decimal], winners: int) -> list[Placed]:
    """One group's finalists in the order above, with their ranks and the ``winners`` proposed."""
    combined = {f.id: combine(f.scores, weights) for f in finalists}
    ranked = [f for f in finalists if f.eligible and combined[f.id].total is not None]
    ranked.sort(key=lambda f: (-combined[f.id].total, _tie_values(f), f.number, str(f.id)))  # type: ignore[operator]
    placed: list[Placed] = []
    previous, rank = None, 0
    for position, finalist in enumerate(ranked, start=1):
        key = (combined[finalist.id].total, _tie_values(finalist))
        if key != previous:
            previous, rank = key, position
        placed.append(Placed(finalist, combined[finalist.id], rank, position <= winners))
    ranked_ids = {f.id for f in ranked}
    others = sorted((f for f in finalists if f.id not in ranked_ids), key=lambda f: (f.number, str(f.id)))
    placed += [Placed(f, combined[f.id], None, False) for f in others]
    return placed
