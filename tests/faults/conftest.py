"""The fault drill's stage: a private PostgreSQL cluster, Redis and SMTP server on free ports, kipp
in its production shape beside them, a secretariat at a browser, and the figures of each fault.

Everything runs as real processes; the test process reads the database (and seeds what a scenario
needs) through the app factory, as an operator's script would."""

from __future__ import annotations

import html
import json
import re
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.conftest import TEST_PASSWORD, build_app
from tests.faults.processes import PrivatePostgres, PrivateRedis, ProductionShape, free_port, wait_for
from tests.faults.visitor import Answer, Answers, Visitor, csrf_token
from tests.services import need

SECRETARIAT = "sekretariat@latihan.example.go.id"
# How long the drill allows between a fault's end and every message delivered (issue 11).
RECOVERY_LIMIT = 60.0
# The drill's clock, short enough for the suite to run in minutes: a message not delivered after
# RETRY_SECONDS is published again by the sweep, which beat runs every SWEEP_SECONDS.
RETRY_SECONDS = 4
SWEEP_SECONDS = 2
# The retry window of a message the SMTP server keeps refusing, in hours (kipp's unit): 40 s.
RETRY_WINDOW_HOURS = 40 / 3600


@dataclass
class Figure:
    """One line of the drill's report: what a fault did to the mail."""

    scenario: str
    expected: int
    delivered: int
    duplicated: int
    lost: int
    recovery_seconds: float | None
    http_answers: int = 0
    http_500: int = 0
    notes: str = ""

    def line(self) -> str:
        recovery = "-" if self.recovery_seconds is None else f"{self.recovery_seconds:.1f} s"
        return (f"{self.scenario}: expected {self.expected}, delivered {self.delivered}, duplicated "
                f"{self.duplicated}, lost {self.lost}, recovery {recovery}, HTTP 500 {self.http_500} of "
                f"{self.http_answers}" + (f" ({self.notes})" if self.notes else ""))


FIGURES: list[Figure] = []


@dataclass
class Tally:
    expected: int
    delivered: int
    duplicated: int
    lost: int
    last_arrival: float | None


@dataclass
class Drill:
    folder: Path
    postgres: PrivatePostgres
    redis: PrivateRedis
    mail: Any  # tests.smtp_server's server
    shape: ProductionShape
    app: Flask
    report_path: Path
    answers: Answers = field(default_factory=Answers)

    # People and their browsers.
    def visitor(self) -> Visitor:
        return Visitor(self.shape.base_url, self.answers)

    def logged_in(self, email: str, password: str = TEST_PASSWORD) -> Visitor:
        visitor = self.visitor()
        answer = visitor.login(email, password)
        assert answer.status == 302 and "/login" not in answer.location, (answer.status, answer.body[:500])
        return visitor

    def secretariat(self) -> Visitor:
        return self.logged_in(SECRETARIAT)

    def invite(self, secretariat: Visitor, email: str) -> Answer:
        """The secretariat's invitation form (an evaluator): one invitation email."""
        return secretariat.submit("/admin/people/invite", {
            "name": f"Juri {email.split('@')[0]}", "email": email, "phone": "", "role": "evaluator",
            "agency_id": "0", "affiliation": "Universitas Latihan"})

    # The SMTP server's moods.
    def mail_refuses(self) -> None:
        self.mail.refusing = True

    def mail_accepts(self) -> None:
        self.mail.refusing = False

    def mail_delay(self, seconds: float) -> None:
        """The server takes ``seconds`` over each conversation before the message is handed over."""
        self.mail.delay = seconds
        self.mail.delay_before_data = True

    def exited(self) -> list[str]:
        """kipp's processes that are no longer running (nothing in the drill restarts them)."""
        return [f"the {p.name} process exited (see {p.log})" for p in (self.shape.web, self.shape.worker, self.shape.beat)
                if not p.alive()]

    def supervise(self) -> list[str]:
        """Start again what exited on its own, as the compose file's ``restart: unless-stopped`` does
        in production; the names of the processes it restarted."""
        restarted = []
        for process in (self.shape.web, self.shape.beat):
            if not process.alive():
                process.start()
                restarted.append(process.name)
        if not self.shape.worker.alive():
            self.shape.start_worker()
            restarted.append(self.shape.worker.name)
        return restarted

    def heal(self) -> None:
        """Undo whatever fault a failed scenario left behind, for the next one."""
        self.mail_accepts()
        self.mail_delay(0)
        if not self.redis.ping():
            self.redis.start()
        if not self.postgres.running():
            self.postgres.start()
        if not self.shape.worker.alive():
            self.shape.start_worker()
        if not self.shape.beat.alive():
            self.shape.beat.start()

    # The clock the drill runs kipp on.
    def sweep_seconds(self) -> float:
        return float(self.shape.env["KIPP_OUTBOX_SWEEP_SECONDS"])

    def retry_window_seconds(self) -> float:
        return float(self.shape.env.get("KIPP_OUTBOX_RETRY_WINDOW_HOURS", "48")) * 3600

    # The mail the SMTP server received.
    def tally(self, recipients: list[str]) -> Tally:
        wanted = set(recipients)
        mine = [m for m in self.mail.messages if m.recipient in wanted]
        by_id = Counter(m.message_id for m in mine)
        by_subject = Counter((m.recipient, m.subject) for m in mine)
        duplicated = max(sum(n - 1 for n in by_id.values()), sum(n - 1 for n in by_subject.values()))
        delivered = len({m.recipient for m in mine})
        return Tally(len(wanted), delivered, duplicated, len(wanted) - delivered,
                     max((m.received_at for m in mine), default=None))

    def await_mail(self, recipients: list[str], timeout: float = RECOVERY_LIMIT + 15) -> Tally:
        """The tally once every recipient has mail (or the time is up) and the outbox is quiet."""
        wait_for(lambda: self.tally(recipients).lost == 0, timeout, interval=0.25)
        wait_for(self.outbox_quiet, 10, interval=0.5)
        time.sleep(SWEEP_SECONDS + 1)  # a late copy would arrive now
        return self.tally(recipients)

    def outbox_quiet(self) -> bool:
        """No outbox message waits for the worker (failed ones wait for a person and do not count)."""
        from kipp.outbox.models import OutboxMessage

        failed = getattr(OutboxMessage, "failed_at", None)
        with self.app.app_context():
            query = sa.select(sa.func.count()).select_from(OutboxMessage).where(OutboxMessage.processed_at.is_(None))
            if failed is not None:
                query = query.where(failed.is_(None))
            return self.read(query) == 0

    def last_outbox_id(self) -> int:
        from kipp.outbox.models import OutboxMessage

        return self.read(sa.select(sa.func.coalesce(sa.func.max(OutboxMessage.id), 0)))

    def failed_messages(self, after_id: int) -> int:
        """Messages created after ``after_id`` that kipp gave up retrying (they wait for a person)."""
        from kipp.extensions import db
        from kipp.outbox.models import OutboxMessage

        with self.app.app_context():
            messages = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.id > after_id)).all()
            return sum(1 for m in messages if m.status == "failed")

    def resend_failed(self, secretariat: Visitor, page: str) -> list[Answer]:
        """Press every "resend" button of the secretariat's mail page."""
        actions = list(dict.fromkeys(html.unescape(a) for a in re.findall(r'<form[^>]*action="([^"]*resend[^"]*)"', page)))
        assert actions, "the secretariat's mail page has no button to resend a failed message"
        # Each message's own button first; a button for all of them last, as a second press.
        actions.sort(key=lambda action: not re.search(r"/\d+/", action))
        token = csrf_token(page)
        answers = [secretariat.post(action, {"csrf_token": token}) for action in actions]
        assert all(a.status == 302 for a in answers), [(a.path, a.status) for a in answers]
        return answers

    # The scores.
    def submitted_sheets(self, scheme_id: int) -> int:
        from kipp.scoring.models import ScoreSheet, SheetStatus

        try:
            return self.read(sa.select(sa.func.count()).select_from(ScoreSheet).where(
                ScoreSheet.scheme_id == scheme_id, ScoreSheet.status == SheetStatus.SUBMITTED))
        except sa.exc.OperationalError:
            return 0

    def scores_settled(self, scheme_id: int, sheets: int) -> bool:
        """Every sheet submitted and counted, no aggregation waiting or running, the ranking fresh."""
        from kipp.extensions import db
        from kipp.judging.models import RunStatus
        from kipp.scoring.models import AggregationRun, ProposalScore, ScoringScheme

        try:
            with self.app.app_context():
                counted = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(ProposalScore.sheets), 0))
                                            .where(ProposalScore.scheme_id == scheme_id))
                busy = db.session.scalar(sa.select(sa.func.count()).select_from(AggregationRun).where(
                    AggregationRun.scheme_id == scheme_id,
                    AggregationRun.status.in_([RunStatus.QUEUED, RunStatus.RUNNING])))
                fresh = not db.session.get(ScoringScheme, scheme_id).ranking_stale
        except sa.exc.OperationalError:
            return False
        return self.submitted_sheets(scheme_id) == sheets == counted and busy == 0 and fresh

    def scores_differ(self, scheme_id: int) -> list[str]:
        """Where the stored aggregation rows differ from a recomputation from scratch of the
        submitted sheets (figures, normalisation and ranking)."""
        from kipp.extensions import db
        from kipp.scoring.aggregation import compute
        from kipp.scoring.models import ProposalScore, ScoringScheme

        with self.app.app_context():
            fresh = compute(db.session.get(ScoringScheme, scheme_id), with_ranking=True)
            stored = {row.proposal_id: row for row in db.session.scalars(
                sa.select(ProposalScore).where(ProposalScore.scheme_id == scheme_id))}
            differences = [f"proposal {pid}: stored row missing" for pid in fresh.keys() - stored.keys()]
            differences += [f"proposal {pid}: stored row left over" for pid in stored.keys() - fresh.keys()]
            for pid in fresh.keys() & stored.keys():
                for column in SCORE_COLUMNS:
                    want, have = getattr(fresh[pid], column), getattr(stored[pid], column)
                    if _comparable(want) != _comparable(have):
                        differences.append(f"proposal {pid} {column}: stored {have!r}, recomputed {want!r}")
        return differences

    def read(self, statement: Any) -> Any:
        from kipp.extensions import db

        with self.app.app_context():
            return db.session.scalar(statement)

    # The report.
    def record(self, scenario: str, tally: Tally, recovery: float | None, since: int, notes: str = "") -> Figure:
        answers = self.answers.since(since)
        figure = Figure(scenario, tally.expected, tally.delivered, tally.duplicated, tally.lost,
                        None if recovery is None else round(recovery, 1), len(answers),
                        sum(1 for a in answers if a.status >= 500 and a.status != 503), notes)
        FIGURES.append(figure)
        self.report_path.write_text(json.dumps([asdict(f) for f in FIGURES], indent=2))
        print(f"\nFAULT DRILL {figure.line()}")
        return figure


SCORE_COLUMNS = ("sheets", "raw_total", "normalised_total", "std_dev", "spread", "disagreement", "aspect_means", "rank")


def _comparable(value: Any) -> Any:
    return Decimal(value) if isinstance(value, (Decimal, float)) else value


def recovery_after(tally: Tally, fault_end: float) -> float | None:
    """Seconds from the fault's end to the last message's arrival (0 when all came before it)."""
    if tally.lost or tally.last_arrival is None:
        return None
    return max(0.0, tally.last_arrival - fault_end)


def server_errors(answers: list[Answer]) -> list[str]:
    """Answers that a person would see as "something went wrong" (a 503 during an outage says to
    try again, and is allowed)."""
    return [f"{a.method} {a.path} -> {a.status}" for a in answers if a.status >= 500 and a.status != 503]


def _environment(drill_folder: Path, database_url: str, redis: PrivateRedis, smtp_url: str, web_port: int) -> dict[str, str]:
    instance = drill_folder / "instance"
    instance.mkdir(exist_ok=True)
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("KIPP_")},
        "PATH": f"{Path(os.sys.executable).parent}:{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
        # docker-compose.yml's environment, pointed at the drill's services.
        "KIPP_ENV": "production",
        "KIPP_SECRET_KEY": "fault-drill-secret-key-0123456789-abcdefghijklmnop",
        "KIPP_DATABASE_URL": database_url,
        "KIPP_REDIS_URL": redis.url(0),
        "KIPP_SMTP_URL": smtp_url,
        "KIPP_BASE_URL": f"http://127.0.0.1:{web_port}",
        "KIPP_COOKIE_SECURE": "0",
        "KIPP_INSTANCE_PATH": str(instance),
        # Every visitor of the drill comes from 127.0.0.1.
        "KIPP_LOGIN_RATE_LIMIT": "10000 per minute",
        "KIPP_OUTBOX_RETRY_SECONDS": str(RETRY_SECONDS),
        "KIPP_OUTBOX_SWEEP_SECONDS": str(SWEEP_SECONDS),
        "KIPP_OUTBOX_RETRY_WINDOW_HOURS": f"{RETRY_WINDOW_HOURS:.6f}",
    }


@pytest.fixture(scope="session")
def drill(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drill]:
    need("faults")
    from tests.smtp_server import SmtpServer

    folder = tmp_path_factory.mktemp("fault-drill")
    report_path = tmp_path_factory.getbasetemp() / "fault-drill.json"
    redis = PrivateRedis(folder)
    postgres = PrivatePostgres()
    mail = SmtpServer()
    shape: ProductionShape | None = None
    try:
        redis.start()
        postgres.init()
        mail.start()
        database_url = postgres.create_database("kipp")
        web_port = free_port()
        env = _environment(folder, database_url, redis, mail.url, web_port)
        shape = ProductionShape(folder, env, web_port)
        shape.flask("db", "upgrade")
        shape.flask("kipp", "load-regions")
        shape.flask("kipp", "create-secretariat", "--email", SECRETARIAT, "--name", "Sekretariat Latihan",
                    "--password", TEST_PASSWORD)
        shape.start()
        # The test process's own view of the database, publishing to the drill's Redis and mailing
        # through its SMTP server like the production processes (for seeding and for reading).
        app = build_app(database_url, folder / "instance-tests",
                        env={"KIPP_REDIS_URL": redis.url(0), "KIPP_SMTP_URL": env["KIPP_SMTP_URL"],
                             "KIPP_BASE_URL": env["KIPP_BASE_URL"]})
        yield Drill(folder, postgres, redis, mail, shape, app, report_path)
    finally:
        if shape is not None:
            shape.stop()
        mail.stop()
        redis.stop()
        postgres.destroy()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section("fault drill: messages expected, delivered, duplicated, lost; recovery")
        for figure in FIGURES:
            terminalreporter.write_line(figure.line())


@pytest.fixture(autouse=True)
def _healed(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "drill" in request.fixturenames:
        request.getfixturevalue("drill").heal()
