"""The transactional outbox: tasks are written with the change and published after commit.

``enqueue`` adds an OutboxMessage to the current session. When that session
commits, the message ids are remembered; when the app context ends (the end
of a request, CLI command or task, whether or not it then raised) they are
published to Celery, or, in the embedded default without Redis, delivered
in-process. A rollback forgets them. Anything not delivered (Redis down, a
worker killed, a handler that failed) is published again by ``sweep``, which
beat runs every minute, once the message is due: a failed attempt puts the
next one off by a doubling delay, until the message's retry window
(KIPP_OUTBOX_RETRY_WINDOW_HOURS) has passed; then it is marked failed and
waits, with its last error, for the secretariat to ``resend`` it.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from typing import Any, Iterable

import kombu.exceptions
import redis.exceptions
import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from kipp.db import utcnow
from kipp.extensions import db
from kipp.outbox.models import OutboxMessage
from kipp.outbox.registry import HANDLERS, TransientFailure

log = logging.getLogger(__name__)

# The longest wait between two attempts of a failing message.
MAX_RETRY_DELAY = dt.timedelta(hours=1)
# A delivery that has been talking to an outside server for longer than this has died: smtplib
# gives up after 20 s without an answer, and a live server answers each exchange at once.
SENDING_LEASE = dt.timedelta(seconds=45)
SWEEP_BATCH = 1000
_NEW = "kipp_outbox_new"
_FLUSHED = "kipp_outbox_flushed"
_COMMITTED = "kipp_outbox_committed"

# Failures that say "not now" rather than "never": a database, broker or server briefly away.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientFailure,
    sa.exc.OperationalError,
    sa.exc.DisconnectionError,
    sa.exc.InterfaceError,
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
)


class DeliveryInProgress(TransientFailure):
    """Another delivery of the same message is talking to the outside server right now."""

    def __init__(self, message: str, *, retry_in: dt.timedelta) -> None:
        super().__init__(message)
        self.retry_in = retry_in  # when that delivery is known to be over, one way or the other


def is_transient(error: BaseException) -> bool:
    return isinstance(error, TRANSIENT_ERRORS)


def retry_delay(attempts: int, base: dt.timedelta) -> dt.timedelta:
    """The wait after a message's ``attempts``-th failed attempt: base, 2×base, 4×base… at most an hour."""
    return min(base * 2 ** min(max(attempts - 1, 0), 20), max(MAX_RETRY_DELAY, base))


def _retry_base(app: Flask) -> dt.timedelta:
    return dt.timedelta(seconds=app.config["KIPP_OUTBOX_RETRY_SECONDS"])


def _retry_window(app: Flask) -> dt.timedelta:
    return dt.timedelta(hours=app.config["KIPP_OUTBOX_RETRY_WINDOW_HOURS"])


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]


def enqueue(task: str, **payload: Any) -> OutboxMessage:
    """Queue ``task`` to run after the current transaction commits."""
    if task not in HANDLERS:
        raise ValueError(f"no outbox handler named {task}")
    app, now = _app(), utcnow()
    # The publication after commit delivers it; the sweep only if that has not happened by next_attempt_at.
    message = OutboxMessage(task=task, payload=payload, created_at=now, next_attempt_at=now + _retry_base(app),
                            retry_until=now + _retry_window(app))
    db.session.add(message)
    db.session.info.setdefault(_NEW, []).append(message)
    return message


# SQLAlchemy fires the commit events for a released savepoint too; only the outermost
# transaction's commit makes a message real, so nested ones are ignored.
@event.listens_for(Session, "before_commit")
def _remember_ids(session: Session) -> None:
    if session.in_nested_transaction():
        return
    new = session.info.pop(_NEW, None)
    if new:
        session.flush()
        # A message added inside a savepoint that was rolled back is gone with it.
        kept = [m for m in new if sa.inspect(m).persistent]
        session.info.setdefault(_FLUSHED, []).extend((m.id, m.task) for m in kept)


@event.listens_for(Session, "after_commit")
def _mark_committed(session: Session) -> None:
    if session.in_nested_transaction():
        return
    flushed = session.info.pop(_FLUSHED, None)
    if flushed:
        session.info.setdefault(_COMMITTED, []).extend(flushed)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.nested:
        return  # the outer transaction may still commit what it queued before the savepoint
    session.info.pop(_NEW, None)
    session.info.pop(_FLUSHED, None)


def release_committed(app: Flask) -> None:
    """Publish (or, in-process, deliver) what the ending app context committed.

    One failed publication is enough: with the broker unreachable the others
    would only wait for it too, so they are left to the sweep.
    """
    if not db.session.registry.has():
        return
    committed = db.session.info.pop(_COMMITTED, None)
    if not committed:
        return
    # End the caller's read transaction first (what it committed is kept): on
    # SQLite an open one would block the in-process delivery's writes.
    try:
        db.session.rollback()
    except Exception:  # a connection the context's error broke; publishing does not need it
        log.warning("could not end the session before publishing", exc_info=True)
    for position, (outbox_id, task) in enumerate(committed):
        if not publish(app, outbox_id, task):
            log.warning("%s more outbox message(s) left to the sweep", len(committed) - position - 1)
            return


def publish(app: Flask, outbox_id: int, task: str) -> bool:
    """Hand a message to the worker (in-process: deliver it now). False if the broker was unreachable."""
    celery = app.extensions["celery"]
    if celery.conf.task_always_eager:
        # Embedded default: run the job now, in a context of its own so that
        # its session and its commit are separate from the caller's.
        with app.app_context():
            try:
                deliver(outbox_id)
            except Exception:  # the message stays in the outbox with its error
                log.exception("in-process delivery of outbox message %s failed", outbox_id)
        return True
    try:
        celery.send_task(task, kwargs={"outbox_id": outbox_id}, retry=False)
    except Exception:
        log.warning("could not publish outbox message %s; the sweep will retry", outbox_id, exc_info=True)
        return False
    return True


def deliver(outbox_id: int, *, count_transient: bool = True) -> str:
    """Run one outbox message once. Called by the worker task and in-process.

    A failure is recorded on the message with the time of its next attempt,
    or, past its retry window, as failed. A transient failure the worker is
    about to retry by itself (``count_transient`` False) is recorded without
    counting as an attempt, so the back-off is not spent on a brief outage.
    """
    message = db.session.get(OutboxMessage, outbox_id, with_for_update=True)
    if message is None or message.processed_at is not None or message.failed_at is not None:
        db.session.rollback()
        return "missing" if message is None else "already done" if message.processed_at else "failed"
    app = _app()
    handler = HANDLERS[message.task]
    payload = dict(message.payload)
    attempt = message.attempts + 1
    message.attempts = attempt
    # While this delivery runs the sweep leaves the message alone: PostgreSQL's row lock says so
    # until the first commit, this lease after it (a handler may commit part-way, see begin_external_send).
    message.next_attempt_at = utcnow() + _retry_base(app)
    try:
        handler(outbox_id, **payload)
        message.processed_at = utcnow()
        message.last_error = message.next_attempt_at = message.sending_at = None
        db.session.commit()
        return "done"
    except DeliveryInProgress:
        db.session.rollback()
        raise
    except Exception as error:
        trace = traceback.format_exc(limit=5)[-4000:]
        db.session.rollback()
        counted = count_transient or not is_transient(error)
        _record_failure(app, outbox_id, trace, attempts=attempt if counted else attempt - 1, counted=counted)
        raise


def _record_failure(app: Flask, outbox_id: int, trace: str, *, attempts: int, counted: bool) -> None:
    now = utcnow()
    try:
        message = db.session.get(OutboxMessage, outbox_id)
        if message is None or message.processed_at is not None:
            db.session.rollback()
            return
        message.attempts, message.last_error, message.sending_at = attempts, trace, None
        # The window bounds every failure, a brief one the worker retries by itself included:
        # otherwise a server that keeps answering 451 would be retried for ever, never shown as failed.
        if now >= message.retry_until:
            message.failed_at, message.next_attempt_at = now, None
            log.error("outbox message %s failed for good after %s attempts; the secretariat can resend it",
                      outbox_id, attempts)
        elif not counted:
            message.next_attempt_at = now + _retry_base(app)  # the worker's own retry comes first
        else:
            message.next_attempt_at = min(now + retry_delay(attempts, _retry_base(app)), message.retry_until)
        db.session.commit()
    except Exception:  # the database may be what failed; the message is still due and will be retried
        db.session.rollback()
        log.warning("could not record the failure of outbox message %s", outbox_id, exc_info=True)


def begin_external_send(outbox_id: int) -> None:
    """Record, in a commit of its own, that this delivery is about to talk to an outside server.

    The commit ends the delivery's row lock, so the record itself keeps other deliveries of the
    message out: one that finds it fresh waits (DeliveryInProgress, retried by the worker); one
    that finds it older than SENDING_LEASE knows the earlier delivery died talking to the server,
    which may have taken the message, and sends again under the same Message-ID.
    """
    message = db.session.get(OutboxMessage, outbox_id)
    if message is None:
        raise LookupError(f"outbox message {outbox_id} is gone")
    now = utcnow()
    if message.sending_at is not None:
        if now - message.sending_at < SENDING_LEASE:
            raise DeliveryInProgress(f"outbox message {outbox_id} is being sent since {message.sending_at}",
                                     retry_in=message.sending_at + SENDING_LEASE - now)
        log.warning("outbox message %s: a delivery that started at %s never finished; sending again",
                    outbox_id, message.sending_at)
    message.sending_at = now
    db.session.commit()


def scrub_payload(outbox_id: int, *keys: str) -> None:
    """Remove secrets (e.g. a one-time link) from a delivered message's payload."""
    message = db.session.get(OutboxMessage, outbox_id)
    if message is not None:
        message.payload = {k: ("[removed]" if k in keys else v) for k, v in message.payload.items()}


def sweep(app: Flask | None = None, *, now: dt.datetime | None = None, between_attempts: bool = False) -> int:
    """Publish every waiting message that is due; with ``between_attempts``, also those waiting after
    a failed attempt (the secretariat asks for them now). Returns how many were published."""
    app = app or _app()
    now = now or utcnow()
    # A waiting message without a time (written by hand, say) is due as well.
    due: sa.ColumnElement[bool] = sa.or_(OutboxMessage.next_attempt_at <= now, OutboxMessage.next_attempt_at.is_(None))
    if between_attempts:
        due = sa.or_(due, sa.and_(OutboxMessage.last_error.is_not(None), OutboxMessage.sending_at.is_(None)))
    # SKIP LOCKED: a message whose delivery holds its row (PostgreSQL) is being delivered right now.
    stale = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.processed_at.is_(None), OutboxMessage.failed_at.is_(None), due)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(SWEEP_BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    todo = [(m.id, m.task) for m in stale]
    for m in stale:
        m.published_at, m.next_attempt_at = now, now + _retry_base(app)
    db.session.commit()
    published = 0
    for outbox_id, task in todo:
        if not publish(app, outbox_id, task):
            break  # the broker is away; the rest is due again at the next sweep
        published += 1
    return published


def failed_messages() -> sa.Select[tuple[OutboxMessage]]:
    """Messages whose retry window has passed without a delivery, newest first."""
    return (sa.select(OutboxMessage)
            .where(OutboxMessage.failed_at.is_not(None), OutboxMessage.processed_at.is_(None))
            .order_by(OutboxMessage.failed_at.desc(), OutboxMessage.id.desc()))


def resend(messages: Iterable[OutboxMessage], *, now: dt.datetime | None = None) -> list[OutboxMessage]:
    """Give failed messages a new retry window and publish them after the caller's commit.
    Returns those it queued again (a message delivered or resent meanwhile is left alone)."""
    app, now = _app(), now or utcnow()
    queued = [m for m in messages if m.failed_at is not None and m.processed_at is None]
    for message in queued:
        message.failed_at, message.sending_at, message.attempts = None, None, 0
        message.retry_until = now + _retry_window(app)
        message.next_attempt_at = now + _retry_base(app)
        db.session.info.setdefault(_NEW, []).append(message)
    return queued
