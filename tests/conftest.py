"""Fixtures: an app per database backend, a rolled-back transaction per test, logins.

Integration tests run once on SQLite and once on PostgreSQL (the ``app``
fixture is parametrised). The schema is built by the real migrations, so
every run also proves that ``flask db upgrade`` works from an empty database.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask, g, request_started
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSession

from tests.services import POSTGRES_URL, SKIPPED, need

TEST_PASSWORD = "uji-coba-Sandi-2026"


def create_database(admin_url: str, name: str) -> str:
    """Drop and create database ``name`` on the server of ``admin_url``; return its URL."""
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_database(admin_url: str, name: str) -> None:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def build_app(database_url: str, instance: Path, **overrides: Any) -> Flask:
    from kipp import create_app

    env = {
        "KIPP_ENV": "test",
        "KIPP_DATABASE_URL": database_url,
        "KIPP_INSTANCE_PATH": str(instance),
        "KIPP_BASE_URL": "http://kipp.test",
    }
    env.update({k: v for k, v in overrides.pop("env", {}).items()})
    config = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
    config.update(overrides)
    return create_app(config, env=env)


def migrate_and_load(app: Flask) -> None:
    from flask_migrate import upgrade

    from kipp.agencies.regions import load_regions
    from kipp.extensions import db

    with app.app_context():
        upgrade()
        load_regions()
        db.session.commit()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp(f"instance-{request.param}")
    if request.param == "postgresql":
        need("postgresql")
        url = create_database(POSTGRES_URL, f"kipp_test_{os.getpid()}")
    else:
        url = f"sqlite:///{instance / 'test.sqlite3'}"
    application = build_app(url, instance)
    migrate_and_load(application)
    yield application
    from kipp.extensions import db

    with application.app_context():
        db.engine.dispose()
    if request.param == "postgresql":
        drop_database(POSTGRES_URL, f"kipp_test_{os.getpid()}")


def _forget_request_state(sender: Flask, **extra: Any) -> None:
    # Test requests share the test's app context (and so its ``g``); a real
    # request starts with an empty one. Forget what flask-login and
    # Flask-Babel cached there (the user; the locale).
    g.pop("_login_user", None)
    g.pop("_flask_babel", None)


class ConnectionBoundSession(FlaskSession):
    """Flask-SQLAlchemy's session picks its engine itself; this one keeps the
    test's connection, so each test's commits are savepoints of one transaction."""

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None, **kwargs: Any) -> Any:
        return bind or self.bind or super().get_bind(mapper=mapper, clause=clause, **kwargs)


@pytest.fixture()
def db_session(app: Flask) -> Iterator[Any]:
    """Everything a test does, requests included, happens in one rolled-back transaction."""
    from kipp.extensions import db

    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": ConnectionBoundSession}
        )
        request_started.connect(_forget_request_state, app)
        try:
            yield db.session
        finally:
            request_started.disconnect(_forget_request_state, app)
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture()
def client(app: Flask, db_session: Any) -> FlaskClient:
    return app.test_client()


class Login:
    """``login(user)`` logs a test client in through the real login form."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def __call__(self, user: Any, password: str = TEST_PASSWORD) -> FlaskClient:
        response = self.client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return self.client

    def logout(self) -> None:
        self.client.post("/logout")


@pytest.fixture()
def login(client: FlaskClient) -> Login:
    return Login(client)


@pytest.fixture()
def outbox_mail(db_session: Any) -> Any:
    """Emails delivered so far in this test, newest last."""
    from kipp.notifications.models import EmailMessage

    def read() -> list[Any]:
        return list(db_session.scalars(sa.select(EmailMessage).order_by(EmailMessage.id)))

    return read


def link_in(body: str) -> str:
    """The path of the first kipp link in an email body."""
    match = re.search(r"http://kipp\.test(/\S+)", body)
    assert match, body
    return match.group(1)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SKIPPED:
        terminalreporter.section("suites skipped for want of a service")
        for service, reason in sorted(SKIPPED.items()):
            terminalreporter.write_line(f"{service}: {reason}")


def count_queries(client: FlaskClient, db_session: Any, url: str) -> tuple[Any, list[str]]:
    """(the response to GET url, the SQL statements it ran) with nothing cached from the set-up:
    the test's rows are committed to its savepoint and the identity map emptied first."""
    connection = db_session.get_bind()
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    db_session.commit()  # a savepoint: the test's outer transaction still rolls it all back
    db_session.close()  # an empty identity map: every row the page shows must be loaded by the page
    sa.event.listen(connection, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        sa.event.remove(connection, "before_cursor_execute", count)
    assert response.status_code == 200, url
    return response, [s for s in statements
                      if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))]
