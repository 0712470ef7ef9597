"""Mail through a real SMTP server that refuses for a while: retries back off over the operator's
window, nothing is sent twice, a message that exhausts the window waits visibly for a resend, and
publishing does not hold a request up while Redis is down."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from kipp.db import utcnow
from kipp.extensions import db
from kipp.notifications.models import EmailMessage
from kipp.outbox.dispatch import deliver, sweep
from kipp.outbox.models import OutboxMessage
from tests.conftest import build_app, migrate_and_load
from tests.factories import SecretariatFactory, UserFactory
from tests.smtp_server import SmtpServer, smtp_server  # noqa: F401  (the fixture)

pytestmark = pytest.mark.integration

CLOSED_REDIS = "redis://127.0.0.1:6391/15"


@pytest.fixture()
def smtp(app: Flask, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> SmtpServer:  # noqa: F811
    """The test's app sends its mail to the real SMTP server."""
    monkeypatch.setitem(app.config, "KIPP_SMTP_URL", smtp_server.url)
    return smtp_server


def _ask_for_reset_links(client: Any, *people: Any) -> None:
    for person in people:
        assert client.post("/password/forgot", data={"email": person.email}).status_code == 302


def _messages(db_session: Any) -> list[OutboxMessage]:
    db_session.expire_all()
    return list(db_session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_refusal_longer_than_five_attempts_then_acceptance_delivers_each_email_once(
        client: Any, db_session: Any, smtp: SmtpServer) -> None:
    people = UserFactory.create_batch(3)
    db_session.commit()
    smtp.answer_temporary_failure()
    _ask_for_reset_links(client, *people)  # each first attempt, in-process, is refused
    assert smtp.refused == 3 and smtp.messages == []

    delays = []
    later = utcnow()
    for _ in range(7):  # the old limit gave up after 5 attempts
        later += dt.timedelta(hours=2)  # past every delay so far, well within the 48-hour window
        before = utcnow()
        assert sweep(now=later) == 3
        message = _messages(db_session)[0]
        delays.append(round((message.next_attempt_at - before).total_seconds() / 60))
    messages = _messages(db_session)
    assert [m.attempts for m in messages] == [8, 8, 8]
    assert all(m.failed_at is None and m.processed_at is None and "451" in m.last_error for m in messages)
    assert delays == [4, 8, 16, 32, 60, 60, 60]  # minutes: doubling from 2, at most an hour
    # Not due yet: the sweep leaves them alone.
    assert sweep() == 0

    smtp.accept()
    assert sweep(now=later + dt.timedelta(hours=2)) == 3
    assert sweep(now=later + dt.timedelta(days=1)) == 0
    assert sorted(m.recipient for m in smtp.messages) == sorted(p.email for p in people)
    assert smtp.duplicates() == {}
    assert all(m.processed_at is not None and m.last_error is None for m in _messages(db_session))
    assert db_session.scalar(sa.select(sa.func.count()).select_from(EmailMessage)) == 3


def test_a_message_past_its_window_stays_visible_as_failed_and_can_be_resent(
        app: Flask, client: Any, login: Any, db_session: Any, smtp: SmtpServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    secretariat = SecretariatFactory(locale="id")
    first, second = UserFactory.create_batch(2)
    db_session.commit()
    smtp.answer_temporary_failure()
    monkeypatch.setitem(app.config, "KIPP_OUTBOX_RETRY_WINDOW_HOURS", 0)  # the first refusal ends the window
    _ask_for_reset_links(client, first, second)
    monkeypatch.setitem(app.config, "KIPP_OUTBOX_RETRY_WINDOW_HOURS", 48)
    failed = _messages(db_session)
    assert all(m.failed_at is not None and m.next_attempt_at is None for m in failed)
    assert sweep(now=utcnow() + dt.timedelta(days=30)) == 0  # no longer retried, but not gone

    login(secretariat)
    page = client.get("/admin/mail/").get_data(as_text=True)
    assert 'data-testid="outbox-failed"' in page
    assert "Pengiriman gagal" in page and "Gagal: tidak dicoba lagi" in page
    assert first.email in page and second.email in page
    assert "451" in page and "Try again later" in page
    assert page.count("Kirim ulang</button>") == 2

    smtp.accept()
    response = client.post(f"/admin/mail/outbox/{failed[0].id}/resend", follow_redirects=True)
    assert "1 pesan gagal telah diantrekan ulang" in response.get_data(as_text=True)
    assert [m.recipient for m in smtp.messages] == [first.email]

    response = client.post("/admin/mail/outbox/resend-failed", follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "1 pesan gagal telah diantrekan ulang" in body and 'data-testid="outbox-failed"' not in body
    assert sorted(m.recipient for m in smtp.messages) == sorted([first.email, second.email])
    assert all(m.processed_at is not None and m.failed_at is None for m in _messages(db_session))
    again = client.post("/admin/mail/outbox/resend-failed", follow_redirects=True).get_data(as_text=True)
    assert "0 pesan gagal telah diantrekan ulang" in again
    assert len(smtp.messages) == 2


def test_a_refusal_the_worker_retries_by_itself_still_ends_at_the_window(
        client: Any, db_session: Any, smtp: SmtpServer) -> None:
    """A 451 is transient: the worker retries it without counting an attempt. A server that keeps
    refusing must still end in a visible failure once the window has passed, not retry for ever."""
    person = UserFactory()
    db_session.commit()
    smtp.answer_temporary_failure()
    _ask_for_reset_links(client, person)  # the in-process attempt is refused and counted
    message = _messages(db_session)[0]
    assert message.failed_at is None and message.attempts == 1

    message.retry_until = utcnow() - dt.timedelta(seconds=1)  # the window has passed meanwhile
    db_session.commit()
    with pytest.raises(Exception, match="451"):
        deliver(message.id, count_transient=False)  # as the worker's own retry does
    message = _messages(db_session)[0]
    assert message.failed_at is not None and message.next_attempt_at is None and message.attempts == 1
    assert "451" in message.last_error
    assert deliver(message.id, count_transient=False) == "failed"
    assert smtp.messages == []


def test_a_lost_commit_after_the_server_accepted_resends_the_same_message_id(
        client: Any, db_session: Any, smtp: SmtpServer) -> None:
    person = UserFactory()
    db_session.commit()

    def database_gone(session: Any) -> None:  # PostgreSQL stopped between "250 OK" and the commit
        if any(isinstance(o, EmailMessage) for o in session.new):
            raise sa.exc.OperationalError("COMMIT", {}, Exception("server closed the connection"))

    sa.event.listen(sa.orm.Session, "before_commit", database_gone)
    try:
        _ask_for_reset_links(client, person)
    finally:
        sa.event.remove(sa.orm.Session, "before_commit", database_gone)
    assert len(smtp.messages) == 1
    [message] = _messages(db_session)
    assert message.processed_at is None and message.sending_at is None and "server closed" in message.last_error

    assert sweep(now=utcnow() + dt.timedelta(hours=1)) == 1
    ids = smtp.message_ids()
    assert len(ids) == 2 and ids[0] == ids[1]  # the receiver can tell the copy
    assert ids[0].startswith(f"<kipp.{message.id}.") and ids[0].endswith("@kipp.local>")
    assert sweep(now=utcnow() + dt.timedelta(days=1)) == 0
    assert len(smtp.messages) == 2


def test_a_delivery_that_died_talking_to_the_server_is_resent_only_after_its_lease(
        app: Flask, client: Any, db_session: Any, smtp: SmtpServer) -> None:
    from kipp.outbox.dispatch import SENDING_LEASE, DeliveryInProgress, deliver

    person = UserFactory()
    db_session.commit()
    smtp.refuse_connections()
    _ask_for_reset_links(client, person)
    [message] = _messages(db_session)
    # A worker killed mid-conversation leaves its "sending" record behind.
    message.sending_at = utcnow()
    db_session.commit()
    smtp.accept()
    with app.app_context():
        with pytest.raises(DeliveryInProgress):
            deliver(message.id)
    assert smtp.messages == []
    message.sending_at = utcnow() - SENDING_LEASE
    db_session.commit()
    with app.app_context():
        assert deliver(message.id) == "done"
    assert [m.recipient for m in smtp.messages] == [person.email]


def test_messages_committed_before_an_error_are_still_sent(app: Flask, db_session: Any, outbox_mail: Any) -> None:
    from kipp.accounts import services

    person = UserFactory()
    db_session.commit()
    with pytest.raises(RuntimeError):
        with app.app_context(), app.test_request_context():
            services.request_password_reset(person.email)
            db.session.commit()
            raise RuntimeError("a later step of the same request failed")
    assert [m.recipient for m in outbox_mail()] == [person.email]


@pytest.fixture(scope="module")
def redis_down_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app whose Redis is down: a closed port, and Celery publishing for real (not eager)."""
    instance: Path = tmp_path_factory.mktemp("redis-down")
    application = build_app(f"sqlite:///{instance / 'down.sqlite3'}", instance, env={"KIPP_REDIS_URL": CLOSED_REDIS})
    migrate_and_load(application)
    assert application.extensions["celery"].conf.task_always_eager is False
    yield application


def test_committing_five_messages_with_redis_down_is_fast_and_leaves_them_to_the_sweep(
        redis_down_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from kipp.accounts import services

    with redis_down_app.app_context():
        people = UserFactory.create_batch(5)
        db.session.commit()
        emails = [p.email for p in people]
    celery = redis_down_app.extensions["celery"]
    tries: list[int] = []

    def counted_send_task(name: str, **options: Any) -> Any:
        tries.append(options["kwargs"]["outbox_id"])
        return send_task(name, **options)

    send_task = celery.send_task
    monkeypatch.setattr(celery, "send_task", counted_send_task)
    context = redis_down_app.app_context()
    context.push()
    for address in emails:
        services.request_password_reset(address)
    started = time.monotonic()
    db.session.commit()
    context.pop()  # the end of the request: publishing after commit
    took = time.monotonic() - started
    assert took < 0.5, f"committing 5 messages took {took:.2f} s"
    assert len(tries) == 1  # one failed attempt per request; the other four are left to the sweep
    with redis_down_app.app_context():
        waiting = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.processed_at.is_(None))).all()
        assert len(waiting) == 5 and all(m.next_attempt_at is not None for m in waiting)
        # The sweep finds the broker down too: it stops at the first failure and counts nothing published.
        started = time.monotonic()
        assert sweep(now=utcnow() + dt.timedelta(hours=1)) == 0
        assert time.monotonic() - started < 0.5 and len(tries) == 2
