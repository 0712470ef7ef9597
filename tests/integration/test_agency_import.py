"""Importing agencies from CSV and XLSX files, through the import page and the CLI function."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from kipp.agencies.importer import ImportFileError, import_agencies, import_file
from kipp.agencies.kinds import AgencyType, Cluster
from kipp.agencies.models import Agency
from kipp.audit.models import AuditEvent
from kipp.errors import NotAllowed
from tests.factories import AdminLokalFactory, AgencyFactory, SecretariatFactory

pytestmark = pytest.mark.integration

# Row numbers as a spreadsheet shows them: the header is row 1.
GOOD_AND_BAD_CSV = (
    "\ufeffnama;jenis;kode_wilayah;3t;klaster\r\n"
    "Pemerintah Kota Manado;Pemerintah Kota;71,71;tidak;\r\n"                 # 2 created
    "Pemerintah Kabupaten Aceh Singkil;Kabupaten;11.1;ya;\r\n"               # 3 created (11.1 -> 11.10)
    "Pemerintah Kabupaten Salah;Kabupaten;71.71;tidak;\r\n"                  # 4 rejected: a kota code
    "Badan Pusat Statistik;Lembaga;;;\r\n"                                   # 5 created
    ";Kecamatan;99.99;mungkin;\r\n"                                          # 6 rejected: four reasons
    "\r\n"                                                                    # 7 blank: skipped
    "pemerintah kota manado;Kota;71.71;;\r\n"                                # 8 rejected: duplicate of row 2
    "PT Bank Uji;BUMN;;;BUMN/BUMD\r\n"                                       # 9 created
)


def _names(db_session):
    return set(db_session.scalars(sa.select(Agency.name)))


def _rejected_rows(html):
    return [int(n) for n in re.findall(r'<tr data-row="(\d+)">\s*<td>\d+</td><td>', html.split("rejected-table")[1]
                                       .split("</table>")[0])] if "rejected-table" in html else []


def _upload(client, data, filename):
    return client.post("/admin/agencies/import", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_csv_import_with_good_and_bad_rows(client, login, db_session):
    actor = SecretariatFactory()
    login(actor)
    page = _upload(client, GOOD_AND_BAD_CSV.encode("utf-8"), "instansi.csv")
    assert page.status_code == 200
    html = page.get_data(as_text=True)

    assert re.search(r'data-testid="count-rows">7<', html)
    assert re.search(r'data-testid="count-created">4<', html)
    assert re.search(r'data-testid="count-rejected">3<', html)
    assert _rejected_rows(html) == [4, 6, 8]
    rejected = html.split("rejected-table")[1]
    assert "must have a kabupaten as its region, not 71.71" in rejected
    assert "The agency name is missing." in rejected
    assert "Unknown type &#34;Kecamatan&#34;" in rejected or "Unknown type &quot;Kecamatan&quot;" in rejected
    assert "There is no region with code 99.99." in rejected
    assert "mungkin" in rejected
    assert "already appears in row 2" in rejected
    assert "Region code 11.1 read as 11.10." in html

    assert {"Pemerintah Kota Manado", "Pemerintah Kabupaten Aceh Singkil", "Badan Pusat Statistik",
            "PT Bank Uji"} <= _names(db_session)
    assert "Pemerintah Kabupaten Salah" not in _names(db_session)
    singkil = db_session.scalar(sa.select(Agency).where(Agency.name == "Pemerintah Kabupaten Aceh Singkil"))
    assert (singkil.type, singkil.cluster, singkil.region_code, singkil.is_3t) == (
        AgencyType.KABUPATEN, Cluster.KABUPATEN, "11.10", True)
    bank = db_session.scalar(sa.select(Agency).where(Agency.name == "PT Bank Uji"))
    assert (bank.type, bank.cluster, bank.region_code) == (AgencyType.BUMN, Cluster.BUMN_BUMD, None)

    [event] = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "agency.imported")).all()
    assert event.actor_id == actor.id
    assert (event.after["created"], event.after["rejected"], event.after["file"]) == (4, 3, "instansi.csv")
    assert set(event.after["rejected_rows"]) == {"4", "6", "8"}
    created = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "agency.created")).all()
    assert len(created) == 4


def _xlsx(rows):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_import_then_reimport_updates(client, login, db_session):
    login(SecretariatFactory())
    first = _xlsx([
        ["Nama", "Jenis", "Kode Wilayah", "3T"],
        ["Pemerintah Provinsi Sulawesi Utara", "Pemerintah Provinsi", 71, False],     # 2 created
        ["Pemerintah Kota Bitung", "Kota", 71.72, "ya"],                             # 3 created
        ["Pemerintah Kota Tanpa Wilayah", "Kota", None, None],                       # 4 rejected
    ])
    html = _upload(client, first, "instansi.xlsx").get_data(as_text=True)
    assert re.search(r'data-testid="count-created">2<', html)
    assert _rejected_rows(html) == [4]
    assert "needs a region" in html

    bitung = db_session.scalar(sa.select(Agency).where(Agency.name == "Pemerintah Kota Bitung"))
    assert (bitung.region_code, bitung.is_3t) == ("71.72", True)

    second = _xlsx([
        ["nama", "jenis", "kode_wilayah", "3t"],
        ["PEMERINTAH KOTA BITUNG", "Kota", "71.72", "tidak"],                     # 2 updated (3T off)
        ["Pemerintah Provinsi Sulawesi Utara", "Provinsi", "71", "tidak"],       # 3 unchanged
        ["Pemerintah Kota Tomohon", "Kota", 71.73, ""],                          # 4 created
    ])
    html = _upload(client, second, "instansi-2.xlsx").get_data(as_text=True)
    assert re.search(r'data-testid="count-updated">1<', html)
    assert re.search(r'data-testid="count-unchanged">1<', html)
    assert re.search(r'data-testid="count-created">1<', html)
    assert re.search(r'data-testid="count-rejected">0<', html)
    db_session.refresh(bitung)
    assert (bitung.name, bitung.is_3t) == ("PEMERINTAH KOTA BITUNG", False)
    [update] = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "agency.updated")).all()
    assert update.object_id == str(bitung.id)
    assert (update.before["is_3t"], update.after["is_3t"]) == (True, False)
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Agency)
                             .where(sa.func.lower(Agency.name) == "pemerintah kota bitung")) == 1


def test_reimport_keeps_a_chosen_cluster_when_the_file_has_none(db_session):
    actor = SecretariatFactory()
    agency = AgencyFactory(name="Lembaga Khusus", type=AgencyType.LEMBAGA, cluster=Cluster.KEMENTERIAN,
                           region_code=None)
    report = import_agencies(actor, [{"nama": "Lembaga Khusus", "jenis": "Lembaga", "3t": "ya"}])
    assert [r.outcome for r in report.rows] == ["updated"]
    assert (agency.cluster, agency.is_3t) == (Cluster.KEMENTERIAN, True)


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"%PDF-1.7\n binary", "instansi.pdf", "Only CSV (.csv) and Excel (.xlsx) files can be imported"),
        (b"", "instansi.csv", "The file is empty."),
        (b"GIF89a\x00\x00", "instansi.xlsx", "not a readable Excel (.xlsx) workbook"),
        (b"alamat,telepon\nJl. Uji,021\n", "instansi.csv", "header row with at least the columns"),
    ],
)
def test_a_file_that_is_not_a_usable_spreadsheet_is_refused_clearly(client, login, db_session, data, filename,
                                                                    message):
    login(SecretariatFactory())
    before = db_session.scalar(sa.select(sa.func.count()).select_from(Agency))
    page = _upload(client, data, filename)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert message in html
    assert 'data-testid="import-form"' in html
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Agency)) == before
    assert db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "agency.imported")).all() == []


def test_the_import_page_offers_templates(client, login):
    login(SecretariatFactory())
    page = client.get("/admin/agencies/import").get_data(as_text=True)
    assert "/admin/agencies/import/template.xlsx" in page and "/admin/agencies/import/template.csv" in page
    csv_template = client.get("/admin/agencies/import/template.csv")
    assert csv_template.status_code == 200
    assert "attachment" in csv_template.headers["Content-Disposition"]
    assert csv_template.data.decode("utf-8-sig").startswith("nama,jenis,klaster,kode_wilayah,3t")
    xlsx = client.get("/admin/agencies/import/template.xlsx")
    assert xlsx.status_code == 200
    workbook = load_workbook(io.BytesIO(xlsx.data))
    assert [c.value for c in workbook.worksheets[0][1]] == ["nama", "jenis", "klaster", "kode_wilayah", "3t"]
    regions = workbook.worksheets[-1]
    assert regions.max_row == 1 + 38 + 514
    assert client.get("/admin/agencies/import/template.pdf").status_code == 404


def test_the_filled_in_template_imports(client, login, db_session):
    login(SecretariatFactory())
    workbook = load_workbook(io.BytesIO(client.get("/admin/agencies/import/template.xlsx").data))
    sheet = workbook.worksheets[0]
    sheet.append(["Pemerintah Kota Manado", "Pemerintah Kota", "Kota", "71.71", "tidak"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    html = _upload(client, buffer.getvalue(), "template-instansi.xlsx").get_data(as_text=True)
    assert re.search(r'data-testid="count-created">1<', html), html


def test_the_cli_entry_point_takes_a_path_or_bytes(db_session, tmp_path):
    path = tmp_path / "instansi.csv"
    path.write_text("nama,jenis,kode_wilayah\nPemerintah Provinsi Aceh,Provinsi,11\nSalah,Kota,11\n",
                    encoding="utf-8")
    report = import_file(None, path)
    assert report.filename == "instansi.csv"
    assert report.counts == {"rows": 2, "created": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    assert "row 3 rejected" in report.as_text()
    again = import_file(None, path.read_bytes(), filename="instansi.csv")
    assert again.counts["unchanged"] == 1
    with pytest.raises(ImportFileError):
        import_file(None, b"nothing", filename="instansi.txt")


def test_only_the_secretariat_or_the_system_imports(db_session):
    with pytest.raises(NotAllowed):
        import_agencies(AdminLokalFactory(), [{"nama": "X", "jenis": "Lembaga"}])
