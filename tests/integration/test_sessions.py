"""Login sessions held by the server: logging out ends the session for every copy of its cookie,
and a person sees where they are logged in and ends the other sessions."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from kipp.accounts.models import LoginSession
from kipp.audit.models import AuditEvent
from kipp.db import utcnow
from tests.conftest import TEST_PASSWORD, Login
from tests.factories import SecretariatFactory
from tests.scoring_factories import scored_stage

pytestmark = pytest.mark.integration

COOKIE = "kipp_session"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"


def text(response) -> str:
    return response.get_data(as_text=True)


def browser(app, user, *, address: str = "10.1.2.3", user_agent: str = FIREFOX):
    """A client logged in through the login form from ``address`` with ``user_agent``."""
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": address, "HTTP_USER_AGENT": user_agent})
    Login(client)(user)
    return client


def replay(app, cookie: str):
    """A fresh client that carries nothing but a saved session cookie."""
    client = app.test_client()
    client.set_cookie(COOKIE, cookie)
    return client


def opens(client, url: str) -> bool:
    response = client.get(url)
    return response.status_code == 200 and "/login" not in response.headers.get("Location", "")


def test_a_cookie_saved_before_logout_opens_nothing_afterwards(app, db_session):
    stage = scored_stage(proposals=2, judges=3)
    member = stage.members[0]
    sheet_url = f"/score/evaluation/{stage.proposals_of(member)[0].id}"
    judge = browser(app, member.user)
    saved = judge.get_cookie(COOKIE).value
    assert opens(replay(app, saved), "/account") and opens(replay(app, saved), sheet_url)

    assert judge.post("/logout").status_code == 302

    for url in ("/account", "/score/", sheet_url):
        response = replay(app, saved).get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    # Logging in again starts a new session; the old cookie stays dead.
    again = browser(app, member.user)
    assert opens(again, sheet_url)
    assert not opens(replay(app, saved), "/account")


def test_the_account_page_lists_the_sessions_and_marks_this_one(app, db_session):
    person = SecretariatFactory()
    laptop = browser(app, person, address="203.0.113.57", user_agent=FIREFOX)
    browser(app, person, address="2001:db8:85a3::8a2e:370:7334", user_agent=ANDROID)
    page = text(laptop.get("/account"))
    assert "Firefox · Windows" in page and "Chrome · Android" in page
    # The approximate place, never the full address.
    assert "203.0.113.0/24" in page and "203.0.113.57" not in page
    assert "2001:db8:85a3::/48" in page and "8a2e" not in page
    assert "WIB" in page
    assert page.count('data-session-id="') == 2
    assert page.count("Sesi ini") + page.count("This session") == 1
    assert "Akhiri semua sesi lain" in page or "End all other sessions" in page


def test_ending_another_session_from_the_account_page_kills_that_cookie(app, db_session):
    person = SecretariatFactory()
    laptop = browser(app, person, user_agent=FIREFOX)
    phone = browser(app, person, address="10.8.8.8", user_agent=ANDROID)
    assert opens(phone, "/account")
    page = text(laptop.get("/account"))
    phone_row = page.split("Chrome · Android")[0].rsplit('data-session-id="', 1)[1].split('"')[0]

    response = laptop.post(f"/account/sessions/{phone_row}/end")
    assert response.status_code == 302
    assert not opens(phone, "/account")
    assert opens(laptop, "/account")
    assert page.count('data-session-id="') == 2
    assert text(laptop.get("/account")).count('data-session-id="') == 1
    assert db_session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "account.session_ended")) == 1


def test_ending_all_other_sessions_keeps_this_one(app, db_session):
    person = SecretariatFactory()
    here = browser(app, person)
    others = [browser(app, person, address=f"10.0.0.{n}") for n in range(3)]
    assert laptop_sees(here) == 4
    assert here.post("/account/sessions/end-others").status_code == 302
    assert all(not opens(other, "/account") for other in others)
    assert laptop_sees(here) == 1
    event = db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "account.other_sessions_ended"))
    assert event.after == {"count": 3}


def laptop_sees(client) -> int:
    return text(client.get("/account")).count('data-session-id="')


def test_nobody_ends_a_session_that_is_not_theirs(app, db_session):
    person, stranger = SecretariatFactory(), SecretariatFactory()
    mine = browser(app, person)
    theirs = browser(app, stranger)
    their_row = text(theirs.get("/account")).split('data-session-id="')[1].split('"')[0]
    assert mine.post(f"/account/sessions/{their_row}/end").status_code == 404
    assert opens(theirs, "/account")
    assert mine.get(f"/account/sessions/{their_row}/end").status_code == 405


def test_a_new_password_ends_the_other_sessions_but_not_this_one(app, db_session):
    person = SecretariatFactory()
    here = browser(app, person)
    elsewhere = browser(app, person, address="10.3.3.3")
    new_password = "Sandi-Baru-Kuat-77"
    response = here.post("/password/change", data={"current_password": TEST_PASSWORD, "password": new_password,
                                                   "confirm": new_password})
    assert response.status_code == 302
    assert opens(here, "/account")
    assert not opens(elsewhere, "/account")


def test_last_seen_is_kept_to_the_minute_and_an_idle_session_ends(app, db_session):
    person = SecretariatFactory()
    here = browser(app, person)
    row = db_session.scalar(sa.select(LoginSession).where(LoginSession.user_id == person.id))

    row.last_seen_at = seen = utcnow() - dt.timedelta(seconds=30)
    db_session.commit()
    assert opens(here, "/account")
    db_session.refresh(row)
    assert row.last_seen_at == seen  # within the minute: no write

    row.last_seen_at = utcnow() - dt.timedelta(minutes=5)
    db_session.commit()
    assert opens(here, "/account")
    db_session.refresh(row)
    assert utcnow() - row.last_seen_at < dt.timedelta(minutes=1)

    row.last_seen_at = utcnow() - app.permanent_session_lifetime - dt.timedelta(minutes=1)
    db_session.commit()
    assert not opens(here, "/account")


def test_a_temporary_password_from_the_helpdesk_ends_every_session(app, db_session):
    helpdesk = browser(app, SecretariatFactory())
    person = SecretariatFactory()
    theirs = browser(app, person)
    assert helpdesk.post(f"/admin/people/{person.id}/temporary-password").status_code == 200
    assert not opens(theirs, "/account")
