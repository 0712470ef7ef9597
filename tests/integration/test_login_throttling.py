"""Login throttling as an attacker and an office meet it: failures slow the account down wherever
they come from, the per-address limit stays, nobody is locked out for good, and logging in keeps
working while Redis is down."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from kipp.accounts.models import LoginFailure
from kipp.db import utcnow
from kipp.extensions import db, limiter
from tests.conftest import TEST_PASSWORD, build_app, create_database, drop_database, migrate_and_load
from tests.factories import SecretariatFactory
from tests.services import POSTGRES_URL, need

pytestmark = pytest.mark.integration

WRONG = "bukan-sandinya-123"
# Redis's port on this machine is 6379; nothing listens here.
CLOSED_REDIS = "redis://127.0.0.1:6390/0"


@pytest.fixture()
def limited(tmp_path: Path) -> Iterator[None]:
    """The limiter is one object for every app: each test here switches it on for its own app and
    back off afterwards."""
    was_enabled = limiter.enabled
    try:
        yield
    finally:
        limiter._storage_dead = False  # a dead Redis of one test is not the next app's
        limiter.enabled = was_enabled


def throttled_app(backend: str, tmp_path: Path, **env: str) -> Flask:
    """An app with the rate limit on, as in production, on a database of its own."""
    if backend == "postgresql":
        need("postgresql")
        url = create_database(POSTGRES_URL, f"kipp_test_throttle_{os.getpid()}")
    else:
        url = f"sqlite:///{tmp_path / 'throttle.sqlite3'}"
    application = build_app(url, tmp_path, RATELIMIT_ENABLED=True,
                            env={"KIPP_LOGIN_RATE_LIMIT": "10 per minute", **env})
    migrate_and_load(application)
    if "KIPP_REDIS_URL" not in env:
        limiter.reset()
    return application


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, tmp_path: Path, limited: None) -> Iterator[Flask]:
    application = throttled_app(request.param, tmp_path)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    if request.param == "postgresql":
        drop_database(POSTGRES_URL, f"kipp_test_throttle_{os.getpid()}")


def person(app: Flask, email: str) -> str:
    with app.app_context():
        SecretariatFactory(email=email)
        db.session.commit()
    return email


def attempt(app: Flask, email: str, password: str, address: str):
    return app.test_client().post("/login", data={"email": email, "password": password},
                                  environ_base={"REMOTE_ADDR": address})


def wait_seconds(response) -> int:
    """The wait the refusal announces, in seconds: said in the page and in Retry-After."""
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many failed attempts for this account" in page or "Terlalu banyak percobaan gagal" in page
    said = int(re.search(r"\((?:in|dalam) (\d+) (?:seconds|detik)\)", page).group(1))
    assert re.search(r"\d\d:\d\d:\d\d WIB", page)
    # The limiter's headers raise Retry-After to its own window's end when that comes later.
    assert int(response.headers["Retry-After"]) >= said - 1  # whole seconds, rounded down
    return said


def let_time_pass(app: Flask, seconds: int) -> None:
    """As if the last failures had happened ``seconds`` earlier."""
    with app.app_context():
        db.session.execute(sa.update(LoginFailure).values(last_failed_at=utcnow() - dt.timedelta(seconds=seconds)))
        db.session.commit()


def test_the_same_account_tried_from_two_addresses_waits_longer_and_longer(app):
    email = person(app, "target@example.go.id")
    for n in range(5):
        assert attempt(app, email, WRONG, f"10.0.0.{n}").status_code == 200  # checked, refused, counted
    # From yet another address, even the right password waits.
    first = wait_seconds(attempt(app, email, TEST_PASSWORD, "10.1.1.1"))
    assert 0 < first <= 15
    assert wait_seconds(attempt(app, email, WRONG, "10.2.2.2")) <= first  # a refused try does not prolong it

    let_time_pass(app, 16)
    assert attempt(app, email, WRONG, "10.1.1.1").status_code == 200
    second = wait_seconds(attempt(app, email, TEST_PASSWORD, "10.1.1.1"))
    assert 15 < second <= 30

    let_time_pass(app, 31)
    assert attempt(app, email, TEST_PASSWORD, "10.1.1.1").status_code == 302
    # Success starts over: the next mistakes are free again.
    for _ in range(4):
        assert attempt(app, email, WRONG, "10.3.3.3").status_code == 200
    assert attempt(app, email, TEST_PASSWORD, "10.3.3.3").status_code == 302


def test_the_wait_has_a_ceiling_so_nobody_is_locked_out_for_good(app):
    email = person(app, "siege@example.go.id")
    for _ in range(5):
        attempt(app, email, WRONG, "10.4.4.4")
    waits = []
    for n in range(8):
        waits.append(wait_seconds(attempt(app, email, TEST_PASSWORD, f"10.5.5.{n}")))
        let_time_pass(app, waits[-1] + 1)
        assert attempt(app, email, WRONG, f"10.6.6.{n}").status_code == 200
    assert waits == sorted(waits) and waits[-1] == 15 * 60 and waits[-2] == 15 * 60
    let_time_pass(app, 15 * 60 + 1)
    assert attempt(app, email, TEST_PASSWORD, "10.7.7.7").status_code == 302


def test_yesterdays_failures_are_forgotten(app):
    email = person(app, "forgetful@example.go.id")
    for _ in range(5):
        attempt(app, email, WRONG, "10.12.12.12")
    let_time_pass(app, 25 * 3600)
    assert attempt(app, email, WRONG, "10.12.12.12").status_code == 200  # the first of a new count
    assert attempt(app, email, TEST_PASSWORD, "10.12.12.12").status_code == 302


def test_strangers_guessing_do_not_slow_the_owners_own_browser(app):
    email = person(app, "owner@example.go.id")
    colleague = person(app, "owner.colleague@example.go.id")

    def post(client, who: str, password: str) -> int:
        address = "10.13.13.13" if client is owner else "10.13.13.14"
        return client.post("/login", data={"email": who, "password": password},
                           environ_base={"REMOTE_ADDR": address}).status_code

    owner, shared = app.test_client(), app.test_client()  # shared: a colleague's browser
    assert post(owner, email, TEST_PASSWORD) == 302
    assert post(shared, colleague, TEST_PASSWORD) == 302
    owner.post("/logout")
    shared.post("/logout")
    for n in range(6):
        attempt(app, email, WRONG, f"10.14.14.{n}")
    assert attempt(app, email, TEST_PASSWORD, "10.15.15.15").status_code == 429  # a stranger's browser waits
    assert post(shared, email, TEST_PASSWORD) == 429  # so does one that knows only another account
    assert post(owner, email, TEST_PASSWORD) == 302  # the browser the owner logged in with does not
    owner.post("/logout")
    # Its own mistakes are counted for it alone.
    assert [post(owner, email, WRONG) for _ in range(5)] == [200] * 5
    assert post(owner, email, TEST_PASSWORD) == 429


def test_another_account_behind_the_same_address_is_not_slowed(app):
    target = person(app, "guessed@example.go.id")
    colleague = person(app, "colleague@example.go.id")
    office = "192.0.2.10"
    for _ in range(6):
        attempt(app, target, WRONG, office)
    assert attempt(app, target, TEST_PASSWORD, office).status_code == 429
    assert attempt(app, colleague, TEST_PASSWORD, office).status_code == 302


def test_an_unknown_address_waits_like_a_real_one(app):
    """The delay does not reveal which email addresses have accounts."""
    for _ in range(5):
        assert attempt(app, "nobody@example.go.id", WRONG, "10.8.8.8").status_code == 200
    assert 0 < wait_seconds(attempt(app, "nobody@example.go.id", WRONG, "10.9.9.9")) <= 15


def test_the_per_address_limit_stays(app):
    email = person(app, "busy@example.go.id")
    codes = [attempt(app, f"someone{n}@example.go.id", WRONG, "10.10.10.10").status_code for n in range(10)]
    assert set(codes) == {200}
    assert attempt(app, email, TEST_PASSWORD, "10.10.10.10").status_code == 429  # the address is spent
    assert attempt(app, email, TEST_PASSWORD, "10.10.10.11").status_code == 302  # the account is not


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_logging_in_keeps_working_while_redis_is_down(backend, tmp_path, limited):
    application = throttled_app(backend, tmp_path, KIPP_REDIS_URL=CLOSED_REDIS,
                                KIPP_LOGIN_RATE_LIMIT="25 per minute")
    try:
        email = person(application, "redis-down@example.go.id")
        codes, durations = [], []
        for n in range(20):
            started = time.monotonic()
            password = TEST_PASSWORD if n % 2 else WRONG
            codes.append(attempt(application, email if n % 2 else f"typo{n}@example.go.id", password,
                                 "10.11.11.11").status_code)
            durations.append(time.monotonic() - started)
        assert codes == [200, 302] * 10
        # Checking a password takes a fraction of a second; waiting on Redis took seconds.
        assert max(durations) < 2.5, durations
        # The limit degrades to one kept in this process: still a limit.
        more = [attempt(application, f"more{n}@example.go.id", WRONG, "10.11.11.11") for n in range(6)]
        assert [r.status_code for r in more] == [200] * 5 + [429]
        limited_page = more[5].get_data(as_text=True)
        assert "Too many attempts." in limited_page or "Tunggu satu menit" in limited_page
    finally:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
        if backend == "postgresql":
            drop_database(POSTGRES_URL, f"kipp_test_throttle_{os.getpid()}")
