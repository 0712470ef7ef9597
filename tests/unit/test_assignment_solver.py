"""The exact reviewer-assignment solver (kipp.assignment.solver): pure, no app, no database.

Optima are checked against brute force on tiny instances and against an LP
solved by SciPy's HiGHS (built here from the raw inputs, not from the
solver's arrays); the constraint matrix is totally unimodular, so the LP
optimum is the integer optimum and the LP is infeasible exactly when no
assignment exists.
"""

from __future__ import annotations

import itertools
import random
from typing import Any, Hashable

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from kipp.assignment.solver import (
    MESSAGES,
    SOLVER_VERSION,
    AssignmentProblem,
    CandidateArrays,
    Infeasible,
    Proposal,
    Reviewer,
    balanced_loads,
    check,
    reassign,
    solve,
    team_inputs,
)

pytestmark = pytest.mark.unit

FAST = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])


# --- helpers ---------------------------------------------------------------------------------


def problem_of(inst: dict[str, Any], **changes: Any) -> AssignmentProblem:
    cands: dict[Hashable, list[tuple[Hashable, int]]] = {}
    for (pid, rid), a in inst["aff"].items():
        cands.setdefault(pid, []).append((rid, a))
    values = dict(
        proposals=inst["proposals"], reviewers=inst["reviewers"], candidates=cands, k=inst["k"],
        balanced=inst.get("balanced", False), hard_conflicts=inst.get("hard", set()),
        soft_conflicts=inst.get("soft", set()), soft_conflict_penalty=inst.get("penalty", 50),
        pinned=inst.get("pinned", set()),
    )
    values.update(changes)
    return AssignmentProblem(**values)


def k_of(inst: dict[str, Any], pid: Hashable) -> int:
    return inst["k"][pid] if isinstance(inst["k"], dict) else inst["k"]


def eligible(inst: dict[str, Any]) -> dict[tuple, int]:
    """Allowed pairs with their penalised affinity, from the raw inputs."""
    pairs = dict(inst["aff"])
    for pair in inst.get("pinned", set()):
        pairs.setdefault(pair, 0)
    penalty = inst.get("penalty", 50)
    return {
        pair: a - (penalty if pair in inst.get("soft", set()) else 0)
        for pair, a in pairs.items()
        if pair not in inst.get("hard", set())
    }


def independent_bounds(inst: dict[str, Any]) -> dict[Hashable, tuple[int, int]]:
    """Load bounds as the docs define them, computed from the raw inputs."""
    pairs = eligible(inst)
    n_elig = {r.id: sum(1 for (_, rid) in pairs if rid == r.id) for r in inst["reviewers"]}
    n_pin = {r.id: sum(1 for pair in inst.get("pinned", set()) if pair[1] == r.id and pair in pairs)
             for r in inst["reviewers"]}
    if not inst.get("balanced", False):
        return {r.id: (r.min_load, n_elig[r.id] if r.max_load is None else r.max_load) for r in inst["reviewers"]}
    total = sum(k_of(inst, p.id) for p in inst["proposals"])
    floors = [max(r.min_load, n_pin[r.id]) for r in inst["reviewers"]]
    caps = [n_elig[r.id] if r.max_load is None else min(r.max_load, n_elig[r.id]) for r in inst["reviewers"]]
    bounds = balanced_loads(total, floors, caps)
    # a maximum load is a hard limit: pinned pairs beyond it leave lo > hi (no solution)
    return {r.id: (lo, hi if r.max_load is None else min(hi, r.max_load))
            for r, (lo, hi) in zip(inst["reviewers"], bounds)}


def lp_optimum(inst: dict[str, Any], bounds: dict[Hashable, tuple[int, int]]) -> float | None:
    """Max total penalised affinity by HiGHS; None when infeasible."""
    pairs = eligible(inst)
    if any(pair in inst.get("hard", set()) for pair in inst.get("pinned", set())):
        return None
    keys = list(pairs)
    n = len(keys)
    pids = [p.id for p in inst["proposals"]]
    rids = [r.id for r in inst["reviewers"]]
    a_eq = np.zeros((len(pids), max(n, 1)))
    a_rev = np.zeros((len(rids), max(n, 1)))
    for j, (pid, rid) in enumerate(keys):
        a_eq[pids.index(pid), j] = 1
        a_rev[rids.index(rid), j] = 1
    lo = np.array([bounds[r][0] for r in rids], dtype=float)
    hi = np.array([bounds[r][1] for r in rids], dtype=float)
    var_bounds = [(1, 1) if key in inst.get("pinned", set()) else (0, 1) for key in keys] or [(0, 0)]
    cost = np.array([-pairs[key] for key in keys] or [0], dtype=float)
    res = linprog(
        cost, A_ub=np.vstack([a_rev, -a_rev]), b_ub=np.concatenate([hi, -lo]),
        A_eq=a_eq, b_eq=np.array([k_of(inst, p) for p in pids], dtype=float),
        bounds=var_bounds, method="highs",
    )
    if res.status == 2:
        return None
    assert res.status == 0, res.message
    return -res.fun


def assert_valid(inst: dict[str, Any], result, bounds: dict[Hashable, tuple[int, int]]) -> None:
    pairs = result.pairs
    allowed = eligible(inst)
    assert len(set(pairs)) == len(pairs), "a reviewer twice on a proposal"
    assert all(pair in allowed for pair in pairs), "a pair that is not an allowed candidate"
    assert not set(pairs) & set(inst.get("hard", set())), "a hard conflict"
    assert set(inst.get("pinned", set())) <= set(pairs), "a pinned pair was dropped"
    for p in inst["proposals"]:
        assert len(result.reviewers_of(p.id)) == k_of(inst, p.id)
    for r in inst["reviewers"]:
        load = len(result.proposals_of(r.id))
        assert result.loads[r.id] == load
        assert bounds[r.id][0] <= load <= bounds[r.id][1]
    assert result.objective == sum(inst["aff"].get(pair, 0) for pair in pairs)
    assert result.penalised_objective == sum(allowed[pair] for pair in pairs)
    assert {pair for pair in pairs if pair in inst.get("soft", set())} == set(result.soft_conflicts)
    assert all(e.reason != "not_optimal" for e in result.explanations())


@st.composite
def instances(draw: st.DrawFn, max_p: int = 7, max_r: int = 5, balanced: bool | None = None,
              with_pinned: bool = False) -> dict[str, Any]:
    """Random small instances; about half are "generous" (mostly feasible), half tight."""
    n_p = draw(st.integers(1, max_p))
    n_r = draw(st.integers(1, max_r))
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    generous = draw(st.booleans())
    density = 1.0 if generous else draw(st.sampled_from([0.5, 0.8, 1.0]))
    if balanced is None:
        balanced = draw(st.booleans())
    proposals = [Proposal(f"p{i}", category=rng.choice(["A", "B", None])) for i in range(n_p)]
    reviewers = []
    for j in range(n_r):
        lo = 0 if generous else rng.choice([0, 0, 0, 0, 1, 2])
        hi = None if generous else rng.choice([None, None, lo + rng.randint(0, 5)])
        reviewers.append(Reviewer(f"r{j}", min_load=lo, max_load=hi))
    all_pairs = [(p.id, r.id) for p in proposals for r in reviewers]
    aff = {pair: rng.randint(0, 100) for pair in all_pairs if rng.random() < density}
    k: Any = rng.randint(1, min(3, n_r))
    if draw(st.booleans()):
        k = {p.id: rng.randint(0, min(3, n_r)) for p in proposals}
    conflicts = 0.05 if generous else 0.1
    inst = {
        "proposals": proposals, "reviewers": reviewers, "aff": aff, "k": k, "balanced": balanced,
        "hard": {pair for pair in all_pairs if rng.random() < conflicts},
        "soft": {pair for pair in all_pairs if rng.random() < 0.1},
        "penalty": rng.choice([0, 30, 50]),
    }
    if with_pinned:
        pinned = {pair for pair in aff if rng.random() < 0.15}
        if generous:  # at most one per proposal, never a conflict
            pinned = {pair for pair in pinned if pair not in inst["hard"]}
            pinned = {min(pair for pair in pinned if pair[0] == pid) for pid in {p for p, _ in pinned}}
        inst["pinned"] = pinned
    return inst


def simple(aff: dict[tuple[str, str], int], k: int = 1, **kwargs: Any) -> dict[str, Any]:
    pids = sorted({p for p, _ in aff})
    rids = sorted({r for _, r in aff})
    reviewers = kwargs.pop("reviewers", [Reviewer(r) for r in rids])
    return {"proposals": [Proposal(p) for p in pids], "reviewers": reviewers, "aff": aff, "k": k, **kwargs}


# --- hand-made cases -------------------------------------------------------------------------


def test_known_optimum_is_not_the_greedy_choice() -> None:
    # Greedy would give p1 its best (a, 10) and leave p2 with b (1): 11. The optimum is 9 + 8.
    inst = simple({("p1", "a"): 10, ("p1", "b"): 9, ("p2", "a"): 8, ("p2", "b"): 1},
                  reviewers=[Reviewer("a", max_load=1), Reviewer("b", max_load=1)])
    result = solve(problem_of(inst))
    assert result.pairs == [("p1", "b"), ("p2", "a")]
    assert result.objective == 17
    assert result.status == "OPTIMAL"
    assert result.solver_version == SOLVER_VERSION
    assert result.explain("p1", "b").reason == "better_full"
    assert result.explain("p1", "b").better_candidates == 1
    assert result.explain("p2", "a").reason == "best"


def test_k_distinct_reviewers_and_balanced_loads() -> None:
    aff = {(f"p{i}", r): (i * 7 + ord(r)) % 13 for i in range(5) for r in "abcd"}
    inst = simple(aff, k=2, balanced=True)
    result = solve(problem_of(inst))
    assert sorted(result.loads.values()) == [2, 2, 3, 3]  # 10 reviews over 4: no one two above another
    assert result.bounds == {r: (2, 3) for r in "abcd"}
    assert_valid(inst, result, result.bounds)
    assert result.record["parameters"]["balanced"] is True


def test_hard_conflict_never_and_soft_conflict_penalised() -> None:
    aff = {("p1", "a"): 90, ("p1", "b"): 50, ("p1", "c"): 80}
    inst = simple(aff, hard={("p1", "a")}, soft={("p1", "c")}, penalty=50)
    result = solve(problem_of(inst))
    assert result.pairs == [("p1", "b")]  # 80 - 50 < 50
    inst["penalty"] = 20
    result = solve(problem_of(inst))
    assert result.pairs == [("p1", "c")]  # 80 - 20 > 50
    assert result.soft_conflicts == [("p1", "c")]
    assert result.explain("p1", "c").soft_conflict
    assert result.record["result"]["soft_conflicts"] == 1


def test_pinned_pairs_count_toward_k_and_load() -> None:
    aff = {("p1", "a"): 0, ("p1", "b"): 100, ("p1", "c"): 90,
           ("p2", "a"): 100, ("p2", "b"): 10, ("p2", "c"): 50}
    inst = simple(aff, k=2, pinned={("p1", "a")},
                  reviewers=[Reviewer("a", max_load=1), Reviewer("b"), Reviewer("c")])
    result = solve(problem_of(inst))
    # a is full with its pinned pair, so p2 loses its best reviewer; p1 needs only one more
    assert result.pairs == [("p1", "a"), ("p1", "b"), ("p2", "b"), ("p2", "c")]
    assert result.objective == 160
    assert result.explain("p1", "a").reason == "pinned"
    assert result.explain("p1", "a").reviewer_at_max


def test_pinned_pair_that_is_not_a_candidate_gets_affinity_zero() -> None:
    inst = simple({("p1", "a"): 40, ("p2", "a"): 40}, pinned={("p1", "b")},
                  reviewers=[Reviewer("a"), Reviewer("b")])
    result = solve(problem_of(inst))
    assert ("p1", "b") in result.pairs and result.explain("p1", "b").affinity == 0


def test_forced_proposal_and_min_load_explanations() -> None:
    # p1 has exactly one eligible reviewer; b must reach its minimum load of 1.
    aff = {("p1", "a"): 5, ("p2", "a"): 90, ("p2", "b"): 10}
    inst = simple(aff, reviewers=[Reviewer("a", max_load=2), Reviewer("b", min_load=1)])
    result = solve(problem_of(inst))
    assert result.pairs == [("p1", "a"), ("p2", "b")]
    assert result.explain("p1", "a").reason == "forced"
    assert result.explain("p1", "a").as_dict()["reason"] == "forced"
    explained = result.explain("p2", "b")
    assert explained.reason == "min_load" and explained.reviewer_at_min
    assert explained.better_candidates_with_room == 1


def test_same_input_in_another_order_gives_the_same_run() -> None:
    rng = random.Random(7)
    aff = {(f"p{i}", f"r{j}"): rng.randint(0, 3) for i in range(8) for j in range(5)}  # many ties
    inst = simple(aff, k=2, balanced=True)
    first = solve(problem_of(inst))
    shuffled = problem_of(inst)
    cands = {pid: list(reversed(items)) for pid, items in reversed(list(shuffled.candidates.items()))}
    second = solve(problem_of(inst, candidates=cands))
    assert first.pairs == second.pairs
    assert first.record["inputs"]["sha256"] == second.record["inputs"]["sha256"]
    assert first.record["result"]["sha256"] == second.record["result"]["sha256"]
    changed = solve(problem_of(inst, k=1))
    assert changed.record["inputs"]["sha256"] != first.record["inputs"]["sha256"]


def test_record_has_what_a_rerun_needs() -> None:
    inst = simple({("p1", "a"): 3, ("p1", "b"): 4}, hard={("p1", "a")})
    rec = solve(problem_of(inst)).record
    assert rec["solver"] == "OR-Tools SimpleMinCostFlow" and rec["solver_version"] == SOLVER_VERSION
    assert rec["status"] == "OPTIMAL" and rec["objective"] == 4
    assert rec["inputs"]["proposals"] == 1 and rec["inputs"]["candidate_pairs"] == 1
    assert rec["inputs"]["hard_conflicts_removed"] == 1 and len(rec["inputs"]["sha256"]) == 64
    assert rec["parameters"]["k"] == 1 and rec["duration_s"] >= 0
    assert set(rec["timings_s"]) == {"build", "check", "solve", "result"}


def test_candidate_arrays_and_affinity_function_agree_with_lists() -> None:
    rng = random.Random(3)
    inst = simple({(f"p{i}", f"r{j}"): rng.randint(0, 100) for i in range(6) for j in range(4)}, k=2)
    base = solve(problem_of(inst))
    arrays = CandidateArrays(
        np.array([int(p[1:]) for p, _ in inst["aff"]]), np.array([int(r[1:]) for _, r in inst["aff"]]),
        np.array(list(inst["aff"].values())),
    )
    assert solve(problem_of(inst, candidates=arrays)).pairs == base.pairs
    by_function = solve(problem_of(inst, candidates=None, affinity=lambda p, r: inst["aff"][(p.id, r.id)]))
    assert by_function.pairs == base.pairs


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"candidates": {"p1": [("a", 1), ("a", 2)]}}, "listed twice"),
        ({"candidates": {"p1": [("zz", 1)]}}, "unknown reviewer"),
        ({"candidates": {"p9": [("a", 1)]}}, "unknown proposal"),
        ({"candidates": {"p1": [("a", 1.5)]}}, "integers"),
        ({"pinned": {("p1", "zz")}}, "unknown"),
        ({"k": {"p2": 1}}, "no value"),
        ({"candidates": None}, "exactly one"),
        ({"reviewers": [Reviewer("a", min_load=3, max_load=2)]}, "min_load"),
    ],
)
def test_bad_inputs_are_programming_errors(changes: dict[str, Any], error: str) -> None:
    inst = simple({("p1", "a"): 1})
    with pytest.raises(ValueError, match=error):
        solve(problem_of(inst, **changes))


# --- infeasible inputs -----------------------------------------------------------------------


def test_category_shortfall_names_demand_and_capacity() -> None:
    # Kesehatan: 180 proposals x 3 = 540 reviews; only 11 evaluators are eligible, 40 each.
    health = [Proposal(f"h{i}", category="Kesehatan") for i in range(180)]
    other = [Proposal(f"o{i}", category="Pendidikan") for i in range(60)]
    experts = [Reviewer(f"e{j}", max_load=40) for j in range(11)]
    others = [Reviewer(f"x{j}", max_load=40) for j in range(10)]  # enough in total: 840 for 720
    cands = {p.id: [(r.id, 80) for r in experts] for p in health}
    cands.update({p.id: [(r.id, 50) for r in experts + others] for p in other})
    problem = AssignmentProblem(health + other, experts + others, candidates=cands, k=3, balanced=False)
    with pytest.raises(Infeasible) as caught:
        solve(problem)
    (shortfall,) = caught.value.shortfalls
    assert shortfall.code == "category_capacity"
    assert (shortfall.subject, shortfall.needed, shortfall.available) == ("Kesehatan", 540, 440)
    assert shortfall.params["evaluators"] == 11
    assert shortfall.message == "Category Kesehatan needs 540 reviews, its 11 eligible evaluators can take 440"
    assert caught.value.record["status"] == "INFEASIBLE"
    assert caught.value.record["shortfalls"] == ["category_capacity"]
    assert shortfall.as_dict()["params"] == {"subject": "Kesehatan", "needed": 540, "available": 440,
                                             "evaluators": 11}
    assert check(problem) == caught.value.shortfalls


def test_every_message_template_is_filled_by_its_params() -> None:
    inst = simple({("p1", "a"): 1, ("p2", "a"): 1, ("p2", "b"): 1}, k=2,
                  reviewers=[Reviewer("a", min_load=5, max_load=5), Reviewer("b", max_load=1)],
                  pinned={("p2", "a"), ("p2", "b"), ("p1", "a")}, hard={("p1", "a")})
    found = check(problem_of(inst))
    codes = {s.code for s in found}
    assert {"proposal_candidates", "pinned_hard_conflict", "reviewer_min_load", "total_capacity",
            "total_min_load"} <= codes
    for s in found:
        assert s.message == MESSAGES[s.code].format(**s.params)
        assert "{" not in s.message
    assert "Proposal p1 needs 2 reviewers, it has only 0 eligible evaluators" in [s.message for s in found]
    assert "Proposal p1 is pinned to evaluator a, who has a conflict of interest with it" in [
        s.message for s in found]


def test_pinned_over_k_and_over_max_load() -> None:
    inst = simple({("p1", "a"): 1, ("p1", "b"): 1, ("p2", "a"): 1}, k=1,
                  reviewers=[Reviewer("a", max_load=1), Reviewer("b")],
                  pinned={("p1", "a"), ("p1", "b"), ("p2", "a")})
    messages = {s.code: s.message for s in check(problem_of(inst))}
    assert messages["proposal_pinned_over_k"] == "Proposal p1 has 2 pinned reviewers, more than the 1 it takes"
    assert messages["reviewer_pinned_over_max"] == (
        "Evaluator a has 2 pinned proposals, more than the maximum load of 1")


def test_subtle_hall_violation_is_explained_by_a_min_cut() -> None:
    # p1, p2 can only go to a and b, who take 1 each; the totals and each proposal look fine.
    aff = {("p1", "a"): 1, ("p1", "b"): 1, ("p2", "a"): 1, ("p2", "b"): 1}
    aff |= {(p, r): 1 for p in ("p3", "p4") for r in ("c", "d", "e")}
    inst = simple(aff, k=2, reviewers=[Reviewer("a", max_load=1), Reviewer("b", max_load=1),
                                       Reviewer("c", max_load=2), Reviewer("d", max_load=2),
                                       Reviewer("e", max_load=2)])
    assert check(problem_of(inst)) == []
    with pytest.raises(Infeasible) as caught:
        solve(problem_of(inst))
    (shortfall,) = caught.value.shortfalls
    assert shortfall.code == "proposal_set_capacity"
    assert shortfall.message == "2 proposals (p1, p2) need 4 reviews, their 2 eligible evaluators can take 2"


def test_minimum_loads_that_cannot_be_met_together_are_explained() -> None:
    aff = {(p, r): 1 for p in ("p1", "p2") for r in ("a", "b")}
    aff |= {(p, "c"): 1 for p in ("p3", "p4", "p5", "p6")}
    inst = simple(aff, k=1, reviewers=[Reviewer("a", min_load=2), Reviewer("b", min_load=2), Reviewer("c")])
    assert check(problem_of(inst)) == []
    with pytest.raises(Infeasible) as caught:
        solve(problem_of(inst))
    (shortfall,) = caught.value.shortfalls
    assert shortfall.code == "reviewer_set_min_load"
    assert shortfall.message == "2 evaluators (a, b) must take at least 4 reviews, their eligible proposals can give 2"


# --- balanced loads --------------------------------------------------------------------------


def test_balanced_loads_examples() -> None:
    assert balanced_loads(9000, [0] * 150) == [(59, 60)] * 150
    assert balanced_loads(10, [0] * 4) == [(2, 3)] * 4
    # a reviewer capped at 1 takes all it can; the others share the rest
    assert balanced_loads(10, [0, 0, 0], [1, None, None]) == [(1, 1), (4, 5), (4, 5)]
    # a reviewer with 6 pinned is above the level: kept there, the others even out
    assert balanced_loads(10, [6, 0, 0], None) == [(6, 6), (1, 2), (1, 2)]
    assert balanced_loads(0, [0, 0]) == [(0, 0), (0, 0)]


@FAST
@given(
    total=st.integers(0, 400),
    floors=st.lists(st.integers(0, 30), min_size=1, max_size=30),
    data=st.data(),
)
def test_balanced_bounds_never_differ_by_more_than_one(total: int, floors: list[int], data: st.DataObject) -> None:
    caps = data.draw(st.lists(st.one_of(st.none(), st.integers(0, 60)), min_size=len(floors), max_size=len(floors)))
    bounds = balanced_loads(total, floors, caps)
    free = [(lo, hi) for (lo, hi), f, c in zip(bounds, floors, caps) if f == 0 and c is None]
    if free:
        assert max(hi for _, hi in free) - min(lo for lo, _ in free) <= 1
    for (lo, hi), f, c in zip(bounds, floors, caps):
        assert f <= lo <= hi and hi - lo <= 1
        if c is not None and c >= f:
            assert hi <= c
    if sum(f if c is None else max(f, c) for f, c in zip(floors, caps)) >= total > sum(floors):
        assert sum(lo for lo, _ in bounds) < total <= sum(hi for _, hi in bounds)
    # unconstrained reviewers only: bounds are floor/ceil of the average
    n = len(floors)
    even = balanced_loads(total, [0] * n)
    assert {hi for _, hi in even} == {-(-total // n)} and sum(hi for _, hi in even) >= total


# --- optimality against brute force and HiGHS ------------------------------------------------


def brute_force(inst: dict[str, Any], bounds: dict[Hashable, tuple[int, int]]) -> int | None:
    pairs = eligible(inst)
    options = []
    for p in inst["proposals"]:
        rids = [r.id for r in inst["reviewers"] if (p.id, r.id) in pairs]
        must = {r for (pid, r) in inst.get("pinned", set()) if pid == p.id}
        options.append([c for c in itertools.combinations(rids, k_of(inst, p.id)) if must <= set(c)])
    best = None
    for choice in itertools.product(*options):
        loads: dict[Hashable, int] = {}
        for combo in choice:
            for r in combo:
                loads[r] = loads.get(r, 0) + 1
        if all(bounds[r.id][0] <= loads.get(r.id, 0) <= bounds[r.id][1] for r in inst["reviewers"]):
            value = sum(pairs[(p.id, r)] for p, combo in zip(inst["proposals"], choice) for r in combo)
            best = value if best is None else max(best, value)
    return best


@FAST
@given(instances(max_p=4, max_r=4, with_pinned=True))
def test_optimum_equals_brute_force_on_tiny_instances(inst: dict[str, Any]) -> None:
    bounds = independent_bounds(inst)
    best = brute_force(inst, bounds)
    try:
        result = solve(problem_of(inst))
    except Infeasible as exc:
        assert best is None, exc
        assert exc.shortfalls
        return
    assert best is not None
    assert result.penalised_objective == best
    assert_valid(inst, result, bounds)


@FAST
@given(instances(max_p=12, max_r=7, with_pinned=True))
def test_optimum_equals_highs_and_every_constraint_holds(inst: dict[str, Any]) -> None:
    bounds = independent_bounds(inst)
    reference = lp_optimum(inst, bounds)
    try:
        result = solve(problem_of(inst))
    except Infeasible as exc:
        assert reference is None, f"solver says infeasible ({exc}), HiGHS finds {reference}"
        for s in exc.shortfalls:
            assert s.needed > s.available and s.message
        event(f"infeasible: {exc.shortfalls[0].code}")
        return
    event("feasible")
    assert reference is not None
    assert result.penalised_objective == pytest.approx(reference, rel=1e-9, abs=1e-6)
    assert result.bounds == bounds
    assert_valid(inst, result, bounds)


@FAST
@given(instances(max_p=12, max_r=7, balanced=True))
def test_balanced_solution_spreads_loads(inst: dict[str, Any]) -> None:
    # everyone eligible for everything and no one limited: loads differ by at most one
    inst = dict(inst, aff={(p.id, r.id): a for (p, r), a in zip(
        itertools.product(inst["proposals"], inst["reviewers"]), itertools.cycle(range(0, 101, 7)))},
        hard=set(), reviewers=[Reviewer(r.id) for r in inst["reviewers"]])
    result = solve(problem_of(inst))
    loads = list(result.loads.values())
    assert max(loads) - min(loads) <= 1
    assert_valid(inst, result, result.bounds)


# --- re-runs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("as_arrays", [False, True])
def test_withdrawal_moves_only_that_judges_proposals(as_arrays: bool) -> None:
    rng = random.Random(11)
    inst = simple({(f"p{i:02d}", f"r{j}"): rng.randint(0, 100) for i in range(30) for j in range(8)},
                  k=3, balanced=True)
    problem = problem_of(inst)
    if as_arrays:
        problem = problem_of(inst, candidates=CandidateArrays(
            np.array([int(p[1:]) for p, _ in inst["aff"]]), np.array([int(r[1:]) for _, r in inst["aff"]]),
            np.array(list(inst["aff"].values()))))
    before = solve(problem)
    gone = "r3"
    affected = set(before.proposals_of(gone))
    after = reassign(problem, before, withdrawn={gone})
    assert gone not in after.loads
    assert {pair for pair in before.pairs if pair[1] != gone} <= set(after.pairs)
    moved = {p for p, _ in set(after.pairs) - set(before.pairs)}
    assert moved == affected
    assert all(len(after.reviewers_of(p)) == 3 for p in affected)
    loads = list(after.loads.values())
    assert max(loads) - min(loads) <= 1  # 90 reviews over 7: 12 or 13 each


def test_new_conflict_moves_only_that_pair() -> None:
    rng = random.Random(5)
    inst = simple({(f"p{i}", f"r{j}"): rng.randint(0, 100) for i in range(10) for j in range(5)}, k=2)
    problem = problem_of(inst)
    before = solve(problem)
    conflict = before.pairs[0]
    after = reassign(problem, before, new_hard_conflicts={conflict})
    assert conflict not in after.pairs
    assert set(before.pairs) - set(after.pairs) == {conflict}
    assert len(set(after.pairs) - set(before.pairs)) == 1


@FAST
@given(instances(max_p=10, max_r=6, balanced=True, with_pinned=True), st.data())
def test_withdrawal_keeps_every_other_pair(inst: dict[str, Any], data: st.DataObject) -> None:
    inst = dict(inst, reviewers=[Reviewer(r.id) for r in inst["reviewers"]])  # mostly feasible
    problem = problem_of(inst)
    try:
        before = solve(problem)
    except Infeasible:
        assume(False)
    gone = data.draw(st.sampled_from([r.id for r in inst["reviewers"]]))
    try:
        after = reassign(problem, before, withdrawn={gone})
    except Infeasible:
        return  # fewer reviewers may not be enough; the message says why
    kept = {pair for pair in before.pairs if pair[1] != gone}
    assert kept <= set(after.pairs)
    assert {p for p, _ in set(after.pairs) - kept} <= set(before.proposals_of(gone))
    assert all(rid != gone for _, rid in after.pairs)
    remaining = dict(inst, reviewers=[r for r in inst["reviewers"] if r.id != gone],
                     aff={pair: a for pair, a in inst["aff"].items() if pair[1] != gone},
                     pinned=kept | {pair for pair in inst.get("pinned", set()) if pair[1] != gone})
    assert_valid(remaining, after, independent_bounds(remaining))


# --- teams -----------------------------------------------------------------------------------


def test_teams_are_assigned_like_reviewers() -> None:
    teams = {"T1": ["a", "b"], "T2": ["c", "d"], "T3": ["e", "f"]}
    members = {
        "p1": [("a", 90), ("b", 70), ("c", 40), ("d", 40), ("e", 10), ("f", 20)],
        "p2": [("a", 90), ("b", 90), ("c", 80), ("d", 60), ("e", 10), ("f", 20)],
        "p3": [("a", 50), ("b", 50), ("c", 30), ("d", 30), ("e", 60), ("f", 60)],
    }
    cands, hard, soft = team_inputs(teams, members, hard_conflicts={("p3", "e")}, soft_conflicts={("p2", "a")})
    assert dict(cands["p1"]) == {"T1": 80, "T2": 40, "T3": 15}
    assert hard == {("p3", "T3")} and soft == {("p2", "T1")}
    proposals = [Proposal(p) for p in members]
    problem = AssignmentProblem(proposals, [Reviewer(t) for t in teams], candidates=cands, k=1,
                                hard_conflicts=hard, soft_conflicts=soft)
    result = solve(problem)
    # balanced: one proposal per team. p3 cannot go to T3 (a member's conflict); T1 on p2 is a
    # soft conflict (90 - 50). Best: p3-T1 50 + p2-T2 70 + p1-T3 15 = 135 (p3-T2 gives 125).
    assert result.pairs == [("p1", "T3"), ("p2", "T2"), ("p3", "T1")]
    assert result.objective == 135 and result.loads == {"T1": 1, "T2": 1, "T3": 1}
    by_max, _, _ = team_inputs(teams, members, aggregate="max")
    assert dict(by_max["p2"]) == {"T1": 90, "T2": 80, "T3": 20}
