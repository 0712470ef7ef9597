"""The floor for bench/scoring.py's save-under-load test: a bare Flask app whose one route
saves a judge's draft the way the real autosave does, without the framework around it.

    KIPP_BENCH_DATABASE_URL=... gunicorn --workers 3 'bench.bare_scoring_app:create_app()'

``POST /bare/<sheet id>/autosave`` takes the real endpoint's form (``version``,
``score-<aspect>``, ``comment-<aspect>``, ``comment``), checks the numbers with
kipp.scoring.rules.sheet_problems, builds the stored ``scores`` JSON and the weighted
total as kipp.scoring.services.save_sheet does, and runs one statement in its own
transaction:

    UPDATE score_sheets SET scores, comment, weighted_total, version = version + 1, updated_at
    WHERE id = :id AND version = :version AND status = 'draft' RETURNING version

It answers like the real endpoint: 200 ``{"ok": true, "version": N, "total": .., "saved_at": ..}``
or 409 ``{"ok": false, "code": "stale"}``. No session, CSRF, login, authorisation, audit or
ORM; the aspects (the umum group's, which every bench draft is on) are read once at start.
The engine has the real app's options (pool_pre_ping) and the same database.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Flask, jsonify, request

from kipp.scoring import rules

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kipp_bench_scoring"
COMMENT_MAX = 4000

SAVE = sa.text(
    "UPDATE score_sheets SET scores = CAST(:scores AS json), comment = :comment, weighted_total = :total, "
    "version = version + 1, updated_at = :now "
    "WHERE id = :id AND version = :version AND status = 'draft' RETURNING version")


def create_app() -> Flask:
    engine = sa.create_engine(os.environ.get("KIPP_BENCH_DATABASE_URL", DEFAULT_URL), pool_pre_ping=True)
    with engine.connect() as conn:
        scheme = conn.execute(sa.text(
            "SELECT id, scale_min, scale_max FROM scoring_schemes WHERE stage = 'evaluation' ORDER BY id LIMIT 1")).one()
        aspects = [rules.Aspect(key, weight) for key, weight in conn.execute(sa.text(
            "SELECT key, weight FROM scoring_aspects WHERE scheme_id = :s AND group_code = 'umum' ORDER BY position"),
            {"s": scheme.id})]
    scale = rules.Scale(scheme.scale_min, scheme.scale_max)
    keys = {a.key for a in aspects}
    app = Flask(__name__)

    @app.post("/bare/<int:sheet_id>/autosave")
    def autosave(sheet_id: int) -> Any:
        form = request.form
        version = form.get("version", type=int)
        values = {a.key: form.get(f"score-{a.key}", "") for a in aspects}
        comments = {k: (form.get(f"comment-{k}") or "").strip()[:COMMENT_MAX] for k in keys}
        problems = rules.sheet_problems(values, comments, aspects, scale, complete=False)
        if version is None or problems:
            return jsonify(ok=False, code="invalid", problems={p.key: p.code for p in problems}), 422
        stored: dict[str, Any] = {}
        parsed: dict[str, Decimal | None] = {}
        for aspect in aspects:
            value = rules.parse_score(values[aspect.key])
            parsed[aspect.key] = value
            if value is not None or comments[aspect.key]:
                stored[aspect.key] = {"value": str(value) if value is not None else None,
                                      "comment": comments[aspect.key]}
        total = rules.weighted_total(parsed, aspects)
        now = dt.datetime.now(dt.timezone.utc)
        with engine.begin() as conn:
            new_version = conn.execute(SAVE, {
                "scores": json.dumps(stored), "comment": (form.get("comment") or "").strip()[:COMMENT_MAX] or None,
                "total": total, "now": now, "id": sheet_id, "version": version}).scalar()
        if new_version is None:
            return jsonify(ok=False, code="stale"), 409
        return jsonify(ok=True, version=new_version, total=str(total) if total is not None else "",
                       saved_at=now.isoformat())

    return app
