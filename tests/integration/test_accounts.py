"""Accounts as people use them: invitations, login, passwords, deactivation, language."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from kipp.accounts.models import AccountToken, User
from kipp.accounts.roles import Role
from kipp.audit.models import AuditEvent
from tests.conftest import TEST_PASSWORD, Login, link_in
from tests.factories import AdminLokalFactory, AgencyFactory, SecretariatFactory, UppFactory

pytestmark = pytest.mark.integration

NEW_PASSWORD = "Sandi-Baru-Kuat-77"


def text(response) -> str:
    return response.get_data(as_text=True)


def test_wrong_password_is_refused_with_one_message_for_every_failure(client, db_session):
    user = SecretariatFactory()
    wrong = client.post("/login", data={"email": user.email, "password": "salah-sekali-123"})
    unknown = client.post("/login", data={"email": "nobody@example.go.id", "password": "salah-sekali-123"})
    assert wrong.status_code == unknown.status_code == 200
    assert "Email atau kata sandi salah" in text(wrong) or "The email or password is not correct" in text(wrong)
    assert text(wrong).count("alert-danger") == text(unknown).count("alert-danger") == 1
    assert client.get("/").status_code == 302


def test_invited_admin_lokal_sets_a_password_once_and_logs_in(client, login, outbox_mail, db_session):
    secretariat = SecretariatFactory()
    agency = AgencyFactory()
    login(secretariat)
    response = client.post(
        "/admin/people/invite",
        data={"name": "Ibu Admin", "email": "Admin.Baru@Example.go.id", "role": "admin_lokal", "agency_id": agency.id},
    )
    assert response.status_code == 302
    mail = outbox_mail()[-1]
    assert mail.recipient == "admin.baru@example.go.id"
    link = link_in(mail.body_text)
    login.logout()

    weak = client.post(link, data={"password": "pendek", "confirm": "pendek"})
    assert weak.status_code == 200 and "10" in text(weak)  # the policy is named; nothing else lost
    done = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    home = client.get("/")
    assert home.status_code == 200 and agency.name in text(home)
    login.logout()
    reused = client.get(link)
    assert reused.status_code == 410
    invited = db_session.scalar(sa.select(User).where(User.email == "admin.baru@example.go.id"))
    assert invited.role is Role.ADMIN_LOKAL and invited.agency_id == agency.id


def test_expired_invitation_says_so(client, login, outbox_mail, db_session):
    login(SecretariatFactory())
    client.post("/admin/people/invite", data={"name": "Evaluator", "email": "ev@example.ac.id", "role": "evaluator",
                                              "agency_id": 0, "affiliation": "Universitas Udayana"})
    link = link_in(outbox_mail()[-1].body_text)
    token = db_session.scalars(sa.select(AccountToken).order_by(AccountToken.id.desc())).first()
    token.expires_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    db_session.flush()
    page = client.get(link)
    assert page.status_code == 410
    assert "kedaluwarsa" in text(page) or "expired" in text(page)


def test_password_reset_link_works_once_and_ends_other_sessions(app, client, outbox_mail, db_session):
    user = UppFactory()
    other_device = app.test_client()
    Login(other_device)(user)
    assert other_device.get("/").status_code == 200

    client.post("/password/forgot", data={"email": user.email.upper()})
    link = link_in(outbox_mail()[-1].body_text)
    assert client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert other_device.get("/").status_code == 302  # the old session has ended
    assert client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 410
    assert client.post("/logout").status_code == 302
    Login(client)(user, NEW_PASSWORD)


def test_one_time_links_in_the_development_outbox_reach_only_their_recipient(app, client, login, outbox_mail,
                                                                            db_session):
    """The secretariat reads everyone's mail in the development outbox, but not the links that open
    someone's account; the recipient's own copy keeps its link, and the demo's way to follow one is
    the server's command line."""
    secretariat, colleague, person = SecretariatFactory(), SecretariatFactory(), UppFactory()
    client.post("/password/forgot", data={"email": person.email})
    client.post("/password/forgot", data={"email": secretariat.email})
    login(secretariat)
    client.post("/admin/people/invite", data={"name": "Evaluator Baru", "email": "ev.baru@example.ac.id",
                                              "role": "evaluator", "agency_id": 0, "affiliation": "Universitas"})
    reset, own, invitation = outbox_mail()[-3:]
    assert (reset.recipient, own.recipient, invitation.recipient) == (
        person.email, secretariat.email, "ev.baru@example.ac.id")
    links = {m.id: link_in(m.body_text) for m in (reset, own, invitation)}

    listing = text(client.get("/admin/mail/"))
    assert 'data-testid="one-time-links"' in listing
    for mail in (reset, invitation):
        page = text(client.get(f"/admin/mail/{mail.id}"))
        assert mail.subject in page and "[one-time link, shown only to its recipient]" in page
        token = links[mail.id].rsplit("/", 1)[-1]
        assert token not in page and token not in listing
    assert links[own.id] in text(client.get(f"/admin/mail/{own.id}"))  # the secretariat's own mail
    login.logout()
    login(colleague)
    assert links[own.id].rsplit("/", 1)[-1] not in text(client.get(f"/admin/mail/{own.id}"))
    login.logout()

    printed = app.test_cli_runner().invoke(args=["kipp", "dev-mail", "EV.BARU@example.ac.id"])
    assert printed.exit_code == 0 and links[invitation.id] in printed.output
    assert client.post(links[invitation.id], data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
                       ).status_code == 302
    assert app.test_cli_runner().invoke(args=["kipp", "dev-mail", "tidak.ada@example.go.id"]).exit_code == 1


def test_password_reset_for_unknown_address_says_the_same_and_sends_nothing(client, outbox_mail):
    response = client.post("/password/forgot", data={"email": "tidak.ada@example.go.id"}, follow_redirects=True)
    assert response.status_code == 200
    assert outbox_mail() == []


def test_temporary_password_forces_a_change_before_anything_else(client, login, db_session):
    secretariat = SecretariatFactory()
    person = AdminLokalFactory()
    login(secretariat)
    page = client.post(f"/admin/people/{person.id}/temporary-password")
    temporary = page.get_data(as_text=True).split("<code class=\"fs-5 ms-2\">")[1].split("</code>")[0]
    login.logout()

    Login(client)(person, temporary)
    blocked = client.get("/agency/")
    assert blocked.status_code == 302 and blocked.headers["Location"].endswith("/password/change")
    changed = client.post("/password/change", data={"current_password": temporary, "password": NEW_PASSWORD,
                                                    "confirm": NEW_PASSWORD})
    assert changed.status_code == 302
    assert client.get("/agency/").status_code == 200


def test_deactivation_ends_open_sessions_and_blocks_login(app, client, login, db_session):
    upp = UppFactory()
    upp_client = app.test_client()
    Login(upp_client)(upp)
    assert upp_client.get("/").status_code == 200

    login(SecretariatFactory())
    client.post(f"/admin/people/{upp.id}/deactivate")
    assert upp_client.get("/").status_code == 302
    refused = upp_client.post("/login", data={"email": upp.email, "password": TEST_PASSWORD})
    assert refused.status_code == 200 and "alert-danger" in text(refused)
    events = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "account.deactivated")).all()
    assert len(events) == 1 and events[0].before["active"] is True and events[0].after["active"] is False


def test_admin_lokal_cannot_manage_people_of_the_secretariat_pages(client, login):
    login(AdminLokalFactory())
    assert client.get("/admin/people/").status_code == 404
    assert client.get("/admin/people/invite").status_code == 404


def test_language_switch_is_remembered_per_user(app, client, login, db_session):
    user = SecretariatFactory()
    login(user)
    assert 'lang="id"' in text(client.get("/"))
    client.post("/language", data={"locale": "en", "next": "/"})
    assert 'lang="en"' in text(client.get("/"))
    login.logout()
    fresh = app.test_client()
    Login(fresh)(user)
    assert 'lang="en"' in text(fresh.get("/"))
    assert db_session.get(User, user.id).locale == "en"


def test_state_is_never_changed_by_get(client, login):
    user = SecretariatFactory()
    login(user)
    assert client.get("/logout").status_code == 405
    assert client.get(f"/admin/people/{user.id}/deactivate").status_code == 405
    assert client.get("/").status_code == 200


def test_security_headers_on_every_response(client):
    for path in ("/login", "/static/css/kipp.css", "/no-such-page"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "Strict-Transport-Security" not in headers
    secure = client.get("/login", base_url="https://kipp.test")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_session_cookie_is_http_only_and_same_site(client, db_session):
    user = SecretariatFactory()
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
