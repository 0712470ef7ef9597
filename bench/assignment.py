"""Time and check the exact reviewer-assignment solver (kipp.assignment.solver).

    .venv/bin/python bench/assignment.py [--seed 1] [--no-stress] [--no-stress-highs]

Synthetic instances with topic-clustered affinities: 11 categories, each
reviewer expert in 1 to 3 of them, affinity 60 when the proposal's category
is one of the reviewer's and 15 otherwise, plus Gaussian noise (sd 10),
rounded and clipped to 0-100; 1% of the candidate pairs are hard conflicts. Loads are
balanced (the solver's default). Each part runs in its own process, so the
peak memory printed (ru_maxrss) is that part's, instance generation included:

- kipp: 3,000 proposals, 150 reviewers, k=3, dense candidates (every pair;
  the solver drops the conflicts). Target: build + solve <= 2 s.
- compare: 1,000 proposals x 50 reviewers, dense, k=3: OR-Tools against
  SciPy's HiGHS (linprog) and NetworkX's min_cost_flow (network simplex).
- stress: 15,000 proposals, 10,000 reviewers, k=3, each proposal's top 100
  reviewers by affinity as candidates. Target: <= 30 s and <= 2 GiB.
- stress-highs: the stress instance solved again by HiGHS as an LP, to compare
  the objective (a separate process, so its memory does not count above).

Times are wall-clock. "build" is the solver turning the in-memory candidate
lists (a dict of (reviewer id, affinity) lists, as the database layer will
hand them over) into arrays, "check" the feasibility checks, "solve" the
min-cost flow. Every result is checked independently: candidate pairs only,
no hard conflict, k distinct reviewers per proposal, every load within its
bounds, and the LP optimum of HiGHS equal to the objective (1e-6 relative).
The exit status is 1 when a check fails or a target is missed.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from kipp.assignment.solver import (  # noqa: E402
    Assignment,
    AssignmentProblem,
    CandidateArrays,
    Proposal,
    Reviewer,
    solve,
)

N_CATEGORIES = 11
MATCH, OTHER, NOISE_SD = 60.0, 15.0, 10.0  # affinity when the category matches or not, noise
CONFLICT_RATE = 0.01
K = 3
KIPP_TARGET_S = 2.0
STRESS_TARGET_S = 30.0
STRESS_TARGET_MIB = 2048
LP_TOLERANCE = 1e-6
HIGHS_STRESS_LIMIT_S = 600


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


# --- instances -------------------------------------------------------------------------------


class Instance:
    """Arrays of positions: candidates (pi, ri, aff) and which of them are hard conflicts."""

    def __init__(self, n_prop: int, n_rev: int, *, top: int | None, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.n_prop, self.n_rev = n_prop, n_rev
        self.prop_cat = rng.integers(0, N_CATEGORIES, n_prop)
        n_expert = rng.integers(1, 4, n_rev)
        ranks = rng.random((n_rev, N_CATEGORIES)).argsort(1).argsort(1)
        self.expertise = ranks < n_expert[:, None]  # reviewer x category
        chunks_p, chunks_r, chunks_a = [], [], []
        chunk = max(1, 5_000_000 // n_rev)
        for start in range(0, n_prop, chunk):
            cats = self.prop_cat[start:start + chunk]
            match = self.expertise[:, cats].T
            aff = np.where(match, MATCH, OTHER) + rng.normal(0, NOISE_SD, match.shape)
            aff = np.clip(np.rint(aff), 0, 100).astype(np.int64)
            rows = np.arange(start, start + len(cats))
            if top is None:
                cols = np.broadcast_to(np.arange(n_rev), aff.shape)
            else:
                cols = np.argpartition(-aff, top - 1, axis=1)[:, :top]
                cols.sort(axis=1)
                aff = np.take_along_axis(aff, cols, axis=1)
            chunks_p.append(np.repeat(rows, cols.shape[1]))
            chunks_r.append(cols.ravel())
            chunks_a.append(aff.ravel())
        self.pi = np.concatenate(chunks_p)
        self.ri = np.concatenate(chunks_r)
        self.aff = np.concatenate(chunks_a)
        self.hard = rng.random(len(self.pi)) < CONFLICT_RATE
        self.pids = list(range(1, n_prop + 1))
        self.rids = [f"R{j:05d}" for j in range(n_rev)]
        self.categories = [f"Kategori {c + 1}" for c in range(N_CATEGORIES)]

    def problem(self, arrays: bool = False) -> AssignmentProblem:
        proposals = [Proposal(pid, self.categories[c]) for pid, c in zip(self.pids, self.prop_cat.tolist())]
        reviewers = [Reviewer(rid) for rid in self.rids]
        hard = {(self.pids[p], self.rids[r]) for p, r in zip(self.pi[self.hard].tolist(), self.ri[self.hard].tolist())}
        if arrays:
            candidates: Any = CandidateArrays(self.pi, self.ri, self.aff)
        else:
            candidates = self.candidate_lists()
        return AssignmentProblem(proposals, reviewers, candidates=candidates, k=K, hard_conflicts=hard)

    def candidate_lists(self) -> dict[int, list[tuple[str, int]]]:
        """What the database layer will hand over: per proposal id, (reviewer id, affinity)."""
        bounds = np.searchsorted(self.pi, np.arange(self.n_prop + 1))
        rids, ris, affs = self.rids, self.ri.tolist(), self.aff.tolist()
        return {
            self.pids[p]: [(rids[r], a) for r, a in zip(ris[bounds[p]:bounds[p + 1]], affs[bounds[p]:bounds[p + 1]])]
            for p in range(self.n_prop)
        }

    def allowed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        keep = ~self.hard
        return self.pi[keep], self.ri[keep], self.aff[keep]


# --- independent checks ----------------------------------------------------------------------


def verify(inst: Instance, result: Assignment) -> list[str]:
    """Every constraint, from the instance's own arrays (not the solver's)."""
    rindex = {rid: j for j, rid in enumerate(inst.rids)}
    p = np.asarray([pid - 1 for pid, _ in result.pairs], dtype=np.int64)
    r = np.asarray([rindex[rid] for _, rid in result.pairs], dtype=np.int64)
    R = inst.n_rev
    problems = []
    keys = p * R + r
    cand_keys = inst.pi * R + inst.ri
    order = np.argsort(cand_keys)
    pos = np.searchsorted(cand_keys[order], keys)
    found = (pos < len(cand_keys)) & (cand_keys[order][np.minimum(pos, len(cand_keys) - 1)] == keys)
    if not found.all():
        problems.append(f"{int((~found).sum())} pairs are not candidates")
    if inst.hard[order][pos[found]].any():
        problems.append("a hard conflict was assigned")
    if len(np.unique(keys)) != len(keys):
        problems.append("a reviewer twice on a proposal")
    per_prop = np.bincount(p, minlength=inst.n_prop)
    if (per_prop != K).any():
        problems.append(f"{int((per_prop != K).sum())} proposals without exactly {K} reviewers")
    load = np.bincount(r, minlength=R)
    lo = np.asarray([result.bounds[rid][0] for rid in inst.rids])
    hi = np.asarray([result.bounds[rid][1] for rid in inst.rids])
    if ((load < lo) | (load > hi)).any():
        problems.append("a load out of bounds")
    if int(inst.aff[order][pos[found]].sum()) != result.objective:
        problems.append("objective differs from the pairs' affinities")
    return problems


def highs(inst: Instance, result: Assignment) -> tuple[float, float, str]:
    """The LP relaxation (which is integral here) by SciPy's HiGHS: (objective, seconds, status)."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix, vstack

    pi, ri, aff = inst.allowed()
    n = len(pi)
    cols = np.arange(n)
    by_prop = csr_matrix((np.ones(n), (pi, cols)), shape=(inst.n_prop, n))
    by_rev = csr_matrix((np.ones(n), (ri, cols)), shape=(inst.n_rev, n))
    lo = np.asarray([result.bounds[rid][0] for rid in inst.rids], dtype=float)
    hi = np.asarray([result.bounds[rid][1] for rid in inst.rids], dtype=float)
    t0 = time.perf_counter()
    res = linprog(
        -aff.astype(float), A_ub=vstack([by_rev, -by_rev]).tocsr(), b_ub=np.concatenate([hi, -lo]),
        A_eq=by_prop, b_eq=np.full(inst.n_prop, float(K)), bounds=(0, 1), method="highs",
        options={"time_limit": HIGHS_STRESS_LIMIT_S},
    )
    seconds = time.perf_counter() - t0
    return (-res.fun if res.status == 0 else float("nan")), seconds, res.message


def networkx_flow(inst: Instance, result: Assignment) -> tuple[int, float]:
    """The same min-cost flow by NetworkX's network simplex: (objective, seconds incl. graph build)."""
    import networkx as nx

    pi, ri, aff = inst.allowed()
    t0 = time.perf_counter()
    graph = nx.DiGraph()
    lo = {rid: result.bounds[rid][0] for rid in inst.rids}
    hi = {rid: result.bounds[rid][1] for rid in inst.rids}
    for pid in inst.pids:
        graph.add_node(("p", pid), demand=-K)
    for rid in inst.rids:
        graph.add_node(("r", rid), demand=lo[rid])
        graph.add_edge(("r", rid), "sink", capacity=hi[rid] - lo[rid], weight=0)
    graph.add_node("sink", demand=K * inst.n_prop - sum(lo.values()))
    for p, r, a in zip(pi.tolist(), ri.tolist(), aff.tolist()):
        graph.add_edge(("p", inst.pids[p]), ("r", inst.rids[r]), capacity=1, weight=-a)
    flows = nx.min_cost_flow(graph)
    seconds = time.perf_counter() - t0
    return -nx.cost_of_flow(graph, flows), seconds


# --- parts -----------------------------------------------------------------------------------


def report(label: str, inst: Instance, result: Assignment, seconds: float) -> list[str]:
    t = result.record["timings_s"]
    loads = np.asarray(list(result.loads.values()))
    print(f"{label}: {inst.n_prop:,} proposals x {inst.n_rev:,} reviewers, k={K}, "
          f"{len(inst.pi):,} candidate pairs, {int(inst.hard.sum()):,} hard conflicts")
    print(f"  solve() end to end   {seconds:8.3f} s  (build {t['build']:.3f}, check {t['check']:.3f}, "
          f"min-cost flow {t['solve']:.3f}, result {t['result']:.3f})")
    print(f"  objective            {result.objective:,}  status {result.status}  "
          f"({result.solver} {result.solver_version})")
    print(f"  loads                {loads.min()}..{loads.max()} (spread {loads.max() - loads.min()})")
    problems = verify(inst, result)
    print(f"  constraints          {'all hold' if not problems else '; '.join(problems)}")
    return problems


def timed_solve(problem: AssignmentProblem) -> tuple[Assignment, float]:
    t0 = time.perf_counter()
    result = solve(problem)
    return result, time.perf_counter() - t0


def agree(objective: float, reference: float) -> bool:
    return abs(objective - reference) <= LP_TOLERANCE * max(1.0, abs(reference))


def part_kipp(seed: int) -> int:
    inst = Instance(3_000, 150, top=None, seed=seed)
    t0 = time.perf_counter()
    problem = inst.problem()
    lists_s = time.perf_counter() - t0
    result, seconds = timed_solve(problem)
    failed = report("kipp", inst, result, seconds)
    print(f"  (making the input lists and conflict set from numpy, not counted: {lists_s:.3f} s)")
    print(f"  peak memory          {peak_mib():8.0f} MiB (before HiGHS)")
    t0 = time.perf_counter()
    reasons: dict[str, int] = {}
    for item in result.explanations():
        reasons[item.reason] = reasons.get(item.reason, 0) + 1
    print(f"  explanations         {time.perf_counter() - t0:8.3f} s  {reasons}")
    _, array_seconds = timed_solve(inst.problem(arrays=True))
    print(f"  with CandidateArrays {array_seconds:8.3f} s")
    reference, highs_s, message = highs(inst, result)
    ok = agree(result.objective, reference)
    print(f"  HiGHS LP             {highs_s:8.3f} s  objective {reference:,.1f}  "
          f"{'agrees' if ok else 'DIFFERS'} ({message})")
    print(f"  peak memory          {peak_mib():8.0f} MiB (after HiGHS)")
    if seconds > KIPP_TARGET_S:
        print(f"  MISSED the {KIPP_TARGET_S} s target")
    return int(bool(failed) or not ok or seconds > KIPP_TARGET_S)


def part_compare(seed: int) -> int:
    inst = Instance(1_000, 50, top=None, seed=seed)
    result, seconds = timed_solve(inst.problem())
    failed = report("compare", inst, result, seconds)
    reference, highs_s, _ = highs(inst, result)
    nx_objective, nx_s = networkx_flow(inst, result)
    print(f"  HiGHS LP             {highs_s:8.3f} s  objective {reference:,.1f}  ({highs_s / seconds:.0f}x)")
    print(f"  NetworkX min_cost_flow {nx_s:6.3f} s  objective {nx_objective:,}  ({nx_s / seconds:.0f}x)")
    ok = agree(result.objective, reference) and nx_objective == result.objective
    print(f"  objectives           {'agree' if ok else 'DIFFER'}")
    return int(bool(failed) or not ok)


def part_stress(seed: int, with_highs: bool) -> int:
    t0 = time.perf_counter()
    inst = Instance(15_000, 10_000, top=100, seed=seed)
    t1 = time.perf_counter()
    problem = inst.problem()
    print(f"stress instance generated in {t1 - t0:.1f} s (its input lists {time.perf_counter() - t1:.1f} s, "
          f"not counted), peak memory so far {peak_mib():.0f} MiB")
    result, seconds = timed_solve(problem)
    failed = report("stress" + (" (again, for HiGHS)" if with_highs else ""), inst, result, seconds)
    peak = peak_mib()
    print(f"  peak memory          {peak:8.0f} MiB")
    if not with_highs:
        missed = seconds > STRESS_TARGET_S or peak > STRESS_TARGET_MIB
        if missed:
            print(f"  MISSED the {STRESS_TARGET_S} s / {STRESS_TARGET_MIB} MiB target")
        return int(bool(failed) or missed)
    del problem
    reference, highs_s, message = highs(inst, result)
    ok = agree(result.objective, reference)
    print(f"  HiGHS LP             {highs_s:8.3f} s  objective {reference:,.1f}  "
          f"{'agrees' if ok else 'DIFFERS'} ({message})")
    print(f"  peak memory with HiGHS {peak_mib():6.0f} MiB")
    return int(bool(failed) or not ok)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-stress", action="store_true", help="skip the 15,000 x 10,000 instance")
    parser.add_argument("--no-stress-highs", action="store_true", help="skip HiGHS on the stress instance")
    parser.add_argument("--part", choices=["kipp", "compare", "stress", "stress-highs"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part == "kipp":
        return part_kipp(args.seed)
    if args.part == "compare":
        return part_compare(args.seed)
    if args.part in ("stress", "stress-highs"):
        return part_stress(args.seed, with_highs=args.part == "stress-highs")

    parts = ["kipp", "compare"]
    if not args.no_stress:
        parts.append("stress")
        if not args.no_stress_highs:
            parts.append("stress-highs")
    status = 0
    for part in parts:
        sys.stdout.flush()
        done = subprocess.run([sys.executable, __file__, "--part", part, "--seed", str(args.seed)])
        status |= done.returncode
        print()
    print("all checks passed, targets met" if status == 0 else "FAILED: see above")
    return status


if __name__ == "__main__":
    sys.exit(main())
