"""The selection rounds at full scale, on PostgreSQL with a real Celery worker (issue 6's performance).

    .venv/bin/python bench/lifecycle.py [--reuse] [--seed 2027] [--timeout 600]

Seeds the PostgreSQL database named by KIPP_BENCH_DATABASE_URL (default: a fresh
kipp_bench_lifecycle) with bench/seed_lifecycle.py (600 agencies, 3,500 proposals passed
screening, 60 evaluators, 15 panelists, the evaluation open) unless --reuse finds its
snapshot (``<name>_seeded``), which it then copies back in a second. Starts a Celery
worker (``celery -A workers worker --pool=solo``) on that database and Redis database 13,
then plays the edition through the application's own services, timing each step from the
action until its result is committed (for a worker job: until its run row says so):

 1. assignment of the evaluation, 3 judges per proposal: request_run -> commit -> the worker
    solves and writes the draft (until the run is DONE); then publishing it;
 2. 10,500 submitted sheets bulk-inserted (bench/seed_scoring.plausible_sheets), then the
    aggregation: queue_recompute -> commit -> the worker's recompute_stage (until DONE);
 3. closing the evaluation (kipp.progress.services.take_step), building the nominee list
    (selection services: CP-SAT with cluster places and a 3T minimum, bootstrap stability),
    freezing it;
 4. the panel: assignment of the nominees, 2 panelists each; sheets; aggregation; the
    plenary's decision (99 + 15 finalists) frozen;
 5. the objection window, the finalists confirmed, presentations scheduled and attended,
    presentation sheets and aggregation, the final result frozen, the results published;
 6. the certificate batch for the 114 finalists on the worker (until DONE), and
    render_certificate for one, in-process;
 7. the peak memory of this process and of the worker.

After each step the bench waits until the worker has delivered every outbox message the
step queued (notifications, emails), so that one step's mail does not slow the next one;
that wait is printed beside the step. A step whose service does not exist yet ends the run:
what was measured is printed and the exit status is 2. A failed step exits 1.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.seed_edition import BENCH_EMAIL  # noqa: E402
from bench.seed_lifecycle import (  # noqa: E402
    DEFAULT_URL,
    copy_database,
    database_exists,
    insert_sheets,
    seed_lifecycle,
    snapshot_name,
)

REDIS_URL = "redis://127.0.0.1:6379/13"  # no test uses it (tests: 15, bench/scoring.py: 14)
POLL_SECONDS = 0.05
DONE = "done"
FAILED = ("failed", "infeasible")
OBJECTIONS = 5  # filed against the first finalists, all rejected (the 114 stay)
FINALIST_DECREE = "B/114/PP.00.05/2027"
WINNER_DECREE = "B/50/PP.00.05/2027"
MINUTES = "Berita acara sidang pleno Tim Panel Independen (bench): keputusan diambil secara musyawarah."


class Missing(Exception):
    """A part of the application the bench needs does not exist yet."""


class StepFailed(Exception):
    pass


@dataclass
class Timing:
    step: str
    seconds: float | None
    detail: str = ""
    heavy: bool = False
    outcome: str = "ok"  # ok | failed | missing
    drain: float | None = None  # waiting afterwards for the step's outbox messages
    messages: int | None = None  # outbox messages the step queued (jobs, notifications, emails)
    worker_mib: float | None = None  # the worker's VmHWM after the step
    bench_mib: float | None = None  # this process's ru_maxrss after the step


def own_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


TIMINGS: list[Timing] = []


# --- the worker -------------------------------------------------------------------------------------

class Worker:
    """``celery -A workers worker`` in its own process group, as tests/worker/test_celery_worker.py starts it."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        celery = Path(sys.executable).parent / "celery"
        with log_path.open("w") as log:
            self.process = subprocess.Popen(
                [str(celery), "-A", "workers", "worker", "--pool=solo", "--loglevel=INFO", "--without-gossip",
                 "--without-mingle", "--without-heartbeat", "--hostname=kipp-bench-lifecycle@%h"],
                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        self.vm_hwm_kib = 0

    def wait_ready(self, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited; see {self.log_path}:\n{self.log_path.read_text()[-3000:]}")
            if "ready" in self.log_path.read_text():
                return
            time.sleep(0.2)
        raise RuntimeError(f"the worker was not ready in {seconds} s; see {self.log_path}")

    def check(self) -> None:
        """Note the worker's high-water mark; complain when it has died."""
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.vm_hwm_kib = max(self.vm_hwm_kib, int(line.split()[1]))
        if self.process.poll() is not None:
            raise StepFailed(f"the worker exited (status {self.process.returncode}); see {self.log_path}")

    def stop(self) -> None:
        """Read its high-water mark a last time, then stop it (warm shutdown).

        Not RUSAGE_CHILDREN: the child's ru_maxrss keeps the size of this process at the fork
        (Linux carries it across exec), which after seeding is this process's peak, not the worker's."""
        with contextlib.suppress(StepFailed):
            self.check()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- the bench --------------------------------------------------------------------------------------

class Lifecycle:
    def __init__(self, url: str, instance: Path, worker: Worker, timeout: float, seed_value: int) -> None:
        from tests.conftest import build_app

        self.app = build_app(url, instance, env={"KIPP_REDIS_URL": REDIS_URL})
        assert self.app.extensions["celery"].conf.task_always_eager is False
        self.poll = sa.create_engine(url, pool_size=1)
        self.worker = worker
        self.timeout = timeout
        self.rng = random.Random(seed_value)
        self.quality: dict[int, float] = {}  # each proposal's quality, the same in every round
        with self.app.app_context():
            from kipp.editions.models import Edition
            from kipp.extensions import db

            self.edition_id = db.session.scalar(sa.select(Edition.id))
            self.actor_id = db.session.scalar(sa.text("SELECT id FROM users WHERE email = :e"), {"e": BENCH_EMAIL})

    # Helpers -----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def context(self) -> Iterator[tuple[Any, Any, Any]]:
        """An app context with the edition, the secretariat and the session; commits at the end.

        Leaving the context publishes what the commit queued to the worker (kipp.web's teardown)."""
        from kipp.accounts.models import User
        from kipp.editions.models import Edition
        from kipp.extensions import db

        with self.app.app_context():
            edition = db.session.get(Edition, self.edition_id)
            actor = db.session.get(User, self.actor_id)
            yield edition, actor, db.session
            db.session.commit()

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.poll.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def wait_row(self, table: str, row_id: int, started: float) -> tuple[float, dict[str, Any]]:
        """Poll a run row (assignment_runs, aggregation_runs, certificate_batches) until it is done."""
        deadline = started + self.timeout
        running_after = None
        while True:
            with self.poll.connect() as conn:
                row = conn.execute(sa.text(f"SELECT * FROM {table} WHERE id = :id"), {"id": row_id}).mappings().one()
            if running_after is None and row["status"] != "queued":
                running_after = time.perf_counter() - started  # when the worker took it up (to the poll)
            if row["status"] == DONE:
                return time.perf_counter() - started, {**row, "running_after": running_after}
            if row["status"] in FAILED:
                raise StepFailed(f"{table} {row_id} ended {row['status']}: {row.get('error') or row.get('result')}")
            self.worker.check()
            if time.perf_counter() > deadline:
                raise StepFailed(f"{table} {row_id} still {row['status']} after {self.timeout:.0f} s")
            time.sleep(POLL_SECONDS)

    def drain(self) -> float:
        """Wait until the worker has delivered every outbox message queued so far; return the wait."""
        from kipp.outbox.dispatch import MAX_ATTEMPTS

        started = time.perf_counter()
        while True:
            left = self.scalar("SELECT count(*) FROM outbox_messages WHERE processed_at IS NULL AND attempts < :m",
                               m=MAX_ATTEMPTS)
            if not left:
                break
            self.worker.check()
            if time.perf_counter() - started > self.timeout:
                raise StepFailed(f"{left} outbox messages still undelivered after {self.timeout:.0f} s")
            time.sleep(POLL_SECONDS)
        failed = self.scalar("SELECT count(*) FROM outbox_messages WHERE processed_at IS NULL")
        if failed:
            error = self.scalar("SELECT last_error FROM outbox_messages WHERE processed_at IS NULL "
                                "ORDER BY id LIMIT 1")
            raise StepFailed(f"{failed} outbox messages failed; the first: {error}")
        return time.perf_counter() - started

    def timed(self, step: str, func: Callable[[], str | tuple[float, str] | None], *, heavy: bool = False) -> None:
        """Run one step, record its time (or the time the step measured itself) and drain the outbox."""
        last_message = self.scalar("SELECT coalesce(max(id), 0) FROM outbox_messages")
        started = time.perf_counter()
        try:
            result = func()
        except Missing as missing:
            TIMINGS.append(Timing(step, None, str(missing), heavy, "missing"))
            raise
        except Exception as error:
            TIMINGS.append(Timing(step, time.perf_counter() - started, f"{type(error).__name__}: {error}"[:300],
                                  heavy, "failed"))
            raise StepFailed(step) from error
        seconds = time.perf_counter() - started
        detail = ""
        if isinstance(result, tuple):
            seconds, detail = result
        elif isinstance(result, str):
            detail = result
        timing = Timing(step, seconds, detail, heavy)
        TIMINGS.append(timing)
        timing.drain = self.drain()
        timing.messages = self.scalar("SELECT count(*) FROM outbox_messages WHERE id > :i", i=last_message)
        self.worker.check()
        timing.worker_mib, timing.bench_mib = self.worker.vm_hwm_kib / 1024, own_peak_mib()
        print(f"  {step}: {seconds:.2f} s{'  (' + detail + ')' if detail else ''}; "
              f"{timing.messages} outbox messages delivered in {timing.drain:.2f} s more", flush=True)

    # Steps -------------------------------------------------------------------------------------

    def assign(self, stage_name: str, per_proposal: int) -> tuple[float, str]:
        """request_run -> commit -> the worker solves and writes the draft; until the run is DONE."""
        from kipp.assignment import services as assignment
        from kipp.editions.kinds import StageKind

        stage = StageKind(stage_name)
        started = time.perf_counter()
        with self.context() as (edition, actor, _session):
            run_id = assignment.request_run(actor, edition, stage, per_proposal=per_proposal).id
        seconds, row = self.wait_row("assignment_runs", run_id, started)
        record = row["result"] or {}
        pairs = self.scalar("SELECT count(*) FROM assignments WHERE run_id = :r", r=run_id)
        timings = record.get("timings_s") or {}
        solver = f"solver {record.get('duration_s', 0):.2f} s" + (
            " (" + ", ".join(f"{k} {v:.2f}" for k, v in timings.items()) + ")" if timings else "")
        return seconds, f"{pairs} pairs; running after {row['running_after']:.2f} s; {solver}"

    def publish_assignment(self, stage_name: str) -> str:
        from kipp.assignment import services as assignment
        from kipp.editions.kinds import StageKind

        with self.context() as (edition, actor, _session):
            published = assignment.publish(actor, edition, StageKind(stage_name))
        return f"{published} pairs published, their judges notified"

    def sheets(self, stage_name: str) -> str:
        from kipp.editions.kinds import StageKind
        from kipp.scoring import services as scoring

        with self.context() as (edition, _actor, _session):
            scheme = scoring.scheme_for(edition, StageKind(stage_name))
            if scheme is None:
                raise Missing(f"no scoring scheme for the stage {stage_name}")
            count = insert_sheets(scheme.id, rng=self.rng, quality=self.quality)
        return f"{count} submitted sheets"

    def aggregate(self, stage_name: str) -> tuple[float, str]:
        """queue_recompute -> commit -> the worker's recompute_stage; until the run is DONE."""
        from kipp.editions.kinds import StageKind
        from kipp.scoring import aggregation
        from kipp.scoring import services as scoring

        started = time.perf_counter()
        with self.context() as (edition, actor, _session):
            run_id = aggregation.queue_recompute(scoring.scheme_for(edition, StageKind(stage_name)), actor).id
        seconds, row = self.wait_row("aggregation_runs", run_id, started)
        result = row["result"] or {}
        return seconds, (f"{result.get('proposals')} proposals, {result.get('written')} rows written; running "
                         f"after {row['running_after']:.2f} s; recompute_stage {result.get('seconds')} s")

    def move(self, stage_name: str, move: str) -> str:
        from kipp.editions.kinds import StageKind
        from kipp.progress import services as progress

        with self.context() as (edition, actor, _session):
            progress.take_step(actor, edition, edition.stage(StageKind(stage_name)), progress.Move(move))
        return ""

    def in_process(self, action: Callable[[Any, Any, Any], str | None]) -> str:
        """One service call (or a few) in its own app context, committed."""
        with self.context() as (edition, actor, session):
            return action(edition, actor, session) or ""

    def in_process_timed(self, action: Callable[[Any, Any, Any], tuple[float, str]]) -> tuple[float, str]:
        with self.context() as (edition, actor, session):
            return action(edition, actor, session)

    def create_scheme(self, stage_name: str) -> str:
        from kipp.editions.kinds import StageKind
        from kipp.scoring import services as scoring

        with self.context() as (edition, actor, _session):
            scheme = scoring.create_scheme(actor, edition, StageKind(stage_name))
            return f"{len(scheme.aspects)} aspects"

    def wait_batch(self, started: float, batch_id: int) -> tuple[float, str]:
        seconds, row = self.wait_row("certificate_batches", batch_id, started)
        rendering = seconds - row["running_after"]
        return seconds, (f"running after {row['running_after']:.2f} s, then {row['done']} certificates + ZIP in "
                         f"{rendering:.2f} s ({rendering / max(1, row['done']) * 1000:.0f} ms per certificate)")


def service(module: str) -> Any:
    """A module of the application the bench needs, or Missing if it does not exist yet."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        raise Missing(f"{module} does not exist yet ({error})") from error


def chosen(shortlist: Any) -> int:
    return sum(1 for e in shortlist.entries if e.chosen)


def by_group(shortlist: Any) -> str:
    counts: dict[str, int] = {}
    for entry in shortlist.entries:
        counts[entry.group_code.value] = counts.get(entry.group_code.value, 0) + entry.chosen
    return ", ".join(f"{code} {n}" for code, n in sorted(counts.items()))


@contextlib.contextmanager
def phases() -> Iterator[Callable[[], str]]:
    """Time the two costly parts of building a list, wrapped from outside: the quota selection
    (kipp.selection.nominees.select, CP-SAT) and the bootstrap (uncertainty.inside_shares)."""
    from kipp.selection import nominees, uncertainty

    spent = {"CP-SAT select": 0.0, "bootstrap": 0.0}
    originals = nominees.select, uncertainty.inside_shares

    def timed(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started
        return wrapper

    nominees.select = timed("CP-SAT select", nominees.select)
    uncertainty.inside_shares = timed("bootstrap", uncertainty.inside_shares)
    try:
        yield lambda: ", ".join(f"{name} {seconds:.2f} s" for name, seconds in spent.items() if seconds)
    finally:
        nominees.select, uncertainty.inside_shares = originals


def today() -> dt.date:
    """Today in WIB (a decree cannot be dated in the future)."""
    from kipp.i18n import to_wib

    return to_wib(dt.datetime.now(dt.timezone.utc)).date()


def need(module: Any, *names: str) -> None:
    absent = [n for n in names if not hasattr(module, n)]
    if absent:
        raise Missing(f"{module.__name__} has no {', '.join(absent)} yet")


# --- the run ----------------------------------------------------------------------------------------

def play(bench: Lifecycle) -> None:
    from kipp.editions.kinds import StageKind

    print("\nEvaluation", flush=True)
    bench.timed("assignment of the evaluation, k = 3 (worker)", lambda: bench.assign("evaluation", 3), heavy=True)
    bench.timed("publish the evaluation assignment", lambda: bench.publish_assignment("evaluation"))
    bench.timed("insert the evaluation sheets (bulk, setup)", lambda: bench.sheets("evaluation"))
    bench.timed("aggregation of the evaluation (worker)", lambda: bench.aggregate("evaluation"), heavy=True)
    bench.timed("close the evaluation (take_step)", lambda: bench.move("evaluation", "close"))

    print("\nNominees", flush=True)
    selection = service("kipp.selection.services")
    need(selection, "build_nominees", "freeze_nominees")

    def build_nominees(edition: Any, actor: Any, _session: Any) -> str:
        with phases() as spent:
            shortlist = selection.build_nominees(actor, edition)
        parts = []
        for code, report in sorted(shortlist.report.items()):
            cost = ", ".join(f"{rule} {value}" for rule, value in sorted(report.get("cost", {}).items()))
            parts.append(f"{code}: {report.get('chosen')} of {report.get('ranked')}, "
                         f"{len(report.get('displacements', []))} displaced{' (' + cost + ')' if cost else ''}, "
                         f"{report.get('chosen_3t')} 3T")
        unstable = sum(1 for e in shortlist.entries if selection.is_unstable(e))
        return "; ".join(parts) + f"; {unstable} unstable at the cut ({edition.bootstrap_samples} resamples); {spent()}"

    bench.timed("nominee selection: build_nominees (CP-SAT + bootstrap)", lambda: bench.in_process(build_nominees),
                heavy=True)
    bench.timed("freeze the nominees (3,500 state changes)",
                lambda: bench.in_process(lambda e, a, _s: f"{chosen(selection.freeze_nominees(a, e))} nominated"))

    print("\nPanel", flush=True)
    bench.timed("assignment of the panel, k = 2 (worker)", lambda: bench.assign("panel_review", 2), heavy=True)
    bench.timed("publish the panel assignment", lambda: bench.publish_assignment("panel_review"))
    bench.timed("open the panel review (take_step)", lambda: bench.move("panel_review", "open"))
    bench.timed("insert the panel sheets (bulk, setup)", lambda: bench.sheets("panel_review"))
    bench.timed("aggregation of the panel (worker)", lambda: bench.aggregate("panel_review"), heavy=True)
    need(selection, "build_finalists", "freeze_finalists")

    def build_finalists(edition: Any, actor: Any, _session: Any) -> str:
        with phases() as spent:
            shortlist = selection.build_finalists(actor, edition)
        return f"{by_group(shortlist)} proposed; {spent()}"

    bench.timed("plenary: build_finalists (ranking + bootstrap)", lambda: bench.in_process(build_finalists), heavy=True)
    bench.timed("plenary: freeze the finalists (with minutes)", lambda: bench.in_process(
        lambda e, a, _s: f"{chosen(selection.freeze_finalists(a, e, minutes=MINUTES))} finalists"))
    bench.timed("close the panel review (take_step)", lambda: bench.move("panel_review", "close"))

    print("\nObjection window", flush=True)
    objections = service("kipp.objections.services")
    need(objections, "file_objection", "rule", "confirm_finalists")
    bench.timed("open the objection window (take_step; finalists announced)", lambda: bench.move("objection", "open"))

    def objections_filed(edition: Any, actor: Any, session: Any) -> str:
        from kipp.objections.models import ObjectionStatus
        from kipp.proposals.models import Proposal
        from kipp.proposals.states import ProposalStatus

        stage = edition.stage(StageKind.OBJECTION)
        during = stage.opens_at + dt.timedelta(hours=1) if stage.opens_at > dt.datetime.now(dt.timezone.utc) \
            else None
        finalists = session.scalars(sa.select(Proposal).where(Proposal.edition_id == edition.id,
                                                              Proposal.status == ProposalStatus.FINALIST)
                                    .order_by(Proposal.id).limit(OBJECTIONS)).all()
        for n, proposal in enumerate(finalists):
            filed = objections.file_objection(
                edition, proposal, name=f"Warga Bench {n}", contact=f"warga{n}@contoh.id",
                reason="Inovasi ini sudah berhenti berjalan sejak tahun lalu menurut pengamatan warga sekitar.",
                client_hash=f"{n:064x}", now=during)
            session.flush()
            objections.rule(actor, filed, decision=ObjectionStatus.REJECTED,
                            ruling="Tidak terbukti: inovasi masih berjalan menurut verifikasi sekretariat.", now=during)
        return f"{len(finalists)} objections filed and rejected"

    bench.timed("objections filed and ruled on", lambda: bench.in_process(objections_filed))

    def confirm(edition: Any, actor: Any, _session: Any) -> str:
        stage = edition.stage(StageKind.OBJECTION)
        after = max(stage.closes_at, dt.datetime.now(dt.timezone.utc)) + dt.timedelta(minutes=1)
        confirmed = objections.confirm_finalists(actor, edition, decree_number=FINALIST_DECREE,
                                                 decree_date=today(), now=after)
        return f"{len(confirmed)} finalists confirmed"

    bench.timed("confirm the finalists (decree)", lambda: bench.in_process(confirm))
    bench.timed("close the objection window (take_step)", lambda: bench.move("objection", "close"))

    print("\nPresentations", flush=True)
    presentations = service("kipp.presentations.services")
    need(presentations, "generate_schedule", "confirm_attendance", "record_attendance", "assign_panel")
    from kipp.presentations import rules as presentation_rules

    def schedule(edition: Any, actor: Any, _session: Any) -> str:
        from kipp.i18n import to_wib

        first_day = to_wib(dt.datetime.now(dt.timezone.utc)).date() + dt.timedelta(days=2)
        plan = presentation_rules.DayPlan(first_day=first_day, day_start=dt.time(8, 0), day_end=dt.time(17, 0),
                                          presentation_minutes=edition.presentation_minutes,
                                          interview_minutes=edition.interview_minutes, break_minutes=5)
        slots = presentations.generate_schedule(actor, edition, plan=plan, meeting_url="https://zoom.us/j/2027")
        return (f"{len(slots)} slots from {to_wib(min(s.starts_at for s in slots)):%d-%m %H:%M} "
                f"to {to_wib(max(s.starts_at for s in slots)):%d-%m %H:%M} WIB")

    bench.timed("schedule the presentations", lambda: bench.in_process(schedule))

    def agencies_confirm(edition: Any, _actor: Any, session: Any) -> str:
        from kipp.accounts.models import User
        from kipp.accounts.roles import Role

        slots = presentations.slots_of(edition)
        for slot in slots.values():
            admin = session.scalar(sa.select(User).where(User.role == Role.ADMIN_LOKAL,
                                                         User.agency_id == slot.proposal.agency_id).limit(1))
            presentations.confirm_attendance(admin, slot, presenter_name=f"Kepala {slot.proposal.agency.name}"[:200])
        return f"{len(slots)} confirmed by their Admin Lokal"

    bench.timed("the agencies confirm their slots", lambda: bench.in_process(agencies_confirm))
    bench.timed("create the presentation scheme", lambda: bench.create_scheme("presentation"))
    bench.timed("assignment of the presentations (whole panel) and publish",
                lambda: bench.in_process(lambda e, a, _s: f"{presentations.assign_panel(a, e).published} pairs"))
    bench.timed("open the presentations (take_step)", lambda: bench.move("presentation", "open"))

    def attendance(edition: Any, actor: Any, _session: Any) -> str:
        from kipp.presentations.models import Attendance

        slots = presentations.slots_of(edition)
        for slot in slots.values():
            presentations.record_attendance(actor, slot, attendance=Attendance.PRESENTED,
                                            now=slot.starts_at + dt.timedelta(minutes=1))
        return f"{len(slots)} presented"

    bench.timed("record the attendance", lambda: bench.in_process(attendance))
    bench.timed("insert the presentation sheets (bulk, setup)", lambda: bench.sheets("presentation"))
    bench.timed("aggregation of the presentations (worker)", lambda: bench.aggregate("presentation"), heavy=True)
    bench.timed("close the presentations (take_step)", lambda: bench.move("presentation", "close"))

    print("\nFinal result", flush=True)
    need(selection, "build_final", "freeze_final")
    bench.timed("open the final stage (take_step)", lambda: bench.move("final", "open"))

    def build_final(edition: Any, actor: Any, _session: Any) -> str:
        with phases() as spent:
            shortlist = selection.build_final(actor, edition)
        return f"{by_group(shortlist)} proposed winners; {spent()}"

    bench.timed("final result: build_final (combined scores + bootstrap)", lambda: bench.in_process(build_final),
                heavy=True)
    def freeze_final(edition: Any, actor: Any, _session: Any) -> str:
        shortlist = selection.freeze_final(actor, edition, decree_number=WINNER_DECREE, decree_date=today(),
                                           minutes=MINUTES)
        return f"{chosen(shortlist)} winners"

    bench.timed("freeze the final result (decree, award history)", lambda: bench.in_process(freeze_final))
    bench.timed("close the final stage (take_step)", lambda: bench.move("final", "close"))

    print("\nPublication", flush=True)
    publication = service("kipp.publication.services")
    certificates = service("kipp.publication.certificates")
    need(publication, "publish", "request_certificates")
    need(certificates, "render_certificate", "certificates_of")
    bench.timed("open the announcement (take_step)", lambda: bench.move("announcement", "open"))

    def publish_and_certificates() -> tuple[float, str]:
        started = time.perf_counter()
        with bench.context() as (edition, actor, _session):
            publication.publish(actor, edition)
        batch_id = bench.scalar("SELECT max(id) FROM certificate_batches")
        seconds, detail = bench.wait_batch(started, batch_id)
        # The batch is queued before the outcome notices, so it does not wait behind their emails.
        return seconds, f"queued before the outcome notices; {detail}"

    def outcome_notices() -> tuple[float, str]:
        started = time.perf_counter()
        while True:
            done = bench.scalar("SELECT extract(epoch FROM processed_at - created_at) FROM outbox_messages "
                                "WHERE task = :t AND processed_at IS NOT NULL ORDER BY id DESC LIMIT 1",
                                t=publication.NOTIFY_OUTCOMES)
            if done is not None:
                return float(done), "every participating agency's notices written (their emails follow)"
            if time.perf_counter() - started > bench.timeout:
                raise TimeoutError("the outcome notices did not finish")
            time.sleep(0.2)

    bench.timed("publish the results -> its certificate batch DONE (worker)", publish_and_certificates)
    bench.timed("the outcome notices job, from publication to its commit (worker)", outcome_notices)

    def regenerate() -> tuple[float, str]:
        started = time.perf_counter()
        with bench.context() as (edition, actor, _session):
            batch_id = publication.request_certificates(actor, edition).id
        return bench.wait_batch(started, batch_id)

    bench.timed("certificate generation for the 114 finalists: request_certificates -> DONE (worker)",
                regenerate, heavy=True)

    def render_one(edition: Any, _actor: Any, _session: Any) -> tuple[float, str]:
        todo = certificates.certificates_of(edition)
        first = todo[0]
        times = []
        for _ in range(3):
            started = time.perf_counter()
            pdf = certificates.render_certificate(first.proposal_id, first.tier)
            times.append(time.perf_counter() - started)
        return times[1], (f"{len(pdf) / 1024:.0f} KiB PDF; first call {times[0]:.2f} s (fonts, stylesheet), "
                          f"then {times[1]:.2f} and {times[2]:.2f} s")

    bench.timed("render_certificate for one, in-process", lambda: bench.in_process_timed(render_one))
    bench.timed("close the announcement (take_step)", lambda: bench.move("announcement", "close"))


def report(peaks: dict[str, float | None]) -> None:
    print("\nHeavy steps (seconds from the action until its result is committed):\n")
    print("| step | seconds | detail |")
    print("|---|---:|---|")
    for t in TIMINGS:
        if t.heavy:
            seconds = "—" if t.seconds is None else f"{t.seconds:.2f}"
            print(f"| {t.step} | {seconds} | {t.detail if t.outcome == 'ok' else t.outcome.upper()} |")
    print("\nEvery step:\n")
    print("| step | seconds | outbox messages | delivered in s | worker peak MiB | bench peak MiB | detail |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for t in TIMINGS:
        def number(value: float | int | None, form: str = ".2f") -> str:
            return "" if value is None else format(value, form)

        seconds = "—" if t.seconds is None else f"{t.seconds:.2f}"
        name = f"**{t.step}**" if t.heavy else t.step
        detail = t.detail if t.outcome == "ok" else f"{t.outcome.upper()}: {t.detail}"
        print(f"| {name} | {seconds} | {number(t.messages, ',')} | {number(t.drain)} | {number(t.worker_mib, '.0f')} "
              f"| {number(t.bench_mib, '.0f')} | {detail} |")
    print("\n| peak memory | MiB |")
    print("|---|---:|")
    for name, mib in peaks.items():
        print(f"| {name} | {'—' if mib is None else f'{mib:.0f}'} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reuse", action="store_true",
                        help="start from the seeded snapshot when it exists instead of seeding again")
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for one worker job")
    args = parser.parse_args()
    url = os.environ.get("KIPP_BENCH_DATABASE_URL", DEFAULT_URL)
    name = url.rsplit("/", 1)[1]

    started = time.perf_counter()
    if args.reuse and database_exists(url, snapshot_name(url)):
        copy_database(url, snapshot_name(url), name)
        TIMINGS.append(Timing("restore the seeded snapshot (--reuse)", time.perf_counter() - started,
                              f"copy of {snapshot_name(url)}"))
    else:
        summary = seed_lifecycle(url, seed_value=args.seed)
        TIMINGS.append(Timing("seed (bench/seed_lifecycle.py)", time.perf_counter() - started,
                              f"{summary['agencies']} agencies, {summary['passed screening']} proposals passed "
                              f"screening ({summary['khusus']} khusus), {summary['evaluators']} evaluators, "
                              f"{summary['panelists']} panelists"))
    TIMINGS[-1].bench_mib = seeded_mib = own_peak_mib()
    print(f"{TIMINGS[-1].step}: {TIMINGS[-1].seconds:.1f} s", flush=True)

    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # no task left over from an interrupted run
    instance = Path(tempfile.mkdtemp(prefix="kipp-bench-lifecycle-"))
    env = {**os.environ, "KIPP_ENV": "test", "KIPP_DATABASE_URL": url, "KIPP_REDIS_URL": REDIS_URL,
           "KIPP_INSTANCE_PATH": str(instance), "KIPP_BASE_URL": "http://kipp.bench"}
    worker = Worker(env, instance / "worker.log")
    status = 0
    try:
        worker.wait_ready()
        print(f"worker ready (pid {worker.process.pid}, log {worker.log_path})", flush=True)
        bench = Lifecycle(url, instance, worker, args.timeout, args.seed)
        play(bench)
    except Missing as missing:
        print(f"\nstopped: {missing}", flush=True)
        status = 2
    except StepFailed as failed:
        print(f"\nFAILED: {failed}", flush=True)
        traceback.print_exc()
        status = 1
    except Exception:
        traceback.print_exc()
        status = 1
    finally:
        worker.stop()
    peaks = {
        "the worker, celery --pool=solo (VmHWM just before it was stopped)": worker.vm_hwm_kib / 1024 or None,
        "this process, whole run (ru_maxrss)": own_peak_mib(),
        f"this process, after {'seeding' if TIMINGS[0].step.startswith('seed') else 'the restore'} (ru_maxrss)":
            seeded_mib,
    }
    report(peaks)
    if status == 0:
        shutil.rmtree(instance, ignore_errors=True)
    else:
        print(f"\nworker log: {worker.log_path}")
    print(f"exit status {status} ({'ok' if status == 0 else 'a step failed' if status == 1 else 'incomplete'})")
    return status


if __name__ == "__main__":
    sys.exit(main())
