"""Seed a benchmark database for the selection rounds: 3,500 screened proposals, 60 evaluators,
15 panelists, the evaluation open.

    .venv/bin/python bench/seed_lifecycle.py [--proposals 3500] [--evaluators 60] [--panelists 15] [--seed 2027]

The database named by KIPP_BENCH_DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/kipp_bench_lifecycle) is dropped and
created again by bench/seed_edition.py (one edition from the 2023 template, 600
agencies, enough proposals that --proposals of them were submitted: 5,350 for 3,500),
then:

- the first --proposals submitted proposals (by id) become ``admin_passed`` (umum and
  khusus as seed_edition mixed them, about 6% khusus); they keep their numbers;
- --evaluators evaluators (``evaluator<n>@kipp.bench``), accepted members of the
  evaluation pool with 1-3 fields of expertise; a fifth work for a regional government
  (same-province conflicts, which the edition treats as hard);
- --panelists panelists (``panelist<n>@kipp.bench``), accepted members of both the
  panel-review and the presentation pools with 2-4 fields of expertise; the first one
  chairs the panel (``is_chair`` in both pools);
- the evaluation and panel-review scoring schemes, by the real service
  (kipp.scoring.services.create_scheme);
- the tier sizes of the 2023 template (umum 198/99/45, khusus 30/15/5), places per
  cluster proportional to the passed proposals and a 3T minimum of 20 umum nominees;
- every stage before the evaluation closed, the evaluation open and the later stages
  planned (tests/selection_factories.set_stages);
- the edition's year set to the current one (seed_edition builds KIPP 2027; the award
  history the final result writes refuses a year after the current one), the proposal
  numbers with it.

The database is then copied to ``<name>_seeded`` (CREATE DATABASE ... TEMPLATE), so that
bench/lifecycle.py --reuse can start again from this point in a second.

:func:`insert_sheets` adds a stage's submitted score sheets for its published assignments
(bench/seed_scoring.plausible_sheets); bench/lifecycle.py uses it for each scored stage.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.seed_edition import BENCH_EMAIL, BENCH_PASSWORD, _insert, seed  # noqa: E402
from bench.seed_scoring import plausible_sheets  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kipp_bench_lifecycle"
EVALUATOR_EMAIL = "evaluator{n}@kipp.bench"
PANELIST_EMAIL = "panelist{n}@kipp.bench"
MIN_3T_UMUM = 20
SEEDED_SUFFIX = "_seeded"


def _server_and_name(url: str) -> tuple[str, str]:
    server, name = url.rsplit("/", 1)
    return server, name


def snapshot_name(url: str) -> str:
    return _server_and_name(url)[1] + SEEDED_SUFFIX


def _admin_engine(url: str) -> sa.Engine:
    return sa.create_engine(_server_and_name(url)[0] + "/postgres", isolation_level="AUTOCOMMIT")


def database_exists(url: str, name: str) -> bool:
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            return bool(conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}))
    finally:
        engine.dispose()


def copy_database(url: str, source: str, target: str) -> None:
    """Drop ``target`` and create it as a copy of ``source`` (which must have no connection)."""
    engine = _admin_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{target}" TEMPLATE "{source}"'))
    finally:
        engine.dispose()


def seed_lifecycle(url: str, *, proposals: int = 3500, agencies: int = 600, evaluators: int = 60,
                   panelists: int = 15, seed_value: int = 2027) -> dict[str, Any]:
    started = time.perf_counter()
    # About 67% of seed_edition's proposals end up submitted; ask for enough of them.
    base = seed(url, agencies=agencies, proposals=int(proposals * 1.5) + 100, seed_value=seed_value)

    from tests.conftest import build_app
    from tests.selection_factories import set_stages

    from kipp.accounts.models import User
    from kipp.accounts.passwords import hash_password
    from kipp.db import utcnow
    from kipp.editions.kinds import GroupCode, StageKind
    from kipp.editions.models import Edition
    from kipp.extensions import db
    from kipp.i18n import to_wib
    from kipp.judging.models import PoolMember, member_expertise
    from kipp.scoring import services as scoring

    rng = random.Random(seed_value)
    app = build_app(url, Path(tempfile.mkdtemp(prefix="kipp-bench-")))
    now = utcnow()
    with app.app_context():
        edition = db.session.scalars(sa.select(Edition)).one()
        ids = db.session.scalars(sa.text(
            "SELECT id FROM proposals WHERE status = 'submitted' ORDER BY id LIMIT :n"), {"n": proposals}).all()
        if len(ids) < proposals:
            raise SystemExit(f"only {len(ids)} submitted proposals; ask seed_edition for more")
        db.session.execute(sa.text("UPDATE proposals SET status = 'admin_passed' WHERE id = ANY(:ids)"),
                           {"ids": list(ids)})
        khusus = db.session.scalar(sa.text(
            "SELECT count(*) FROM proposals p JOIN edition_groups g ON g.id = p.group_id "
            "WHERE p.status = 'admin_passed' AND g.code = 'khusus'"))
        regional = db.session.scalars(sa.text(
            "SELECT id FROM agencies WHERE type IN ('provinsi', 'kabupaten', 'kota') ORDER BY id")).all()
        categories = [c.id for c in edition.categories]

        conn = db.session.connection()
        password = hash_password(BENCH_PASSWORD)

        def people(role: str, email: str, count: int, label: str, agency: Any) -> list[int]:
            return _insert(conn, User.__table__, [
                {"email": email.format(n=n), "name": f"{label} Bench {n}", "role": role, "agency_id": agency(n),
                 "password_hash": password, "locale": "id", "active": True, "must_change_password": False,
                 "created_at": now, "updated_at": now} for n in range(count)],
                returning=True)

        def pool(stage: StageKind, user_ids: list[int], chair: int | None = None) -> list[int]:
            return _insert(conn, PoolMember.__table__, [
                {"edition_id": edition.id, "stage": stage.value, "user_id": u, "status": "accepted",
                 "is_chair": u == chair, "invited_at": now, "responded_at": now, "created_at": now,
                 "updated_at": now} for u in user_ids], returning=True)

        def expertise(member_ids: list[int], low: int, high: int) -> None:
            _insert(conn, member_expertise, [{"member_id": m, "category_id": c} for m in member_ids
                                             for c in rng.sample(categories, rng.randint(low, high))])

        evaluator_ids = people("evaluator", EVALUATOR_EMAIL, evaluators, "Evaluator",
                               lambda n: rng.choice(regional) if n % 5 == 0 else None)
        expertise(pool(StageKind.EVALUATION, evaluator_ids), 1, 3)
        panelist_ids = people("panelist", PANELIST_EMAIL, panelists, "Panelis", lambda n: None)
        chair = panelist_ids[0]
        expertise(pool(StageKind.PANEL_REVIEW, panelist_ids, chair), 2, 4)
        expertise(pool(StageKind.PRESENTATION, panelist_ids, chair), 2, 4)

        for stage in (StageKind.EVALUATION, StageKind.PANEL_REVIEW):
            scoring.create_scheme(None, edition, stage)
        groups = {g.code: g for g in edition.groups}
        groups[GroupCode.UMUM].min_3t = MIN_3T_UMUM
        tiers = {g.code.value: (g.nominee_count, g.finalist_count, g.winner_count, g.places_mode.value)
                 for g in edition.groups}
        set_stages(edition, now, open_kind=StageKind.EVALUATION)
        # seed_edition builds KIPP 2027; the award history the final result writes accepts no year
        # after the current one, so the edition is this year's (its numbers follow).
        year = to_wib(now).year
        if edition.year != year:
            db.session.execute(sa.text("UPDATE proposals SET number = replace(number, :old, :new) "
                                       "WHERE edition_id = :e AND number IS NOT NULL"),
                               {"old": f"KIPP-{edition.year}-", "new": f"KIPP-{year}-", "e": edition.id})
            edition.year, edition.name = year, f"KIPP {year}"
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as raw:
            raw.execute(sa.text("VACUUM ANALYZE"))
        db.engine.dispose()
    copy_database(url, _server_and_name(url)[1], snapshot_name(url))
    return {
        "edition_id": base["edition_id"], "agencies": base["agencies"], "proposals (all)": base["proposals"],
        "passed screening": len(ids), "khusus": khusus, "evaluators": len(evaluator_ids),
        "panelists": len(panelist_ids), "edition": f"KIPP {year}",
        "tiers (nominees, finalists, winners, places)": tiers,
        "snapshot": snapshot_name(url), "seconds": round(time.perf_counter() - started, 1),
    }


def insert_sheets(scheme_id: int, *, rng: random.Random, quality: dict[int, float]) -> int:
    """One submitted sheet for every published assignment of the scheme's stage, bulk-inserted.

    Runs in the caller's app context and transaction (the caller commits). ``quality`` holds each
    proposal's quality; proposals not in it get one drawn here (and added to it), so that the
    later rounds score the same proposals alike."""
    from kipp.db import utcnow
    from kipp.extensions import db
    from kipp.scoring import services as scoring
    from kipp.scoring.models import ScoreSheet, ScoringScheme

    scheme = db.session.get(ScoringScheme, scheme_id)
    pairs = sorted(scoring.published_pairs(scheme))
    group_of = {pid: code for pid, code in db.session.execute(sa.text(
        "SELECT p.id, g.code FROM proposals p JOIN edition_groups g ON g.id = p.group_id "
        "WHERE p.edition_id = :e"), {"e": scheme.edition_id})}
    aspects = {code: scoring.rule_aspects(scheme, code) for code in set(group_of.values())}
    for pid in dict.fromkeys(p for p, _m in pairs):
        if pid not in quality:
            quality[pid] = rng.gauss(0, 8)
    rows = plausible_sheets(rng, pairs, scheme_id=scheme.id, aspects=aspects, group_of=group_of,
                            judges=sorted({m for _p, m in pairs}), quality=quality, now=utcnow())
    _insert(db.session.connection(), ScoreSheet.__table__, rows)
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proposals", type=int, default=3500)
    parser.add_argument("--evaluators", type=int, default=60)
    parser.add_argument("--panelists", type=int, default=15)
    parser.add_argument("--seed", type=int, default=2027)
    args = parser.parse_args()
    url = os.environ.get("KIPP_BENCH_DATABASE_URL", DEFAULT_URL)
    summary = seed_lifecycle(url, proposals=args.proposals, evaluators=args.evaluators, panelists=args.panelists,
                             seed_value=args.seed)
    for key, value in summary.items():
        print(f"{key:>45}: {value}")
    print(f"logins: {BENCH_EMAIL}, {EVALUATOR_EMAIL.format(n='<n>')}, {PANELIST_EMAIL.format(n='<n>')}; "
          f"password {BENCH_PASSWORD}")


if __name__ == "__main__":
    main()
