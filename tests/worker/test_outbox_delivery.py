"""A real Celery worker delivers mail to a real SMTP server: a server that refuses for a moment is
retried by the worker itself within seconds, and a message delivered twice is sent once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

from tests.conftest import build_app
from tests.smtp_server import SmtpServer
from tests.worker.test_celery_worker import _person, wait_for, worker_on_its_own_database

pytestmark = pytest.mark.worker


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def mail_worker(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[dict[str, str]]:
    with worker_on_its_own_database(tmp_path_factory, "mail_worker", "--pool=solo", "--hostname=kipp-mail-test@%h",
                                    KIPP_SMTP_URL=smtp.url) as env:
        yield {**env, "worker_log": str(Path(env["KIPP_INSTANCE_PATH"]) / "worker.log")}


def _app(env: dict[str, str]) -> Any:
    return build_app(env["KIPP_DATABASE_URL"], Path(env["KIPP_INSTANCE_PATH"]),
                     env={"KIPP_REDIS_URL": env["KIPP_REDIS_URL"], "KIPP_SMTP_URL": env["KIPP_SMTP_URL"]})


def _queue_reset_link(app: Any, email: str) -> int:
    from kipp.accounts import services
    from kipp.extensions import db
    from kipp.outbox.models import OutboxMessage

    _person(app, email)
    with app.app_context():
        services.request_password_reset(email)
        db.session.commit()  # published to Redis as the context ends
        return int(db.session.scalar(sa.select(sa.func.max(OutboxMessage.id))))


def _outbox_row(app: Any, outbox_id: int) -> Any:
    from kipp.extensions import db
    from kipp.outbox.models import OutboxMessage

    with app.app_context():
        message = db.session.get(OutboxMessage, outbox_id)
        db.session.expunge(message)
        return message


def test_a_mail_server_away_for_a_moment_is_retried_by_the_worker_within_seconds(
        mail_worker: dict[str, str], smtp: SmtpServer) -> None:
    app = _app(mail_worker)
    smtp.clear()
    smtp.answer_temporary_failure()
    outbox_id = _queue_reset_link(app, "sebentar@example.go.id")
    assert wait_for(lambda: smtp.refused >= 2, timeout=20), "the worker did not retry the refused message"
    smtp.refuse_connections()  # then the server goes away altogether, past the next retry (2 s later)
    time.sleep(3)
    smtp.accept()
    back = time.monotonic()
    assert smtp.wait_for(1, timeout=40), "the worker did not deliver once the server was back"
    assert time.monotonic() - back < 35  # the worker's own retries (at most 30 s apart), not the sweep
    assert wait_for(lambda: _outbox_row(app, outbox_id).processed_at is not None, timeout=10)
    message = _outbox_row(app, outbox_id)
    # The refusals were not counted as attempts: the message's back-off is untouched.
    assert message.attempts == 1 and message.failed_at is None and message.next_attempt_at is None
    assert [m.recipient for m in smtp.messages] == ["sebentar@example.go.id"]
    log = Path(mail_worker["worker_log"]).read_text()
    assert "451" in log and "Connection refused" in log and "Retry in 4s" in log


def test_a_message_delivered_twice_sends_one_email(mail_worker: dict[str, str], smtp: SmtpServer) -> None:
    from kipp.outbox.registry import SEND_EMAIL

    app = _app(mail_worker)
    smtp.clear()
    smtp.accept()
    outbox_id = _queue_reset_link(app, "dua-kali@example.go.id")
    app.extensions["celery"].send_task(SEND_EMAIL, kwargs={"outbox_id": outbox_id})  # Redis hands it out again
    assert smtp.wait_for(1, timeout=30)
    assert wait_for(lambda: _outbox_row(app, outbox_id).processed_at is not None, timeout=10)
    time.sleep(2)  # the second copy has run too (one worker, one task at a time)
    assert len(smtp.messages) == 1
    assert smtp.message_ids()[0].startswith(f"<kipp.{outbox_id}.")
