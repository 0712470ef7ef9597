"""How well a judge fits a proposal (a leaf: plain values in, an integer out)."""

from __future__ import annotations

from typing import Collection

# Integer affinities for the solver: the judge's declared expertise covers the
# proposal's category, the judge declared no expertise at all, or neither.
EXPERT = 100
UNDECLARED = 40
OUTSIDE_EXPERTISE = 10


def affinity(category_id: int | None, expertise: Collection[int]) -> int:
    if not expertise:
        return UNDECLARED
    if category_id is not None and category_id in expertise:
        return EXPERT
    return OUTSIDE_EXPERTISE
