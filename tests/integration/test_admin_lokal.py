"""The Admin Lokal's agency pages: units, UPP accounts, and nothing of other agencies."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.agencies import services
from kipp.agencies.models import Unit
from kipp.audit.models import AuditEvent
from kipp.errors import NotAllowed
from tests.conftest import link_in
from tests.factories import (
    AdminLokalFactory,
    AgencyFactory,
    EvaluatorFactory,
    PanelistFactory,
    SecretariatFactory,
    UnitFactory,
    UppFactory,
)

pytestmark = pytest.mark.integration

NEW_PASSWORD = "Sandi-baru-UPP-2026"


def test_admin_lokal_sees_its_agency_read_only(client, login):
    admin = AdminLokalFactory(agency__name="Pemerintah Kota Manado")
    UnitFactory(agency=admin.agency, name="Dinas Kesehatan")
    login(admin)
    page = client.get("/agency/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Pemerintah Kota Manado" in text and "Dinas Kesehatan" in text and "Sulawesi Utara" in text
    assert "/admin/agencies" not in text.split("<main")[1]


def test_admin_lokal_creates_a_unit_and_a_upp_account_who_then_logs_in(client, login, db_session, outbox_mail):
    admin = AdminLokalFactory()
    login(admin)
    response = client.post("/agency/units", data={"name": "Dinas Kependudukan dan Pencatatan Sipil"})
    assert response.status_code == 302
    unit = db_session.scalar(sa.select(Unit).where(Unit.agency_id == admin.agency_id))
    assert unit.name == "Dinas Kependudukan dan Pencatatan Sipil"
    [event] = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "unit.created")).all()
    assert event.actor_id == admin.id

    form = client.get("/agency/people/new").get_data(as_text=True)
    assert f'value="{unit.id}"' in form
    response = client.post("/agency/people/new", data={
        "name": "Operator Dukcapil", "email": "Operator@Dukcapil.example.go.id", "unit_id": unit.id,
    })
    assert response.status_code == 302
    upp = db_session.scalar(sa.select(User).where(User.email == "operator@dukcapil.example.go.id"))
    assert (upp.role, upp.unit_id, upp.agency_id, upp.has_password) == (Role.UPP, unit.id, admin.agency_id, False)
    assert response.headers["Location"].endswith(f"/agency/people/{upp.id}")
    listing = client.get("/agency/").get_data(as_text=True)
    assert "Operator Dukcapil" in listing and "Invited" in listing

    [mail] = [m for m in outbox_mail() if m.recipient == upp.email]
    link = link_in(mail.body_text)
    login.logout()
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    login.logout()
    login(upp, NEW_PASSWORD)
    assert client.get("/").status_code == 200


def test_upp_account_for_a_unit_of_another_agency_is_refused(client, login, db_session):
    admin = AdminLokalFactory()
    UnitFactory(agency=admin.agency)
    foreign = UnitFactory()
    login(admin)
    response = client.post("/agency/people/new", data={"name": "X", "email": "x@example.go.id",
                                                       "unit_id": foreign.id})
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert db_session.scalar(sa.select(User).where(User.email == "x@example.go.id")) is None


def test_a_taken_email_is_shown_on_the_form(client, login, db_session):
    admin = AdminLokalFactory()
    unit = UnitFactory(agency=admin.agency)
    other = UppFactory(email="sudah@example.go.id")
    login(admin)
    db_session.commit()
    response = client.post("/agency/people/new", data={"name": "Y", "email": other.email, "unit_id": unit.id})
    text = response.get_data(as_text=True)
    assert "already exists" in text and 'value="Y"' in text


def test_admin_lokal_manages_the_upp_accounts_of_its_agency(client, login, db_session):
    admin = AdminLokalFactory()
    upp = UppFactory(unit__agency=admin.agency, password_hash=None)
    login(admin)
    assert client.get(f"/agency/people/{upp.id}").status_code == 200
    assert client.post(f"/agency/people/{upp.id}/resend-invitation").status_code == 302
    page = client.post(f"/agency/people/{upp.id}/temporary-password")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    temporary = re.search(r'<code class="fs-5 ms-2">([^<]+)</code>', text).group(1)
    assert temporary
    db_session.refresh(upp)
    assert upp.must_change_password
    assert "Temporary password" in client.get("/agency/").get_data(as_text=True)
    assert client.post(f"/agency/people/{upp.id}/deactivate").status_code == 302
    db_session.refresh(upp)
    assert upp.active is False
    assert client.post(f"/agency/people/{upp.id}/reactivate").status_code == 302
    db_session.refresh(upp)
    assert upp.active is True
    actions = db_session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.object_type == "users", AuditEvent.object_id == str(upp.id)).order_by(AuditEvent.id)).all()
    assert actions == ["account.invitation_resent", "account.temporary_password_issued", "account.deactivated",
                       "account.activated"]


def test_admin_lokal_renames_deactivates_and_reactivates_its_unit(client, login, db_session):
    admin = AdminLokalFactory()
    unit = UnitFactory(agency=admin.agency, name="Dinas Lama")
    login(admin)
    assert client.get(f"/agency/units/{unit.id}/edit").status_code == 200
    assert client.post(f"/agency/units/{unit.id}/edit", data={"name": "Dinas Baru"}).status_code == 302
    assert client.post(f"/agency/units/{unit.id}/deactivate").status_code == 302
    db_session.refresh(unit)
    assert (unit.name, unit.active) == ("Dinas Baru", False)
    assert f'value="{unit.id}"' not in client.get("/agency/people/new").get_data(as_text=True)
    assert client.post(f"/agency/units/{unit.id}/reactivate").status_code == 302
    db_session.refresh(unit)
    assert unit.active is True


def test_another_agencys_unit_and_people_answer_404(client, login):
    admin = AdminLokalFactory()
    foreign_unit = UnitFactory()
    foreign_upp = UppFactory(unit=foreign_unit)
    colleague = AdminLokalFactory(agency=admin.agency)
    login(admin)
    for url in (f"/agency/units/{foreign_unit.id}/edit", f"/agency/people/{foreign_upp.id}",
                f"/agency/people/{colleague.id}", f"/agency/people/{admin.id}"):
        assert client.get(url).status_code == 404, url
    for url in (f"/agency/units/{foreign_unit.id}/edit", f"/agency/units/{foreign_unit.id}/deactivate",
                f"/agency/units/{foreign_unit.id}/reactivate", f"/agency/people/{foreign_upp.id}/deactivate",
                f"/agency/people/{foreign_upp.id}/reactivate", f"/agency/people/{foreign_upp.id}/resend-invitation",
                f"/agency/people/{foreign_upp.id}/temporary-password", f"/agency/people/{colleague.id}/deactivate"):
        assert client.post(url, data={"name": "X"}).status_code == 404, url
    assert foreign_upp.active and foreign_unit.name != "X"


def test_admin_lokal_gets_404_on_the_secretariat_pages(client, login):
    admin = AdminLokalFactory()
    login(admin)
    assert client.get("/admin/agencies/").status_code == 404
    assert client.get(f"/admin/agencies/{admin.agency_id}").status_code == 404
    assert client.get("/admin/people/").status_code == 404


@pytest.mark.parametrize("factory", [UppFactory, EvaluatorFactory, PanelistFactory, SecretariatFactory])
def test_other_roles_get_404_on_the_agency_pages(client, login, factory):
    login(factory())
    unit = UnitFactory()
    assert client.get("/agency/").status_code == 404
    assert client.get(f"/agency/units/{unit.id}/edit").status_code == 404
    assert client.post("/agency/units", data={"name": "X"}).status_code == 404


def test_unit_services_refuse_another_agency(db_session):
    admin = AdminLokalFactory()
    foreign = AgencyFactory()
    with pytest.raises(NotAllowed):
        services.create_unit(admin, foreign, name="Dinas Asing")
    unit = UnitFactory(agency=foreign)
    with pytest.raises(NotAllowed):
        services.rename_unit(admin, unit, name="Diganti")
    with pytest.raises(NotAllowed):
        services.set_unit_active(admin, unit, False)
    with pytest.raises(NotAllowed):
        services.create_unit(UppFactory(unit__agency=foreign), foreign, name="Dinas UPP")
    own = services.create_unit(admin, admin.agency, name="Dinas Sendiri")
    assert own.agency_id == admin.agency_id
