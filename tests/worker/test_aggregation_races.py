"""Aggregations that meet: two of the same new proposal (two judges submitting at once), one beside
a stage's recomputation, two recomputations of one stage, a recomputation that failed. Real Celery
worker children on Redis and PostgreSQL deliver them side by side; where the moment of the meeting
matters, threads with app contexts of their own deliver them at a barrier."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import sqlalchemy as sa

from tests.conftest import TEST_PASSWORD, build_app
from tests.services import REDIS_URL
from tests.worker.test_celery_worker import CLOSED_REDIS, wait_for, worker_on_its_own_database

pytestmark = pytest.mark.worker

WORKER_CHILDREN = 2


@pytest.fixture(scope="module")
def worker_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A database of its own and a prefork worker whose children deliver two messages at once."""
    with worker_on_its_own_database(tmp_path_factory, "races", "--pool=prefork", f"--concurrency={WORKER_CHILDREN}",
                                    "--hostname=kipp-races@%h") as env:
        yield env


def _app(env: dict[str, str], *, publishing: bool = True) -> Any:
    """The web side; ``publishing=False``: its queued messages wait in the outbox for the test."""
    return build_app(env["KIPP_DATABASE_URL"], Path(env["KIPP_INSTANCE_PATH"]),
                     env={"KIPP_REDIS_URL": REDIS_URL if publishing else CLOSED_REDIS})


def _stage(app: Any, *, year: int, proposals: int, judges: int, submitted: bool) -> tuple[int, list[Any]]:
    """A stage with three judges per proposal; with ``submitted``, every sheet already submitted
    (written directly: no aggregation queued). Returns the scheme id and (email, proposal id,
    aspect keys) of each judge's first proposal."""
    from kipp.db import utcnow
    from kipp.extensions import db
    from kipp.scoring.models import ScoreSheet, SheetStatus
    from tests.scoring_factories import aspect_keys, scored_stage

    with app.app_context():
        stage = scored_stage(proposals=proposals, judges=judges, per_proposal=3, year=year)
        if submitted:
            for n, proposal in enumerate(stage.proposals):
                keys = aspect_keys(stage.scheme, proposal)
                for j, member in enumerate(stage.judges_of(proposal)):
                    db.session.add(ScoreSheet(
                        scheme_id=stage.scheme.id, proposal_id=proposal.id, member_id=member.id,
                        status=SheetStatus.SUBMITTED, submitted_at=utcnow(),
                        scores={k: {"value": str(55 + (n * 7 + j * 13 + i * 3) % 45), "comment": "Dinilai."}
                                for i, k in enumerate(keys)}))
            db.session.commit()
        jobs = []
        for member in stage.members:
            proposal = stage.proposals_of(member)[0]
            jobs.append((member.user.email, proposal.id, aspect_keys(stage.scheme, proposal)))
        return stage.scheme.id, jobs


def _stored(app: Any, scheme_id: int) -> list[tuple[Any, ...]]:
    from kipp.extensions import db
    from kipp.scoring.models import ProposalScore

    with app.app_context():
        return [tuple(row) for row in db.session.execute(sa.select(
            ProposalScore.proposal_id, ProposalScore.sheets, ProposalScore.raw_total, ProposalScore.normalised_total,
            ProposalScore.std_dev, ProposalScore.spread, ProposalScore.disagreement, ProposalScore.aspect_means,
            ProposalScore.rank).where(ProposalScore.scheme_id == scheme_id).order_by(ProposalScore.proposal_id))]


def _single_run(app: Any, scheme_id: int) -> list[tuple[Any, ...]]:
    """The rows one recomputation alone computes from the sheets as they are."""
    from kipp.extensions import db
    from kipp.scoring.aggregation import compute
    from kipp.scoring.models import ScoringScheme

    with app.app_context():
        figures = compute(db.session.get(ScoringScheme, scheme_id), with_ranking=True)
        q = Decimal("0.01")
        return [(f.proposal_id, f.sheets, *(None if v is None else v.quantize(q) for v in (
            f.raw_total, f.normalised_total, f.std_dev, f.spread)), f.disagreement, f.aspect_means, f.rank)
            for f in sorted(figures.values(), key=lambda f: f.proposal_id)]


def _messages(app: Any, task: str, *, since: int = 0) -> list[Any]:
    from kipp.extensions import db
    from kipp.outbox.models import OutboxMessage

    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.task == task, OutboxMessage.id > since)
                                  .order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return list(rows)


def _last_message_id(app: Any) -> int:
    from kipp.extensions import db
    from kipp.outbox.models import OutboxMessage

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(OutboxMessage.id), 0)))


def _runs(app: Any, scheme_id: int) -> list[Any]:
    from kipp.extensions import db
    from kipp.scoring.models import AggregationRun

    with app.app_context():
        rows = db.session.scalars(sa.select(AggregationRun).where(AggregationRun.scheme_id == scheme_id)
                                  .order_by(AggregationRun.id)).all()
        db.session.expunge_all()
        return list(rows)


def _settled(app: Any, scheme_id: int) -> Callable[[], bool]:
    """Every run of the stage finished and its ranking fresh."""
    from kipp.extensions import db
    from kipp.judging.models import RunStatus
    from kipp.scoring.models import ScoringScheme

    def check() -> bool:
        runs = _runs(app, scheme_id)
        with app.app_context():
            fresh = not db.session.get(ScoringScheme, scheme_id).ranking_stale
        return fresh and bool(runs) and all(r.status is RunStatus.DONE for r in runs)

    return check


def _in_threads(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once, each in a thread of its own; their results (or the exception raised)."""
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            results[index] = calls[index]()
        except Exception as error:  # reported by the caller's assertion
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def _deliver_in_own_context(app: Any, outbox_id: int) -> Callable[[], str]:
    def call() -> str:
        from kipp.outbox.dispatch import deliver

        with app.app_context():
            return deliver(outbox_id)

    return call


def test_judges_submitting_the_same_new_proposals_at_once_fail_no_aggregation(worker_env: dict[str, str]) -> None:
    """30 judges, three on each of 10 new proposals, press "submit" at the same moment through the
    real endpoint; two worker children aggregate side by side. No task fails (each message done at
    its first attempt) and the rows are those one recomputation alone gives."""
    from kipp.scoring.services import AGGREGATE_PROPOSAL, RECOMPUTE_STAGE

    app = _app(worker_env)
    since = _last_message_id(app)
    scheme_id, jobs = _stage(app, year=2051, proposals=10, judges=30, submitted=False)
    clients = []
    for email, proposal_id, keys in jobs:
        client = app.test_client()
        assert client.post("/login", data={"email": email, "password": TEST_PASSWORD}).status_code == 302
        clients.append((client, proposal_id, keys))
    barrier = threading.Barrier(len(clients))

    def submitting(client: Any, proposal_id: int, keys: list[str]) -> Callable[[], int]:
        data = {"version": "0", "action": "submit", **{f"score-{k}": str(50 + (proposal_id * 7 + i) % 50)
                                                        for i, k in enumerate(keys)},
                **{f"comment-{k}": "Serentak." for k in keys}}

        def call() -> int:
            barrier.wait()
            return client.post(f"/score/evaluation/{proposal_id}", data=data).status_code

        return call

    assert _in_threads(*(submitting(*job) for job in clients)) == [302] * len(clients)
    assert wait_for(_settled(app, scheme_id), timeout=120), "the stage's aggregation did not settle"
    aggregations = _messages(app, AGGREGATE_PROPOSAL, since=since)
    assert len(aggregations) == 30
    for message in aggregations + _messages(app, RECOMPUTE_STAGE, since=since):
        assert message.processed_at is not None and message.attempts == 1 and message.last_error is None, \
            message.last_error
    stored = _stored(app, scheme_id)
    assert len(stored) == 10 and all(row[1] == 3 for row in stored)
    assert stored == _single_run(app, scheme_id)


def test_aggregations_of_a_new_proposal_meeting_a_recomputation_all_succeed(
        worker_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Two aggregations of a proposal that has no row yet and the stage's recomputation all read
    the sheets before any of them writes (a barrier in between), then write: each succeeds at
    once and the rows are one run's."""
    from kipp.extensions import db
    from kipp.outbox.dispatch import enqueue
    from kipp.scoring import aggregation
    from kipp.scoring.models import ScoringScheme
    from kipp.scoring.services import AGGREGATE_PROPOSAL

    app = _app(worker_env, publishing=False)
    scheme_id, jobs = _stage(app, year=2052, proposals=6, judges=6, submitted=True)
    proposal_id = jobs[0][1]
    with app.app_context():
        run = aggregation.queue_recompute(db.session.get(ScoringScheme, scheme_id))
        messages = [enqueue(AGGREGATE_PROPOSAL, scheme_id=scheme_id, proposal_id=proposal_id) for _ in range(2)]
        db.session.commit()
        run_id = run.id
        ids = [m.id for m in messages] + [m.id for m in _messages(app, aggregation.RECOMPUTE_STAGE)
                                          if m.payload["run_id"] == run_id]
    assert len(ids) == 3
    everyone_read = threading.Barrier(3, timeout=30)
    compute = aggregation.compute

    def read_then_wait(*args: Any, **kwargs: Any) -> Any:
        figures = compute(*args, **kwargs)
        everyone_read.wait()
        return figures

    monkeypatch.setattr(aggregation, "compute", read_then_wait)
    assert _in_threads(*(_deliver_in_own_context(app, i) for i in ids)) == ["done"] * 3
    monkeypatch.undo()
    assert [r.status.value for r in _runs(app, scheme_id) if r.id == run_id] == ["done"]
    assert _stored(app, scheme_id) == _single_run(app, scheme_id)


def test_a_recomputation_that_failed_is_retried_and_ends_done(worker_env: dict[str, str]) -> None:
    """The database refuses the first recomputation's writes; its message, delivered again once
    the database accepts them, runs the failed run again to DONE."""
    from kipp.extensions import db
    from kipp.outbox.dispatch import publish
    from kipp.scoring.aggregation import queue_recompute
    from kipp.scoring.models import ScoringScheme
    from kipp.scoring.services import RECOMPUTE_STAGE

    waiting = _app(worker_env, publishing=False)
    scheme_id, _jobs = _stage(waiting, year=2053, proposals=6, judges=6, submitted=True)
    with waiting.app_context():
        run_id = queue_recompute(db.session.get(ScoringScheme, scheme_id)).id
        db.session.commit()
    [message] = [m for m in _messages(waiting, RECOMPUTE_STAGE) if m.payload["run_id"] == run_id]
    engine = sa.create_engine(worker_env["KIPP_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(sa.text(
            "CREATE FUNCTION drill_refuse_scores() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'drill: the disk is full'; END $$"))
        connection.execute(sa.text(
            f"CREATE TRIGGER drill_refuse_scores BEFORE INSERT OR UPDATE ON proposal_scores FOR EACH ROW "
            f"WHEN (NEW.scheme_id = {scheme_id}) EXECUTE FUNCTION drill_refuse_scores()"))
    app = _app(worker_env)
    try:
        with app.app_context():
            publish(app, message.id, RECOMPUTE_STAGE)

        def failed() -> bool:
            [run] = [r for r in _runs(app, scheme_id) if r.id == run_id]
            [again] = [m for m in _messages(app, RECOMPUTE_STAGE) if m.id == message.id]
            return run.status.value == "failed" and "disk is full" in (again.last_error or "")

        assert wait_for(failed, timeout=60), "the first run did not fail"
        assert _stored(app, scheme_id) == []
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text("DROP TRIGGER drill_refuse_scores ON proposal_scores"))
            connection.execute(sa.text("DROP FUNCTION drill_refuse_scores()"))
        engine.dispose()
    with app.app_context():
        publish(app, message.id, RECOMPUTE_STAGE)  # what the sweep does with a message not done
    assert wait_for(_settled(app, scheme_id), timeout=60), "the failed run was not run again"
    [run] = _runs(app, scheme_id)
    assert run.error is None and run.progress == 100
    assert _stored(app, scheme_id) == _single_run(app, scheme_id)


def test_recomputations_of_one_stage_run_one_at_a_time(worker_env: dict[str, str]) -> None:
    """Two runs of one stage queued together, and the first one's message delivered twice: two
    worker children take them at once, yet each run is computed once, one after the other, and the
    ranking is the one a single run gives."""
    from kipp.audit.models import AuditEvent
    from kipp.extensions import db
    from kipp.outbox.dispatch import enqueue, publish
    from kipp.scoring.models import AggregationRun
    from kipp.scoring.services import RECOMPUTE_STAGE

    waiting = _app(worker_env, publishing=False)
    scheme_id, _jobs = _stage(waiting, year=2054, proposals=150, judges=30, submitted=True)
    with waiting.app_context():
        runs = [AggregationRun(scheme_id=scheme_id) for _ in range(2)]
        db.session.add_all(runs)
        db.session.flush()
        messages = [enqueue(RECOMPUTE_STAGE, run_id=run.id) for run in runs]
        db.session.commit()
        # The second run's message between the first's two copies: the children take two runs at once.
        run_ids, deliveries = [r.id for r in runs], [messages[0].id, messages[1].id, messages[0].id]
    app = _app(worker_env)
    with app.app_context():
        for outbox_id in deliveries:
            publish(app, outbox_id, RECOMPUTE_STAGE)
    assert wait_for(_settled(app, scheme_id), timeout=120), "the recomputations did not finish"
    first, second = sorted(_runs(app, scheme_id), key=lambda r: r.started_at)
    assert first.finished_at <= second.started_at, "two recomputations of the stage ran at the same time"
    with app.app_context():
        computed = db.session.scalars(sa.select(AuditEvent.object_id).where(
            AuditEvent.action == "scoring.recomputed", AuditEvent.object_type == "aggregation_runs",
            AuditEvent.object_id.in_([str(i) for i in run_ids]))).all()
    assert sorted(computed) == sorted(str(i) for i in run_ids), "a run was computed twice"
    stored = _stored(app, scheme_id)
    assert len(stored) == 150 and stored == _single_run(app, scheme_id)


def test_progress_is_visible_while_the_recomputation_writes(
        worker_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The run writes its rows in one transaction, yet the secretariat sees it running, and how
    far, while it does; nothing of its rows before it commits."""
    from kipp.extensions import db
    from kipp.outbox.dispatch import deliver
    from kipp.scoring import aggregation
    from kipp.scoring.models import ScoringScheme

    app = _app(worker_env, publishing=False)
    scheme_id, _jobs = _stage(app, year=2055, proposals=6, judges=6, submitted=True)
    with app.app_context():
        run_id = aggregation.queue_recompute(db.session.get(ScoringScheme, scheme_id)).id
        db.session.commit()
    [message] = [m for m in _messages(app, aggregation.RECOMPUTE_STAGE) if m.payload["run_id"] == run_id]
    writing, seen = threading.Event(), threading.Event()
    write = aggregation._write

    def write_then_wait(*args: Any, **kwargs: Any) -> Any:
        written = write(*args, **kwargs)
        writing.set()
        assert seen.wait(30)
        return written

    monkeypatch.setattr(aggregation, "_write", write_then_wait)

    def watch() -> tuple[Any, ...]:
        assert writing.wait(30)
        try:
            [run] = [r for r in _runs(app, scheme_id) if r.id == run_id]
            return run.status.value, run.progress, run.started_at is not None, len(_stored(app, scheme_id))
        finally:
            seen.set()

    def delivering() -> str:
        with app.app_context():
            return deliver(message.id)

    outcome, watched = _in_threads(delivering, watch)
    assert outcome == "done"
    assert watched == ("running", 95, True, 0)
    assert [r.status.value for r in _runs(app, scheme_id) if r.id == run_id] == ["done"]
