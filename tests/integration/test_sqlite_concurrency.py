"""The embedded default under ordinary use: kipp served as `make run` serves it (the Flask server,
threaded, on the SQLite database of the instance folder, tasks in-process), 20 judges logging in
at the same moment and autosaving their sheets every 2 s for 10 s through the real pages, with
their CSRF tokens, each from an address of its own."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

from tests.conftest import TEST_PASSWORD, build_app, migrate_and_load

pytestmark = [pytest.mark.integration, pytest.mark.faults]  # the drill's scenario on the embedded default

ROOT = Path(__file__).resolve().parents[2]
JUDGES = 20
SAVE_EVERY = 2.0  # the sheet's own rhythm (scoring_sheet.js saves 2 s after the last keystroke)
DURATION = 10.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Judge:
    email: str
    member_id: int
    proposal_id: int
    keys: list[str]
    address: str
    statuses: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    login_status: int | None = None
    last_sent: dict[str, str] = field(default_factory=dict)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the test reads the 302 itself


class Browser:
    """One judge's browser: its cookies, its address (behind the one proxy the server trusts)."""

    def __init__(self, base: str, address: str) -> None:
        self.base = base
        self.address = address
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())

    def request(self, path: str, data: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body,
                                         headers={"X-Forwarded-For": self.address, **(headers or {})})
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")


def _hidden_csrf(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


@pytest.fixture()
def embedded_server(tmp_path: Path) -> Iterator[tuple[str, list[Judge], Any]]:
    """The instance folder's database migrated and holding an open stage with 20 judges, then the
    server started on it as `make run` starts it (no database URL, no Redis: the embedded default)."""
    from kipp.extensions import db
    from tests.scoring_factories import aspect_keys, scored_stage

    instance = tmp_path / "instance"
    seeding = build_app(f"sqlite:///{instance / 'kipp.sqlite3'}", instance)
    migrate_and_load(seeding)
    with seeding.app_context():
        stage = scored_stage(proposals=JUDGES, judges=JUDGES, per_proposal=3, year=2061)
        judges = []
        for n, member in enumerate(stage.members):
            proposal = stage.proposals_of(member)[0]
            judges.append(Judge(member.user.email, member.id, proposal.id, aspect_keys(stage.scheme, proposal),
                                f"10.20.0.{n + 1}"))
    with seeding.app_context():
        db.engine.dispose()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIPP_")}
    env.update({"KIPP_ENV": "development", "KIPP_INSTANCE_PATH": str(instance), "KIPP_PROXY_HOPS": "1"})
    log_path = tmp_path / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "flask"), "--app", "kipp:create_app", "run", "--host", "127.0.0.1",
             "--port", str(port), "--with-threads"],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        assert server.poll() is None, log_path.read_text()
        yield f"http://127.0.0.1:{port}", judges, seeding
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        # What the server said besides its access log: the tracebacks behind any failure.
        print("\n".join(line for line in log_path.read_text().splitlines() if not re.search(r'" [23]\d\d -$', line)))


def _judging(base: str, judge: Judge, everyone_in: threading.Barrier, start: threading.Barrier) -> None:
    browser = Browser(base, judge.address)
    status, page = browser.request("/login")
    assert status == 200
    start.wait()  # everyone presses "log in" at once
    judge.login_status, _page = browser.request(
        "/login", {"email": judge.email, "password": TEST_PASSWORD, "csrf_token": _hidden_csrf(page)})
    everyone_in.wait()
    if judge.login_status != 302:
        return
    status, page = browser.request(f"/score/evaluation/{judge.proposal_id}")
    assert status == 200, page[:500]
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    version = re.search(r'name="version" id="version" value="(\d+)"', page).group(1)
    ends = time.monotonic() + DURATION
    save = 0
    while time.monotonic() < ends:
        save += 1
        values = {k: str(40 + (save * 11 + i * 7 + judge.proposal_id) % 60) for i, k in enumerate(judge.keys)}
        fields = {"version": version, **{f"score-{k}": v for k, v in values.items()},
                  **{f"comment-{k}": f"Simpanan ke-{save}." for k in judge.keys}}
        status, body = browser.request(f"/score/evaluation/{judge.proposal_id}/autosave", fields,
                                       {"X-CSRFToken": csrf, "X-Requested-With": "fetch",
                                        "Accept": "application/json"})
        judge.statuses.append(status)
        answer = json.loads(body) if body.startswith("{") else {}
        if status == 200 and answer.get("ok"):
            version = str(answer["version"])
            judge.last_sent = values
        else:
            judge.errors.append(f"{status}: {body[:200]}")
        time.sleep(SAVE_EVERY)


def test_twenty_judges_log_in_and_autosave_at_once_without_an_error(
        embedded_server: tuple[str, list[Judge], Any]) -> None:
    from kipp.extensions import db
    from kipp.scoring.models import ScoreSheet

    base, judges, app = embedded_server
    start, everyone_in = threading.Barrier(JUDGES), threading.Barrier(JUDGES)
    failures: list[BaseException] = []

    def run(judge: Judge) -> None:
        try:
            _judging(base, judge, everyone_in, start)
        except BaseException as error:  # reported below
            failures.append(error)
            everyone_in.abort()

    threads = [threading.Thread(target=run, args=(judge,)) for judge in judges]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DURATION + 120)
    assert not failures, failures
    assert [j.login_status for j in judges] == [302] * JUDGES, "a judge could not log in"
    statuses = [s for j in judges for s in j.statuses]
    assert len(statuses) >= JUDGES * int(DURATION / SAVE_EVERY)
    assert not [s for s in statuses if s >= 500], [e for j in judges for e in j.errors]
    assert not [e for j in judges for e in j.errors]
    with app.app_context():
        for judge in judges:
            sheet = db.session.scalar(sa.select(ScoreSheet).where(
                ScoreSheet.proposal_id == judge.proposal_id, ScoreSheet.member_id == judge.member_id))
            stored = {k: Decimal(v["value"]) for k, v in sheet.scores.items()}
            assert stored == {k: Decimal(v) for k, v in judge.last_sent.items()}, judge.email
        db.engine.dispose()


def test_aggregations_meeting_on_the_embedded_database_take_turns(tmp_path: Path) -> None:
    """Two aggregations of a new proposal and two recomputations of its stage delivered at the
    same moment in-process, each in a thread and app context of its own, as the threaded server's
    requests deliver them: each is done at once, and the rows are those one run gives."""
    from kipp.db import utcnow
    from kipp.extensions import db
    from kipp.judging.models import RunStatus
    from kipp.outbox.dispatch import deliver, enqueue
    from kipp.scoring.aggregation import compute
    from kipp.scoring.models import AggregationRun, ProposalScore, ScoreSheet, ScoringScheme, SheetStatus
    from kipp.scoring.services import AGGREGATE_PROPOSAL, RECOMPUTE_STAGE
    from tests.scoring_factories import aspect_keys, scored_stage

    instance = tmp_path / "instance"
    app = build_app(f"sqlite:///{instance / 'kipp.sqlite3'}", instance)
    migrate_and_load(app)
    with app.app_context():
        stage = scored_stage(proposals=6, judges=6, per_proposal=3, year=2062)
        for n, proposal in enumerate(stage.proposals):
            for j, member in enumerate(stage.judges_of(proposal)):
                db.session.add(ScoreSheet(
                    scheme_id=stage.scheme.id, proposal_id=proposal.id, member_id=member.id,
                    status=SheetStatus.SUBMITTED, submitted_at=utcnow(),
                    scores={k: {"value": str(50 + (n * 7 + j * 11 + i) % 50), "comment": "Dinilai."}
                            for i, k in enumerate(aspect_keys(stage.scheme, proposal))}))
        runs = [AggregationRun(scheme_id=stage.scheme.id) for _ in range(2)]
        db.session.add_all(runs)
        db.session.flush()
        messages = [enqueue(RECOMPUTE_STAGE, run_id=run.id) for run in runs] + [
            enqueue(AGGREGATE_PROPOSAL, scheme_id=stage.scheme.id, proposal_id=stage.proposals[0].id)
            for _ in range(2)]
        db.session.flush()
        scheme_id, ids = stage.scheme.id, [m.id for m in messages]
        db.session.commit()  # and no more reading here: that would begin a transaction holding the lock
        start = threading.Barrier(len(ids))
        outcomes: dict[int, Any] = {}

        def delivering(outbox_id: int) -> None:
            start.wait()
            with app.app_context():
                try:
                    outcomes[outbox_id] = deliver(outbox_id)
                except Exception as error:  # reported below
                    outcomes[outbox_id] = repr(error)

        # Delivered before this context ends (which delivers them again, finding them done).
        threads = [threading.Thread(target=delivering, args=(i,)) for i in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert outcomes == {i: "done" for i in ids}
    with app.app_context():
        scheme = db.session.get(ScoringScheme, scheme_id)
        statuses = db.session.scalars(sa.select(AggregationRun.status).where(AggregationRun.scheme_id == scheme_id))
        assert set(statuses) == {RunStatus.DONE} and not scheme.ranking_stale
        stored = {row.proposal_id: (row.sheets, row.raw_total, row.std_dev, row.rank) for row in db.session.scalars(
            sa.select(ProposalScore).where(ProposalScore.scheme_id == scheme_id))}
        assert stored == {f.proposal_id: (f.sheets, f.raw_total, f.std_dev, f.rank)
                          for f in compute(scheme, with_ranking=True).values()}
        db.engine.dispose()
