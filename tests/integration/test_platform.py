"""Platform guarantees: migrations match the models, the audit trail is append-only,
CSRF and the login rate limit hold, and the outbox forgets what a rollback undid."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from kipp.audit.models import AuditEvent, AuditRowImmutable
from kipp.audit.services import record
from kipp.extensions import db
from kipp.notifications.models import EmailMessage
from kipp.outbox.models import OutboxMessage
from tests.conftest import TEST_PASSWORD, build_app, migrate_and_load
from tests.factories import SecretariatFactory

pytestmark = pytest.mark.integration


def test_migrations_match_the_models(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_audit_rows_cannot_be_updated_or_deleted(db_session: Any) -> None:
    actor = SecretariatFactory()
    event = record(actor, "test.something", actor)
    db_session.flush()
    event.action = "test.rewritten"
    with pytest.raises(AuditRowImmutable):
        db_session.flush()
    db_session.rollback()

    event = record(None, "test.raw", object_type="x", object_id=1)
    db_session.flush()
    for statement in ("UPDATE audit_events SET action = 'x' WHERE id = :id", "DELETE FROM audit_events WHERE id = :id"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with db_session.begin_nested():
                db_session.execute(sa.text(statement), {"id": event.id})
    assert db_session.get(AuditEvent, event.id).action == "test.raw"


def test_a_rolled_back_change_sends_nothing_in_process(app: Flask, db_session: Any) -> None:
    from kipp.accounts import services

    user = SecretariatFactory()
    db_session.commit()
    with app.test_request_context():
        services.request_password_reset(user.email)
        db_session.rollback()
    assert db_session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    assert db_session.scalar(sa.select(sa.func.count()).select_from(EmailMessage)) == 0

    with app.test_request_context():
        services.request_password_reset(user.email)
        db_session.commit()
    assert db_session.scalar(sa.select(sa.func.count()).select_from(EmailMessage)) == 1


def test_a_released_savepoint_does_not_send_what_the_transaction_later_rolls_back(app: Flask, db_session: Any) -> None:
    from kipp.accounts import services

    user = SecretariatFactory()
    db_session.commit()
    with app.test_request_context():
        services.request_password_reset(user.email)
        with db_session.begin_nested():  # SQLAlchemy fires its commit events here too
            db_session.execute(sa.text("SELECT 1"))
        db_session.rollback()
    assert db_session.scalar(sa.select(sa.func.count()).select_from(EmailMessage)) == 0

    # A message queued before a savepoint that is rolled back still goes out with the commit.
    with app.test_request_context():
        services.request_password_reset(user.email)
        try:
            with db_session.begin_nested():
                raise ValueError("a refused sub-step")
        except ValueError:
            pass
        db_session.commit()
    assert db_session.scalar(sa.select(sa.func.count()).select_from(EmailMessage)) == 1


@pytest.fixture(scope="module")
def strict_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app with CSRF and the login rate limit switched on, as in production."""
    instance = tmp_path_factory.mktemp("strict")
    application = build_app(
        f"sqlite:///{instance / 'strict.sqlite3'}", instance,
        WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=True, env={"KIPP_LOGIN_RATE_LIMIT": "3 per minute"},
    )
    migrate_and_load(application)
    with application.app_context():
        SecretariatFactory(email="strict@example.go.id")
        db.session.commit()
    yield application


def test_forms_without_a_csrf_token_are_refused(strict_app: Flask) -> None:
    client = strict_app.test_client()
    response = client.post("/login", data={"email": "strict@example.go.id", "password": TEST_PASSWORD})
    assert response.status_code == 400
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    ok = client.post("/login", data={"email": "strict@example.go.id", "password": TEST_PASSWORD, "csrf_token": token})
    assert ok.status_code == 302


def test_login_attempts_are_rate_limited(strict_app: Flask) -> None:
    client = strict_app.test_client()
    strict_app.config["WTF_CSRF_ENABLED"] = False
    try:
        codes = [
            client.post("/login", data={"email": "x@example.go.id", "password": "salah"},
                        environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code
            for _ in range(4)
        ]
    finally:
        strict_app.config["WTF_CSRF_ENABLED"] = True
    assert codes[:3] == [200, 200, 200]
    assert codes[3] == 429


def test_audit_trail_pages_and_filters(client, login, db_session) -> None:
    actor = SecretariatFactory()
    for n in range(60):
        record(actor, "test.paged", object_type="thing", object_id=n)
    record(actor, "test.other", object_type="thing", object_id=999)
    db_session.flush()
    login(actor)
    first = client.get("/admin/audit/?action=test.paged")
    assert first.status_code == 200
    body = first.get_data(as_text=True)
    assert "test.other" not in body.split("<tbody>")[1]
    assert "page=2" in body
    second = client.get("/admin/audit/?action=test.paged&page=2")
    assert second.status_code == 200 and "page=1" in second.get_data(as_text=True)
    only = client.get("/admin/audit/?object_type=thing&object_id=999").get_data(as_text=True)
    assert only.count("<code>test.other</code>") == 1
