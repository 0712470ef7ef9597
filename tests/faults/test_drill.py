"""The fault drill (issue 11): kipp in its production shape broken the ways a machine breaks, each
fault asserting that every email reaches the real SMTP server exactly once (none lost, no copy by
Message-ID or by recipient and subject), that nobody sees an HTTP 500, that the aggregation rows are
those a recomputation from scratch gives, and that everything has recovered within 60 s of the
fault's end. Each scenario prints its figures (and tests/faults/conftest.py writes them to
fault-drill.json in pytest's base temp folder).

The 20 judges autosaving on the embedded SQLite default are in tests/integration/test_sqlite_concurrency.py."""

from __future__ import annotations

import re
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pytest
import sqlalchemy as sa

from tests.conftest import TEST_PASSWORD
from tests.faults.conftest import RECOVERY_LIMIT, Drill, Tally, recovery_after, server_errors
from tests.faults.processes import wait_for
from tests.faults.visitor import Visitor, csrf_token

pytestmark = pytest.mark.faults

BURST = 30


def addresses(tag: str, count: int) -> list[str]:
    return [f"{tag}-{n:02d}@latihan.example.go.id" for n in range(1, count + 1)]


def in_background(job: Callable[..., Any], *args: Any) -> Future[Any]:
    executor = ThreadPoolExecutor(max_workers=1)
    future = executor.submit(job, *args)
    executor.shutdown(wait=False)
    return future


def invite_all(drill: Drill, secretariat: Visitor, recipients: list[str], pause: float = 0.0) -> None:
    """The secretariat invites each person through the form, pressing again after an error page
    (as a person would) until the invitation is recorded."""
    for email in recipients:
        deadline = time.monotonic() + RECOVERY_LIMIT + 30
        while True:
            answer = drill.invite(secretariat, email)
            if answer.status == 302 or _account_exists(drill, email):
                break
            assert time.monotonic() < deadline, f"the invitation of {email} never went through: {answer.status}"
            time.sleep(0.5)
        time.sleep(pause)


def _account_exists(drill: Drill, email: str) -> bool:
    from kipp.accounts.models import User

    try:
        return drill.read(sa.select(User.id).where(User.email == email)) is not None
    except sa.exc.OperationalError:
        return False


def mail_arrived(drill: Drill, recipients: list[str], count: int) -> Callable[[], bool]:
    return lambda: drill.tally(recipients).delivered >= count


def check(drill: Drill, scenario: str, tally: Tally, recovery: float | None, since: int,
          problems: list[str] = (), notes: str = "") -> None:
    """Record the scenario's figures, then assert what the drill demands of every fault: no HTTP 500,
    every email exactly once, recovery within 60 s, and the scenario's own ``problems`` none."""
    problems = [*problems, *drill.exited()]
    drill.record(scenario, tally, recovery, since, "; ".join(filter(None, [notes, *problems])))
    errors = server_errors(drill.answers.since(since))
    failures = [f"{len(errors)} HTTP 500 answers, e.g. {errors[:6]}"] if errors else []
    if (tally.lost, tally.duplicated) != (0, 0) or tally.delivered != tally.expected:
        failures.append(f"mail not delivered exactly once: {tally}")
    if recovery is None or recovery > RECOVERY_LIMIT:
        failures.append(f"recovery {recovery} s (the limit is {RECOVERY_LIMIT:.0f} s)")
    failures += problems
    assert not failures, "\n".join(failures)


@contextmanager
def slow_mail(drill: Drill, seconds: float) -> Iterator[None]:
    """The SMTP server takes its time before accepting each message, so a burst is still in flight
    when the fault strikes."""
    drill.mail_delay(seconds)
    try:
        yield
    finally:
        drill.mail_delay(0)


def _burst_then(drill: Drill, tag: str, fault: Callable[[], float]) -> tuple[Tally, float | None, int]:
    """30 invitations through the form; after the first few are delivered, ``fault`` strikes and
    returns the moment it ended. The tally once the mail has settled, and the recovery time."""
    recipients = addresses(tag, BURST)
    since = drill.answers.mark()
    secretariat = drill.secretariat()
    with slow_mail(drill, 0.3):
        burst = in_background(invite_all, drill, secretariat, recipients)
        assert wait_for(mail_arrived(drill, recipients, 4), 60), "the burst did not start"
        fault_end = fault()
        burst.result(timeout=120)
        tally = drill.await_mail(recipients)
    return tally, recovery_after(tally, fault_end), since


def test_worker_child_killed_mid_burst(drill: Drill) -> None:
    def kill_child() -> float:
        drill.shape.kill_worker_child()
        return time.time()

    tally, recovery, since = _burst_then(drill, "child", kill_child)
    check(drill, "1. worker child killed mid-burst", tally, recovery, since)


def test_whole_worker_killed_mid_burst_and_restarted(drill: Drill) -> None:
    def kill_worker() -> float:
        drill.shape.kill_worker()
        time.sleep(2)
        restarted = time.time()
        drill.shape.start_worker()
        return restarted

    tally, recovery, since = _burst_then(drill, "worker", kill_worker)
    check(drill, "2. whole worker killed mid-burst, restarted", tally, recovery, since)


def test_redis_restarted_empty_with_messages_queued(drill: Drill) -> None:
    queued: list[int] = []

    def restart_redis() -> float:
        queued.append(drill.redis.queued())
        drill.redis.restart_empty()
        return time.time()

    tally, recovery, since = _burst_then(drill, "redis", restart_redis)
    check(drill, "3. Redis restarted empty", tally, recovery, since,
          notes=f"{queued[0]} task messages were in Redis when it restarted")
    assert queued[0] > 0, "nothing was queued in Redis when it restarted: the fault did not test anything"


# The old fixed-attempt retry (5 attempts, each refusal counting 2, one publication per sweep after the
# retry delay) gave up after 3 deliveries: about 2 × (retry delay + sweep interval) with the drill's clock.
OLD_RETRY_SPAN = 2 * (4 + 2)


@dataclass
class Refusal:
    recipients: list[str]
    since: int
    first_outbox_id: int
    secretariat: Visitor
    outcome: Any


def _invited_while_mail_refuses(drill: Drill, tag: str, meanwhile: Callable[[int], Any]) -> Refusal:
    """10 invitations while the SMTP server answers 451; ``meanwhile(last outbox id before them)``
    runs before the server accepts again, and its value is kept."""
    recipients, since, first = addresses(tag, 10), drill.answers.mark(), drill.last_outbox_id()
    secretariat = drill.secretariat()
    drill.mail_refuses()
    try:
        invite_all(drill, secretariat, recipients)
        outcome = meanwhile(first)
    finally:
        drill.mail_accepts()
    return Refusal(recipients, since, first, secretariat, outcome)


def test_smtp_refuses_longer_than_the_old_retry_span_then_accepts(drill: Drill) -> None:
    def outlast_the_old_span(first: int) -> tuple[Tally, int]:
        time.sleep(OLD_RETRY_SPAN + 6)
        return drill.tally(addresses("refused", 10)), drill.failed_messages(first)

    refusal = _invited_while_mail_refuses(drill, "refused", outlast_the_old_span)
    recipients, (refused, failed) = refusal.recipients, refusal.outcome
    fault_end = time.time()
    tally = drill.await_mail(recipients)
    check(drill, "4a. SMTP 451 for longer than the old retry span, then accepted", tally,
          recovery_after(tally, fault_end), refusal.since,
          problems=[f"{failed} messages gave up while the outage was shorter than the retry window"] if failed else [],
          notes=f"refused for {OLD_RETRY_SPAN + 6} s")
    assert refused.delivered == 0, "the SMTP server accepted mail while it was meant to refuse it"


def test_smtp_refuses_beyond_the_retry_window_then_the_secretariat_resends(drill: Drill) -> None:
    assert drill.retry_window_seconds() <= 120, "the drill needs a retry window of seconds (KIPP_OUTBOX_RETRY_WINDOW_HOURS)"

    def outlast_the_window(first: int) -> bool:
        return bool(wait_for(lambda: drill.failed_messages(first) >= 10, drill.retry_window_seconds() + 30, interval=1))

    refusal = _invited_while_mail_refuses(drill, "window", outlast_the_window)
    recipients, since, first, secretariat, gave_up = (refusal.recipients, refusal.since, refusal.first_outbox_id,
                                                     refusal.secretariat, refusal.outcome)
    if not gave_up:
        check(drill, "4b. SMTP 451 beyond the retry window; failed, shown, resent", drill.tally(recipients), None,
              since, problems=[f"{drill.failed_messages(first)} of {len(recipients)} messages marked failed "
                               f"{drill.retry_window_seconds() + 30:.0f} s after a {drill.retry_window_seconds():.0f} s "
                               "retry window began: the others are still retried"])
    time.sleep(drill.sweep_seconds() * 2)
    assert drill.tally(recipients).delivered == 0, "a failed message was sent again without being asked"
    page = secretariat.get("/admin/mail/")
    assert page.status == 200
    shown = [email for email in recipients if email in page.body]
    assert len(shown) == len(recipients), f"failed messages not on the secretariat's page: {set(recipients) - set(shown)}"
    assert "451" in page.body, "the failed messages do not show their last error"
    fault_end = time.time()
    drill.resend_failed(secretariat, page.body)
    tally = drill.await_mail(recipients)
    check(drill, "4b. SMTP 451 beyond the retry window; failed, shown, resent", tally,
          recovery_after(tally, fault_end), since, notes="recovery counted from the resend")


@dataclass
class Sheet:
    email: str
    proposal_id: int
    keys: list[str]


def _scored_stage(drill: Drill, *, year: int, proposals: int, judges: int) -> tuple[int, list[Sheet]]:
    """A scoring stage in progress: every judge holds 3 proposals and has scored none."""
    from kipp.extensions import db
    from tests.scoring_factories import aspect_keys, scored_stage

    with drill.app.app_context():
        stage = scored_stage(proposals=proposals, judges=judges, per_proposal=3, year=year)
        sheets = [Sheet(member.user.email, proposal.id, aspect_keys(stage.scheme, proposal))
                  for member in stage.members for proposal in stage.proposals_of(member)]
        scheme_id = stage.scheme.id
        db.session.commit()
    return scheme_id, sheets


def _score(proposal_id: int, email: str) -> int:
    return 55 + (proposal_id * 7 + sum(map(ord, email))) % 40


def _judge_at_work(drill: Drill, judge: Visitor, sheets: list[Sheet], scheme_id: int) -> None:
    """A judge fills each sheet: a draft first, then the submission; an error page is met by
    pressing again after a moment, as a person would, until the sheet is submitted."""
    for sheet in sheets:
        for action in ("save", "submit"):
            deadline = time.monotonic() + RECOVERY_LIMIT + 30
            while not (action == "submit" and _submitted(drill, scheme_id, sheet)):
                assert time.monotonic() < deadline, f"{sheet} could not be {action}d"
                page = judge.get(f"/score/evaluation/{sheet.proposal_id}")
                if page.status == 200:
                    version = re.search(r'name="version" id="version" value="(\d+)"', page.body)
                    score = str(_score(sheet.proposal_id, sheet.email))
                    answer = judge.post(f"/score/evaluation/{sheet.proposal_id}", {
                        "csrf_token": csrf_token(page.body), "version": version.group(1) if version else "0",
                        "action": action, "comment": "", **{f"score-{k}": score for k in sheet.keys},
                        **{f"comment-{k}": "Latihan gangguan." for k in sheet.keys}})
                    if answer.status == 302 and action == "save":
                        break
                time.sleep(0.5)
            time.sleep(0.3)


def _submitted(drill: Drill, scheme_id: int, sheet: Sheet) -> bool:
    from kipp.accounts.models import User
    from kipp.judging.models import PoolMember
    from kipp.scoring.models import ScoreSheet, SheetStatus

    try:
        return drill.read(sa.select(sa.func.count()).select_from(ScoreSheet)
                          .join(PoolMember, PoolMember.id == ScoreSheet.member_id)
                          .join(User, User.id == PoolMember.user_id)
                          .where(ScoreSheet.scheme_id == scheme_id, ScoreSheet.proposal_id == sheet.proposal_id,
                                 User.email == sheet.email, ScoreSheet.status == SheetStatus.SUBMITTED)) == 1
    except sa.exc.OperationalError:  # the drill's own reads fail while PostgreSQL is down
        return False


def test_postgresql_restarted_under_load(drill: Drill) -> None:
    scheme_id, sheets = _scored_stage(drill, year=2041, proposals=8, judges=8)
    recipients = addresses("postgres", 12)
    since = drill.answers.mark()
    judges = {email: drill.logged_in(email) for email in {s.email for s in sheets}}
    secretariat = drill.secretariat()
    with ThreadPoolExecutor(max_workers=len(judges) + 1) as pool:
        work = [pool.submit(_judge_at_work, drill, judge, [s for s in sheets if s.email == email], scheme_id)
                for email, judge in judges.items()]
        work.append(pool.submit(invite_all, drill, secretariat, recipients, 0.3))
        assert wait_for(lambda: drill.submitted_sheets(scheme_id) >= 6, 60), "the judges did not start"
        drill.postgres.stop("fast")
        time.sleep(5)
        drill.postgres.start()
        fault_end = time.time()
        for done in work:
            done.result(timeout=RECOVERY_LIMIT + 60)
    settled = wait_for(lambda: drill.scores_settled(scheme_id, len(sheets)), RECOVERY_LIMIT + 30, interval=0.5)
    settled_after = time.time() - fault_end
    tally = drill.await_mail(recipients)
    mail_recovery = recovery_after(tally, fault_end)
    recovery = None if mail_recovery is None or not settled else max(mail_recovery, settled_after)
    check(drill, "5. PostgreSQL restarted under load (24 sheets, 12 invitations)", tally, recovery, since,
          problems=drill.scores_differ(scheme_id) if settled else ["the aggregation never settled"],
          notes=f"aggregation settled {settled_after:.1f} s after the restart")


def test_a_task_delivered_twice_sends_one_email_and_writes_the_same_rows(drill: Drill) -> None:
    from kipp.accounts import services
    from kipp.accounts.models import User
    from kipp.accounts.roles import Role
    from kipp.extensions import db
    from kipp.judging.models import PoolMember
    from kipp.outbox.models import OutboxMessage
    from kipp.proposals.models import Proposal
    from kipp.scoring.models import ScoringScheme
    from kipp.scoring.services import AGGREGATE_PROPOSAL, RECOMPUTE_STAGE
    from tests.faults.conftest import SECRETARIAT
    from tests.scoring_factories import ScoredStage, fill

    recipients = addresses("twice", 10)
    scheme_id, sheets = _scored_stage(drill, year=2042, proposals=4, judges=4)
    since = drill.answers.mark()
    first = drill.last_outbox_id() + 1
    started = time.time()
    with drill.app.app_context():
        secretariat = db.session.scalar(sa.select(User).where(User.email == SECRETARIAT))
        for email in recipients:
            services.invite(secretariat, email=email, name="Juri Ganda", role=Role.EVALUATOR)
        scheme = db.session.get(ScoringScheme, scheme_id)
        stage = ScoredStage(scheme.edition, scheme, [], [])
        for sheet in sheets:
            member = db.session.scalar(sa.select(PoolMember).join(User, User.id == PoolMember.user_id).where(
                PoolMember.edition_id == scheme.edition_id, User.email == sheet.email))
            fill(stage, member, db.session.get(Proposal, sheet.proposal_id), _score(sheet.proposal_id, sheet.email))
    # Published once by the commits above; published twice more here, at once.
    republished: set[int] = set()

    def publish_again(tasks: tuple[str, ...]) -> None:
        from kipp.outbox.dispatch import publish

        with drill.app.app_context():
            todo = db.session.execute(sa.select(OutboxMessage.id, OutboxMessage.task).where(
                OutboxMessage.id >= first, OutboxMessage.task.in_(tasks))).all()
            for outbox_id, task in todo:
                if outbox_id not in republished:
                    republished.add(outbox_id)
                    for _ in range(2):
                        publish(drill.app, outbox_id, task)

    from kipp.outbox.registry import SEND_EMAIL

    publish_again((SEND_EMAIL, AGGREGATE_PROPOSAL))
    # The recomputations appear as the aggregations run: each is published twice more as it appears.
    watch_until = time.monotonic() + 15
    while time.monotonic() < watch_until and not drill.scores_settled(scheme_id, len(sheets)):
        publish_again((RECOMPUTE_STAGE,))
        time.sleep(0.2)
    publish_again((RECOMPUTE_STAGE,))
    settled = wait_for(lambda: drill.scores_settled(scheme_id, len(sheets)), RECOVERY_LIMIT, interval=0.5)
    tally = drill.await_mail(recipients)
    recovery = recovery_after(tally, started)
    check(drill, "6. every task delivered three times", tally, recovery, since,
          problems=drill.scores_differ(scheme_id) if settled else ["the aggregation never settled"],
          notes=f"{len(republished)} outbox messages published 3 times; recovery counted from the first publication")


def test_login_while_redis_is_down(drill: Drill) -> None:
    from kipp.extensions import db
    from tests.factories import EvaluatorFactory

    with drill.app.app_context():
        people = [EvaluatorFactory(email=email).email for email in addresses("login", 12)]
        db.session.commit()
    recipients = addresses("redisdown", 5)
    since = drill.answers.mark()
    secretariat = drill.secretariat()
    slow: list[str] = []
    drill.redis.stop()
    try:
        outcomes = []
        for email in people:
            outcomes.append(drill.visitor().login(email, TEST_PASSWORD))
        wrong = drill.visitor().login(people[0], "not-the-password-2026")
        # Queuing while Redis is down answers at once; the sweep publishes when Redis is back.
        for email in recipients:
            answer = drill.invite(secretariat, email)
            if answer.seconds > 2:
                slow.append(f"{email}: {answer.seconds:.1f} s")
    finally:
        drill.redis.start()
    # kombu 5.x can take the worker down when Redis vanishes under unacknowledged tasks ("'NoneType'
    # object has no attribute 'hostname'" while restoring them); its supervisor starts it again.
    restarted = drill.supervise()
    fault_end = time.time()
    tally = drill.await_mail(recipients)
    refused = [f"{a.path}: {a.status} {a.location}" for a in outcomes if a.status != 302 or "/login" in a.location]
    check(drill, "7. log in and invite while Redis is down", tally, recovery_after(tally, fault_end), since,
          problems=refused + slow + ([] if wrong.status in (200, 429) else [f"a wrong password answered {wrong.status}"]),
          notes=f"{len(people) - len(refused)} of {len(people)} logins succeeded"
                + (f"; restarted by the supervisor: {', '.join(restarted)}" if restarted else ""))
