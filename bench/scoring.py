"""Scoring at KIPP scale (issue 5's performance targets): recomputation, saving under load, page queries.

    .venv/bin/python bench/scoring.py [--reuse] [--only recompute,pages,load] [--runs 5]
                                      [--connections 8] [--workers 3] [--duration 20]

Seeds the PostgreSQL database named by KIPP_BENCH_DATABASE_URL (default: a fresh
kipp_bench_scoring) with bench/seed_scoring.py (3,000 screened proposals, 60 evaluators,
3 published assignments each, the evaluation scheme with 8 umum aspects, 9,000 sheets),
unless --reuse, then measures:

1. recompute: a full recomputation of the stage (aggregates, normalisation, ranking) as the
   worker runs it: kipp.scoring.aggregation.queue_recompute, commit, then the outbox
   delivery of that message (kipp.outbox.dispatch.deliver -> recompute_stage), timed from
   the start of the delivery to its commit. Three cases, --runs times each: the first run
   (no aggregate stored: every row inserted), a second run with nothing changed (nothing
   written), and a run right after the scheme's normalisation was switched on (every row
   updated; it is switched off again, unmeasured, between runs). Target: median <= 1 s.
2. load: saving a draft sheet under load, the real endpoint
   (POST /score/evaluation/<proposal>/autosave: session cookie, CSRF header, the judge's
   assignment, the version check) against bench/bare_scoring_app.py (the same update,
   nothing around it), each in gunicorn with the Dockerfile's settings (--workers 3, sync
   worker), one after the other on the same database, driven by wrk with
   bench/scoring_save.lua: --connections connections, each its own judge (logged in
   through POST /login) and its own draft sheet, each sending the version its previous
   save returned. 3 s of warm-up, then --duration seconds measured. Targets: real
   throughput >= 0.25 x bare, real p95 <= 300 ms, no failed save.
3. pages: the judge dashboard (GET /score/) and the secretariat's consolidation list and
   proposal view (GET /admin/scoring/<edition>/evaluation/consolidation[/<proposal>]) through
   the Flask test client, each request its own app context, at two sizes: the dashboard of a
   judge with 150 vs 10 assigned proposals, the list with 3,000 vs 10 scored proposals, the
   proposal view with 3 vs 1 judges. The small sizes are made inside a transaction that is
   rolled back at the end. Statements are counted with a before_cursor_execute listener
   (savepoints excluded); target: the same number at both sizes. Times: median and p95 of
   --page-runs requests after two warm-ups (no target).

The exit status is 1 when a target is missed, 2 when something could not be measured
(e.g. an endpoint that does not exist yet).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.seed_edition import BENCH_EMAIL, BENCH_PASSWORD  # noqa: E402
from bench.seed_scoring import DEFAULT_URL, JUDGE_EMAIL, seed_scoring  # noqa: E402

RECOMPUTE_TARGET_S = 1.0
RATIO_TARGET = 0.25
P95_TARGET_MS = 300
STAGE = "evaluation"
USER_AGENT = "kipp-bench/1 (wrk)"
REDIS_DB = 14  # the bench's own Redis database (login rate limit, Celery broker)

RESULTS: dict[str, str] = {}  # target -> "ok" | "MISSED" | "not measured"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def _verdict(name: str, ok: bool | None) -> str:
    RESULTS[name] = "not measured" if ok is None else ("ok" if ok else "MISSED")
    return RESULTS[name]


# --- 1. recomputation -------------------------------------------------------------------------------

def bench_recompute(app: Any, runs: int) -> None:
    from kipp.extensions import db
    from kipp.outbox.dispatch import deliver
    from kipp.scoring import aggregation
    from kipp.scoring.models import AggregationRun, ScoringScheme
    from kipp.scoring.services import RECOMPUTE_STAGE

    phases: dict[str, float] = {}

    def timed(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - started
        return wrapper

    original = aggregation.compute, aggregation._write
    aggregation.compute = timed("compute", aggregation.compute)
    aggregation._write = timed("write", aggregation._write)

    with app.app_context():
        scheme_id = db.session.scalar(sa.select(ScoringScheme.id).where(ScoringScheme.stage == STAGE))
        counts = db.session.execute(sa.text(
            "SELECT count(DISTINCT proposal_id), count(*) FILTER (WHERE status = 'submitted') FROM score_sheets "
            "WHERE scheme_id = :s"), {"s": scheme_id}).one()

    def set_normalise(value: bool) -> None:
        with app.app_context():
            db.session.get(ScoringScheme, scheme_id).normalise = value
            db.session.commit()

    def clear() -> None:
        with app.app_context():
            db.session.execute(sa.text("DELETE FROM proposal_scores WHERE scheme_id = :s"), {"s": scheme_id})
            db.session.commit()

    def digest() -> str:
        with app.app_context():
            return db.session.scalar(sa.text(
                "SELECT md5(string_agg(concat_ws('|', proposal_id, sheets, raw_total, normalised_total, std_dev, "
                "spread, disagreement, aspect_means::text, rank), ',' ORDER BY proposal_id)) FROM proposal_scores "
                "WHERE scheme_id = :s"), {"s": scheme_id})

    with app.app_context():  # a run left queued by an interrupted bench would swallow the new requests
        db.session.execute(sa.text("UPDATE aggregation_runs SET status = 'failed' WHERE scheme_id = :s "
                                   "AND status IN ('queued', 'running')"), {"s": scheme_id})
        db.session.commit()

    def one_run() -> dict[str, Any]:
        with app.app_context():
            run = aggregation.queue_recompute(db.session.get(ScoringScheme, scheme_id))
            db.session.commit()
            run_id = run.id
            # Taken from the session, so the app context's end does not deliver it in-process:
            # the delivery below is what a worker does with it.
            committed = db.session.info.pop("kipp_outbox_committed", [])
            outbox_id = next(i for i, task in committed if task == RECOMPUTE_STAGE)
        phases.clear()
        with app.app_context():
            started = time.perf_counter()
            status = deliver(outbox_id)
            seconds = time.perf_counter() - started
        with app.app_context():
            done = db.session.get(AggregationRun, run_id)
            assert status == "done" and done.status.value == "done", (status, done.status, done.error)
            return {"seconds": seconds, "written": done.result["written"], "proposals": done.result["proposals"],
                    **{k: v for k, v in phases.items()}}

    cases: dict[str, list[dict[str, Any]]] = {"first run (every row inserted)": [],
                                              "second run, nothing changed": [],
                                              "normalisation switched on (every row updated)": []}
    names = list(cases)
    try:
        set_normalise(False)
        for _ in range(runs):
            clear()
            cases[names[0]].append(one_run())
        first_digest = digest()
        for _ in range(runs):
            cases[names[1]].append(one_run())
        same_digest = digest() == first_digest
        for _ in range(runs):
            set_normalise(True)
            cases[names[2]].append(one_run())
            set_normalise(False)
            one_run()  # back to raw totals, unmeasured
        back_digest = digest() == first_digest
    finally:
        aggregation.compute, aggregation._write = original
        set_normalise(False)

    print(f"\n1. Full recomputation: {counts[0]} proposals, {counts[1]} submitted sheets; {runs} runs per case")
    print(f"{'case':<48}{'median s':>9}{'max s':>8}{'compute':>9}{'write':>7}{'rows written':>14}  target")
    for name, items in cases.items():
        seconds = [r["seconds"] for r in items]
        median = statistics.median(seconds)
        ok = _verdict(f"recompute: {name}", median <= RECOMPUTE_TARGET_S)
        written = sorted({r["written"] for r in items})
        print(f"{name:<48}{median:>9.3f}{max(seconds):>8.3f}"
              f"{statistics.median(r.get('compute', 0) for r in items):>9.3f}"
              f"{statistics.median(r.get('write', 0) for r in items):>7.3f}"
              f"{'/'.join(map(str, written)):>14}  <= {RECOMPUTE_TARGET_S:g} s {ok}")
    idempotent = same_digest and back_digest and cases[names[1]][0]["written"] == 0
    _verdict("recompute: idempotent", idempotent)
    print(f"stored aggregates identical after the unchanged runs and after switching normalisation off "
          f"again: {'yes' if same_digest and back_digest else 'NO'}"
          f"{'' if idempotent else '  MISSED'}")
    print("(compute: aggregation.compute with the ranking; write: aggregation._write with its progress "
          "reports; the rest is the run's own bookkeeping and the outbox message)")


# --- 2. saving under load ---------------------------------------------------------------------------

class Server:
    """A gunicorn started by the bench, stopped (its own process group) at the end."""

    def __init__(self, name: str, app_spec: str, port: int, env: dict[str, str], workers: int, logdir: Path):
        self.name, self.port = name, port
        self.log = logdir / f"{name}.log"
        command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers",
                   str(workers), "--worker-class", "sync", "--no-control-socket", "--chdir", str(ROOT),
                   "--timeout", "60", app_spec]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def wait_ready(self, path: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} gunicorn exited; see {self.log}:\n{self.log.read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                status, _h, _b = request(self.port, "GET", path)
                if status < 500:
                    return
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} gunicorn did not answer on {path} in {seconds} s; see {self.log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def request(port: int, method: str, path: str, body: dict[str, str] | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, list[str]], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        data = urllib.parse.urlencode(body) if body is not None else None
        sent = {"User-Agent": USER_AGENT, **(headers or {})}
        if data is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        received: dict[str, list[str]] = {}
        for key, value in response.getheaders():
            received.setdefault(key.lower(), []).append(value)
        return response.status, received, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


class Browser:
    """Just enough of a browser for logging in: cookies kept, redirects not followed."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def go(self, method: str, path: str, body: dict[str, str] | None = None,
           headers: dict[str, str] | None = None) -> tuple[int, dict[str, list[str]], str]:
        status, received, text = request(self.port, method, path, body,
                                         {**({"Cookie": self.cookie_header()} if self.cookies else {}),
                                          **(headers or {})})
        for line in received.get("set-cookie", []):
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in line.lower() or value == "":
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        return status, received, text


def _hidden(html: str, name: str) -> str | None:
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag:
            match = re.search(r'value="([^"]*)"', tag)
            return match.group(1) if match else None
    return None


def login(port: int, email: str) -> tuple[str, str]:
    """Log in through the real form; the session cookie header and a CSRF token from a logged-in page."""
    browser = Browser(port)
    status, _h, html = browser.go("GET", "/login")
    token = _hidden(html, "csrf_token")
    if status != 200 or token is None:
        raise RuntimeError(f"GET /login answered {status} without a csrf_token field")
    status, headers, _text = browser.go("POST", "/login", {"email": email, "password": BENCH_PASSWORD,
                                                           "csrf_token": token, "next": ""})
    if status != 302:
        raise RuntimeError(f"login of {email} answered {status} (rate limit? wrong password?)")
    for path in ("/score/", "/"):
        status, _h, html = browser.go("GET", path)
        match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
        if status == 200 and match:
            return browser.cookie_header(), match.group(1)
    raise RuntimeError(f"no csrf-token meta on /score/ or / for {email}")


def _targets(app: Any, drafts: list[dict[str, Any]], real: bool) -> list[str]:
    """One line per connection for bench/scoring_save.lua, with each sheet's current version."""
    from kipp.extensions import db

    with app.app_context():
        versions = dict(db.session.execute(sa.text("SELECT id, version FROM score_sheets WHERE id = ANY(:ids)"),
                                           {"ids": [d["sheet_id"] for d in drafts]}).all())
    lines = []
    for d in drafts:
        path = f"/score/{STAGE}/{d['proposal_id']}/autosave" if real else f"/bare/{d['sheet_id']}/autosave"
        lines.append("\t".join([path, d.get("cookie", "") if real else "", d.get("csrf", "") if real else "",
                                str(versions[d["sheet_id"]]), USER_AGENT, ",".join(d["keys"])]))
    return lines


def run_wrk(port: int, targets: list[str], seconds: int, workdir: Path, label: str) -> dict[str, Any]:
    path = workdir / f"targets-{label}.tsv"
    path.write_text("\n".join(targets) + "\n")
    n = len(targets)
    command = ["wrk", "-t", str(n), "-c", str(n), "-d", f"{seconds}s", "--timeout", "10s",
               "-s", str(ROOT / "bench" / "scoring_save.lua"), f"http://127.0.0.1:{port}"]
    done = subprocess.run(command, env={**os.environ, "KIPP_WRK_TARGETS": str(path)}, capture_output=True,
                          text=True, timeout=seconds + 60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result:\n{done.stdout}\n{done.stderr}")
    result = json.loads(line[len("WRKJSON "):])
    # wrk stops with saves still in flight; they finish (and bump their sheet's version) after it
    # exits, so the next run reads the versions only once they are done.
    time.sleep(2)
    result["rps"] = result["ok"] / (result["duration_us"] / 1e6)
    return result


def _failed(r: dict[str, Any]) -> int:
    """Saves that did not answer 200 with a version (wrk's "status" errors are the non-2xx, counted already)."""
    return r["stale"] + r["other"] + r["unparsed"] + sum(v for k, v in r["errors"].items() if k != "status")


def bench_load(app: Any, url: str, *, connections: int, workers: int, duration: int) -> None:
    from kipp.extensions import db

    if subprocess.run(["which", "wrk"], capture_output=True).returncode != 0:
        print("\n2. Saving under load: wrk is not installed (apt-get install -y wrk); not measured")
        _verdict("load: measured", None)
        return
    with app.app_context():
        rows = db.session.execute(sa.text(
            "SELECT s.id, s.proposal_id, u.email, s.scheme_id FROM score_sheets s "
            "JOIN pool_members m ON m.id = s.member_id JOIN users u ON u.id = m.user_id "
            "JOIN scoring_schemes sc ON sc.id = s.scheme_id "
            "WHERE s.status = 'draft' AND sc.stage = :stage ORDER BY m.id LIMIT :n"),
            {"stage": STAGE, "n": connections}).all()
        keys = db.session.scalars(sa.text(
            "SELECT a.key FROM scoring_aspects a JOIN scoring_schemes sc ON sc.id = a.scheme_id "
            "WHERE sc.stage = :stage AND a.group_code = 'umum' ORDER BY a.position"), {"stage": STAGE}).all()
    if len(rows) < connections:
        raise SystemExit(f"only {len(rows)} draft sheets for {connections} connections: seed with --drafts")
    drafts = [{"sheet_id": r[0], "proposal_id": r[1], "email": r[2], "keys": keys} for r in rows]

    workdir = Path(tempfile.mkdtemp(prefix="kipp-bench-load-"))
    real_env = {
        "KIPP_ENV": "production", "KIPP_SECRET_KEY": secrets.token_urlsafe(48), "KIPP_DATABASE_URL": url,
        "KIPP_REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}", "KIPP_COOKIE_SECURE": "0",
        "KIPP_LOGIN_RATE_LIMIT": "10000 per minute", "KIPP_INSTANCE_PATH": str(workdir / "instance"),
        "KIPP_BASE_URL": "http://127.0.0.1",
    }
    bare_env = {"KIPP_BENCH_DATABASE_URL": url}
    real_port, bare_port = 18801, 18802
    results: dict[str, dict[str, Any]] = {}
    servers: list[Server] = []
    problem = None
    try:
        real = Server("real", "kipp:create_app()", real_port, real_env, workers, workdir)
        servers.append(real)
        bare = Server("bare", "bench.bare_scoring_app:create_app()", bare_port, bare_env, workers, workdir)
        servers.append(bare)
        real.wait_ready("/healthz")
        bare.wait_ready("/nothing-here")
        for d in drafts:
            d["cookie"], d["csrf"] = login(real_port, d["email"])
        # One save each by hand first: the endpoint exists and answers as the script expects.
        probe = drafts[0]
        with app.app_context():
            version = db.session.scalar(sa.text("SELECT version FROM score_sheets WHERE id = :i"),
                                        {"i": probe["sheet_id"]})
        status, _h, text = request(real_port, "POST", f"/score/{STAGE}/{probe['proposal_id']}/autosave",
                                   {"version": str(version), **{f"score-{k}": "80" for k in keys}, "comment": ""},
                                   {"Cookie": probe["cookie"], "X-CSRFToken": probe["csrf"],
                                    "X-Requested-With": "fetch"})
        if status != 200 or '"version"' not in text:
            problem = f"the real autosave answered {status}: {text[:300]}"
        else:
            for label, port, is_real in (("real", real_port, True), ("bare", bare_port, False)):
                run_wrk(port, _targets(app, drafts, is_real), 3, workdir, f"{label}-warmup")
                results[label] = run_wrk(port, _targets(app, drafts, is_real), duration, workdir, label)
    except RuntimeError as error:
        problem = str(error)
    finally:
        for server in servers:
            server.stop()

    print(f"\n2. Saving a draft sheet under load: gunicorn --workers {workers} (sync) each, wrk -t {connections} "
          f"-c {connections} for {duration} s after 3 s of warm-up, each connection its own judge and sheet")
    if problem:
        print(f"not measured: {problem}")
        _verdict("load: measured", None)
        return
    print(f"{'endpoint':<44}{'saves/s':>9}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'max ms':>8}{'saves':>7}"
          f"{'failed':>8}")
    for label, title in (("real", f"real: POST /score/{STAGE}/<id>/autosave"),
                         ("bare", "bare: POST /bare/<sheet>/autosave")):
        r = results[label]
        failed = _failed(r)
        print(f"{title:<44}{r['rps']:>9.1f}{r['p50'] / 1000:>8.1f}{r['p95'] / 1000:>8.1f}{r['p99'] / 1000:>8.1f}"
              f"{r['max'] / 1000:>8.1f}{r['ok']:>7}{failed:>8}")
        if failed:
            print(f"    {r['stale']} stale (409), {r['other']} other statuses, {r['unparsed']} 200 without a version, "
                  f"socket errors {r['errors']}" + (f"; e.g. {r['sample_other']}" if r["sample_other"] else ""))
    real_r, bare_r = results["real"], results["bare"]
    ratio = real_r["rps"] / bare_r["rps"] if bare_r["rps"] else 0.0
    failed = _failed(real_r)
    print(f"throughput ratio real / bare: {ratio:.2f}  (target >= {RATIO_TARGET}) "
          f"{_verdict('load: throughput ratio', ratio >= RATIO_TARGET)}")
    print(f"real p95: {real_r['p95'] / 1000:.0f} ms  (target <= {P95_TARGET_MS} ms) "
          f"{_verdict('load: real p95', real_r['p95'] / 1000 <= P95_TARGET_MS)}")
    print(f"failed real saves: {failed}  (target 0) {_verdict('load: no failed save', failed == 0)}")


# --- 3. statements per page -------------------------------------------------------------------------

@contextlib.contextmanager
def trimmed(app: Any, statements: list[tuple[str, dict[str, Any]]]) -> Iterator[None]:
    """Requests see the database after ``statements``, all rolled back at the end."""
    from tests.conftest import ConnectionBoundSession

    from kipp.extensions import db

    with app.app_context():
        engine = db.engine
    connection = engine.connect()
    outer = connection.begin()
    original = db.session
    try:
        for sql, params in statements:
            connection.execute(sa.text(sql), params)
        db.session = db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": ConnectionBoundSession})
        yield
    finally:
        db.session = original
        outer.rollback()
        connection.close()


def bench_pages(app: Any, runs: int) -> None:
    from kipp.extensions import db

    with app.app_context():
        engine = db.engine
        edition_id, scheme_id = db.session.execute(sa.text(
            "SELECT edition_id, id FROM scoring_schemes WHERE stage = :s"), {"s": STAGE}).one()
        judge = db.session.execute(sa.text(
            "SELECT m.id, u.email FROM pool_members m JOIN users u ON u.id = m.user_id "
            "WHERE m.edition_id = :e AND m.stage = :s ORDER BY m.id LIMIT 1"), {"e": edition_id, "s": STAGE}).one()
        judge_proposals = db.session.scalars(sa.text(
            "SELECT proposal_id FROM assignments WHERE member_id = :m ORDER BY proposal_id"), {"m": judge[0]}).all()
        one = db.session.scalar(sa.text(
            "SELECT proposal_id FROM score_sheets WHERE scheme_id = :s GROUP BY proposal_id "
            "HAVING count(*) FILTER (WHERE status = 'submitted') = 3 ORDER BY proposal_id LIMIT 1"), {"s": scheme_id})
        if not db.session.scalar(sa.text("SELECT count(*) FROM proposal_scores WHERE scheme_id = :s"),
                                 {"s": scheme_id}):
            from kipp.scoring import aggregation
            from kipp.scoring.models import ScoringScheme

            scheme = db.session.get(ScoringScheme, scheme_id)
            aggregation._write(scheme, aggregation.compute(scheme, with_ranking=True), with_ranking=True)
            db.session.commit()
        scored = db.session.scalar(sa.text("SELECT count(*) FROM proposal_scores WHERE scheme_id = :s"),
                                   {"s": scheme_id})
        keep = sorted(db.session.scalars(sa.text(
            "SELECT proposal_id FROM proposal_scores WHERE scheme_id = :s ORDER BY proposal_id LIMIT 10"),
            {"s": scheme_id}).all())
        judges_of_one = db.session.scalars(sa.text(
            "SELECT member_id FROM assignments WHERE proposal_id = :p AND stage = :s ORDER BY member_id"),
            {"p": one, "s": STAGE}).all()

    statements = [0]

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            statements[0] += 1

    sa.event.listen(engine, "before_cursor_execute", count)

    def measure(client: Any, path: str) -> dict[str, Any]:
        for _ in range(2):
            response = client.get(path)
            if response.status_code != 200:
                return {"status": response.status_code}
        times, queries = [], set()
        for _ in range(runs):
            statements[0] = 0
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            queries.add(statements[0])
            if response.status_code != 200:
                return {"status": response.status_code}
        return {"status": 200, "median": statistics.median(times), "p95": _percentile(times, 0.95),
                "queries": sorted(queries)}

    # The judge's 150 proposals as a mid-stage dashboard shows them: a third not started,
    # a third drafts, a third submitted; the small size keeps 10 of them, in the same mix.
    thirds = [(
        "DELETE FROM score_sheets WHERE member_id = :m AND proposal_id = ANY(:todo)",
        {"m": judge[0], "todo": judge_proposals[0::3]}), (
        "UPDATE score_sheets SET status = 'draft', submitted_at = NULL WHERE member_id = :m AND proposal_id = ANY(:d)",
        {"m": judge[0], "d": judge_proposals[1::3]})]
    small_judge = [(
        "DELETE FROM score_sheets WHERE member_id = :m AND NOT proposal_id = ANY(:keep)",
        {"m": judge[0], "keep": judge_proposals[:10]}), (
        "DELETE FROM assignments WHERE member_id = :m AND NOT proposal_id = ANY(:keep)",
        {"m": judge[0], "keep": judge_proposals[:10]})]
    small_stage = [(f"DELETE FROM {table} WHERE NOT proposal_id = ANY(:keep)", {"keep": keep})
                   for table in ("score_sheets", "assignments", "proposal_scores")]
    one_judge = [(f"DELETE FROM {table} WHERE proposal_id = :p AND member_id = ANY(:others)",
                  {"p": one, "others": judges_of_one[1:]}) for table in ("score_sheets", "assignments")]
    consolidation = f"/admin/scoring/{edition_id}/{STAGE}/consolidation"
    pages = [
        ("judge dashboard", "/score/", judge[1],
         (f"{len(judge_proposals)} proposals", thirds), ("10 proposals", thirds + small_judge)),
        ("consolidation list", consolidation, BENCH_EMAIL,
         (f"{scored} scored proposals", []), ("10 scored proposals", small_stage)),
        ("consolidation of a proposal", f"{consolidation}/{one}", BENCH_EMAIL,
         (f"{len(judges_of_one)} judges", []), ("1 judge", one_judge)),
    ]
    print(f"\n3. SQL statements and times per page (Flask test client, {runs} requests after 2 warm-ups; ms)")
    print(f"{'page':<30}{'size':<22}{'statements':>11}{'median':>9}{'p95':>8}  target")
    try:
        for label, path, email, *sizes in pages:
            client = app.test_client()
            response = client.post("/login", data={"email": email, "password": BENCH_PASSWORD})
            if response.status_code != 302:
                print(f"{label:<30}cannot log in as {email}")
                _verdict(f"pages: {label}", None)
                continue
            measured = []
            for size_label, setup in sizes:
                with trimmed(app, setup):
                    r = measure(client, path)
                measured.append(r)
                if r["status"] != 200:
                    print(f"{label:<30}{size_label:<22}  GET {path} answered {r['status']}: not measured")
                    continue
                print(f"{label:<30}{size_label:<22}{'/'.join(map(str, r['queries'])):>11}{r['median']:>9.1f}"
                      f"{r['p95']:>8.1f}")
            if all(r["status"] == 200 for r in measured):
                constant = all(len(r["queries"]) == 1 for r in measured) and \
                    measured[0]["queries"] == measured[1]["queries"]
                print(f"{'':<30}{'same at both sizes':<22}{'yes' if constant else 'NO':>11}"
                      f"{'':>17}  {_verdict(f'pages: {label} constant statements', constant)}")
            else:
                _verdict(f"pages: {label}", None)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reuse", action="store_true", help="use the database as it is (no seeding)")
    parser.add_argument("--only", default="recompute,pages,load", help="parts to run, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="recomputation runs per case")
    parser.add_argument("--page-runs", type=int, default=20)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--duration", type=int, default=20)
    args = parser.parse_args()
    parts = {p.strip() for p in args.only.split(",") if p.strip()}
    url = os.environ.get("KIPP_BENCH_DATABASE_URL", DEFAULT_URL)
    if not args.reuse:
        summary = seed_scoring(url, drafts=max(32, args.connections))
        print("seeded:", ", ".join(f"{k} {v}" for k, v in summary.items()))

    from tests.conftest import build_app

    app = build_app(url, Path(tempfile.mkdtemp(prefix="kipp-bench-")))
    print(f"{dt.datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if "recompute" in parts:
        bench_recompute(app, args.runs)
    if "pages" in parts:
        bench_pages(app, args.page_runs)
    if "load" in parts:
        bench_load(app, url, connections=args.connections, workers=args.workers, duration=args.duration)

    print("\nSummary:")
    for name, verdict in RESULTS.items():
        print(f"  {verdict:<13} {name}")
    if any(v == "MISSED" for v in RESULTS.values()):
        return 1
    if any(v == "not measured" for v in RESULTS.values()):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
