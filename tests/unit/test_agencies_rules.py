"""Pure rules of agencies and of the agency import: no app, no database."""

from __future__ import annotations

import datetime as dt
import io
from types import SimpleNamespace

import pytest

from kipp.accounts.roles import Role
from kipp.agencies.importer import (
    ImportFileError,
    RawRow,
    RegionCodeError,
    check_row,
    header_field,
    normalise_region_code,
    parse_agency_type,
    parse_cluster,
    parse_flag,
    read_table,
    template_csv,
    template_xlsx,
    validate_rows,
)
from kipp.agencies.kinds import AgencyType, Cluster, region_kind, region_problem
from kipp.agencies.services import can_manage_agencies, can_manage_units, normalise_name

pytestmark = pytest.mark.unit

REGIONS = {"71": "Sulawesi Utara", "71.71": "Kota Manado", "71.01": "Kabupaten Bolaang Mongondow",
           "11": "Aceh", "11.10": "Kabupaten Aceh Singkil", "11.01": "Kabupaten Aceh Selatan"}


# --- region and type -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agency_type", "code", "problem"),
    [
        (AgencyType.PROVINSI, "71", None),
        (AgencyType.PROVINSI, "71.71", "region_must_be_provinsi"),
        (AgencyType.KABUPATEN, "71.01", None),
        (AgencyType.KABUPATEN, "71.71", "region_must_be_kabupaten"),
        (AgencyType.KABUPATEN, "71", "region_must_be_kabupaten"),
        (AgencyType.KOTA, "71.71", None),
        (AgencyType.KOTA, "71.01", "region_must_be_kota"),
        (AgencyType.KOTA, None, "region_required"),
        (AgencyType.BUMD, None, "region_required"),
        (AgencyType.BUMD, "71", None),
        (AgencyType.BUMD, "71.71", None),
        (AgencyType.KEMENTERIAN, None, None),
        (AgencyType.LEMBAGA, "31.71", None),
        (AgencyType.BUMN, None, None),
        (AgencyType.KOTA, "7", "region_code_invalid"),
    ],
)
def test_region_must_fit_the_agency_type(agency_type, code, problem):
    assert region_problem(agency_type, code) == problem


def test_kota_codes_start_at_71():
    assert region_kind("71") == "provinsi"
    assert region_kind("71.70") == "kabupaten"
    assert region_kind("71.71") == "kota"


# --- region codes from spreadsheets ----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("71", "71"),
        ("71.71", "71.71"),
        (" 71.71 ", "71.71"),
        ("'11.10", "11.10"),
        (71, "71"),
        (71.0, "71"),
        (71.71, "71.71"),          # Excel made the text 71.71 a number
        (11.01, "11.01"),          # ... and 11.01 stays 11.01
        (11.1, "11.10"),           # ... but 11.10 lost its trailing zero
        (71.70999999999999, "71.71"),
        ("11.1", "11.10"),         # the same, saved again as CSV
        ("11,1", "11.10"),         # an Indonesian-locale CSV writes a decimal comma
        ("71,71", "71.71"),
        ("11.010", "11.01"),
        (7171, "71.71"),           # four digits without a dot
        ("1101", "11.01"),
        ("", None),
        (None, None),
        ("  ", None),
    ],
)
def test_region_codes_are_read_back_from_what_spreadsheets_make_of_them(raw, code):
    assert normalise_region_code(raw) == code


@pytest.mark.parametrize("raw", ["7", "711", "71.7.1", "abc", "11.011", 11.011, -71, True, "71.71a", 71171])
def test_unreadable_region_codes_are_refused(raw):
    with pytest.raises(RegionCodeError) as caught:
        normalise_region_code(raw)
    assert caught.value.reason == "format"


def test_a_code_excel_turned_into_a_date_is_refused_not_guessed():
    with pytest.raises(RegionCodeError) as caught:
        normalise_region_code(dt.datetime(2026, 1, 11))
    assert caught.value.reason == "date"


# --- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("ya", True), ("YA", True), ("Yes", True), ("y", True), ("1", True), ("true", True), ("TRUE", True),
        (True, True), (1, True), (1.0, True),
        ("tidak", False), ("Tidak", False), ("no", False), ("0", False), ("false", False), ("n", False),
        (False, False), (0, False), ("", False), (None, False), ("  ", False),
        ("mungkin", None), ("2", None), (2, None), ("t", None),
    ],
)
def test_yes_no_values(raw, value):
    assert parse_flag(raw) is value


@pytest.mark.parametrize(
    ("raw", "agency_type"),
    [
        ("Kementerian", AgencyType.KEMENTERIAN),
        ("KEMENTERIAN", AgencyType.KEMENTERIAN),
        ("Lembaga", AgencyType.LEMBAGA),
        ("Pemerintah Provinsi", AgencyType.PROVINSI),
        ("Provinsi", AgencyType.PROVINSI),
        ("Pemerintah Kabupaten", AgencyType.KABUPATEN),
        ("kabupaten", AgencyType.KABUPATEN),
        ("Pemkab", AgencyType.KABUPATEN),
        ("Pemerintah  Kota", AgencyType.KOTA),
        ("Kota", AgencyType.KOTA),
        ("BUMN", AgencyType.BUMN),
        ("bumd", AgencyType.BUMD),
        ("kota", AgencyType.KOTA),
        ("Kecamatan", None),
        ("", None),
        (None, None),
    ],
)
def test_agency_types_in_their_usual_spellings(raw, agency_type):
    assert parse_agency_type(raw) is agency_type


@pytest.mark.parametrize(
    ("raw", "cluster"),
    [("BUMN/BUMD", Cluster.BUMN_BUMD), ("bumn_bumd", Cluster.BUMN_BUMD), ("BUMD", Cluster.BUMN_BUMD),
     ("Provinsi", Cluster.PROVINSI), ("kota", Cluster.KOTA), ("desa", None)],
)
def test_clusters(raw, cluster):
    assert parse_cluster(raw) is cluster


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("nama", "name"), ("NAMA", "name"), (" Nama ", "name"), ("\ufeffnama", "name"), ("Nama Instansi", "name"),
        ("name", "name"),
        ("jenis", "type"), ("Jenis", "type"), ("type", "type"),
        ("klaster", "cluster"), ("Cluster", "cluster"),
        ("kode_wilayah", "region_code"), ("Kode Wilayah", "region_code"), ("KODE-WILAYAH", "region_code"),
        ("3t", "is_3t"), ("3T", "is_3t"), ("Daerah Tertinggal", "is_3t"),
        ("alamat", None), ("", None), (None, None),
    ],
)
def test_header_aliases(header, field):
    assert header_field(header) == field


def test_names_are_trimmed_and_single_spaced():
    assert normalise_name("  Pemerintah   Kota\tManado ") == "Pemerintah Kota Manado"


# --- who -------------------------------------------------------------------------------------


def _person(role, agency_id=None):
    return SimpleNamespace(role=role, agency_id=agency_id)


def test_only_the_secretariat_and_the_system_manage_agencies():
    assert can_manage_agencies(None)
    assert can_manage_agencies(_person(Role.SECRETARIAT))
    for role in (Role.ADMIN_LOKAL, Role.UPP, Role.EVALUATOR, Role.PANELIST):
        assert not can_manage_agencies(_person(role, 1))


def test_an_admin_lokal_manages_the_units_of_its_own_agency_only():
    assert can_manage_units(_person(Role.ADMIN_LOKAL, 1), 1)
    assert not can_manage_units(_person(Role.ADMIN_LOKAL, 1), 2)
    assert can_manage_units(_person(Role.SECRETARIAT), 2)
    assert not can_manage_units(_person(Role.UPP, 1), 1)
    assert not can_manage_units(_person(Role.EVALUATOR, 1), 1)


# --- row checks ------------------------------------------------------------------------------


def _row(number=2, **values):
    return RawRow(row=number, values=values)


def test_a_good_row_is_read():
    result = check_row(_row(name="Pemerintah Kota Manado", type="Pemerintah Kota", region_code=71.71,
                            is_3t="tidak"), regions=REGIONS)
    assert result.accepted, result.problems
    assert (result.type, result.region_code, result.is_3t, result.cluster) == (AgencyType.KOTA, "71.71", False, None)
    assert result.notes == []


def test_a_bad_row_collects_every_reason():
    result = check_row(_row(name="", type="Kecamatan", region_code="99.99", is_3t="mungkin", cluster="desa"),
                       regions=REGIONS)
    assert not result.accepted
    text = " ".join(result.problems)
    assert len(result.problems) == 5, result.problems
    assert "name is missing" in text
    assert "Kecamatan" in text
    assert "99.99" in text
    assert "mungkin" in text
    assert "desa" in text


def test_a_region_of_the_wrong_level_is_rejected():
    result = check_row(_row(name="Pemerintah Kabupaten X", type="Kabupaten", region_code="71.71"), regions=REGIONS)
    assert result.problems == ["A Pemerintah Kabupaten must have a kabupaten as its region, not 71.71."]


def test_a_code_whose_zero_excel_dropped_is_noted():
    result = check_row(_row(name="Pemerintah Kabupaten Aceh Singkil", type="Kabupaten", region_code=11.1),
                       regions=REGIONS)
    assert result.accepted
    assert result.region_code == "11.10"
    assert result.notes == ["Region code 11.1 read as 11.10."]


def test_a_regional_government_named_after_another_region_gets_a_note():
    result = check_row(_row(name="Pemerintah Kabupaten Aceh Selatan", type="Kabupaten", region_code="11.10"),
                       regions=REGIONS)
    assert result.accepted
    assert any("Aceh Singkil" in n for n in result.notes)


def test_duplicate_names_in_a_file_are_rejected_after_the_first():
    results = validate_rows(
        [
            _row(2, name="Kementerian Uji", type="Kementerian"),
            _row(3, name="kementerian  UJI", type="Kementerian"),
            _row(4, name="Lembaga Uji", type="Lembaga"),
        ],
        regions=REGIONS,
    )
    assert [r.accepted for r in results] == [True, False, True]
    assert "row 2" in results[1].problems[0]


# --- files -----------------------------------------------------------------------------------


def test_csv_with_bom_and_semicolons_and_indonesian_headers():
    data = "\ufeffNama;Jenis;Kode Wilayah;3T\r\nPemerintah Kota Manado;Kota;71,71;ya\r\n\r\n;;;\r\nBPS;Lembaga;;\r\n"
    parsed = read_table(data.encode("utf-8"), "instansi.csv")
    assert [(r.row, r.values["name"], r.values["region_code"]) for r in parsed.rows] == [
        (2, "Pemerintah Kota Manado", "71,71"),
        (5, "BPS", ""),
    ]


def test_csv_with_commas_and_quoted_names_and_extra_columns():
    data = 'nama,jenis,alamat\n"Kementerian A, B dan C",Kementerian,Jakarta\n'
    parsed = read_table(data.encode(), "a.CSV")
    assert parsed.rows[0].values["name"] == "Kementerian A, B dan C"
    assert parsed.ignored_columns == ["alamat"]


def test_a_title_row_above_the_header_is_skipped():
    data = "Daftar instansi peserta KIPP\n\nnama,jenis\nBPS,Lembaga\n"
    parsed = read_table(data.encode(), "a.csv")
    assert [(r.row, r.values["name"]) for r in parsed.rows] == [(4, "BPS")]


def test_xlsx_first_sheet_with_numeric_codes():
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["NAMA", "JENIS", "KODE_WILAYAH", "3T", "KLASTER"])
    sheet.append(["Pemerintah Kabupaten Aceh Singkil", "Pemerintah Kabupaten", 11.1, True, None])
    sheet.append([None, None, None, None, None])
    sheet.append(["Pemerintah Provinsi Aceh", "Provinsi", 11, 0, "provinsi"])
    workbook.create_sheet("Other").append(["nama", "jenis"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    parsed = read_table(buffer.getvalue(), "instansi.xlsx")
    results = validate_rows(parsed.rows, regions=REGIONS)
    assert [(r.row, r.region_code, r.is_3t, r.accepted) for r in results] == [
        (2, "11.10", True, True),
        (4, "11", False, True),
    ]


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"%PDF-1.4 ...", "instansi.pdf", "Only CSV (.csv) and Excel (.xlsx)"),
        (b"", "instansi.csv", "The file is empty."),
        (b"\xef\xbb\xbf\r\n\r\n", "instansi.csv", "The file is empty."),
        (b"alamat,kota\nJl. Uji,Manado\n", "instansi.csv", "header row with at least the columns"),
        (b"nama,jenis\n", "instansi.csv", "no agencies below it"),
        (b"nama,nama,jenis\nA,B,Lembaga\n", "instansi.csv", "appears twice"),
        (b"\xd0\xcf\x11\xe0 old excel", "instansi.xls", "Old Excel files (.xls)"),
        (b"not a zip at all", "instansi.xlsx", "not a readable Excel"),
        (b"nama,jenis\n\xff\xfeBPS,Lembaga\n", "instansi.csv", "not in UTF-8"),
        (b"PK\x03\x04rest", "instansi.csv", "Excel workbook with a .csv name"),
    ],
)
def test_files_that_cannot_be_imported_get_one_clear_message(data, filename, message):
    with pytest.raises(ImportFileError) as caught:
        read_table(data, filename)
    assert message in caught.value.message


def test_the_templates_have_the_expected_columns():
    assert template_csv().decode("utf-8-sig").strip() == "nama,jenis,klaster,kode_wilayah,3t"
    parsed_header = template_xlsx([("71", "Sulawesi Utara"), ("71.71", "Kota Manado")])
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(parsed_header))
    assert [c.value for c in workbook.worksheets[0][1]] == ["nama", "jenis", "klaster", "kode_wilayah", "3t"]
    assert workbook.worksheets[-1]["A3"].value == "71.71"


def test_an_empty_first_sheet_is_reported_even_if_another_sheet_has_data():
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.create_sheet("Data").append(["nama", "jenis"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(ImportFileError) as caught:
        read_table(buffer.getvalue(), "instansi.xlsx")
    assert "first sheet" in caught.value.message
