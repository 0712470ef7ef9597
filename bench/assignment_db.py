"""The assignment at KIPP scale end to end, from the database: 3,000 screened proposals, 150 evaluators, k = 3.

    .venv/bin/python bench/assignment_db.py [--proposals 3000] [--judges 150]

Seeds the PostgreSQL database named by KIPP_BENCH_DATABASE_URL (default: a
fresh kipp_bench_assignment) with bench/seed_edition.py, marks the submitted
proposals as passed screening (keeping the first --proposals), adds
--judges accepted evaluators with 1-3 fields of expertise, a fifth of them
working for a regional government (automatic same-province conflicts) and
1% declared single-proposal conflicts, then times what the secretariat's
"Compute" button does: build the problem from the database (conflicts
included), solve it, write the draft and commit. Prints the figures and a
check of every constraint.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.seed_edition import seed  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kipp_bench_assignment"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proposals", type=int, default=3000)
    parser.add_argument("--judges", type=int, default=150)
    args = parser.parse_args()
    url = os.environ.get("KIPP_BENCH_DATABASE_URL", DEFAULT_URL)
    started = time.perf_counter()
    seed(url, agencies=600, proposals=int(args.proposals * 1.5) + 100)
    print(f"seeded in {time.perf_counter() - started:.1f} s")

    from tests.conftest import build_app

    from kipp.accounts.passwords import hash_password
    from kipp.assignment import services, solver
    from kipp.editions.kinds import StageKind
    from kipp.editions.models import Edition
    from kipp.extensions import db
    from kipp.judging.models import Assignment, AssignmentRun, InvitationStatus, PoolMember

    app = build_app(url, Path(tempfile.mkdtemp(prefix="kipp-bench-")))
    rng = random.Random(2027)
    with app.app_context():
        edition = db.session.scalars(sa.select(Edition)).one()
        ids = db.session.scalars(sa.text(
            "SELECT id FROM proposals WHERE status = 'submitted' ORDER BY id LIMIT :n"), {"n": args.proposals}).all()
        db.session.execute(sa.text("UPDATE proposals SET status = 'admin_passed' WHERE id = ANY(:ids)"),
                           {"ids": list(ids)})
        regional = db.session.scalars(sa.text(
            "SELECT id FROM agencies WHERE type IN ('provinsi', 'kabupaten', 'kota') ORDER BY id")).all()
        categories = [c.id for c in edition.categories]
        password = hash_password("bench-Sandi-2027")
        for n in range(args.judges):
            agency_id = rng.choice(regional) if n % 5 == 0 else None
            user_id = db.session.execute(sa.text(
                "INSERT INTO users (email, name, role, agency_id, password_hash, must_change_password, active, "
                "locale, created_at, updated_at) VALUES (:e, :n, 'evaluator', :a, :p, false, true, "
                "'id', now(), now()) RETURNING id"),
                {"e": f"evaluator{n}@kipp.bench", "n": f"Evaluator {n}", "a": agency_id, "p": password}).scalar()
            member = PoolMember(edition_id=edition.id, stage=StageKind.EVALUATION, user_id=user_id,
                                status=InvitationStatus.ACCEPTED)
            db.session.add(member)
            db.session.flush()
            for category_id in rng.sample(categories, rng.randint(1, 3)):
                db.session.execute(sa.text(
                    "INSERT INTO pool_member_expertise (member_id, category_id) VALUES (:m, :c)"),
                    {"m": member.id, "c": category_id})
            for proposal_id in rng.sample(list(ids), max(1, len(ids) // 100)):
                db.session.execute(sa.text(
                    "INSERT INTO conflict_declarations (edition_id, user_id, kind, proposal_id, severity, reason, "
                    "declared_at) VALUES (:ed, :u, 'proposal', :p, 'hard', 'bench', now())"),
                    {"ed": edition.id, "u": user_id, "p": proposal_id})
        db.session.commit()

        timings = {}
        t0 = time.perf_counter()
        problem = services.build_problem(edition, StageKind.EVALUATION)
        timings["build from the database (incl. conflicts)"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        result = solver.solve(problem)
        timings["solve"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        run = AssignmentRun(edition_id=edition.id, stage=StageKind.EVALUATION, requested_by_id=1, params={})
        db.session.add(run)
        db.session.flush()
        services._write_draft(edition, run, result)
        db.session.commit()
        timings["write the draft and commit"] = time.perf_counter() - t2
        total = time.perf_counter() - t0

        pairs = db.session.execute(sa.select(Assignment.proposal_id, Assignment.member_id)).all()
        per_proposal = Counter(p for p, _m in pairs)
        loads = Counter(m for _p, m in pairs)
        hard = problem.hard_conflicts
        checks = {
            "every proposal has k distinct judges": set(per_proposal.values()) == {edition.reviewers_per_proposal}
            and len(set(pairs)) == len(pairs) and len(per_proposal) == len(ids),
            "no hard conflict": not [pair for pair in pairs if tuple(pair) in hard],
            "loads balanced (max - min <= 1)": max(loads.values()) - min(loads.values()) <= 1,
        }
    print(f"{len(ids)} proposals, {args.judges} judges, k = {edition.reviewers_per_proposal}, "
          f"{len(problem.hard_conflicts)} hard conflicts")
    for name, seconds in timings.items():
        print(f"{name:>45}: {seconds:6.2f} s")
    print(f"{'end to end':>45}: {total:6.2f} s   (target <= 2 s)")
    print(f"objective {result.objective}, status {result.status}, {result.solver} {result.solver_version}")
    print(f"load spread {max(loads.values()) - min(loads.values())} ({min(loads.values())}..{max(loads.values())})")
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
