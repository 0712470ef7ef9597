"""The secretariat's agencies, units and regions, through the test client."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kipp.agencies import services
from kipp.agencies.kinds import AgencyType, Cluster
from kipp.agencies.models import Agency, Region, Unit
from kipp.audit.models import AuditEvent
from kipp.errors import DomainError, NotAllowed
from tests.factories import (
    AdminLokalFactory,
    AgencyFactory,
    EvaluatorFactory,
    SecretariatFactory,
    UnitFactory,
    UppFactory,
)

pytestmark = pytest.mark.integration


def _events(db_session, action, object_id=None):
    query = sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == str(object_id))
    return db_session.scalars(query).all()


def _agency_named(db_session, name):
    return db_session.scalar(sa.select(Agency).where(Agency.name == name))


# --- regions -------------------------------------------------------------------------------


def test_all_provinces_and_regencies_are_loaded(db_session):
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Region).where(Region.level == 1)) == 38
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Region).where(Region.level == 2)) == 514
    manado = db_session.get(Region, "71.71")
    assert (manado.name, manado.kind, manado.province.code) == ("Kota Manado", "kota", "71")


def test_regions_pages(client, login):
    login(SecretariatFactory())
    page = client.get("/admin/agencies/regions")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "38" in text and "416" in text and "98" in text  # provinces, kabupaten, kota
    assert "Sulawesi Utara" in text
    page = client.get("/admin/agencies/regions/71")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "71.71" in text and "Kota Manado" in text and "Kabupaten Bolaang Mongondow" in text
    assert client.get("/admin/agencies/regions/71.71").status_code == 404
    assert client.get("/admin/agencies/regions/99").status_code == 404


# --- creating and editing ------------------------------------------------------------------


def test_secretariat_creates_an_agency_with_the_default_cluster(client, login, db_session):
    actor = SecretariatFactory()
    login(actor)
    form = client.get("/admin/agencies/new").get_data(as_text=True)
    assert '<optgroup label="71 · Sulawesi Utara">' in form
    assert 'value="71.71"' in form
    response = client.post("/admin/agencies/new", data={
        "name": "  Pemerintah   Kota Manado ", "type": "kota", "cluster": "", "region_code": "71.71", "is_3t": "y",
    })
    assert response.status_code == 302
    agency = _agency_named(db_session, "Pemerintah Kota Manado")
    assert (agency.type, agency.cluster, agency.region_code, agency.is_3t, agency.active) == (
        AgencyType.KOTA, Cluster.KOTA, "71.71", True, True)
    assert response.headers["Location"].endswith(f"/admin/agencies/{agency.id}")
    [event] = _events(db_session, "agency.created", agency.id)
    assert event.actor_id == actor.id
    assert event.after["name"] == "Pemerintah Kota Manado"
    assert event.after["region_code"] == "71.71"
    detail = client.get(f"/admin/agencies/{agency.id}").get_data(as_text=True)
    assert "Sulawesi Utara" in detail and "Kota Manado" in detail


def test_secretariat_edits_an_agency_and_the_change_is_audited(client, login, db_session):
    login(SecretariatFactory())
    agency = AgencyFactory(name="Pemerintah Kota Uji", region_code="71.71")
    page = client.get(f"/admin/agencies/{agency.id}/edit").get_data(as_text=True)
    assert 'value="Pemerintah Kota Uji"' in page
    assert '<option selected value="71.71">' in page
    response = client.post(f"/admin/agencies/{agency.id}/edit", data={
        "name": "Pemerintah Kota Bitung", "type": "kota", "cluster": "", "region_code": "71.72",
    })
    assert response.status_code == 302
    db_session.refresh(agency)
    assert (agency.name, agency.region_code, agency.is_3t) == ("Pemerintah Kota Bitung", "71.72", False)
    [event] = _events(db_session, "agency.updated", agency.id)
    assert event.before["name"] == "Pemerintah Kota Uji" and event.after["name"] == "Pemerintah Kota Bitung"
    assert event.before["region_code"] == "71.71" and event.after["region_code"] == "71.72"
    assert ("region_code", "71.71", "71.72") in event.changes


def test_a_region_that_does_not_fit_is_rejected_and_the_typed_data_kept(client, login, db_session):
    login(SecretariatFactory())
    response = client.post("/admin/agencies/new", data={
        "name": "Pemerintah Kabupaten Salah Wilayah", "type": "kabupaten", "region_code": "71.71", "is_3t": "y",
    })
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "must have a kabupaten as its region, not 71.71" in text
    assert 'value="Pemerintah Kabupaten Salah Wilayah"' in text
    assert '<option selected value="71.71">' in text
    assert '<input checked class="form-check-input" id="is_3t"' in text
    assert _agency_named(db_session, "Pemerintah Kabupaten Salah Wilayah") is None
    assert _events(db_session, "agency.created") == []


def test_a_regional_government_without_region_is_rejected(client, login, db_session):
    login(SecretariatFactory())
    response = client.post("/admin/agencies/new", data={"name": "Pemerintah Provinsi Tanpa", "type": "provinsi"})
    assert "needs a region" in response.get_data(as_text=True)
    assert _agency_named(db_session, "Pemerintah Provinsi Tanpa") is None


def test_duplicate_names_are_refused_ignoring_case(client, login, db_session):
    login(SecretariatFactory())
    AgencyFactory(name="Kementerian Uji Coba", type=AgencyType.KEMENTERIAN, cluster=Cluster.KEMENTERIAN,
                  region_code=None)
    db_session.commit()  # a refused request rolls back what is not committed
    response = client.post("/admin/agencies/new", data={"name": "kementerian UJI coba", "type": "kementerian"})
    assert "already exists" in response.get_data(as_text=True)
    count = db_session.scalar(sa.select(sa.func.count()).select_from(Agency)
                              .where(sa.func.lower(Agency.name) == "kementerian uji coba"))
    assert count == 1


def test_service_rules_unknown_region_and_explicit_cluster(db_session):
    actor = SecretariatFactory()
    with pytest.raises(DomainError) as caught:
        services.create_agency(actor, name="BUMD Uji", type=AgencyType.BUMD, region_code="99.99", is_3t=False)
    assert caught.value.code == "region_unknown"
    assert "99.99" in caught.value.message
    agency = services.create_agency(actor, name="Lembaga Uji", type=AgencyType.LEMBAGA, region_code=None,
                                    cluster=Cluster.KEMENTERIAN)
    assert agency.cluster is Cluster.KEMENTERIAN
    assert services.update_agency(actor, agency, name="Lembaga Uji", type=AgencyType.LEMBAGA, region_code=None,
                                  is_3t=False, cluster=Cluster.KEMENTERIAN) is False
    assert _events(db_session, "agency.updated", agency.id) == []


def test_only_the_secretariat_or_the_system_manages_agencies(db_session):
    admin = AdminLokalFactory()
    with pytest.raises(NotAllowed):
        services.create_agency(admin, name="X", type=AgencyType.LEMBAGA, region_code=None)
    with pytest.raises(NotAllowed):
        services.set_agency_active(admin, admin.agency, False)
    agency = services.create_agency(None, name="Dibuat Sistem", type=AgencyType.BUMN, region_code=None)
    [event] = _events(db_session, "agency.created", agency.id)
    assert event.actor_label == "system"


def test_deactivate_and_reactivate_an_agency(client, login, db_session):
    login(SecretariatFactory())
    agency = AgencyFactory()
    assert client.post(f"/admin/agencies/{agency.id}/deactivate").status_code == 302
    db_session.refresh(agency)
    assert agency.active is False
    assert client.post(f"/admin/agencies/{agency.id}/reactivate").status_code == 302
    db_session.refresh(agency)
    assert agency.active is True
    assert [e.action for e in db_session.scalars(
        sa.select(AuditEvent).where(AuditEvent.object_type == "agencies", AuditEvent.object_id == str(agency.id))
        .order_by(AuditEvent.id))] == ["agency.deactivated", "agency.activated"]
    assert client.get(f"/admin/agencies/{agency.id}/deactivate").status_code == 405


# --- list ----------------------------------------------------------------------------------


def test_list_search_and_filters(client, login):
    login(SecretariatFactory())
    AgencyFactory(name="Pemerintah Kota Manado", region_code="71.71")
    AgencyFactory(name="Pemerintah Kabupaten Aceh Singkil", type=AgencyType.KABUPATEN, cluster=Cluster.KABUPATEN,
                  region_code="11.10", is_3t=True)
    AgencyFactory(name="Kementerian Uji", type=AgencyType.KEMENTERIAN, cluster=Cluster.KEMENTERIAN,
                  region_code=None, active=False)

    def names(**args):
        page = client.get("/admin/agencies/", query_string=args)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        return {n for n in ("Pemerintah Kota Manado", "Pemerintah Kabupaten Aceh Singkil", "Kementerian Uji")
                if n in text}

    assert names() == {"Pemerintah Kota Manado", "Pemerintah Kabupaten Aceh Singkil", "Kementerian Uji"}
    assert names(q="manado") == {"Pemerintah Kota Manado"}
    assert names(type="kabupaten") == {"Pemerintah Kabupaten Aceh Singkil"}
    assert names(cluster="kementerian") == {"Kementerian Uji"}
    assert names(province="11") == {"Pemerintah Kabupaten Aceh Singkil"}
    assert names(t3="yes") == {"Pemerintah Kabupaten Aceh Singkil"}
    assert names(t3="no", status="active") == {"Pemerintah Kota Manado"}
    assert names(status="inactive") == {"Kementerian Uji"}
    assert names(region="71.71") == {"Pemerintah Kota Manado"}


def test_detail_shows_units_people_and_the_invite_button(client, login):
    login(SecretariatFactory())
    agency = AgencyFactory()
    unit = UnitFactory(agency=agency, name="Dinas Kesehatan")
    AdminLokalFactory(agency=agency, name="Ibu Admin")
    UppFactory(unit=unit, name="Pak Operator", password_hash=None)
    text = client.get(f"/admin/agencies/{agency.id}").get_data(as_text=True)
    assert "Dinas Kesehatan" in text and "Ibu Admin" in text and "Pak Operator" in text
    assert f"/admin/people/invite?agency={agency.id}&amp;role=admin_lokal" in text
    assert "Invited" in text


# --- units ---------------------------------------------------------------------------------


def test_secretariat_adds_renames_and_deactivates_units(client, login, db_session):
    login(SecretariatFactory())
    agency = AgencyFactory()
    assert client.post(f"/admin/agencies/{agency.id}/units", data={"name": " Dinas  Pendidikan "}).status_code == 302
    unit = db_session.scalar(sa.select(Unit).where(Unit.agency_id == agency.id))
    assert unit.name == "Dinas Pendidikan"
    db_session.commit()
    again = client.post(f"/admin/agencies/{agency.id}/units", data={"name": "dinas pendidikan"})
    assert again.status_code == 400
    assert "already has a unit named Dinas Pendidikan" in again.get_data(as_text=True)
    assert client.post(f"/admin/agencies/units/{unit.id}/edit", data={"name": "Dinas Pendidikan dan Kebudayaan"}
                       ).status_code == 302
    assert client.post(f"/admin/agencies/units/{unit.id}/deactivate").status_code == 302
    db_session.refresh(unit)
    assert (unit.name, unit.active) == ("Dinas Pendidikan dan Kebudayaan", False)
    actions = db_session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.object_type == "units", AuditEvent.object_id == str(unit.id)).order_by(AuditEvent.id)).all()
    assert actions == ["unit.created", "unit.renamed", "unit.deactivated"]


# --- who may see this ------------------------------------------------------------------------


@pytest.mark.parametrize("factory", [AdminLokalFactory, UppFactory, EvaluatorFactory])
def test_other_roles_get_404_on_the_secretariat_pages(client, login, factory):
    person = factory()
    login(person)
    agency = AgencyFactory()
    for url in ("/admin/agencies/", f"/admin/agencies/{agency.id}", "/admin/agencies/new",
                "/admin/agencies/regions", "/admin/agencies/import", "/admin/agencies/import/template.csv"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/admin/agencies/{agency.id}/deactivate").status_code == 404


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/admin/agencies/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
