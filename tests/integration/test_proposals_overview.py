"""The secretariat's view of the submission stage: list, funnel, Excel export, printable proposal."""

from __future__ import annotations

import io
import os
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from kipp.agencies.kinds import AgencyType, Cluster
from kipp.editions.kinds import GroupCode
from kipp.editions.services import create_from_template
from kipp.proposals import printing
from kipp.proposals.overview import NO_REGION, ProposalFilters, funnel
from kipp.proposals.states import ProposalStatus
from tests.conftest import count_queries
from tests.factories import (
    AdminLokalFactory,
    AgencyFactory,
    EvaluatorFactory,
    PanelistFactory,
    SecretariatFactory,
    UnitFactory,
    UppFactory,
)
from tests.proposal_factories import ProposalFactory, ProposalFileFactory, newest_edition

pytestmark = pytest.mark.integration

S = ProposalStatus


def _titles(response) -> set[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    html = response.get_data(as_text=True)
    rows = re.findall(r'<tr data-testid="proposal-row">.*?</tr>', html, flags=re.S)
    return {re.search(r'<a href="/admin/proposals/\d+">([^<]*)</a>', row).group(1) for row in rows}


@pytest.fixture()
def edition(db_session):
    return newest_edition()


@pytest.fixture()
def world(db_session, edition):
    """Four agencies in different clusters and provinces, proposals in every status and both groups."""
    umum, khusus = edition.group(GroupCode.UMUM), edition.group(GroupCode.KHUSUS)
    health, education = edition.categories[2], edition.categories[1]
    manado = UnitFactory(agency=AgencyFactory(name="Pemerintah Kota Manado", region_code="71.71"))
    kemenkes = UnitFactory(agency=AgencyFactory(name="Kementerian Kesehatan", type=AgencyType.KEMENTERIAN,
                                                cluster=Cluster.KEMENTERIAN, region_code=None))
    jatim = UnitFactory(agency=AgencyFactory(name="Pemerintah Provinsi Jawa Timur", type=AgencyType.PROVINSI,
                                             cluster=Cluster.PROVINSI, region_code="35"))
    banyuwangi = UnitFactory(agency=AgencyFactory(name="Pemerintah Kabupaten Banyuwangi",
                                                  type=AgencyType.KABUPATEN, cluster=Cluster.KABUPATEN,
                                                  region_code="35.10", is_3t=True))

    def make(title, unit, status, group=umum, category=health):
        return ProposalFactory(edition=edition, title=title, unit=unit, status=status, group=group,
                               category=category)

    return {
        "manado_draft": make("Dukcapil Keliling", manado, S.DRAFT),
        "manado_submitted": make("Sipandu Manado", manado, S.SUBMITTED, category=education),
        "kemenkes_submitted": make("Telemedisin Nasional", kemenkes, S.SUBMITTED, group=khusus),
        "kemenkes_returned": make("Obat 100% Terlacak", kemenkes, S.RETURNED),
        "jatim_admin": make("Jatim Sehat", jatim, S.WITH_ADMIN_LOKAL),
        "jatim_withdrawn": make("Sekolah Jatim", jatim, S.WITHDRAWN, category=education),
        "banyuwangi_submitted": make("Smart Kampung", banyuwangi, S.SUBMITTED),
        "banyuwangi_not": make("Desa Online", banyuwangi, S.NOT_SUBMITTED),
    }


def _t(world, *keys):
    return {world[k].title for k in keys}


# --- the list --------------------------------------------------------------------------------


def test_list_shows_every_proposal_with_status_and_holder(client, login, world, edition):
    login(SecretariatFactory(locale="en"))
    response = client.get("/admin/proposals/")
    assert _titles(response) == {p.title for p in world.values()}
    html = response.get_data(as_text=True)
    assert world["manado_submitted"].number in html
    assert "Kementerian Kesehatan" in html and "Sulawesi Utara" in html  # agency and its province
    assert "WIB" in html
    assert 'data-testid="count-submitted">3<' in html


@pytest.mark.parametrize(("query", "expected"), [
    ("status=submitted", ("manado_submitted", "kemenkes_submitted", "banyuwangi_submitted")),
    ("status=draft&status=returned", ("manado_draft", "kemenkes_returned")),
    ("cluster=kementerian", ("kemenkes_submitted", "kemenkes_returned")),
    ("province=35", ("jatim_admin", "jatim_withdrawn", "banyuwangi_submitted", "banyuwangi_not")),
    (f"province={NO_REGION}", ("kemenkes_submitted", "kemenkes_returned")),
    ("province=71&status=submitted", ("manado_submitted",)),
    ("q=JATIM", ("jatim_admin", "jatim_withdrawn")),  # title or agency name, any case
    ("q=banyuwangi", ("banyuwangi_submitted", "banyuwangi_not")),  # agency name only
    ("q=100%25", ("kemenkes_returned",)),  # % is a literal, not a wildcard
    ("q=tidak-ada-yang-cocok", ()),
    ("status=bogus&cluster=bogus&province=x", (
        "manado_draft", "manado_submitted", "kemenkes_submitted", "kemenkes_returned", "jatim_admin",
        "jatim_withdrawn", "banyuwangi_submitted", "banyuwangi_not")),
])
def test_list_filters(client, login, world, query, expected):
    login(SecretariatFactory(locale="en"))
    assert _titles(client.get(f"/admin/proposals/?{query}")) == _t(world, *expected)


def test_list_filters_by_group_category_agency_and_number(client, login, world, edition):
    login(SecretariatFactory(locale="en"))
    khusus = edition.group(GroupCode.KHUSUS)
    assert _titles(client.get(f"/admin/proposals/?group={khusus.id}")) == _t(world, "kemenkes_submitted")
    education = edition.categories[1]
    assert _titles(client.get(f"/admin/proposals/?category={education.id}")) == _t(
        world, "manado_submitted", "jatim_withdrawn")
    jatim = world["jatim_admin"].agency_id
    assert _titles(client.get(f"/admin/proposals/?agency={jatim}")) == _t(world, "jatim_admin", "jatim_withdrawn")
    number = world["banyuwangi_submitted"].number
    assert _titles(client.get(f"/admin/proposals/?q={number.lower()}")) == _t(world, "banyuwangi_submitted")


def test_list_defaults_to_the_newest_edition_and_offers_the_others(client, login, db_session, world, edition):
    older = create_from_template(None, year=2026, name="KIPP 2026")
    old = ProposalFactory(edition=older, title="Inovasi Tahun Lalu", group=older.groups[0],
                          category=older.categories[0])
    login(SecretariatFactory(locale="en"))
    assert old.title not in _titles(client.get("/admin/proposals/"))
    assert _titles(client.get(f"/admin/proposals/?edition={older.id}")) == {old.title}
    assert 'data-testid="edition-picker"' in client.get("/admin/proposals/").get_data(as_text=True)
    assert client.get("/admin/proposals/?edition=999999").status_code == 404
    assert client.get("/admin/proposals/funnel?edition=999999").status_code == 404


def test_list_paginates_by_fifty(client, login, db_session, edition):
    unit = UnitFactory()
    for n in range(53):
        ProposalFactory(edition=edition, unit=unit, title=f"Inovasi {n:02d}")
    login(SecretariatFactory(locale="en"))
    first = client.get("/admin/proposals/?sort=agency")
    assert len(_titles(first)) == 50
    assert "Page 1 of 2" in first.get_data(as_text=True)
    assert len(_titles(client.get("/admin/proposals/?sort=agency&page=2"))) == 3


def test_without_an_edition_the_pages_say_so(client, login, db_session):
    login(SecretariatFactory(locale="en"))
    for url in ("/admin/proposals/", "/admin/proposals/funnel"):
        assert client.get(url).status_code == 200
    assert client.get("/admin/proposals/export.xlsx").status_code == 404


# --- the funnel ------------------------------------------------------------------------------


def test_funnel_counts_by_cluster_province_and_group(db_session, world, edition):
    data = funnel(edition)
    assert data.overall.counts == {"at_upp": 2, "at_admin_lokal": 1, "submitted": 3, "withdrawn": 1,
                                   "not_submitted": 1}
    assert data.overall.total == 8
    assert data.overall.percent("submitted") == pytest.approx(37.5)
    clusters = {row.key: row.counts for row in data.by_cluster}
    assert clusters["kota"] == {"at_upp": 1, "at_admin_lokal": 0, "submitted": 1, "withdrawn": 0,
                                "not_submitted": 0}
    assert clusters["kementerian"] == {"at_upp": 1, "at_admin_lokal": 0, "submitted": 1, "withdrawn": 0,
                                       "not_submitted": 0}
    assert clusters["provinsi"] == {"at_upp": 0, "at_admin_lokal": 1, "submitted": 0, "withdrawn": 1,
                                    "not_submitted": 0}
    assert clusters["kabupaten"] == {"at_upp": 0, "at_admin_lokal": 0, "submitted": 1, "withdrawn": 0,
                                     "not_submitted": 1}
    assert clusters["bumn_bumd"] == {"at_upp": 0, "at_admin_lokal": 0, "submitted": 0, "withdrawn": 0,
                                     "not_submitted": 0}
    provinces = {row.key: row for row in data.by_province}
    assert len(provinces) == 39  # 38 provinces and the central row
    assert data.by_province[-1].key == NO_REGION
    assert provinces["35"].counts == {"at_upp": 0, "at_admin_lokal": 1, "submitted": 1, "withdrawn": 1,
                                      "not_submitted": 1}  # the province itself and a kabupaten in it
    assert provinces["71"].total == 2
    assert provinces[NO_REGION].counts["submitted"] == 1 and provinces[NO_REGION].total == 2
    assert sum(row.total for row in data.by_province) == 8
    assert sum(row.total for row in data.by_cluster) == 8
    groups = {row.key: row.total for row in data.by_group}
    assert groups == {str(edition.group(GroupCode.UMUM).id): 7, str(edition.group(GroupCode.KHUSUS).id): 1}


def test_funnel_page_renders_the_counts(client, login, world):
    login(SecretariatFactory(locale="en"))
    response = client.get("/admin/proposals/funnel")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'data-testid="overall-submitted">3<', html)
    assert re.search(r'data-testid="overall-total">8<', html)
    province_table = html[html.index('data-testid="funnel-by-province"'):]
    row = province_table[province_table.index('data-row="35"'):]
    row = row[:row.index("</tr>")]
    assert re.search(r'data-stage="total">4<', row)
    central = province_table[province_table.index(f'data-row="{NO_REGION}"'):]
    assert re.search(r'data-stage="total">2<', central[:central.index("</tr>")])
    assert "<svg" in html and 'style="' not in html  # bars without inline styles (CSP)
    # The stage counts link to the list filtered by the stage's statuses.
    assert "status=draft&amp;status=returned" in html


# --- the export ------------------------------------------------------------------------------


def _sheet(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(response.data))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    return rows[0], rows[1:]


def test_export_has_a_row_per_proposal_with_the_columns(client, login, db_session, world, edition):
    answered = ProposalFactory(edition=edition, title="Lengkap", status=S.SUBMITTED, answered=True,
                               unit=world["manado_draft"].unit)
    login(SecretariatFactory(locale="en"))
    header, rows = _sheet(client.get("/admin/proposals/export.xlsx"))
    assert len(rows) == 9
    fixed = ["Number", "Title", "Group", "Category", "Status", "Held by", "Agency", "Agency type", "Cluster",
             "Province", "Kabupaten/kota", "3T", "Unit (UPP)", "SDGs", "Innovation start date", "Created (WIB)",
             "Submitted (WIB)"]
    assert len(header) == len(fixed) + len({s.key for g in edition.groups for s in g.sections})
    by_title = {row[1]: dict(zip(range(len(header)), row)) for row in rows}
    umum_sections = edition.group(GroupCode.UMUM).sections
    full = by_title["Lengkap"]
    assert full[0] == answered.number
    words = [full[len(fixed) + i] for i in range(len(umum_sections))]
    assert words == [a.word_count for a in sorted(answered.answers, key=lambda a: a.section.position)]
    assert all(w > 0 for w in words)
    banyuwangi = by_title["Smart Kampung"]
    assert banyuwangi[9] == "Jawa Timur" and banyuwangi[10] == "Kabupaten Banyuwangi"
    assert banyuwangi[7] == "Pemerintah Kabupaten" and banyuwangi[8] == "Kabupaten"
    kemenkes = by_title["Telemedisin Nasional"]
    assert kemenkes[9] is None and kemenkes[10] is None
    # A khusus proposal has no umum-only sections: those cells stay empty, its own show 0 when unanswered.
    khusus_keys = {s.key for s in edition.group(GroupCode.KHUSUS).sections}
    section_keys = [k for g in edition.groups for k in [s.key for s in g.sections]]
    section_keys = list(dict.fromkeys(section_keys))
    for i, key in enumerate(section_keys):
        assert kemenkes[len(fixed) + i] == (0 if key in khusus_keys else None)


def test_export_honours_the_filters(client, login, world):
    login(SecretariatFactory(locale="en"))
    _header, rows = _sheet(client.get("/admin/proposals/export.xlsx?status=submitted&province=35"))
    assert [row[1] for row in rows] == ["Smart Kampung"]


def test_export_neutralises_formulas(client, login, db_session, edition):
    unit = UnitFactory(name="+Dinas Rumus", agency=AgencyFactory(name="@Pemkot Rumus"))
    ProposalFactory(edition=edition, unit=unit, title='=HYPERLINK("http://evil.example","klik")')
    ProposalFactory(edition=edition, unit=unit, title="-1+2")
    login(SecretariatFactory(locale="en"))
    _header, rows = _sheet(client.get("/admin/proposals/export.xlsx"))
    titles = sorted(row[1] for row in rows)
    assert titles == ["'-1+2", "'=HYPERLINK(\"http://evil.example\",\"klik\")"]
    assert {row[6] for row in rows} == {"'@Pemkot Rumus"}
    assert {row[12] for row in rows} == {"'+Dinas Rumus"}


# --- the printable proposal ------------------------------------------------------------------


@pytest.fixture()
def full_proposal(db_session, edition):
    from kipp.editions.models import Sdg

    proposal = ProposalFactory(edition=edition, status=S.SUBMITTED, title="Sipandu <Manado>", answered=True,
                               video_url="https://www.youtube.com/watch?v=abc", is_application=True,
                               spbe={"nama_aplikasi": "Sipandu", "terintegrasi_spbe": True})
    proposal.sdgs = [db_session.get(Sdg, 3), db_session.get(Sdg, 16)]
    section = proposal.group.sections[1]
    ProposalFileFactory(proposal=proposal, original_name="sk-inovator.pdf")
    ProposalFileFactory(proposal=proposal, document=None, section=section, original_name="bukti-data.xlsx",
                        content_type="application/vnd.ms-excel", size_bytes=2_400_000)
    db_session.flush()
    return proposal


def test_detail_page_shows_the_whole_proposal(client, login, full_proposal):
    login(SecretariatFactory(locale="en"))
    response = client.get(f"/admin/proposals/{full_proposal.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Sipandu &lt;Manado&gt;" in html  # escaped
    assert full_proposal.number in html and full_proposal.edition.name in html
    assert html.count('data-testid="proposal-section"') == len(full_proposal.group.sections)
    for answer in full_proposal.answers:
        assert answer.text in html
    assert "sk-inovator.pdf" in html and "bukti-data.xlsx" in html and "2.3 MB" in html
    assert "https://www.youtube.com/watch?v=abc" in html and "Sipandu" in html
    assert 'style="' not in html and "<style" not in html


def test_only_web_addresses_become_links(client, login, full_proposal):
    full_proposal.video_url = "javascript:alert(1)"
    login(SecretariatFactory(locale="en"))
    html = client.get(f"/admin/proposals/{full_proposal.id}").get_data(as_text=True)
    assert "javascript:alert(1)" in html and 'href="javascript:' not in html


def test_print_template_is_a_whole_page_by_itself(app, db_session, full_proposal):
    with app.test_request_context():
        html = printing.render_html(printing.load(full_proposal.id))
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    assert "proposal-print.css" in html


def test_pdf_of_a_proposal(client, login, full_proposal):
    reason = printing.unavailable()
    if reason is not None:
        required = {v.strip() for v in os.environ.get("KIPP_TEST_REQUIRE", "").split(",")}
        if required & {"all", "pdf"}:
            pytest.fail(f"PDF printing is required (KIPP_TEST_REQUIRE) but WeasyPrint cannot render: {reason}")
        pytest.skip(f"WeasyPrint cannot render here: {reason}")
    login(SecretariatFactory(locale="en"))
    response = client.get(f"/admin/proposals/{full_proposal.id}/print.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert client.get("/admin/proposals/999999/print.pdf").status_code == 404
    assert client.get("/admin/proposals/999999").status_code == 404


# --- who may see it --------------------------------------------------------------------------


@pytest.mark.parametrize("factory", [AdminLokalFactory, UppFactory, EvaluatorFactory, PanelistFactory])
def test_other_roles_get_404(client, login, db_session, edition, factory):
    proposal = ProposalFactory(edition=edition)
    login(factory())
    for url in ("/admin/proposals/", "/admin/proposals/funnel", "/admin/proposals/export.xlsx",
                f"/admin/proposals/{proposal.id}", f"/admin/proposals/{proposal.id}/print.pdf"):
        assert client.get(url).status_code == 404, url


def test_anonymous_is_sent_to_log_in(client, db_session):
    response = client.get("/admin/proposals/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- the number of queries does not grow with the proposals ----------------------------------


def _add_proposals(n, start):
    edition = newest_edition()  # the session may have been closed since: load it again
    statuses = [ProposalStatus.DRAFT, ProposalStatus.WITH_ADMIN_LOKAL, ProposalStatus.RETURNED,
                ProposalStatus.SUBMITTED, ProposalStatus.WITHDRAWN, ProposalStatus.NOT_SUBMITTED]  # the submission stage's
    clusters = [(AgencyType.KOTA, Cluster.KOTA, "71.71"), (AgencyType.KEMENTERIAN, Cluster.KEMENTERIAN, None),
                (AgencyType.KABUPATEN, Cluster.KABUPATEN, "35.10"), (AgencyType.PROVINSI, Cluster.PROVINSI, "35")]
    for i in range(start, start + n):
        agency_type, cluster, region = clusters[i % len(clusters)]
        agency = AgencyFactory(type=agency_type, cluster=cluster, region_code=region)
        ProposalFactory(edition=edition, unit=UnitFactory(agency=agency), status=statuses[i % len(statuses)],
                        group=edition.groups[i % len(edition.groups)],
                        category=edition.categories[i % len(edition.categories)])


@pytest.mark.parametrize(("url", "rows_few", "rows_many"), [
    ("/admin/proposals/", 5, 50),
    ("/admin/proposals/?status=submitted&status=draft&q=uji", 2, 20),
    ("/admin/proposals/funnel", None, None),
])
def test_queries_per_page_do_not_grow_with_the_proposals(client, login, db_session, url, rows_few, rows_many):
    login(SecretariatFactory(locale="en"))
    _add_proposals(5, 0)
    client.get(url)  # warm up
    response, few = count_queries(client, db_session, url)
    _check_shown(response, rows_few, total=5)
    _add_proposals(55, 5)
    response, many = count_queries(client, db_session, url)
    _check_shown(response, rows_many, total=60)
    assert len(few) == len(many), "\n".join(many)
    assert len(many) <= 20  # a handful per page, whatever the layout adds


def _check_shown(response, rows, *, total):
    """The page did show the proposals (a count of queries over an empty page proves nothing)."""
    if rows is None:
        assert re.search(rf'data-testid="overall-total">{total}<', response.get_data(as_text=True))
    else:
        assert len(_titles(response)) == rows


def test_queries_of_the_export_do_not_grow_with_the_proposals(client, login, db_session, edition):
    login(SecretariatFactory(locale="en"))
    _add_proposals(5, 0)
    response, few = count_queries(client, db_session, "/admin/proposals/export.xlsx")
    assert len(_sheet(response)[1]) == 5
    _add_proposals(30, 5)
    response, many = count_queries(client, db_session, "/admin/proposals/export.xlsx")
    assert len(_sheet(response)[1]) == 35
    assert len(few) == len(many)


def test_filters_read_from_arguments():
    from werkzeug.datastructures import MultiDict

    filters = ProposalFilters.from_args(MultiDict([
        ("status", "draft"), ("status", "returned"), ("status", "draft"), ("status", "nope"), ("group", "3"),
        ("cluster", "kota"), ("province", "35"), ("agency", "x"), ("q", "  dukcapil   manado "),
    ]))
    assert filters.statuses == (S.DRAFT, S.RETURNED)
    assert (filters.group_id, filters.cluster, filters.province, filters.agency_id, filters.q) == (
        3, Cluster.KOTA, "35", None, "dukcapil manado")
    assert filters.as_args() == {"status": ["draft", "returned"], "group": 3, "cluster": "kota",
                                 "province": "35", "q": "dukcapil manado"}
    assert ProposalFilters.from_args(MultiDict([("province", "35.10")])).province is None
