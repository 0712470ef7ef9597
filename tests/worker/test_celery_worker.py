"""A real Celery worker process on Redis and PostgreSQL runs what the outbox queues."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import redis
import sqlalchemy as sa

from tests.conftest import build_app, create_database, drop_database, migrate_and_load
from tests.services import POSTGRES_URL, REDIS_URL, need

pytestmark = pytest.mark.worker

CLOSED_REDIS = "redis://127.0.0.1:6391/15"


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return None


@pytest.fixture(scope="module")
def worker_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    need("postgresql")
    need("redis")
    redis.Redis.from_url(REDIS_URL).flushdb()
    instance = tmp_path_factory.mktemp("worker-instance")
    url = create_database(POSTGRES_URL, f"kipp_worker_test_{os.getpid()}")
    migrate_and_load(build_app(url, instance))
    env = {
        **os.environ,
        "KIPP_ENV": "test",
        "KIPP_DATABASE_URL": url,
        "KIPP_REDIS_URL": REDIS_URL,
        "KIPP_INSTANCE_PATH": str(instance),
        "KIPP_BASE_URL": "http://kipp.test",
    }
    celery = Path(sys.executable).parent / "celery"
    log_path = instance / "worker.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [str(celery), "-A", "workers", "worker", "--pool=solo", "--loglevel=INFO", "--without-gossip",
             "--without-mingle", "--hostname=kipp-test@%h"],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[2],
        )
    try:
        ready = wait_for(lambda: "ready" in log_path.read_text() or process.poll() is not None, timeout=60)
        assert ready and process.poll() is None, log_path.read_text()
        yield env
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        drop_database(POSTGRES_URL, f"kipp_worker_test_{os.getpid()}")


def _app(env: dict[str, str], redis_url: str = REDIS_URL) -> Any:
    return build_app(
        env["KIPP_DATABASE_URL"], Path(env["KIPP_INSTANCE_PATH"]), env={"KIPP_REDIS_URL": redis_url}
    )


def _person(app: Any, email: str) -> int:
    from kipp.accounts import services
    from kipp.accounts.roles import Role
    from kipp.extensions import db

    with app.app_context():
        user = services.create_with_password(
            email=email, name="Penguji Worker", role=Role.EVALUATOR, password="sandi-panjang-sekali", must_change=False
        )
        db.session.commit()
        return user.id


def _emails_to(app: Any, email: str) -> list[Any]:
    from kipp.extensions import db
    from kipp.notifications.models import EmailMessage

    with app.app_context():
        rows = db.session.scalars(sa.select(EmailMessage).where(EmailMessage.recipient == email)).all()
        db.session.expunge_all()  # read-only copies that outlive this context
        return list(rows)


def test_task_queued_after_commit_is_run_by_the_worker(worker_env: dict[str, str]) -> None:
    from kipp.accounts import services
    from kipp.extensions import db
    from kipp.outbox.models import OutboxMessage

    app = _app(worker_env)
    assert app.extensions["celery"].conf.task_always_eager is False
    _person(app, "committed@example.go.id")
    with app.app_context():
        services.request_password_reset("committed@example.go.id")
        db.session.commit()
    emails = wait_for(lambda: _emails_to(app, "committed@example.go.id"))
    assert emails, "the worker did not deliver the email"
    assert emails[0].transport == "outbox"
    assert "/password/reset/" in emails[0].body_text
    with app.app_context():
        message = db.session.get(OutboxMessage, emails[0].outbox_id)
        assert message is not None and message.processed_at is not None and message.attempts == 1


def test_rolled_back_transaction_queues_nothing(worker_env: dict[str, str]) -> None:
    from kipp.accounts import services
    from kipp.extensions import db
    from kipp.outbox.models import OutboxMessage

    app = _app(worker_env)
    _person(app, "rolledback@example.go.id")
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
        services.request_password_reset("rolledback@example.go.id")
        db.session.rollback()
    with app.app_context():
        after = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    assert after == before
    assert redis.Redis.from_url(REDIS_URL).llen("celery") == 0
    time.sleep(2)
    assert _emails_to(app, "rolledback@example.go.id") == []


def test_redis_outage_loses_nothing(worker_env: dict[str, str]) -> None:
    from kipp.accounts import services
    from kipp.db import utcnow
    from kipp.extensions import db
    from kipp.outbox.dispatch import sweep
    from kipp.outbox.models import OutboxMessage

    down = _app(worker_env, redis_url=CLOSED_REDIS)
    _person(down, "outage@example.go.id")
    with down.app_context():
        services.request_password_reset("outage@example.go.id")
        db.session.commit()  # publishing fails after the commit: the message stays in the outbox
    time.sleep(1)
    assert _emails_to(down, "outage@example.go.id") == []
    up = _app(worker_env)
    with up.app_context():
        pending = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.processed_at.is_(None))).all()
        assert len(pending) == 1
        republished = sweep(up, now=utcnow() + dt.timedelta(hours=1))
    assert republished == 1
    assert wait_for(lambda: _emails_to(up, "outage@example.go.id")), "the swept message was not delivered"
