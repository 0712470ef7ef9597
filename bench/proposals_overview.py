"""Time the secretariat's proposal pages on the database bench/seed_edition.py filled.

    .venv/bin/python bench/seed_edition.py
    .venv/bin/python bench/proposals_overview.py [--runs 20] [--export-runs 3]

Through the Flask test client, logged in as the seeded secretariat account,
each page is requested ``--runs`` times after two warm-up requests; every
request gets its own app context and so its own session (no objects cached
between requests). The figures are wall-clock times of the whole request
(routing, queries, template, response) and the number of SQL statements each
request ran, counted with a ``before_cursor_execute`` listener on the engine.

Targets: list and funnel pages under 300 ms, the export of every proposal
under 10 s. The exit status is 1 when a median misses its target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.seed_edition import BENCH_EMAIL, BENCH_PASSWORD, DEFAULT_URL  # noqa: E402

PAGE_TARGET_MS = 300
EXPORT_TARGET_MS = 10_000


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--export-runs", type=int, default=3)
    args = parser.parse_args()

    from tests.conftest import build_app

    from kipp.extensions import db

    url = os.environ.get("KIPP_BENCH_DATABASE_URL", DEFAULT_URL)
    app = build_app(url, Path(tempfile.mkdtemp(prefix="kipp-bench-")))
    if "proposals_admin" not in app.blueprints:  # until create_app registers it
        from kipp.proposals.secretariat_views import bp

        app.register_blueprint(bp)

    with app.app_context():
        engine = db.engine
        proposals = db.session.scalar(sa.text("SELECT count(*) FROM proposals"))
        province = db.session.scalar(sa.text(
            "SELECT substr(a.region_code, 1, 2) FROM proposals p JOIN agencies a ON a.id = p.agency_id "
            "WHERE a.region_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"))
        one = db.session.scalar(sa.text("SELECT id FROM proposals WHERE status = 'submitted' ORDER BY id LIMIT 1"))
    statements = [0]

    def count(*_args: Any) -> None:
        statements[0] += 1

    sa.event.listen(engine, "before_cursor_execute", count)

    client = app.test_client()
    response = client.post("/login", data={"email": BENCH_EMAIL, "password": BENCH_PASSWORD})
    if response.status_code != 302:
        print("cannot log in: run bench/seed_edition.py first", file=sys.stderr)
        return 2

    def measure(path: str, runs: int, warmup: int = 2) -> dict[str, Any]:
        for _ in range(warmup):
            assert client.get(path).status_code == 200, path
        times, queries, size = [], set(), 0
        for _ in range(runs):
            statements[0] = 0
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
            queries.add(statements[0])
            size = len(response.data)
        return {"median": statistics.median(times), "p95": _percentile(times, 0.95), "max": max(times),
                "queries": sorted(queries), "bytes": size, "runs": runs}

    pages = [
        ("list, first page", "/admin/proposals/", PAGE_TARGET_MS),
        ("list, filtered", f"/admin/proposals/?status=submitted&cluster=kabupaten&province={province}",
         PAGE_TARGET_MS),
        ("list, search", "/admin/proposals/?q=sehat", PAGE_TARGET_MS),
        ("list, page 40", "/admin/proposals/?page=40", PAGE_TARGET_MS),
        ("funnel", "/admin/proposals/funnel", PAGE_TARGET_MS),
        ("proposal preview", f"/admin/proposals/{one}", PAGE_TARGET_MS),
    ]
    print(f"{proposals} proposals; {args.runs} runs per page (export: {args.export_runs}); times in ms\n")
    print(f"{'page':<22}{'median':>9}{'p95':>9}{'max':>9}{'queries':>9}{'KB':>8}  target")
    failed = False
    for label, path, target in pages:
        r = measure(path, args.runs)
        ok = r["median"] < target
        failed |= not ok
        print(f"{label:<22}{r['median']:>9.1f}{r['p95']:>9.1f}{r['max']:>9.1f}"
              f"{'/'.join(map(str, r['queries'])):>9}{r['bytes'] / 1024:>8.0f}  < {target} {'ok' if ok else 'MISSED'}")
    from kipp.proposals.printing import unavailable

    downloads = [("export, all (xlsx)", "/admin/proposals/export.xlsx", EXPORT_TARGET_MS, args.export_runs)]
    if unavailable() is None:
        downloads.append(("proposal PDF", f"/admin/proposals/{one}/print.pdf", EXPORT_TARGET_MS, args.export_runs))
    else:
        print(f"(no PDF timing: {unavailable()})")
    for label, path, target, runs in downloads:
        r = measure(path, runs, warmup=1)
        ok = r["median"] < target
        failed |= not ok
        print(f"{label:<22}{r['median']:>9.1f}{r['p95']:>9.1f}{r['max']:>9.1f}"
              f"{'/'.join(map(str, r['queries'])):>9}{r['bytes'] / 1024:>8.0f}  < {target} {'ok' if ok else 'MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
