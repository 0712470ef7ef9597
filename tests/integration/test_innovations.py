"""The secretariat's innovations: past-results import, award history, khusus invitations, eligibility words."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook

from kipp.accounts.roles import Role
from kipp.audit.models import AuditEvent
from kipp.editions.kinds import GroupCode
from kipp.errors import DomainError, NotAllowed
from kipp.innovations import rules, services
from kipp.innovations.importer import ImportFileError, import_file, import_results
from kipp.innovations.kinds import AwardTier
from kipp.innovations.models import Award, Innovation
from kipp.proposals.models import KhususInvitation
from tests.factories import (
    AdminLokalFactory,
    AgencyFactory,
    EvaluatorFactory,
    SecretariatFactory,
    UnitFactory,
    UppFactory,
)
from tests.innovation_factories import AwardFactory, InnovationFactory

pytestmark = pytest.mark.integration

T99, T45, OA, FK = AwardTier.TOP_99, AwardTier.TOP_45, AwardTier.OUTSTANDING, AwardTier.FINALIST_KHUSUS


@pytest.fixture()
def manado(db_session):
    agency = AgencyFactory(name="Pemerintah Kota Uji Manado")
    UnitFactory(agency=agency, name="Dinas Kependudukan dan Pencatatan Sipil")
    return agency


def _edition(year=2027, name=None):
    from kipp.editions.services import create_from_template

    return create_from_template(None, year=year, name=name or f"KIPP {year}")


def _upload(client, data, filename):
    return client.post("/admin/innovations/import", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def _count(html, key):
    match = re.search(rf'data-testid="count-{key}">(\d+)<', html)
    assert match, html[:2000]
    return int(match.group(1))


def _table(html, testid):
    return html.split(f'data-testid="{testid}"')[1].split("</table>")[0] if testid in html else ""


def _rejected(html):
    """{row number: the reasons cell} of the rejected table."""
    table = _table(html, "rejected-table")
    return {int(n): body for n, body in re.findall(r'<tr data-row="(\d+)">(.*?)</tr>', table, re.S)}


def _outcomes(html):
    table = _table(html, "imported-table")
    return {int(n): o for n, o in re.findall(r'<tr data-row="(\d+)" data-outcome="(\w+)">', table)}


def _innovation(db_session, title):
    return db_session.scalar(sa.select(Innovation).where(Innovation.title == title))


def _awards(innovation):
    return sorted((a.year, a.tier) for a in innovation.awards)


# Row numbers as a spreadsheet shows them: the header is row 1.
RESULTS_CSV = (
    "\ufefftahun;tingkat;judul;instansi;unit;tanggal_mulai;nomor_sk\r\n"
    "2019;Top 99;Layanan Antar Jemput Akta;Pemerintah Kota Uji Manado;dinas kependudukan dan pencatatan sipil;"
    "01/03/2017;\r\n"                                                                           # 2 created
    "2019;Top 45;layanan antar  jemput akta;PEMERINTAH KOTA UJI MANADO;;;B/123/M.PAN-RB/2019\r\n"  # 3 updated
    "2018;Top 40;Sistem Rujukan Terpadu;Pemerintah Kota Uji Manado;;2016-05-02;\r\n"            # 4 created
    "2020;Top 99;Inovasi Tanpa Instansi;Pemerintah Kota Antah Berantah;;;\r\n"                  # 5 unknown agency
    "2020;Top 100;Inovasi Salah Tingkat;Pemerintah Kota Uji Manado;;;\r\n"                      # 6 unknown tier
    "20x9;Top 99;Inovasi Salah Tahun;Pemerintah Kota Uji Manado;;;\r\n"                         # 7 bad year
    "\r\n"                                                                                       # 8 blank
    "2019;top 99;LAYANAN ANTAR JEMPUT AKTA;pemerintah kota uji manado;;;\r\n"                   # 9 duplicate of 2
    "2013;Juara;;;;;\r\n"                                                                        # 10 four reasons
    "2021;OA;Inovasi Salah Tanggal;Pemerintah Kota Uji Manado;;31/02/2019;\r\n"                 # 11 not a date
)


def test_csv_import_with_good_and_bad_rows_then_again(client, login, db_session, manado):
    actor = SecretariatFactory()
    login(actor)
    page = _upload(client, RESULTS_CSV.encode("utf-8"), "hasil-2019.csv")
    assert page.status_code == 200
    html = page.get_data(as_text=True)

    assert (_count(html, "rows"), _count(html, "created"), _count(html, "updated"), _count(html, "unchanged"),
            _count(html, "rejected")) == (9, 2, 1, 0, 6)
    rejected = _rejected(html)
    assert sorted(rejected) == [5, 6, 7, 9, 10, 11]
    assert "There is no agency named Pemerintah Kota Antah Berantah" in rejected[5]
    assert "Unknown tier" in rejected[6] and "Top 100" in rejected[6]
    assert "is not a year" in rejected[7] and "20x9" in rejected[7]
    assert "already appears in row 2" in rejected[9]
    assert "The year must be between 2014" in rejected[10]
    assert "Unknown tier" in rejected[10] and "Juara" in rejected[10]
    assert "The title of the innovation (judul) is missing." in rejected[10]
    assert "The agency (instansi) is missing." in rejected[10]
    assert "31/02/2019" in rejected[11] and "is not a date" in rejected[11]
    assert _outcomes(html) == {2: "created", 3: "updated", 4: "created"}
    assert "is recorded as Top 45 (Top Inovasi Terpuji)" in html  # Top 40 of 2018

    akta = _innovation(db_session, "Layanan Antar Jemput Akta")
    assert akta.agency_id == manado.id
    assert akta.unit.name == "Dinas Kependudukan dan Pencatatan Sipil"
    assert akta.start_date == dt.date(2017, 3, 1)
    assert _awards(akta) == [(2019, T45), (2019, T99)]
    assert {a.tier: a.decree_number for a in akta.awards}[T45] == "B/123/M.PAN-RB/2019"
    assert {a.source for a in akta.awards} == {"import"}
    rujukan = _innovation(db_session, "Sistem Rujukan Terpadu")
    assert (_awards(rujukan), rujukan.start_date) == ([(2018, T45)], dt.date(2016, 5, 2))
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Innovation)) == 2

    [event] = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "innovation.imported")).all()
    assert event.actor_id == actor.id
    assert (event.after["file"], event.after["created"], event.after["updated"], event.after["rejected"]) == (
        "hasil-2019.csv", 2, 1, 6)
    assert set(event.after["rejected_rows"]) == {"5", "6", "7", "9", "10", "11"}
    created = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "innovation.created")).all()
    assert sorted(e.object_label for e in created) == ["Layanan Antar Jemput Akta", "Sistem Rujukan Terpadu"]
    added = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "innovation.award_added")).all()
    assert sorted(e.object_id for e in added) == sorted([str(akta.id)] * 2 + [str(rujukan.id)])

    again = _upload(client, RESULTS_CSV.encode("utf-8"), "hasil-2019.csv").get_data(as_text=True)
    assert (_count(again, "created"), _count(again, "updated"), _count(again, "unchanged"),
            _count(again, "rejected")) == (0, 0, 3, 6)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Award)) == 3


def _xlsx(rows):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_import_with_english_headers_and_excel_values(client, login, db_session, manado):
    login(SecretariatFactory())
    agency = manado.name
    data = _xlsx([
        ["Daftar hasil KIPP"],                                                         # 1 a title above
        ["Year", "Tier", "Title", "Agency", "Start date", "Decree number", "Catatan"],  # 2 header
        [2020, "Top 99", "Aplikasi Uji", agency, dt.datetime(2017, 6, 1), "SK 1", "x"],  # 3 created
        [2020.0, "Top Inovasi Terpuji", "Aplikasi Uji", agency, None, None, None],     # 4 updated
        ["2022", "Finalis khusus", "aplikasi uji", agency, None, None, None],          # 5 updated
        [2021, "Top 5 replikasi", "Replikasi Uji", agency, 42999, None, None],         # 6 created (serial date)
        ["dua ribu", "Top 99", "Inovasi X", agency, None, None, None],                 # 7 bad year
        [2020, "Top 99", "Inovasi Y", "Dinas Tidak Ada", None, None, None],            # 8 unknown agency
        [2020, "Top 99", "Inovasi Z", agency, 2017, None, None],                       # 9 a year for a date
        [2019, "Top 99", "Inovasi Muda", agency, dt.date(2020, 2, 1), None, None],     # 10 starts after award
    ])
    html = _upload(client, data, "hasil.xlsx").get_data(as_text=True)
    assert _outcomes(html) == {3: "created", 4: "updated", 5: "updated", 6: "created"}
    rejected = _rejected(html)
    assert sorted(rejected) == [7, 8, 9, 10]
    assert "is not a year" in rejected[7]
    assert "There is no agency named Dinas Tidak Ada" in rejected[8]
    assert "is only a year" in rejected[9]
    assert "after the award of 2019" in rejected[10]
    assert "Catatan" in html.split('class="alert alert-info"')[1].split("</div>")[0]  # the ignored column

    aplikasi = _innovation(db_session, "Aplikasi Uji")
    assert _awards(aplikasi) == [(2020, T45), (2020, T99), (2022, FK)]
    assert aplikasi.start_date == dt.date(2017, 6, 1)
    replikasi = _innovation(db_session, "Replikasi Uji")
    assert replikasi.start_date == dt.date(2017, 9, 21)
    assert _awards(replikasi) == [(2021, AwardTier.TOP_5_REPLIKASI)]

    again = _upload(client, data, "hasil.xlsx").get_data(as_text=True)
    assert (_count(again, "created"), _count(again, "updated"), _count(again, "unchanged")) == (0, 0, 4)


def test_import_fills_in_but_never_overwrites(db_session, manado):
    actor = SecretariatFactory()
    innovation = InnovationFactory(agency=manado, title="Inovasi Lama", start_date=None)
    AwardFactory(innovation=innovation, year=2019, tier=T99, decree_number=None)
    with force_locale("en"):  # outside a request the messages would be in Bahasa Indonesia
        report = import_results(actor, [
            {"tahun": 2019, "tingkat": "Top 99", "judul": "Inovasi Lama", "instansi": manado.name,
             "tanggal_mulai": "2018-01-02", "nomor_sk": "SK/1"},
            {"tahun": 2019, "tingkat": "Top 99", "judul": "inovasi lama", "instansi": manado.name,
             "tanggal_mulai": "1 Maret 2017", "unit": "Unit Tidak Dikenal", "nomor_sk": "SK/2"},
        ])
    first, second = report.rows
    assert first.outcome == "updated"
    assert second.outcome == "rejected" and "already appears in row 2" in " ".join(second.problems)
    assert (innovation.start_date, innovation.awards[0].decree_number) == (dt.date(2018, 1, 2), "SK/1")

    with force_locale("en"):
        report = import_results(actor, [
            {"tahun": 2019, "tingkat": "top99", "judul": "Inovasi Lama", "instansi": manado.name,
             "tanggal_mulai": "01-03-2017", "unit": "Unit Tidak Dikenal", "nomor_sk": "SK/2"},
        ])
    [row] = report.rows
    assert row.outcome == "unchanged"
    notes = " ".join(row.notes)
    assert "start date" in notes and "decree number" in notes and "has no unit named Unit Tidak Dikenal" in notes
    assert (innovation.start_date, innovation.awards[0].decree_number) == (dt.date(2018, 1, 2), "SK/1")


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"%PDF-1.7\n binary", "hasil.pdf", "Only CSV (.csv) and Excel (.xlsx) files can be imported"),
        (b"", "hasil.csv", "The file is empty."),
        (b"GIF89a\x00\x00", "hasil.xlsx", "not a readable Excel (.xlsx) workbook"),
        (b"\xd0\xcf\x11\xe0 old excel", "hasil.xls", "Old Excel files (.xls) cannot be read"),
        (b"nama,jenis\nPemerintah Kota Manado,Kota\n", "hasil.csv", "header row with at least the columns"),
        (b"tahun,tingkat,judul,instansi\n", "hasil.csv", "no results below it"),
    ],
)
def test_a_file_that_is_not_a_usable_spreadsheet_is_refused_clearly(client, login, db_session, data, filename,
                                                                    message):
    login(SecretariatFactory())
    page = _upload(client, data, filename)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert message in html
    assert 'data-testid="import-form"' in html
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Innovation)) == 0
    assert db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "innovation.imported")).all() == []


def test_the_import_page_offers_templates_that_import(client, login, db_session, manado):
    login(SecretariatFactory())
    page = client.get("/admin/innovations/import").get_data(as_text=True)
    assert "/admin/innovations/import/template.xlsx" in page and "/admin/innovations/import/template.csv" in page
    csv_template = client.get("/admin/innovations/import/template.csv")
    assert "attachment" in csv_template.headers["Content-Disposition"]
    assert csv_template.data.decode("utf-8-sig").startswith("tahun,tingkat,judul,instansi,unit,tanggal_mulai,nomor_sk")
    workbook = load_workbook(io.BytesIO(client.get("/admin/innovations/import/template.xlsx").data))
    assert manado.name in [c.value for c in workbook.worksheets[-1]["A"]]
    workbook.worksheets[0].append([2019, "Top 45", "Inovasi Dari Template", manado.name, None, dt.date(2016, 1, 4),
                                   "SK/9"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    html = _upload(client, buffer.getvalue(), "template-hasil-kipp.xlsx").get_data(as_text=True)
    assert _count(html, "created") == 1, html
    assert client.get("/admin/innovations/import/template.pdf").status_code == 404


def test_the_cli_entry_point_takes_a_path_or_bytes(db_session, manado, tmp_path):
    path = tmp_path / "hasil.csv"
    path.write_text(f"tahun,tingkat,judul,instansi\n2019,Top 99,Inovasi CLI,{manado.name}\n2019,Top 99,X,Tidak Ada\n",
                    encoding="utf-8")
    report = import_file(None, path)
    assert report.filename == "hasil.csv"
    assert report.counts == {"rows": 2, "created": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    assert "row 3 rejected" in report.as_text()
    again = import_file(None, path.read_bytes(), filename="hasil.csv")
    assert again.counts["unchanged"] == 1
    with pytest.raises(ImportFileError):
        import_file(None, b"nothing", filename="hasil.txt")
    with pytest.raises(NotAllowed):
        import_file(AdminLokalFactory(), path)


# --- list and innovation page -----------------------------------------------------------------


def test_the_list_searches_and_filters(client, login, db_session, manado):
    login(SecretariatFactory())
    other = AgencyFactory(name="Pemerintah Kabupaten Uji Lain")
    akta = InnovationFactory(agency=manado, title="Layanan Akta Cepat")
    AwardFactory(innovation=akta, year=2019, tier=T99)
    AwardFactory(innovation=akta, year=2019, tier=T45)
    sehat = InnovationFactory(agency=other, title="Posyandu Digital")
    AwardFactory(innovation=sehat, year=2021, tier=T99)

    def titles(**params):
        html = client.get("/admin/innovations/", query_string=params).get_data(as_text=True)
        table = _table(html, "innovation-table")
        return {t for t in ("Layanan Akta Cepat", "Posyandu Digital") if t in table}

    assert titles() == {"Layanan Akta Cepat", "Posyandu Digital"}
    assert titles(q="posyandu") == {"Posyandu Digital"}
    assert titles(q="uji manado") == {"Layanan Akta Cepat"}
    assert titles(tier="top45") == {"Layanan Akta Cepat"}
    assert titles(year="2021") == {"Posyandu Digital"}
    assert titles(tier="top45", year="2021") == set()
    assert titles(agency=other.id) == {"Posyandu Digital"}
    assert titles(tier="nonsense", page="x") == {"Layanan Akta Cepat", "Posyandu Digital"}


def test_add_and_remove_awards_on_the_innovation_page(client, login, db_session, manado):
    login(SecretariatFactory())
    innovation = InnovationFactory(agency=manado, title="Inovasi Halaman", start_date=dt.date(2018, 2, 1))
    db_session.commit()  # a refused request rolls back what is not committed
    url = f"/admin/innovations/{innovation.id}"
    assert "Inovasi Halaman" in client.get(url).get_data(as_text=True)

    bad = client.post(f"{url}/awards", data={"year": "2012", "tier": "top99", "decree_number": "SK/KETIK"})
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "The year must be between 2014" in html
    assert 'value="SK/KETIK"' in html and 'value="2012"' in html  # nothing typed is lost

    early = client.post(f"{url}/awards", data={"year": "2017", "tier": "top99"})
    assert early.status_code == 400 and "after 2017" in early.get_data(as_text=True)

    ok = client.post(f"{url}/awards", data={"year": "2019", "tier": "top45", "decree_number": "SK/45"})
    assert ok.status_code == 302
    db_session.refresh(innovation)
    [award] = innovation.awards
    assert (award.year, award.tier, award.decree_number, award.source) == (2019, T45, "SK/45", "manual")

    twice = client.post(f"{url}/awards", data={"year": "2019", "tier": "top45"})
    assert twice.status_code == 400 and "already has Top 45 (Top Inovasi Terpuji) 2019" in twice.get_data(
        as_text=True)

    assert client.post(f"/admin/innovations/awards/{award.id}/remove").status_code == 302
    db_session.expire_all()
    assert innovation.awards == []
    actions = db_session.scalars(sa.select(AuditEvent.action).where(AuditEvent.object_type == "innovations",
                                                                    AuditEvent.object_id == str(innovation.id)))
    assert set(actions) == {"innovation.award_added", "innovation.award_removed"}


def test_create_and_edit_an_innovation(client, login, db_session, manado):
    login(SecretariatFactory())
    unit = manado.units[0]
    db_session.commit()  # a refused request rolls back what is not committed
    missing = client.post("/admin/innovations/new", data={"agency_id": manado.id, "title": "",
                                                          "innovator_decree": "SK/INOV/1"})
    assert missing.status_code == 200
    assert "Enter the title of the innovation." in missing.get_data(as_text=True)
    assert 'value="SK/INOV/1"' in missing.get_data(as_text=True)

    created = client.post("/admin/innovations/new", data={"agency_id": manado.id, "title": "  Inovasi  Baru ",
                                                          "start_date": "2019-04-01"})
    assert created.status_code == 302
    innovation = _innovation(db_session, "Inovasi Baru")
    assert (innovation.agency_id, innovation.start_date) == (manado.id, dt.date(2019, 4, 1))

    clash = client.post("/admin/innovations/new", data={"agency_id": manado.id, "title": "INOVASI BARU"})
    assert "already has an innovation titled Inovasi Baru" in clash.get_data(as_text=True)

    future = (services.today() + dt.timedelta(days=30)).isoformat()
    edit_url = f"/admin/innovations/{innovation.id}/edit"
    refused = client.post(edit_url, data={"title": "Inovasi Baru", "unit_id": unit.id, "start_date": future})
    assert "is in the future" in refused.get_data(as_text=True)
    saved = client.post(edit_url, data={"title": "Inovasi Baru Sekali", "unit_id": unit.id,
                                        "start_date": "2019-04-01", "innovator_decree": "SK/INOV/2"})
    assert saved.status_code == 302
    db_session.refresh(innovation)
    assert (innovation.title, innovation.unit_id, innovation.innovator_decree) == (
        "Inovasi Baru Sekali", unit.id, "SK/INOV/2")


# --- khusus invitations -----------------------------------------------------------------------


def test_khusus_invitation_needs_a_top45(client, login, db_session, manado):
    login(SecretariatFactory())
    edition = _edition()
    top99 = InnovationFactory(agency=manado, title="Baru Top 99")
    AwardFactory(innovation=top99, year=2019, tier=T99)
    db_session.commit()  # a refused request rolls back what is not committed
    page = client.post(f"/admin/innovations/khusus/{edition.id}/invite", data={"innovation_id": top99.id},
                       follow_redirects=True)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Baru Top 99 cannot be invited" in html and "has never been in Top 45" in html
    assert db_session.scalars(sa.select(KhususInvitation)).all() == []


def test_khusus_invitations_page_invite_and_revoke(client, login, db_session, manado):
    actor = SecretariatFactory()
    login(actor)
    edition = _edition()
    winner = InnovationFactory(agency=manado, title="Pemenang 2019")
    AwardFactory(innovation=winner, year=2019, tier=T99)
    AwardFactory(innovation=winner, year=2019, tier=T45)
    outstanding = InnovationFactory(agency=manado, title="Sudah OA")
    AwardFactory(innovation=outstanding, year=2019, tier=T45)
    AwardFactory(innovation=outstanding, year=2021, tier=OA)
    InnovationFactory(agency=manado, title="Tanpa Penghargaan")
    db_session.commit()  # refused requests below roll back what is not committed

    assert client.get("/admin/innovations/khusus").headers["Location"].endswith(f"/khusus/{edition.id}")
    html = client.get(f"/admin/innovations/khusus/{edition.id}").get_data(as_text=True)
    eligible = _table(html, "eligible-table")
    assert "Pemenang 2019" in eligible and "Sudah OA" not in eligible and "Tanpa Penghargaan" not in eligible

    page = client.post(f"/admin/innovations/khusus/{edition.id}/invite", data={"innovation_id": winner.id},
                       follow_redirects=True).get_data(as_text=True)
    assert "Pemenang 2019 is invited" in page
    assert "Pemenang 2019" in _table(page, "invited-table")
    assert "Pemenang 2019" not in _table(page, "eligible-table")
    [invitation] = db_session.scalars(sa.select(KhususInvitation)).all()
    assert (invitation.edition_id, invitation.innovation_id, invitation.invited_by_id) == (
        edition.id, winner.id, actor.id)

    again = client.post(f"/admin/innovations/khusus/{edition.id}/invite", data={"innovation_id": winner.id},
                        follow_redirects=True).get_data(as_text=True)
    assert "already invited" in again

    detail = client.get(f"/admin/innovations/{winner.id}").get_data(as_text=True)
    assert "Invited" in detail.split('data-testid="khusus-status"')[1]

    refused = client.post(f"/admin/innovations/khusus/{edition.id}/invite", data={"innovation_id": outstanding.id},
                          follow_redirects=True).get_data(as_text=True)
    assert "already won Outstanding Achievement (2021)" in refused

    client.post(f"/admin/innovations/khusus/invitations/{invitation.id}/revoke", data={"back": "innovation"})
    assert db_session.scalars(sa.select(KhususInvitation)).all() == []
    actions = set(db_session.scalars(sa.select(AuditEvent.action).where(AuditEvent.object_id == str(winner.id),
                                                                         AuditEvent.object_type == "innovations")))
    assert {"innovation.khusus_invited", "innovation.khusus_revoked"} <= actions


def test_no_invitation_without_a_khusus_group(db_session, manado):
    actor = SecretariatFactory()
    edition = _edition()
    edition.groups.remove(edition.group(GroupCode.KHUSUS))
    db_session.flush()
    winner = InnovationFactory(agency=manado)
    AwardFactory(innovation=winner, year=2019, tier=T45)
    with pytest.raises(DomainError) as error:
        services.invite_khusus(actor, edition, winner)
    assert error.value.code == "no_khusus_group"
    with pytest.raises(NotAllowed):
        services.invite_khusus(UppFactory(), edition, winner)


# --- eligibility from the database ------------------------------------------------------------


def test_eligibility_facts_and_messages(db_session, manado):
    edition = _edition(2027)
    closing = services.submission_closing_date(edition)
    assert closing == dt.date(2027, 5, 6)
    innovation = InnovationFactory(agency=manado, title="Inovasi Muda", start_date=dt.date(2026, 1, 1))
    AwardFactory(innovation=innovation, year=2021, tier=T99)
    AwardFactory(innovation=innovation, year=2023, tier=T99)

    umum = services.eligibility_facts(group=edition.group(GroupCode.UMUM), closing_date=closing,
                                      innovation=innovation)
    khusus = services.eligibility_facts(group=edition.group(GroupCode.KHUSUS), closing_date=closing,
                                        innovation=innovation)
    with force_locale("en"):
        assert services.eligibility_messages(umum) == [
            ("too_young", "The innovation must be at least 24 months old on 6 May 2027; it started on 1 Jan 2026 "
                          "(it would have had to start on or before 6 May 2025)."),
            ("top99_twice", "An innovation that reached Top 99 in 2 different years cannot enter kelompok umum "
                            "again; this one was in Top 99 in 2021, 2023."),
        ]
        assert [code for code, _message in services.eligibility_messages(khusus)] == [
            "too_young", "khusus_needs_top45", "khusus_needs_invitation"]
        for code in rules.PROBLEM_CODES:
            assert services.eligibility_message(code, umum) != code

    # A new innovation stated on a proposal, replicating a past Top 99.
    replikasi = edition.group(GroupCode.KHUSUS)  # any group object with its own min age works for the facts
    facts = services.eligibility_facts(group=replikasi, closing_date=closing, start_date=dt.date(2020, 1, 1))
    assert (facts.start_date, facts.awards, facts.innovation_id) == (dt.date(2020, 1, 1), (), None)


# --- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("factory", [AdminLokalFactory, UppFactory, EvaluatorFactory])
def test_other_roles_get_404(client, login, db_session, factory):
    innovation = InnovationFactory()
    login(factory())
    for url in ("/admin/innovations/", f"/admin/innovations/{innovation.id}", "/admin/innovations/import",
                "/admin/innovations/khusus"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/admin/innovations/{innovation.id}/awards",
                       data={"year": "2019", "tier": "top99"}).status_code == 404
    assert db_session.scalars(sa.select(Award)).all() == []


def test_services_refuse_other_roles(db_session, manado):
    upp = UppFactory()
    with pytest.raises(NotAllowed):
        services.create_innovation(upp, agency=manado, title="X")
    innovation = InnovationFactory(agency=manado)
    with pytest.raises(NotAllowed):
        services.add_award(upp, innovation, year=2019, tier=T99)
    with pytest.raises(NotAllowed):
        import_results(upp, [])


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "anonymous")
def test_every_innovations_route_answers_each_role(app, client, db_session, role):
    """The route-access walk for this blueprint alone: the secretariat gets in, others get 404 (or login)."""
    from flask import url_for

    from tests.factories import PanelistFactory

    edition = _edition(2031)
    innovation = InnovationFactory()
    award = AwardFactory(innovation=innovation, tier=T45)
    invitation = KhususInvitation(edition_id=edition.id, innovation_id=innovation.id,
                                  invited_by_id=SecretariatFactory().id)
    db_session.add(invitation)
    db_session.flush()
    people = {Role.SECRETARIAT: SecretariatFactory, Role.ADMIN_LOKAL: AdminLokalFactory, Role.UPP: UppFactory,
              Role.EVALUATOR: EvaluatorFactory, Role.PANELIST: PanelistFactory}
    if role is not None:
        login = people[role]()
        db_session.commit()
        from tests.conftest import Login

        Login(client)(login)
    values = {"innovation_id": innovation.id, "award_id": award.id, "invitation_id": invitation.id,
              "edition_id": edition.id, "fmt": "csv"}
    connection = db_session.get_bind()
    rules_ = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("innovations.")]
    assert len(rules_) == 12
    for rule in rules_:
        with app.test_request_context():
            url = url_for(rule.endpoint, **{arg: values[arg] for arg in rule.arguments})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            db_session.close()
            savepoint = connection.begin_nested()
            response = client.open(url, method=method)
            db_session.close()
            savepoint.rollback()
            where = f"{method} {url} as {role.value if role else 'anonymous'}"
            if role is Role.SECRETARIAT:
                assert response.status_code not in (403, 404, 500), f"{where} answered {response.status_code}"
            elif role is None:
                assert response.status_code == 302 and "/login" in response.headers["Location"], where
            else:
                assert response.status_code == 404, f"{where} answered {response.status_code}"
