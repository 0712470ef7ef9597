"""Seed a benchmark database for the scoring stage: 3,000 screened proposals, 60 evaluators,
3 published assignments per proposal and 9,000 score sheets.

    .venv/bin/python bench/seed_scoring.py [--proposals 3000] [--judges 60] [--drafts 32] [--seed 2027]

The database named by KIPP_BENCH_DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/kipp_bench_scoring) is dropped and
created again by bench/seed_edition.py (one edition, 600 agencies, enough proposals
that --proposals of them were submitted: 4,600 for 3,000), then:

- the first --proposals submitted proposals (by id) become ``admin_passed``; they
  keep their numbers;
- --judges evaluators (``evaluator<n>@kipp.bench``, the bench password), each an
  accepted member of the evaluation pool;
- one published assignment run: every proposal gets 3 distinct judges, dealt from a
  shuffled round-robin so that every judge has the same load (150 at the defaults)
  and judges do not always meet the same colleagues;
- the evaluation scheme from kipp.scoring.services.create_scheme (the 2023
  template's weighted sections: 7 aspects for umum) plus an 8th umum aspect,
  'ringkasan' (weight 5, the default rubric), so umum proposals have 8 aspects;
  khusus ones have their group's own 10;
- one sheet per assignment. Scores are plausible: a judge's leniency (sd 5), the
  proposal's quality (sd 8) and noise per aspect (sd 6) around 72, clipped to
  20-98 and rounded to whole points, each with a comment of 8 to 30 words and a
  general comment; weighted_total from kipp.scoring.rules.weighted_total. Every
  sheet is submitted except one draft for each of the first --drafts judges, on an
  umum proposal (version 1, half the aspects scored, no total): those are the
  sheets bench/scoring.py saves under load, each connection its own judge and sheet.

Everything goes in with SQLAlchemy core bulk inserts, except the scheme (the real
service). Prints a summary and the logins.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.seed_edition import BENCH_EMAIL, BENCH_PASSWORD, VOCABULARY, _insert, seed  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kipp_bench_scoring"
JUDGE_EMAIL = "evaluator{n}@kipp.bench"
K = 3  # judges per proposal
EXTRA_ASPECT = "ringkasan"


def _comment(rng: random.Random, low: int, high: int) -> str:
    words = rng.choices(VOCABULARY, k=rng.randint(low, high))
    return (" ".join(words).capitalize() + ".") if words else ""


def plausible_sheets(rng: random.Random, pairs: list[tuple[int, int]], *, scheme_id: int,
                     aspects: dict[str, list[Any]], group_of: dict[int, str], judges: list[int],
                     now: dt.datetime, quality: dict[int, float] | None = None,
                     draft_pairs: set[tuple[int, int]] | frozenset[tuple[int, int]] = frozenset(),
                     ) -> list[dict[str, Any]]:
    """Score-sheet rows for (proposal id, pool member id) pairs: each judge's leniency (drawn in the
    order of ``judges``), each proposal's quality (drawn next, in the order of ``pairs``, unless
    given) and noise per aspect around 72, with comments and ``weighted_total``. ``aspects`` maps
    a group code to its ``rules.Aspect`` list; pairs in ``draft_pairs`` stay drafts with half
    their aspects scored."""
    from kipp.scoring import rules

    leniency = {m: rng.gauss(0, 5) for m in judges}
    if quality is None:
        quality = {p: rng.gauss(0, 8) for p in dict.fromkeys(p for p, _m in pairs)}
    opened = now - dt.timedelta(days=20)
    sheet_rows = []
    for p, m in pairs:
        group_aspects = aspects[group_of[p]]
        draft = (p, m) in draft_pairs
        scores: dict[str, Any] = {}
        parsed: dict[str, Decimal | None] = {}
        for i, aspect in enumerate(group_aspects):
            if draft and i % 2:
                parsed[aspect.key] = None
                continue
            value = round(min(98.0, max(20.0, 72 + leniency[m] + quality[p] + rng.gauss(0, 6))))
            parsed[aspect.key] = Decimal(value)
            scores[aspect.key] = {"value": str(value), "comment": _comment(rng, 8, 30)}
        created = opened + dt.timedelta(seconds=rng.randint(0, 15 * 86400))
        updated = created + dt.timedelta(seconds=rng.randint(60, 86400))
        sheet_rows.append({
            "scheme_id": scheme_id, "proposal_id": p, "member_id": m,
            "status": "draft" if draft else "submitted", "scores": scores,
            "comment": _comment(rng, 15, 60), "weighted_total": rules.weighted_total(parsed, group_aspects),
            "version": 1 if draft else rng.randint(2, 8), "created_at": created, "updated_at": updated,
            "submitted_at": None if draft else updated, "reopened_count": 0,
        })
    return sheet_rows


def seed_scoring(url: str, *, proposals: int = 3000, judges: int = 60, drafts: int = 32,
                 seed_value: int = 2027) -> dict[str, Any]:
    started = time.perf_counter()
    if drafts > judges:
        raise SystemExit("--drafts cannot exceed --judges (each draft belongs to its own judge)")
    # About 67% of seed_edition's proposals end up submitted; ask for enough of them.
    base = seed(url, agencies=600, proposals=int(proposals * 1.5) + 100, seed_value=seed_value)

    from tests.conftest import build_app

    from kipp.accounts.models import User
    from kipp.accounts.passwords import hash_password
    from kipp.db import utcnow
    from kipp.editions.kinds import GroupCode, StageKind
    from kipp.editions.models import Edition
    from kipp.extensions import db
    from kipp.judging.models import Assignment, AssignmentRun, PoolMember
    from kipp.scoring import defaults, services
    from kipp.scoring.models import RubricBand, ScoreSheet, ScoringAspect

    rng = random.Random(seed_value)
    app = build_app(url, Path(tempfile.mkdtemp(prefix="kipp-bench-")))
    now = utcnow()
    with app.app_context():
        edition = db.session.scalars(sa.select(Edition)).one()
        rows = db.session.execute(sa.text(
            "SELECT p.id, g.code FROM proposals p JOIN edition_groups g ON g.id = p.group_id "
            "WHERE p.status = 'submitted' ORDER BY p.id LIMIT :n"), {"n": proposals}).all()
        if len(rows) < proposals:
            raise SystemExit(f"only {len(rows)} submitted proposals; ask seed_edition for more")
        ids = [r[0] for r in rows]
        group_of = {r[0]: r[1] for r in rows}
        db.session.execute(sa.text("UPDATE proposals SET status = 'admin_passed' WHERE id = ANY(:ids)"),
                           {"ids": ids})

        # The scheme, by the real service, and the 8th umum aspect.
        scheme = services.create_scheme(None, edition, StageKind.EVALUATION)
        umum = scheme.aspects_of(GroupCode.UMUM)
        extra = ScoringAspect(group_code=GroupCode.UMUM, key=EXTRA_ASPECT, title_id="Ringkasan", title_en="Summary",
                              weight=Decimal("5"), position=len(umum), section_key=EXTRA_ASPECT)
        extra.bands = [RubricBand(low=low, high=high, description_id=t_id.format(aspect="Ringkasan"),
                                  description_en=t_en.format(aspect="Summary"))
                       for low, high, t_id, t_en in defaults.default_bands(scheme.scale_min, scheme.scale_max)]
        scheme.aspects.append(extra)
        db.session.flush()
        db.session.refresh(scheme)
        scheme_id = scheme.id
        aspects = {group: services.rule_aspects(scheme, group) for group in {g for g in group_of.values()}}
        aspects = {getattr(g, "value", g): a for g, a in aspects.items()}

        conn = db.session.connection()
        password = hash_password(BENCH_PASSWORD)
        user_rows = [{"email": JUDGE_EMAIL.format(n=n), "name": f"Evaluator Bench {n}", "role": "evaluator",
                      "password_hash": password, "locale": "id", "active": True, "must_change_password": False,
                      "created_at": now, "updated_at": now} for n in range(judges)]
        user_ids = _insert(conn, User.__table__, user_rows, returning=True)
        member_rows = [{"edition_id": edition.id, "stage": StageKind.EVALUATION.value, "user_id": u,
                        "status": "accepted", "is_chair": False, "invited_at": now, "responded_at": now,
                        "created_at": now, "updated_at": now} for u in user_ids]
        member_ids = _insert(conn, PoolMember.__table__, member_rows, returning=True)

        secretariat_id = db.session.scalar(sa.text("SELECT id FROM users WHERE email = :e"), {"e": BENCH_EMAIL})
        run_id = _insert(conn, AssignmentRun.__table__, [{
            "edition_id": edition.id, "stage": StageKind.EVALUATION.value, "status": "done", "progress": 100,
            "params": {"k": K, "bench": True}, "result": None, "requested_by_id": secretariat_id,
            "created_at": now, "finished_at": now, "published_at": now, "published_by_id": secretariat_id}],
            returning=True)[0]

        # Shuffled round-robin: each pass deals a fresh permutation of the judges, K at a time.
        pairs: list[tuple[int, int]] = []
        deck: list[int] = []
        for pid in ids:
            chosen: list[int] = []
            while len(chosen) < K:
                if not deck:
                    deck = member_ids[:]
                    rng.shuffle(deck)
                candidate = deck.pop()
                if candidate in chosen:  # only at a pass boundary; put it back for the next proposal
                    deck.insert(0, candidate)
                    continue
                chosen.append(candidate)
            pairs.extend((pid, m) for m in chosen)
        _insert(conn, Assignment.__table__, [{
            "edition_id": edition.id, "stage": StageKind.EVALUATION.value, "proposal_id": p, "member_id": m,
            "run_id": run_id, "pinned": False, "source": "solver", "state": "published",
            "explanation": None, "created_at": now} for p, m in pairs])

        # One draft per judge among the first ones, on an umum proposal, for the save-under-load test.
        draft_pairs: set[tuple[int, int]] = set()
        for m in member_ids[:drafts]:
            mine = [p for p, mm in pairs if mm == m and group_of[p] == "umum"]
            draft_pairs.add((mine[-1], m))

        sheet_rows = plausible_sheets(rng, pairs, scheme_id=scheme_id, aspects=aspects, group_of=group_of,
                                      judges=member_ids, draft_pairs=draft_pairs, now=now)
        _insert(conn, ScoreSheet.__table__, sheet_rows)
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as raw:
            raw.execute(sa.text("VACUUM ANALYZE"))
        db.engine.dispose()
    return {
        "edition_id": base["edition_id"], "scheme_id": scheme_id, "proposals": len(ids),
        "khusus": sum(1 for g in group_of.values() if g == "khusus"),
        "aspects": {g: len(a) for g, a in aspects.items()}, "judges": len(member_ids),
        "assignments": len(pairs), "sheets": len(sheet_rows), "drafts": len(draft_pairs),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proposals", type=int, default=3000)
    parser.add_argument("--judges", type=int, default=60)
    parser.add_argument("--drafts", type=int, default=32)
    parser.add_argument("--seed", type=int, default=2027)
    args = parser.parse_args()
    url = os.environ.get("KIPP_BENCH_DATABASE_URL", DEFAULT_URL)
    summary = seed_scoring(url, proposals=args.proposals, judges=args.judges, drafts=args.drafts,
                           seed_value=args.seed)
    for key, value in summary.items():
        print(f"{key:>12}: {value}")
    print(f"logins: {BENCH_EMAIL} and {JUDGE_EMAIL.format(n='<n>')}, password {BENCH_PASSWORD}")


if __name__ == "__main__":
    main()
