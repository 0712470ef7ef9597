"""Exact reviewer assignment for a stage (a leaf module: no Flask, no database).

Each proposal gets ``k`` distinct reviewers, each reviewer's load stays within
bounds, hard conflicts never occur, and the total expertise match (an integer
affinity per proposal–reviewer pair, higher is better) is as large as
possible. The problem is a transportation problem with unit arc capacities,
so a min-cost flow solves it exactly and its integral optimum *is* the
assignment::

    proposal p --(capacity 1, cost -affinity)--> reviewer r --> sink
    supply of p: k - pinned(p)
    demand of r: its residual minimum load (lower bounds as node demands)
    r --> sink: capacity max_load - min_load (residual, after pinned pairs)

Solved with OR-Tools' ``SimpleMinCostFlow`` (cost scaling), arcs added in
bulk from numpy arrays. Inputs are sorted (proposal order, then reviewer
order) before the network is built, so the same inputs give the same
assignment whatever order the candidate lists came in.

Inputs (:class:`AssignmentProblem`):

- ``candidates``: per proposal id, ``(reviewer_id, affinity)`` pairs (sparse,
  e.g. the top 100), or a :class:`CandidateArrays` of positions (the fast path
  for a caller that already has numpy arrays); or instead ``affinity``, a
  function ``(proposal, reviewer) -> int | None`` called for every pair
  (dense; ``None`` means "not a candidate").
- ``hard_conflicts``: pairs that are never assigned (ids not in the stage are
  ignored). ``soft_conflicts``: pairs that are allowed but cost
  ``soft_conflict_penalty`` affinity points and are reported.
- ``pinned``: pairs chosen by hand; they are kept, count toward ``k`` and
  toward the reviewer's load. A pinned pair that is not a candidate gets
  affinity 0.
- ``k``: reviewers per proposal, one int or a mapping covering every proposal.
- loads: with ``balanced=True`` (the default) every reviewer's final load is
  ``L - 1`` or ``L`` for the smallest level ``L`` that covers all reviews
  (:func:`balanced_loads`), except reviewers held below it by their
  ``max_load`` or their number of eligible proposals (they take all they can)
  or above it by ``min_load`` or their pinned pairs. With ``balanced=False``
  ``min_load``/``max_load`` are used as given (no ``max_load``: unlimited).

Before solving, :func:`check` looks for shortfalls: a proposal with fewer than
``k`` eligible reviewers, a category (or the whole stage) whose reviews exceed
what its eligible reviewers can take, minimum loads that exceed the reviews,
pinned pairs that break a rule. :func:`solve` raises :class:`Infeasible` with
them all. If the checks pass and the flow is still infeasible (a subtler Hall
violation), a max-flow min cut names the set of proposals (or reviewers)
that cannot be served. Messages are English templates in :data:`MESSAGES`,
keyed by code; the caller translates them with the shortfall's ``params``.

Every pair of the result can explain itself (:meth:`Assignment.explain`):
affinity, pinned or not, the reviewer's load against its bounds, and why no
better reviewer took the place (none was better, the better ones were full,
this reviewer had to reach its minimum, or the proposal had exactly ``k``
eligible reviewers). ``Assignment.record`` holds what a run needs to be
reproduced and audited: input fingerprint and sizes, parameters, solver and
version, objective, status and timings.

:func:`reassign` re-runs after a reviewer withdraws or a conflict appears:
every other pair of the previous assignment is pinned, so only the affected
proposals move.

Teams: a "reviewer" can be a team. Give each team an id, a load bound and an
affinity per proposal and use ``k=1`` (or more); :func:`team_inputs` builds
the team candidates and conflicts from the members' (mean or max affinity,
hard or soft conflict if any member has one). Loads are then per team: a
person in two teams is not limited across them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Collection, Hashable, Iterable, Literal, Mapping, Sequence

import numpy as np
import ortools
from ortools.graph.python import max_flow, min_cost_flow

SOLVER = "OR-Tools SimpleMinCostFlow"
SOLVER_VERSION: str = ortools.__version__
DEFAULT_K = 3
DEFAULT_SOFT_CONFLICT_PENALTY = 50  # affinity points, on a 0-100 affinity scale
SAMPLE_SIZE = 5  # names quoted in a message about a set

Pair = tuple[Hashable, Hashable]  # (proposal id, reviewer id)

# English templates, one per shortfall code; ``Shortfall.params`` fills them.
MESSAGES: dict[str, str] = {
    "total_capacity":
        "The {proposals} proposals need {needed} reviews, the {evaluators} eligible evaluators can take {available}",
    "total_min_load":
        "The evaluators' minimum loads add up to {needed} reviews, the proposals need only {available}",
    "category_capacity":
        "Category {subject} needs {needed} reviews, its {evaluators} eligible evaluators can take {available}",
    "proposal_candidates":
        "Proposal {subject} needs {needed} reviewers, it has only {available} eligible evaluators",
    "proposal_pinned_over_k":
        "Proposal {subject} has {needed} pinned reviewers, more than the {available} it takes",
    "reviewer_pinned_over_max":
        "Evaluator {subject} has {needed} pinned proposals, more than the maximum load of {available}",
    "reviewer_min_load":
        "Evaluator {subject} must take at least {needed} proposals, only {available} are eligible",
    "pinned_hard_conflict":
        "Proposal {subject} is pinned to evaluator {reviewer}, who has a conflict of interest with it",
    "proposal_set_capacity":
        "{count} proposals ({sample}) need {needed} reviews, their {evaluators} eligible evaluators can take "
        "{available}",
    "reviewer_set_min_load":
        "{count} evaluators ({sample}) must take at least {needed} reviews, their eligible proposals can give "
        "{available}",
    "loads_and_k":
        "The reviewers per proposal and the evaluators' load limits cannot be met together",
}

# Why a pair is in the result (PairExplanation.reason).
REASONS: dict[str, str] = {
    "pinned": "chosen by hand and kept",
    "forced": "the proposal has exactly as many eligible evaluators as it needs",
    "best": "no eligible evaluator with a higher affinity was left out",
    "better_full": "every eligible evaluator with a higher affinity is at their maximum load",
    "min_load": "a better evaluator had room, but this one needs the proposal to reach their minimum load",
}


# --- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    id: Hashable
    category: str | None = None
    label: str | None = None  # used in messages; defaults to str(id)


@dataclass(frozen=True)
class Reviewer:
    """An evaluator (or a team). ``max_load=None``: no limit but the eligible proposals."""

    id: Hashable
    min_load: int = 0
    max_load: int | None = None
    label: str | None = None


@dataclass(frozen=True)
class CandidateArrays:
    """Candidates as aligned integer arrays of positions in ``proposals`` / ``reviewers``."""

    proposal: np.ndarray
    reviewer: np.ndarray
    affinity: np.ndarray


@dataclass(frozen=True)
class AssignmentProblem:
    proposals: Sequence[Proposal]
    reviewers: Sequence[Reviewer]
    candidates: Mapping[Hashable, Iterable[tuple[Hashable, int]]] | CandidateArrays | None = None
    affinity: Callable[[Proposal, Reviewer], int | None] | None = None
    k: int | Mapping[Hashable, int] = DEFAULT_K
    balanced: bool = True
    hard_conflicts: Collection[Pair] = frozenset()
    soft_conflicts: Collection[Pair] = frozenset()
    soft_conflict_penalty: int = DEFAULT_SOFT_CONFLICT_PENALTY
    pinned: Collection[Pair] = frozenset()


# --- shortfalls ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shortfall:
    """One reason the problem has no solution. ``needed`` > ``available``."""

    code: str
    subject: str
    needed: int
    available: int
    params: Mapping[str, Any] = field(default_factory=dict)  # everything MESSAGES[code] uses

    @property
    def message(self) -> str:
        return MESSAGES[self.code].format(**self.params)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for a run's record: the code and params translate it later."""
        return {"code": self.code, "subject": self.subject, "needed": self.needed,
                "available": self.available, "params": dict(self.params), "message": self.message}


class Infeasible(Exception):
    def __init__(self, shortfalls: list[Shortfall], record: dict[str, Any] | None = None) -> None:
        self.shortfalls = shortfalls
        self.record = record or {}
        super().__init__("; ".join(s.message for s in shortfalls))


def _shortfall(code: str, subject: str, needed: int, available: int, **extra: Any) -> Shortfall:
    params = {"subject": subject, "needed": int(needed), "available": int(available), **extra}
    return Shortfall(code, subject, int(needed), int(available), params)


# --- balanced loads --------------------------------------------------------------------------


def _balanced(total: int, floors: np.ndarray, caps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    floors = floors.astype(np.int64)
    caps = np.maximum(caps.astype(np.int64), floors)
    if len(floors) == 0:
        return floors, caps
    low, high = 0, int(max(caps.max(), total))
    if int(caps.sum()) < total:  # not even everyone at their cap: check() reports it
        level = int(caps.max())
        return np.clip(level - 1, floors, caps), caps
    while low < high:  # smallest level whose water-filling covers the total
        mid = (low + high) // 2
        if int(np.clip(mid, floors, caps).sum()) >= total:
            high = mid
        else:
            low = mid + 1
    return np.clip(low - 1, floors, caps), np.clip(low, floors, caps)


def balanced_loads(
    total: int, floors: Sequence[int], caps: Sequence[int | None] | None = None
) -> list[tuple[int, int]]:
    """Load bounds ``(lo, hi)`` per reviewer so that ``total`` reviews spread evenly.

    The level ``L`` is the smallest with ``sum(clamp(L, floor, cap)) >= total``;
    each reviewer gets ``[clamp(L - 1), clamp(L)]``. Reviewers not held by their
    floor (pinned pairs, minimum load) or cap (maximum load, eligible proposals)
    all end at ``L - 1`` or ``L``: no one more than one above another. The
    bounds add up around ``total``: ``sum(lo) < total <= sum(hi)`` (unless the
    floors alone reach it, or the caps cannot).
    """
    floor_arr = np.asarray(list(floors), dtype=np.int64)
    big = int(total) + int(floor_arr.max(initial=0))
    cap_list = [big if c is None else c for c in caps] if caps is not None else [big] * len(floor_arr)
    lo, hi = _balanced(int(total), floor_arr, np.asarray(cap_list, dtype=np.int64))
    return list(zip(lo.tolist(), hi.tolist()))


# --- normalised model ------------------------------------------------------------------------


@dataclass
class _Model:
    problem: AssignmentProblem
    pids: list[Hashable]
    rids: list[Hashable]
    pnames: list[str]
    rnames: list[str]
    k: np.ndarray  # int64[P]
    cat: np.ndarray  # int64[P], -1: no category
    cat_names: list[str]
    ap: np.ndarray  # int64[A] arcs sorted by (proposal, reviewer), hard conflicts removed
    ar: np.ndarray
    aff: np.ndarray
    soft: np.ndarray  # bool[A]
    pinned: np.ndarray  # bool[A]
    min_load: np.ndarray  # as given
    max_load: np.ndarray  # as given, -1: none
    lo: np.ndarray  # final load bounds, pinned pairs included
    hi: np.ndarray
    fingerprint: str
    hard_removed: int
    input_shortfalls: list[Shortfall]

    @property
    def eff(self) -> np.ndarray:
        """Affinity less the soft-conflict penalty: what the solver maximises."""
        return self.aff - self.problem.soft_conflict_penalty * self.soft.astype(np.int64)


def _pair_keys(pairs: Iterable[Pair], pindex: dict, rindex: dict, n_rev: int, strict: str | None) -> np.ndarray:
    keys = []
    for pid, rid in pairs:
        pi, ri = pindex.get(pid), rindex.get(rid)
        if pi is None or ri is None:
            if strict:
                raise ValueError(f"{strict} pair ({pid!r}, {rid!r}) names an unknown proposal or reviewer")
            continue
        keys.append(pi * n_rev + ri)
    return np.unique(np.asarray(keys, dtype=np.int64))


def _as_int_array(values: Any, what: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        as_int = arr.astype(np.int64)
        if arr.dtype == object or not np.array_equal(as_int, arr):
            raise ValueError(f"{what} must be integers")
        arr = as_int
    return arr.astype(np.int64, copy=False)


def _candidate_arrays(problem: AssignmentProblem, pindex: dict, rindex: dict) -> tuple[np.ndarray, ...]:
    P, R = len(problem.proposals), len(problem.reviewers)
    if (problem.candidates is None) == (problem.affinity is None):
        raise ValueError("give exactly one of candidates and affinity")
    if isinstance(problem.candidates, CandidateArrays):
        c = problem.candidates
        ap, ar = _as_int_array(c.proposal, "positions"), _as_int_array(c.reviewer, "positions")
        aff = _as_int_array(c.affinity, "affinities")
        if not (len(ap) == len(ar) == len(aff)):
            raise ValueError("candidate arrays differ in length")
        if len(ap) and (ap.min() < 0 or ap.max() >= P or ar.min() < 0 or ar.max() >= R):
            raise ValueError("candidate position out of range")
        return ap, ar, aff
    ps: list[np.ndarray] = []
    rs: list[np.ndarray] = []
    afs: list[np.ndarray] = []
    if problem.affinity is not None:
        fn = problem.affinity
        dense_p: list[int] = []
        dense_r: list[int] = []
        dense_a: list[int] = []
        for pi, prop in enumerate(problem.proposals):
            for ri, rev in enumerate(problem.reviewers):
                value = fn(prop, rev)
                if value is not None:
                    dense_p.append(pi)
                    dense_r.append(ri)
                    dense_a.append(value)
        if dense_p:
            ps, rs, afs = [np.asarray(dense_p)], [np.asarray(dense_r)], [np.asarray(dense_a)]
    else:
        get_r = rindex.__getitem__
        for pid, items in problem.candidates.items():  # type: ignore[union-attr]
            pi = pindex.get(pid)
            if pi is None:
                raise ValueError(f"candidates for unknown proposal {pid!r}")
            items = list(items)
            if not items:
                continue
            rid_list, aff_list = zip(*items)
            try:
                rs.append(np.fromiter(map(get_r, rid_list), dtype=np.int64, count=len(rid_list)))
            except KeyError as exc:
                raise ValueError(f"candidate of proposal {pid!r} is an unknown reviewer {exc}") from None
            ps.append(np.full(len(rid_list), pi, dtype=np.int64))
            afs.append(np.asarray(aff_list))
    if not ps:
        return (np.zeros(0, np.int64),) * 3
    return (
        np.concatenate(ps).astype(np.int64),
        np.concatenate(rs).astype(np.int64),
        _as_int_array(np.concatenate(afs), "affinities"),
    )


def _fingerprint(problem: AssignmentProblem, pids, rids, k, cat, cat_names, min_load, max_load, arrays) -> str:
    digest = hashlib.sha256(b"kipp-assignment-v1")
    digest.update(json.dumps([[repr(p) for p in pids], [repr(r) for r in rids], cat_names]).encode())
    digest.update(json.dumps([problem.balanced, problem.soft_conflict_penalty]).encode())
    for arr in (k, cat, min_load, max_load, *arrays):
        digest.update(np.ascontiguousarray(arr).tobytes())
    return digest.hexdigest()


def _normalise(problem: AssignmentProblem) -> _Model:
    pids = [p.id for p in problem.proposals]
    rids = [r.id for r in problem.reviewers]
    pindex = {pid: i for i, pid in enumerate(pids)}
    rindex = {rid: i for i, rid in enumerate(rids)}
    if len(pindex) != len(pids) or len(rindex) != len(rids):
        raise ValueError("proposal and reviewer ids must be unique")
    P, R = len(pids), len(rids)

    if isinstance(problem.k, Mapping):
        missing = [pid for pid in pids if pid not in problem.k]
        if missing:
            raise ValueError(f"k has no value for proposal {missing[0]!r}")
        k = np.asarray([problem.k[pid] for pid in pids], dtype=np.int64)
    else:
        k = np.full(P, int(problem.k), dtype=np.int64)
    if (k < 0).any():
        raise ValueError("k must not be negative")
    cat_names = sorted({p.category for p in problem.proposals if p.category is not None})
    cat_index = {c: i for i, c in enumerate(cat_names)}
    cat = np.asarray([cat_index.get(p.category, -1) for p in problem.proposals], dtype=np.int64)
    min_load = np.asarray([r.min_load for r in problem.reviewers], dtype=np.int64)
    max_load = np.asarray([-1 if r.max_load is None else r.max_load for r in problem.reviewers], dtype=np.int64)
    if (min_load < 0).any() or ((max_load >= 0) & (min_load > max_load)).any():
        raise ValueError("a reviewer's load bounds must satisfy 0 <= min_load <= max_load")

    ap, ar, aff = _candidate_arrays(problem, pindex, rindex)
    keys = ap * R + ar
    order = np.argsort(keys, kind="stable")
    keys, ap, ar, aff = keys[order], ap[order], ar[order], aff[order]
    dup = np.flatnonzero(keys[1:] == keys[:-1])
    if len(dup):
        i = dup[0]
        raise ValueError(f"candidate pair ({pids[ap[i]]!r}, {rids[ar[i]]!r}) is listed twice")

    pin_keys = _pair_keys(problem.pinned, pindex, rindex, R, strict="pinned")
    extra = np.setdiff1d(pin_keys, keys, assume_unique=True)
    if len(extra):  # pinned by hand but not a candidate: affinity 0
        keys = np.concatenate([keys, extra])
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        ap, ar = keys // R, keys % R
        aff = np.concatenate([aff, np.zeros(len(extra), np.int64)])[order]
    pinned = np.isin(keys, pin_keys, assume_unique=True)
    hard = np.isin(keys, _pair_keys(problem.hard_conflicts, pindex, rindex, R, strict=None))
    soft = np.isin(keys, _pair_keys(problem.soft_conflicts, pindex, rindex, R, strict=None))

    pnames = [p.label or str(p.id) for p in problem.proposals]
    rnames = [r.label or str(r.id) for r in problem.reviewers]
    fingerprint = _fingerprint(
        problem, pids, rids, k, cat, cat_names, min_load, max_load, (keys, aff, pinned, hard, soft)
    )
    input_shortfalls = [
        _shortfall("pinned_hard_conflict", pnames[ap[i]], 1, 0, reviewer=rnames[ar[i]])
        for i in np.flatnonzero(pinned & hard)
    ]
    keep = ~hard
    ap, ar, aff, soft, pinned = ap[keep], ar[keep], aff[keep], soft[keep], pinned[keep]

    eligible_r = np.bincount(ar, minlength=R).astype(np.int64)
    pinned_r = np.bincount(ar[pinned], minlength=R).astype(np.int64)
    if problem.balanced:
        caps = np.where(max_load >= 0, np.minimum(max_load, eligible_r), eligible_r)
        lo, hi = _balanced(int(k.sum()), np.maximum(min_load, pinned_r), caps)
    else:
        lo, hi = min_load, np.where(max_load >= 0, max_load, eligible_r)
    return _Model(
        problem, pids, rids, pnames, rnames, k, cat, cat_names, ap, ar, aff, soft, pinned,
        min_load, max_load, lo.astype(np.int64), hi.astype(np.int64), fingerprint, int(hard.sum()),
        input_shortfalls,
    )


# --- feasibility -----------------------------------------------------------------------------


def _sample(names: list[str]) -> str:
    head = ", ".join(names[:SAMPLE_SIZE])
    return head + (", …" if len(names) > SAMPLE_SIZE else "")


def _shortfalls(m: _Model) -> list[Shortfall]:
    P, R = len(m.pids), len(m.rids)
    ap, ar, pin = m.ap, m.ar, m.pinned
    eligible_p = np.bincount(ap, minlength=P)
    pinned_p = np.bincount(ap[pin], minlength=P)
    eligible_r = np.bincount(ar, minlength=R)
    pinned_r = np.bincount(ar[pin], minlength=R)
    room = np.maximum(m.hi - pinned_r, 0)
    out: list[Shortfall] = []

    demand = int(m.k.sum())
    capacity = int((pinned_r + np.minimum(room, eligible_r - pinned_r)).sum())
    if demand > capacity:
        out.append(_shortfall("total_capacity", "", demand, capacity, proposals=P,
                              evaluators=int((eligible_r > 0).sum())))
    min_needed = int(np.maximum(m.lo, pinned_r).sum())
    if min_needed > demand:
        out.append(_shortfall("total_min_load", "", min_needed, demand))

    if m.cat_names:  # Hall's condition for the proposals of each category
        C = len(m.cat_names)
        arc_cat = m.cat[ap]
        has = arc_cat >= 0
        pair, counts = np.unique(arc_cat[has] * R + ar[has], return_counts=True)
        pin_pair, pin_counts = np.unique((arc_cat * R + ar)[has & pin], return_counts=True)
        pinned_c = np.zeros(len(pair), np.int64)
        pinned_c[np.searchsorted(pair, pin_pair)] = pin_counts
        contribution = pinned_c + np.minimum(room[pair % R], counts - pinned_c)
        capacity_c = np.bincount(pair // R, weights=contribution, minlength=C).astype(np.int64)
        evaluators_c = np.bincount(pair // R, minlength=C)
        demand_c = np.bincount(m.cat[m.cat >= 0], weights=m.k[m.cat >= 0], minlength=C).astype(np.int64)
        for c in np.flatnonzero(demand_c > capacity_c):
            out.append(_shortfall("category_capacity", m.cat_names[c], demand_c[c], capacity_c[c],
                                  evaluators=int(evaluators_c[c])))

    for i in np.flatnonzero(pinned_p > m.k):
        out.append(_shortfall("proposal_pinned_over_k", m.pnames[i], pinned_p[i], m.k[i]))
    for i in np.flatnonzero(eligible_p < m.k):
        out.append(_shortfall("proposal_candidates", m.pnames[i], m.k[i], eligible_p[i]))
    limit = np.where(m.max_load >= 0, np.minimum(m.max_load, m.hi), m.hi)
    for j in np.flatnonzero(pinned_r > limit):
        out.append(_shortfall("reviewer_pinned_over_max", m.rnames[j], pinned_r[j], limit[j]))
    for j in np.flatnonzero(np.maximum(m.lo, m.min_load) > eligible_r):
        out.append(_shortfall("reviewer_min_load", m.rnames[j], max(m.lo[j], m.min_load[j]), eligible_r[j]))
    out.extend(m.input_shortfalls)
    return out


def check(problem: AssignmentProblem) -> list[Shortfall]:
    """The shortfalls found before solving (empty: the solver will run)."""
    return _shortfalls(_normalise(problem))


def _explain_infeasible(m: _Model, active: np.ndarray, kp: np.ndarray, lo_res: np.ndarray,
                        hi_res: np.ndarray) -> list[Shortfall]:
    """Min cuts of two max flows: the proposals that cannot be covered, or the reviewers
    whose minimum loads cannot be met."""
    P, R = len(m.pids), len(m.rids)
    ap, ar = m.ap[active], m.ar[active]
    pinned_r = np.bincount(m.ar[m.pinned], minlength=R)
    source, sink = P + R, P + R + 1

    def cut(tails, heads, caps, left_supply, right_cap, left_offset, right_offset) -> list[int] | None:
        flow = max_flow.SimpleMaxFlow()
        left = np.flatnonzero(left_supply > 0)
        right = np.flatnonzero(right_cap > 0)
        flow.add_arcs_with_capacity(
            np.concatenate([np.full(len(left), source), tails, right + right_offset]).astype(np.int32),
            np.concatenate([left + left_offset, heads, np.full(len(right), sink)]).astype(np.int32),
            np.concatenate([left_supply[left], caps, right_cap[right]]).astype(np.int64),
        )
        if flow.solve(source, sink) != flow.OPTIMAL:
            return None
        if flow.optimal_flow() >= int(left_supply.sum()):
            return None
        return flow.get_source_side_min_cut()

    ones = np.ones(len(ap), np.int64)
    side = cut(ap, ar + P, ones, kp, hi_res, 0, P)
    if side is not None:
        S = np.zeros(P, bool)
        S[[n for n in side if n < P]] = True
        S &= kp > 0
        in_s = S[ap]
        free_r = np.bincount(ar[in_s], minlength=R)
        pin_arcs = m.pinned & S[m.ap]
        needed = int(m.k[S].sum())
        available = int(np.minimum(np.maximum(m.hi - pinned_r, 0), free_r).sum() + pin_arcs.sum())
        evaluators = len(np.union1d(ar[in_s], m.ar[pin_arcs]))
        names = [m.pnames[i] for i in np.flatnonzero(S)]
        return [_shortfall("proposal_set_capacity", _sample(names), needed, available,
                           count=len(names), sample=_sample(names), evaluators=evaluators)]
    side = cut(ar, ap + R, ones, lo_res, kp, 0, R)  # reviewers on the left: nodes 0..R-1
    if side is not None:
        Q = np.zeros(R, bool)
        Q[[n for n in side if n < R]] = True
        Q &= lo_res > 0
        in_q = Q[ar]
        free_p = np.bincount(ap[in_q], minlength=P)
        needed = int((lo_res + pinned_r)[Q].sum())
        available = int(np.minimum(kp, free_p).sum() + pinned_r[Q].sum())
        names = [m.rnames[j] for j in np.flatnonzero(Q)]
        return [_shortfall("reviewer_set_min_load", _sample(names), needed, available,
                           count=len(names), sample=_sample(names))]
    return [_shortfall("loads_and_k", "", int(kp.sum()), 0)]


# --- result ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairExplanation:
    proposal_id: Hashable
    reviewer_id: Hashable
    affinity: int
    pinned: bool
    soft_conflict: bool
    reviewer_load: int
    reviewer_min_load: int  # the bounds used (balanced or as given)
    reviewer_max_load: int
    reviewer_at_max: bool  # binding: the reviewer could take no more
    reviewer_at_min: bool  # binding: the reviewer could give none away
    proposal_k: int
    proposal_eligible: int
    better_candidates: int  # eligible reviewers of the proposal left out, with a higher (penalised) affinity
    better_candidates_with_room: int  # ... of whom below their maximum load
    reason: str  # a key of REASONS

    @property
    def because(self) -> str:
        return REASONS.get(self.reason, self.reason)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (ids left out: they are the stored pair's own columns)."""
        data = dataclasses.asdict(self)
        del data["proposal_id"], data["reviewer_id"]
        return data


@dataclass
class Assignment:
    pairs: list[Pair]  # in proposal order, then reviewer order
    objective: int  # total affinity of all pairs, pinned ones included
    penalised_objective: int  # objective less the soft-conflict penalties: what was maximised
    soft_conflicts: list[Pair]
    status: str
    solver: str
    solver_version: str
    duration_s: float
    loads: dict[Hashable, int]
    bounds: dict[Hashable, tuple[int, int]]
    record: dict[str, Any]
    _model: _Model = field(repr=False, compare=False)
    _assigned: np.ndarray = field(repr=False, compare=False)  # bool per model arc
    _explained: list[PairExplanation] | None = field(default=None, repr=False, compare=False)
    _by_proposal: dict[Hashable, list[Hashable]] | None = field(default=None, repr=False, compare=False)
    _by_reviewer: dict[Hashable, list[Hashable]] | None = field(default=None, repr=False, compare=False)

    def reviewers_of(self, proposal_id: Hashable) -> list[Hashable]:
        if self._by_proposal is None:
            self._by_proposal = {}
            for p, r in self.pairs:
                self._by_proposal.setdefault(p, []).append(r)
        return list(self._by_proposal.get(proposal_id, []))

    def proposals_of(self, reviewer_id: Hashable) -> list[Hashable]:
        if self._by_reviewer is None:
            self._by_reviewer = {}
            for p, r in self.pairs:
                self._by_reviewer.setdefault(r, []).append(p)
        return list(self._by_reviewer.get(reviewer_id, []))

    def explanations(self) -> list[PairExplanation]:
        """One explanation per pair, in the order of ``pairs``."""
        if self._explained is None:
            self._explained = _explain(self._model, self._assigned)
        return self._explained

    def explain(self, proposal_id: Hashable, reviewer_id: Hashable) -> PairExplanation:
        for item in self.explanations():
            if item.proposal_id == proposal_id and item.reviewer_id == reviewer_id:
                return item
        raise KeyError((proposal_id, reviewer_id))


def _explain(m: _Model, assigned: np.ndarray) -> list[PairExplanation]:
    P, R = len(m.pids), len(m.rids)
    eff = m.eff
    load = np.bincount(m.ar[assigned], minlength=R)
    eligible_p = np.bincount(m.ap, minlength=P)
    idx = np.flatnonzero(assigned)
    if len(idx) == 0:
        return []
    base = int(eff.min())
    span = int(eff.max()) - base + 1

    def better(mask: np.ndarray) -> np.ndarray:
        """Per assigned arc: arcs of ``mask`` on the same proposal with a higher eff."""
        keys = np.sort(m.ap[mask] * span + (eff[mask] - base))
        own = m.ap[idx] * span + (eff[idx] - base)
        top = m.ap[idx] * span + (span - 1)
        return np.searchsorted(keys, top, side="right") - np.searchsorted(keys, own, side="right")

    left_out = ~assigned
    n_better = better(left_out)
    n_room = better(left_out & (load < m.hi)[m.ar])
    out = []
    for n, a in enumerate(idx):
        p, r = m.ap[a], m.ar[a]
        at_max, at_min = bool(load[r] >= m.hi[r]), bool(load[r] <= m.lo[r])
        if m.pinned[a]:
            reason = "pinned"
        elif eligible_p[p] == m.k[p]:
            reason = "forced"
        elif n_better[n] == 0:
            reason = "best"
        elif n_room[n] == 0:
            reason = "better_full"
        elif at_min:
            reason = "min_load"
        else:  # cannot happen at an optimum: moving the pair would improve it
            reason = "not_optimal"
        out.append(PairExplanation(
            m.pids[p], m.rids[r], int(m.aff[a]), bool(m.pinned[a]), bool(m.soft[a]),
            int(load[r]), int(m.lo[r]), int(m.hi[r]), at_max, at_min,
            int(m.k[p]), int(eligible_p[p]), int(n_better[n]), int(n_room[n]), reason,
        ))
    return out


# --- solving ---------------------------------------------------------------------------------


def _record(m: _Model, status: str, timings: dict[str, float], **extra: Any) -> dict[str, Any]:
    k_values = m.k.tolist()
    k_param: Any = k_values[0] if k_values and min(k_values) == max(k_values) else {
        "min": min(k_values, default=0), "max": max(k_values, default=0)}
    return {
        "solver": SOLVER,
        "solver_version": SOLVER_VERSION,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "status": status,
        "duration_s": round(sum(timings.values()), 6),
        "timings_s": {key: round(value, 6) for key, value in timings.items()},
        "inputs": {
            "sha256": m.fingerprint,
            "proposals": len(m.pids),
            "reviewers": len(m.rids),
            "categories": len(m.cat_names),
            "candidate_pairs": int(len(m.ap)),
            "hard_conflicts_removed": m.hard_removed,
            "soft_conflict_pairs": int(m.soft.sum()),
            "pinned": int(m.pinned.sum()),
        },
        "parameters": {
            "k": k_param,
            "total_reviews": int(m.k.sum()),
            "balanced": m.problem.balanced,
            "soft_conflict_penalty": m.problem.soft_conflict_penalty,
            "load_bounds": [int(m.lo.min()), int(m.hi.max())] if len(m.rids) else [0, 0],
        },
        **extra,
    }


def solve(problem: AssignmentProblem) -> Assignment:
    """The assignment of maximum total affinity; raises :class:`Infeasible`."""
    t0 = time.perf_counter()
    m = _normalise(problem)
    t1 = time.perf_counter()
    found = _shortfalls(m)
    t2 = time.perf_counter()
    if found:
        rec = _record(m, "INFEASIBLE", {"build": t1 - t0, "check": t2 - t1},
                      shortfalls=[s.code for s in found])
        raise Infeasible(found, rec)

    P, R = len(m.pids), len(m.rids)
    pinned_p = np.bincount(m.ap[m.pinned], minlength=P)
    pinned_r = np.bincount(m.ar[m.pinned], minlength=R)
    kp = m.k - pinned_p  # reviews still to place per proposal
    lo_res = np.maximum(m.lo - pinned_r, 0)
    hi_res = m.hi - pinned_r
    active = ~m.pinned & (kp[m.ap] > 0) & (hi_res[m.ar] > 0)
    arcs = np.flatnonzero(active)
    slack = np.flatnonzero(hi_res > lo_res)
    sink = P + R

    flow = min_cost_flow.SimpleMinCostFlow()
    if len(arcs):
        flow.add_arcs_with_capacity_and_unit_cost(
            m.ap[arcs].astype(np.int32), (m.ar[arcs] + P).astype(np.int32),
            np.ones(len(arcs), np.int64), -m.eff[arcs],
        )
    if len(slack):
        flow.add_arcs_with_capacity_and_unit_cost(
            (slack + P).astype(np.int32), np.full(len(slack), sink, np.int32),
            (hi_res - lo_res)[slack], np.zeros(len(slack), np.int64),
        )
    supplies = np.concatenate([kp, -lo_res, [int(lo_res.sum() - kp.sum())]]).astype(np.int64)
    flow.set_nodes_supplies(np.arange(P + R + 1, dtype=np.int32), supplies)
    status = flow.solve()
    t3 = time.perf_counter()

    if status == flow.INFEASIBLE:
        found = _explain_infeasible(m, active, kp, lo_res, hi_res)
        rec = _record(m, "INFEASIBLE", {"build": t1 - t0, "check": t2 - t1, "solve": t3 - t2},
                      shortfalls=[s.code for s in found])
        raise Infeasible(found, rec)
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}")

    assigned = m.pinned.copy()
    if len(arcs):
        assigned[arcs] = flow.flows(np.arange(len(arcs), dtype=np.int32)) > 0
    idx = np.flatnonzero(assigned)
    pairs = [(m.pids[p], m.rids[r]) for p, r in zip(m.ap[idx].tolist(), m.ar[idx].tolist())]
    soft_idx = idx[m.soft[idx]]
    load = np.bincount(m.ar[idx], minlength=R)
    objective = int(m.aff[idx].sum())
    penalised = int(m.eff[idx].sum())
    t4 = time.perf_counter()
    timings = {"build": t1 - t0, "check": t2 - t1, "solve": t3 - t2, "result": t4 - t3}
    result_hash = hashlib.sha256(np.ascontiguousarray(m.ap[idx] * max(R, 1) + m.ar[idx]).tobytes()).hexdigest()
    rec = _record(
        m, "OPTIMAL", timings,
        objective=objective,
        penalised_objective=penalised,
        result={"pairs": len(pairs), "sha256": result_hash, "soft_conflicts": int(len(soft_idx)),
                "load_min": int(load.min()) if R else 0, "load_max": int(load.max()) if R else 0},
    )
    return Assignment(
        pairs=pairs,
        objective=objective,
        penalised_objective=penalised,
        soft_conflicts=[(m.pids[m.ap[a]], m.rids[m.ar[a]]) for a in soft_idx],
        status="OPTIMAL",
        solver=SOLVER,
        solver_version=SOLVER_VERSION,
        duration_s=t4 - t0,
        loads=dict(zip(m.rids, load.tolist())),
        bounds=dict(zip(m.rids, zip(m.lo.tolist(), m.hi.tolist()))),
        record=rec,
        _model=m,
        _assigned=assigned,
    )


def reassign(
    problem: AssignmentProblem,
    previous: Assignment | Iterable[Pair],
    *,
    withdrawn: Collection[Hashable] = (),
    new_hard_conflicts: Collection[Pair] = (),
) -> Assignment:
    """Re-solve after reviewers withdraw or new conflicts appear, moving as little as possible.

    Every pair of ``previous`` that survives (its reviewer is still in and it is
    not a hard conflict) is pinned, as are the problem's own pinned pairs that
    survive; only the proposals that lost a reviewer get new ones. Loads are
    recomputed as the problem says (balanced: the remaining reviewers share the
    extra reviews, no one more than one above another among those who can).
    """
    old_pairs = previous.pairs if isinstance(previous, Assignment) else list(previous)
    gone = set(withdrawn)
    hard = set(problem.hard_conflicts) | set(new_hard_conflicts)
    kept_positions = [i for i, r in enumerate(problem.reviewers) if r.id not in gone]
    reviewers = [problem.reviewers[i] for i in kept_positions]
    pids = {p.id for p in problem.proposals}
    rids = {r.id for r in reviewers}

    def survives(pair: Pair) -> bool:
        return pair[0] in pids and pair[1] in rids and pair not in hard

    pinned = {pair for pair in old_pairs if survives(pair)} | {pair for pair in problem.pinned if survives(pair)}
    candidates = problem.candidates
    if isinstance(candidates, CandidateArrays):  # positions move when reviewers leave
        new_pos = np.full(len(problem.reviewers), -1, np.int64)
        new_pos[kept_positions] = np.arange(len(kept_positions))
        mapped = new_pos[np.asarray(candidates.reviewer, dtype=np.int64)]
        keep = mapped >= 0
        candidates = CandidateArrays(np.asarray(candidates.proposal)[keep], mapped[keep],
                                     np.asarray(candidates.affinity)[keep])
    elif isinstance(candidates, Mapping):
        candidates = {pid: [(rid, a) for rid, a in items if rid not in gone] for pid, items in candidates.items()}
    return solve(dataclasses.replace(problem, reviewers=reviewers, candidates=candidates,
                                     hard_conflicts=hard, pinned=pinned))


# --- teams -----------------------------------------------------------------------------------


def team_inputs(
    teams: Mapping[Hashable, Collection[Hashable]],
    candidates: Mapping[Hashable, Iterable[tuple[Hashable, int]]],
    hard_conflicts: Collection[Pair] = (),
    soft_conflicts: Collection[Pair] = (),
    aggregate: Literal["mean", "max"] = "mean",
) -> tuple[dict[Hashable, list[tuple[Hashable, int]]], set[Pair], set[Pair]]:
    """Team candidates and conflicts from the members': ``(candidates, hard, soft)``.

    A team's affinity for a proposal is the mean (rounded down; members who are
    not candidates count 0) or the max of its members'; a team has a hard (soft)
    conflict with a proposal when any member has one. Use the teams as
    :class:`Reviewer` objects with these inputs.
    """
    hard_by_member: dict[Hashable, set] = {}
    soft_by_member: dict[Hashable, set] = {}
    for pid, rid in hard_conflicts:
        hard_by_member.setdefault(rid, set()).add(pid)
    for pid, rid in soft_conflicts:
        soft_by_member.setdefault(rid, set()).add(pid)
    team_cands: dict[Hashable, list[tuple[Hashable, int]]] = {}
    team_hard: set[Pair] = set()
    team_soft: set[Pair] = set()
    for team, members in teams.items():
        for member in members:
            team_hard |= {(pid, team) for pid in hard_by_member.get(member, ())}
            team_soft |= {(pid, team) for pid in soft_by_member.get(member, ())}
    for pid, items in candidates.items():
        member_aff = dict(items)
        rows = []
        for team, members in teams.items():
            values = [member_aff[x] for x in members if x in member_aff]
            if not values:
                continue
            score = max(values) if aggregate == "max" else sum(values) // len(members)
            rows.append((team, int(score)))
        team_cands[pid] = rows
    return team_cands, team_hard, team_soft
