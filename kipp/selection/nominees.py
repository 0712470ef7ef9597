"""Choosing the nominees from a stage ranking (a leaf: no database, no Flask).

The list has a size (about twice the finalist places) and a composition: places per agency
cluster, proportional to the proposals that passed or set by hand, and a minimum of
proposals from 3T regions; only proposals at or above the passing grade may enter.
Among the lists that satisfy all of that, the one with the highest total score is chosen,
exactly (CP-SAT), and compared with the plain top of the ranking so that the price of each
quota is visible: who entered because of which rule, and whom they displaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Hashable, Mapping, Sequence

from ortools.sat.python import cp_model

CandidateId = Hashable


@dataclass(frozen=True)
class Candidate:
    id: CandidateId
    score: Decimal
    cluster: str
    is_3t: bool = False
    order: tuple = ()  # a stable order among equal scores (e.g. the proposal number)


@dataclass(frozen=True)
class Rules:
    size: int
    places: Mapping[str, int] | None = None  # cluster -> places; None: no cluster quotas
    min_3t: int = 0
    passing_grade: Decimal | None = None


@dataclass(frozen=True)
class Displacement:
    entered: CandidateId  # in the list because of ``rule``
    displaced: CandidateId  # would have been in the plain top of the ranking
    rule: str  # "cluster:<name>" or "3t"
    score_lost: Decimal


@dataclass
class Selection:
    chosen: list[CandidateId]
    unconstrained: list[CandidateId]
    displacements: list[Displacement] = field(default_factory=list)
    shortfalls: list[str] = field(default_factory=list)  # places the candidates could not fill
    # The same, structured: cluster -> (places wanted, eligible candidates).
    unfilled: dict[str, tuple[int, int]] = field(default_factory=dict)
    # The places the list was solved with (fewer than wanted where the candidates ran out).
    places: dict[str, int] | None = None

    @property
    def cost_by_rule(self) -> dict[str, Decimal]:
        cost: dict[str, Decimal] = {}
        for d in self.displacements:
            cost[d.rule] = cost.get(d.rule, Decimal(0)) + d.score_lost
        return cost


class Infeasible(Exception):
    """No list satisfies the rules (e.g. more 3T places than 3T proposals in the quotas)."""


def proportional_places(counts: Mapping[str, int], size: int) -> dict[str, int]:
    """``size`` places shared in proportion to ``counts`` (largest remainders; ties by name)."""
    total = sum(counts.values())
    if total == 0 or size <= 0:
        return {cluster: 0 for cluster in counts}
    exact = {cluster: Decimal(size) * n / total for cluster, n in counts.items()}
    places = {cluster: int(value) for cluster, value in exact.items()}
    left = size - sum(places.values())
    by_remainder = sorted(counts, key=lambda c: (-(exact[c] - places[c]), c))
    for cluster in by_remainder[:left]:
        places[cluster] += 1
    return places


def _ranked(candidates: Sequence[Candidate]) -> list[Candidate]:
    return sorted(candidates, key=lambda c: (-c.score, c.order, str(c.id)))


def select(candidates: Sequence[Candidate], rules: Rules) -> Selection:
    eligible = [c for c in candidates if rules.passing_grade is None or c.score >= rules.passing_grade]
    ranked = _ranked(eligible)
    size = min(rules.size, len(ranked))
    unconstrained = [c.id for c in ranked[:size]]
    places = dict(rules.places) if rules.places is not None else None
    shortfalls = []
    unfilled = {}
    if places is not None:
        available = {cluster: sum(1 for c in ranked if c.cluster == cluster) for cluster in places}
        for cluster, wanted in places.items():
            if available[cluster] < wanted:
                shortfalls.append(f"{cluster}: {wanted} places, {available[cluster]} eligible")
                unfilled[cluster] = (wanted, available[cluster])
                places[cluster] = available[cluster]
        size = min(size, sum(places.values()))
    chosen_set = _solve(ranked, size, places, rules.min_3t)
    chosen = [c.id for c in ranked if c.id in chosen_set]
    selection = Selection(chosen, unconstrained, shortfalls=shortfalls, unfilled=unfilled, places=places)
    # The price of each rule, one rule at a time: the cluster places against the plain
    # ranking, then the 3T minimum against the list with the places alone.
    by_id = {c.id: c for c in ranked}
    step = set(unconstrained)
    if places is not None:
        with_places = _solve(ranked, size, places, 0) if rules.min_3t else chosen_set
        selection.displacements += _pairs(by_id, with_places, step, lambda c: f"cluster:{c.cluster}")
        step = with_places
    if rules.min_3t:
        selection.displacements += _pairs(by_id, chosen_set, step, lambda c: "3t")
    return selection


def _solve(ranked: list[Candidate], size: int, places: dict[str, int] | None, min_3t: int) -> set[CandidateId]:
    model = cp_model.CpModel()
    take = {c.id: model.new_bool_var(f"x{i}") for i, c in enumerate(ranked)}
    model.add(sum(take.values()) == size)
    if places is not None:
        for cluster, n in places.items():
            model.add(sum(take[c.id] for c in ranked if c.cluster == cluster) == n)
        for c in ranked:
            if c.cluster not in places:
                model.add(take[c.id] == 0)
    if min_3t:
        model.add(sum(take[c.id] for c in ranked if c.is_3t) >= min_3t)
    # Scores in hundredths as integers; a tiny preference for the better-ranked among equals
    # makes the optimum unique and reproducible.
    n = len(ranked)
    model.maximize(sum((int(c.score * 100) * (n + 1) + (n - i)) * take[c.id] for i, c in enumerate(ranked)))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    if solver.solve(model) != cp_model.OPTIMAL:
        raise Infeasible("no list satisfies the places and the 3T minimum")
    return {c.id for c in ranked if solver.value(take[c.id])}


def _pairs(by_id: dict[CandidateId, Candidate], after: set[CandidateId], before: set[CandidateId],
           rule: Callable[[Candidate], str]) -> list[Displacement]:
    """Pair each proposal that entered with one it displaced: the weakest newcomer with the
    strongest one left out, and so on."""
    entered = sorted((by_id[i] for i in after - before), key=lambda c: (c.score, c.order))
    displaced = sorted((by_id[i] for i in before - after), key=lambda c: (-c.score, c.order))
    return [Displacement(new.id, out.id, rule(new), out.score - new.score) for new, out in zip(entered, displaced)]
