"""The transactional outbox: tasks are written with the change and published after commit.

``enqueue`` adds an OutboxMessage to the current session. When that session
commits, the message ids are remembered; when the app context ends (the end
of a request, CLI command or task) they are published to Celery, or, in the
embedded default without Redis, delivered in-process. A rollback forgets
them. Anything not delivered (Redis down, a worker killed, a handler that
failed) is published again by ``sweep``, which beat runs every minute.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from kipp.db import utcnow
from kipp.extensions import db
from kipp.outbox.models import OutboxMessage
from kipp.outbox.registry import HANDLERS

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
_NEW = "kipp_outbox_new"
_FLUSHED = "kipp_outbox_flushed"
_COMMITTED = "kipp_outbox_committed"


def enqueue(task: str, **payload: Any) -> OutboxMessage:
    """Queue ``task`` to run after the current transaction commits."""
    if task not in HANDLERS:
        raise ValueError(f"no outbox handler named {task}")
    message = OutboxMessage(task=task, payload=payload)
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
    """Publish (or, in-process, deliver) what the ending app context committed."""
    if not db.session.registry.has():
        return
    committed = db.session.info.pop(_COMMITTED, None)
    if not committed:
        return
    # End the caller's read transaction first (what it committed is kept): on
    # SQLite an open one would block the in-process delivery's writes.
    db.session.rollback()
    for outbox_id, task in committed:
        publish(app, outbox_id, task)


def publish(app: Flask, outbox_id: int, task: str) -> None:
    celery = app.extensions["celery"]
    if celery.conf.task_always_eager:
        # Embedded default: run the job now, in a context of its own so that
        # its session and its commit are separate from the caller's.
        with app.app_context():
            try:
                deliver(outbox_id)
            except Exception:  # the message stays in the outbox with its error
                log.exception("in-process delivery of outbox message %s failed", outbox_id)
        return
    try:
        celery.send_task(task, kwargs={"outbox_id": outbox_id})
    except Exception:
        log.warning("could not publish outbox message %s; the sweep will retry", outbox_id, exc_info=True)


def deliver(outbox_id: int) -> str:
    """Run one outbox message once. Called by the worker task and in-process."""
    message = db.session.get(OutboxMessage, outbox_id, with_for_update=True)
    if message is None:
        db.session.rollback()
        return "missing"
    if message.processed_at is not None:
        db.session.rollback()
        return "already done"
    handler = HANDLERS[message.task]
    payload = dict(message.payload)
    message.attempts += 1
    try:
        handler(outbox_id, **payload)
        message.processed_at = utcnow()
        message.last_error = None
        db.session.commit()
        return "done"
    except Exception:
        error = traceback.format_exc(limit=5)
        db.session.rollback()
        failed = db.session.get(OutboxMessage, outbox_id)
        if failed is not None:
            failed.attempts += 1
            failed.last_error = error[-4000:]
            db.session.commit()
        raise


def scrub_payload(outbox_id: int, *keys: str) -> None:
    """Remove secrets (e.g. a one-time link) from a delivered message's payload."""
    message = db.session.get(OutboxMessage, outbox_id)
    if message is not None:
        message.payload = {k: ("[removed]" if k in keys else v) for k, v in message.payload.items()}


def sweep(app: Flask | None = None, *, now: dt.datetime | None = None) -> int:
    """Publish again every message not done after the retry delay. Returns how many."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    now = now or utcnow()
    cutoff = now - dt.timedelta(seconds=app.config["KIPP_OUTBOX_RETRY_SECONDS"])
    last_try = sa.func.coalesce(OutboxMessage.published_at, OutboxMessage.created_at)
    stale = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.processed_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS, last_try < cutoff)
        .order_by(OutboxMessage.id)
        .limit(1000)
    ).all()
    todo = [(m.id, m.task) for m in stale]
    for m in stale:
        m.published_at = now
    db.session.commit()
    for outbox_id, task in todo:
        publish(app, outbox_id, task)
    return len(todo)
