"""How stable each proposal's place inside or outside a cut is (a leaf: numpy only).

A cut ("the top 90 of this group go on") rests on means of a few judges' sheets. To show the
panel which places are fragile, the judges are resampled: in each of ``samples`` resamples every
proposal's sheets are drawn again with replacement (as many as it has), per stage component;
the proposal's score is recomputed as the weighted mean of its components' means; every pool is
ranked again; and we count how often each proposal lands inside its pool's cut. A proposal
whose side of the cut (inside in the actual list, or outside) holds in fewer than ``level`` of
the resamples is flagged as unstable (``is_unstable``).

What it measures: the sensitivity of the cut to *which judges* happened to score a proposal,
given the sheets that exist. What it does not: errors common to all judges (a shared
misreading), the assignment of judges (a harsh judge is resampled but never swapped for
another), the passing grade, and the quotas: the cluster places and the 3T minimum are not
re-solved in each resample, so a proposal that is in only through the 3T minimum may look
unstable here although the minimum would keep it in. Proposals scored by one judge in a
component are constant in that component (a single sheet resamples to itself), so they can
look more stable than they are.

Ranking in every resample follows the real one: higher score first, equal scores by
``Candidate.order`` then by ``str(id)``. Scores are compared after rounding to
``_SCORE_DECIMALS`` places, so that float summation order cannot split a real tie.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Hashable, Mapping, Sequence

import numpy as np

CandidateId = Hashable
Pool = Hashable

_SCORE_DECIMALS = 9
# Samples processed at once are chosen so that one block draws about this many indices:
# it keeps memory in the tens of megabytes whatever the number of samples.
_DRAWS_PER_BLOCK = 4_000_000


@dataclass(frozen=True)
class Component:
    """One stage's judges' totals of a proposal."""

    values: Sequence[float | Decimal]  # each submitted sheet's weighted total
    weight: float = 1.0


@dataclass(frozen=True)
class Candidate:
    id: CandidateId
    pool: Pool  # the cut applies within a pool (a group, or a cluster's places in a group)
    components: Sequence[Component]
    order: tuple = ()  # a stable order among equal scores (e.g. the proposal number)


def inside_shares(candidates: Sequence[Candidate], cuts: Mapping[Pool, int], *, samples: int = 1000,
                  seed: int = 0) -> dict[CandidateId, float]:
    """Per candidate id, the share (0.0-1.0) of bootstrap resamples in which it is inside its
    pool's cut (its position in the pool, counted from 0, is below ``cuts[pool]``; a pool
    missing from ``cuts`` has cut 0).

    A candidate's score in a resample is the mean of its components' resampled means, weighted
    by ``Component.weight`` and renormalised over the components that have values (a component
    without values or with weight 0 does not count). A candidate with no such component has no
    score: it ranks below every scored candidate of its pool, in its place among the unscored
    by order and id, in every resample, exactly as in the non-resampled list. So its share is
    1.0 only if the cut reaches past all scored candidates down to it (a cut covering the whole
    pool always does), else 0.0: the bootstrap has nothing to say about it.

    Deterministic for a given seed and input order (``numpy.random.default_rng(seed)``).
    """
    if samples < 1:
        raise ValueError(f"samples must be at least 1, not {samples}")
    ids = [c.id for c in candidates]
    if len(set(ids)) != len(ids):
        raise ValueError("candidate ids must be unique")
    if not candidates:
        return {}
    for pool, cut in cuts.items():
        if cut < 0:
            raise ValueError(f"the cut of pool {pool!r} is negative ({cut})")

    # Columns follow the tie order, so that a stable sort on the score alone ranks as the real list.
    tie_order = sorted(range(len(candidates)), key=lambda i: (candidates[i].order, str(candidates[i].id)))
    ranked = [candidates[i] for i in tie_order]
    groups = _groups_by_shape(ranked)
    pools: dict[Pool, list[int]] = {}
    for column, candidate in enumerate(ranked):
        pools.setdefault(candidate.pool, []).append(column)
    pool_columns = {pool: np.array(columns) for pool, columns in pools.items()}

    rng = np.random.default_rng(seed)
    # Scores are held for every candidate, draws only for multi-sheet components.
    draws_per_sample = max(len(ranked), sum(g.draws_per_sample for g in groups))
    block = max(1, min(samples, _DRAWS_PER_BLOCK // draws_per_sample))
    inside = np.zeros(len(ranked), dtype=np.int64)
    done = 0
    while done < samples:
        size = min(block, samples - done)
        scores = np.full((size, len(ranked)), -np.inf)
        for group in groups:
            scores[:, group.columns] = group.resampled_scores(rng, size)
        scores = np.round(scores, _SCORE_DECIMALS)
        for pool, columns in pool_columns.items():
            cut = min(cuts.get(pool, 0), len(columns))
            if cut == 0:
                continue
            if cut == len(columns):
                inside[columns] += size
                continue
            positions = np.argsort(-scores[:, columns], axis=1, kind="stable")
            inside[columns] += np.bincount(positions[:, :cut].ravel(), minlength=len(columns))
        done += size
    return {candidate.id: float(inside[column]) / samples for column, candidate in enumerate(ranked)}


def is_unstable(share: float, inside: bool, level: float = 0.9) -> bool:
    """True when the candidate's own side of the cut (``inside`` the cut in the actual list, or
    outside) held in fewer than ``level`` of the resamples, given its inside ``share``."""
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"level must be between 0 and 1, not {level}")
    held = share if inside else 1.0 - share
    return held < level


class _ShapeGroup:
    """Candidates with the same number of sheets in each counted component, resampled together."""

    def __init__(self, columns: list[int], values: list[list[np.ndarray]], weights: list[list[float]]):
        self.columns = np.array(columns)
        # One (candidates x sheets) matrix per component; weights renormalised per candidate.
        self.values = [np.stack([row[k] for row in values]) for k in range(len(values[0]))]
        raw = np.array(weights, dtype=float)
        self.weights = raw / raw.sum(axis=1, keepdims=True)
        self.draws_per_sample = len(columns) * sum(v.shape[1] for v in self.values if v.shape[1] > 1)

    def resampled_scores(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """(size x candidates) scores, one row per resample."""
        count = len(self.columns)
        scores = np.zeros((size, count))
        for k, matrix in enumerate(self.values):
            sheets = matrix.shape[1]
            if sheets == 1:  # a single sheet resamples to itself: no draw needed
                means = np.broadcast_to(matrix[:, 0], (size, count))
            else:
                picks = rng.integers(0, sheets, size=(size, count, sheets), dtype=np.int32)
                picks += (np.arange(count, dtype=np.int32) * sheets)[None, :, None]
                means = matrix.ravel()[picks].sum(axis=2) / sheets
            scores += self.weights[:, k] * means
        return scores


def _groups_by_shape(ranked: Sequence[Candidate]) -> list[_ShapeGroup]:
    members: dict[tuple[int, ...], tuple[list[int], list[list[np.ndarray]], list[list[float]]]] = {}
    for column, candidate in enumerate(ranked):
        counted = []
        for component in candidate.components:
            weight = float(component.weight)
            if weight < 0 or not math.isfinite(weight):
                raise ValueError(f"candidate {candidate.id!r} has a component weight of {component.weight}")
            if weight == 0 or len(component.values) == 0:
                continue
            values = np.array([float(v) for v in component.values])
            if not np.all(np.isfinite(values)):
                raise ValueError(f"candidate {candidate.id!r} has a value that is not a finite number")
            counted.append((values, weight))
        if not counted:
            continue  # no score: left at -inf, below every scored candidate
        shape = tuple(len(values) for values, _ in counted)
        columns, values, weights = members.setdefault(shape, ([], [], []))
        columns.append(column)
        values.append([v for v, _ in counted])
        weights.append([w for _, w in counted])
    return [_ShapeGroup(*group) for group in members.values()]
