"""Importing agencies from a CSV or XLSX file, with a per-row report.

Three steps, the first two pure (no database):

1. ``read_table(data, filename)`` reads the file into numbered ``RawRow``s keyed by
   field (``name``, ``type``, ``cluster``, ``region_code``, ``is_3t``), finding the
   columns by their header, in Indonesian or English, ignoring case. A file that
   cannot be read raises ``ImportFileError`` with one clear message. The reading
   itself is :mod:`kipp.spreadsheets`, shared by every importer; this module gives
   it the agency columns (``LAYOUT``).
2. ``validate_rows(rows, regions=...)`` checks every row and collects *every*
   reason a row is rejected.
3. ``import_agencies(actor, rows)`` creates the agencies of the rows that pass, or
   updates the agency of the same name, and returns an ``ImportReport``. Rejected
   rows change nothing. The import is one audit event, plus the usual events of
   each agency created or updated.

``import_file(actor, path_or_bytes, filename=...)`` does all three (for the CLI).

Region codes and Excel: a code such as ``71.71`` typed into a spreadsheet often
becomes the *number* 71.71, and ``11.10`` becomes 11.1 (the trailing zero is
lost; an Indonesian-locale CSV may even write ``11,1``). Kemendagri codes always
have two digits after the dot, so a number or a text with one digit after the
separator is read with the zero put back (11.1 -> 11.10, 11.01 stays 11.01);
whole numbers are province codes (71), and four digits without a dot are a
kabupaten/kota code (7171 -> 71.71). Any such reading is noted in the report.
A cell that Excel turned into a date is refused with advice, not guessed.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from os import PathLike
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from kipp import spreadsheets
from kipp.accounts.models import User
from kipp.agencies import services
from kipp.agencies.kinds import (
    AGENCY_TYPE_LABELS,
    CLUSTER_LABELS,
    AgencyType,
    Cluster,
    region_kind,
    region_problem,
)
from kipp.agencies.models import Region
from kipp.extensions import db

# What every import shares, still importable from here.
from kipp.spreadsheets import (  # noqa: F401
    CREATED,
    HEADER_SEARCH_ROWS,
    MAX_BLANK_RUN,
    MAX_BYTES,
    MAX_ROWS,
    REJECTED,
    UNCHANGED,
    UPDATED,
    ImportFileError,
    ParsedFile,
    RawRow,
    display_value,
    normalise_header,
)
from kipp.spreadsheets import words as _words

# Accepted column names, after ``normalise_header``, by field in the template's order.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("nama", "nama_instansi", "instansi", "name", "agency", "agency_name"),
    "type": ("jenis", "jenis_instansi", "tipe", "type", "agency_type"),
    "cluster": ("klaster", "kluster", "cluster"),
    "region_code": ("kode_wilayah", "kode_wil", "kode", "wilayah", "region_code", "region"),
    "is_3t": ("3t", "is_3t", "daerah_3t", "daerah_tertinggal", "tertinggal"),
}
REQUIRED_FIELDS = ("name", "type")
# The column names of the template, in this order.
TEMPLATE_HEADERS = ("nama", "jenis", "klaster", "kode_wilayah", "3t")

LAYOUT = spreadsheets.Layout(
    HEADER_ALIASES,
    template_headers=TEMPLATE_HEADERS,
    required=REQUIRED_FIELDS,
    missing_header=lambda found: _(
        "The file needs a header row with at least the columns \"nama\" and \"jenis\" "
        "(and usually \"kode_wilayah\", \"3t\", \"klaster\"). The first row holds: %(found)s. "
        "Download the template to see the expected columns.", found=found),
    no_rows=lambda: _("The file has a header row but no agencies below it."),
)
FIELDS = LAYOUT.fields
HEADER_OF = LAYOUT.header_of
header_field = LAYOUT.header_field


# --- values ----------------------------------------------------------------------------------

_TYPE_WORDS: dict[str, AgencyType] = {
    "kementerian": AgencyType.KEMENTERIAN,
    "kementrian": AgencyType.KEMENTERIAN,
    "ministry": AgencyType.KEMENTERIAN,
    "lembaga": AgencyType.LEMBAGA,
    "lpnk": AgencyType.LEMBAGA,
    "lembaga pemerintah non kementerian": AgencyType.LEMBAGA,
    "provinsi": AgencyType.PROVINSI,
    "prov": AgencyType.PROVINSI,
    "pemprov": AgencyType.PROVINSI,
    "province": AgencyType.PROVINSI,
    "kabupaten": AgencyType.KABUPATEN,
    "kab": AgencyType.KABUPATEN,
    "pemkab": AgencyType.KABUPATEN,
    "regency": AgencyType.KABUPATEN,
    "kota": AgencyType.KOTA,
    "pemkot": AgencyType.KOTA,
    "city": AgencyType.KOTA,
    "bumn": AgencyType.BUMN,
    "bumd": AgencyType.BUMD,
}


def parse_agency_type(value: Any) -> AgencyType | None:
    """'Pemerintah Kabupaten', 'Kabupaten', 'pemkab', 'kabupaten' ... -> AgencyType; None if unknown."""
    if value is None:
        return None
    words = _words(value)
    for prefix in ("pemerintah daerah ", "pemerintah ", "pemda "):
        if words.startswith(prefix):
            words = words[len(prefix):]
            break
    return _TYPE_WORDS.get(words)


_CLUSTER_WORDS: dict[str, Cluster] = {
    "kementerian": Cluster.KEMENTERIAN,
    "kementrian": Cluster.KEMENTERIAN,
    "lembaga": Cluster.LEMBAGA,
    "provinsi": Cluster.PROVINSI,
    "kabupaten": Cluster.KABUPATEN,
    "kota": Cluster.KOTA,
    "bumn bumd": Cluster.BUMN_BUMD,
    "bumn": Cluster.BUMN_BUMD,
    "bumd": Cluster.BUMN_BUMD,
}


def parse_cluster(value: Any) -> Cluster | None:
    """'BUMN/BUMD', 'bumn_bumd', 'Provinsi', 'Pemerintah Kota' ... -> Cluster; None if unknown."""
    if value is None:
        return None
    words = _words(value)
    if words.startswith("pemerintah "):
        words = words[len("pemerintah "):]
    return _CLUSTER_WORDS.get(words)


TRUE_WORDS = frozenset({"ya", "y", "iya", "yes", "1", "true", "benar", "v", "x"})
FALSE_WORDS = frozenset({"tidak", "tdk", "bukan", "no", "n", "0", "false", "salah", "-"})


def parse_flag(value: Any) -> bool | None:
    """ya/tidak, yes/no, 1/0, true/false (any case; spreadsheet booleans and numbers too).

    Empty is False; None means the value is not understood.
    """
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, decimal.Decimal)):
        if value == 1:
            return True
        if value == 0:
            return False
        return None
    words = _words(value)
    if words == "":
        return False
    if words in TRUE_WORDS:
        return True
    if words in FALSE_WORDS:
        return False
    return None


class RegionCodeError(ValueError):
    """A region code that cannot be read; ``reason`` is 'date' or 'format'."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_DOTTED = re.compile(r"(\d{2})\s*[.,]\s*(\d+)")


def normalise_region_code(value: Any) -> str | None:
    """A region code in the official form ('71' or '71.71'), None when empty.

    Undoes what spreadsheets do to codes (see the module docstring); raises
    RegionCodeError for anything else. Whether the region exists is not checked.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise RegionCodeError("format")
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        raise RegionCodeError("date")
    if isinstance(value, (int, float, decimal.Decimal)):
        text = _number_as_code_text(value)
    else:
        text = str(value).strip().lstrip("'").strip()
    if text == "":
        return None
    if re.fullmatch(r"\d{2}", text):
        return text
    if re.fullmatch(r"\d{4}", text):
        return f"{text[:2]}.{text[2:]}"
    match = _DOTTED.fullmatch(text)
    if match:
        province, regency = match.groups()
        if len(regency) > 2:
            if regency[2:].strip("0"):
                raise RegionCodeError("format")
            regency = regency[:2]
        # One digit after the dot: a trailing zero lost to a number format (11.1 is 11.10).
        return f"{province}.{regency.ljust(2, '0')}"
    raise RegionCodeError("format")


def _number_as_code_text(value: int | float | decimal.Decimal) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        raise RegionCodeError("format")
    number = decimal.Decimal(str(value)) if isinstance(value, float) else decimal.Decimal(value)
    if number < 0:
        raise RegionCodeError("format")
    if number == number.to_integral_value():
        return str(int(number))
    # Two decimals, as Kemendagri writes them; a float's noise (71.70999...) rounds away,
    # but a value with real digits beyond the second decimal is not a code.
    rounded = number.quantize(decimal.Decimal("0.01"))
    if abs(rounded - number) > decimal.Decimal("0.000001"):
        raise RegionCodeError("format")
    return f"{rounded:.2f}"


# --- reading files ---------------------------------------------------------------------------


def read_table(data: bytes, filename: str) -> ParsedFile:
    """The agency rows of a CSV or XLSX file; ImportFileError says why a file cannot be read."""
    return spreadsheets.read_table(data, filename, LAYOUT)


# --- validation (pure) -----------------------------------------------------------------------


@dataclass
class RowResult:
    """What became of one row: the values read, and the outcome with every reason."""

    row: int
    values: dict[str, str]
    name: str = ""
    type: AgencyType | None = None
    cluster: Cluster | None = None
    region_code: str | None = None
    is_3t: bool = False
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    outcome: str | None = None
    agency_id: int | None = None

    @property
    def accepted(self) -> bool:
        return not self.problems


def _type_choices() -> str:
    return ", ".join(AGENCY_TYPE_LABELS.values())


def _cluster_choices() -> str:
    return ", ".join(CLUSTER_LABELS.values())


def check_row(raw: RawRow, *, regions: Mapping[str, str] | None = None) -> RowResult:
    """Read and check one row. ``regions`` (code -> name), when given, must contain the code."""
    values = raw.values
    result = RowResult(row=raw.row, values={f: display_value(values.get(f)) for f in FIELDS})

    result.name = services.normalise_name(display_value(values.get("name")))
    problem = services.name_problem_message(result.name)
    if problem:
        result.problems.append(problem)

    type_text = result.values["type"]
    result.type = parse_agency_type(values.get("type"))
    if result.type is None:
        if type_text:
            result.problems.append(_("Unknown type \"%(value)s\"; use one of: %(choices)s.",
                                     value=type_text, choices=_type_choices()))
        else:
            result.problems.append(_("The type (jenis) is missing; use one of: %(choices)s.",
                                     choices=_type_choices()))

    cluster_text = result.values["cluster"]
    if cluster_text:
        result.cluster = parse_cluster(values.get("cluster"))
        if result.cluster is None:
            result.problems.append(_("Unknown cluster \"%(value)s\"; use one of: %(choices)s, or leave it "
                                     "empty for the type's usual cluster.",
                                     value=cluster_text, choices=_cluster_choices()))

    flag = parse_flag(values.get("is_3t"))
    if flag is None:
        result.problems.append(_("The 3T value \"%(value)s\" is not understood; write ya or tidak.",
                                 value=result.values["is_3t"]))
    else:
        result.is_3t = flag

    code_text = result.values["region_code"]
    code: str | None = None
    try:
        code = normalise_region_code(values.get("region_code"))
    except RegionCodeError as error:
        if error.reason == "date":
            result.problems.append(_("The region code became a date (%(value)s) in the spreadsheet. Format the "
                                     "kode_wilayah column as Text and type the code again, like 71.71.",
                                     value=code_text))
        else:
            result.problems.append(_("\"%(value)s\" is not a region code; write a province code like 71 or a "
                                     "kabupaten/kota code like 71.71.", value=code_text))
    else:
        result.region_code = code
        if code is not None and code != code_text:
            result.notes.append(_("Region code %(value)s read as %(code)s.", value=code_text, code=code))
        if code is not None and regions is not None and code not in regions:
            result.problems.append(services.unknown_region_message(code))
        elif result.type is not None:
            problem = region_problem(result.type, code)
            if problem:
                result.problems.append(services.region_problem_message(problem, agency_type=result.type, code=code))
            elif code is not None and regions is not None:
                note = _region_name_note(result.name, result.type, code, regions)
                if note:
                    result.notes.append(note)
    return result


def _region_name_note(name: str, agency_type: AgencyType, code: str, regions: Mapping[str, str]) -> str | None:
    """A hint when a regional government's name does not mention its region (a mistyped code?)."""
    if agency_type not in (AgencyType.PROVINSI, AgencyType.KABUPATEN, AgencyType.KOTA):
        return None
    region_name = regions[code]
    core = re.sub(r"^(provinsi|kabupaten|kab\.|kota)\s+", "", region_name.strip(), flags=re.IGNORECASE)
    if _words(core) in _words(name):
        return None
    return _("The name does not mention %(region)s (%(code)s); check the region code.",
             region=region_name, code=code)


def validate_rows(rows: Iterable[RawRow], *, regions: Mapping[str, str] | None = None) -> list[RowResult]:
    """Check every row; a name that appeared in an earlier row is rejected (only the first counts)."""
    results = []
    first_row_of: dict[str, int] = {}
    for raw in rows:
        result = check_row(raw, regions=regions)
        key = result.name.lower()
        if key:
            if key in first_row_of:
                result.problems.append(_("The name %(name)s already appears in row %(row)s of this file; only "
                                         "the first row with a name is imported.",
                                         name=result.name, row=first_row_of[key]))
            else:
                first_row_of[key] = result.row
        results.append(result)
    return results


# --- importing -------------------------------------------------------------------------------


class ImportReport(spreadsheets.ImportReport):
    """What became of every row of an agency file (see :class:`kipp.spreadsheets.ImportReport`)."""

    label_field = "name"

    def describe(self, row: RowResult) -> str:
        return row.name


def import_agencies(
    actor: User | None,
    rows: Iterable[RawRow | Mapping[str, Any]],
    *,
    filename: str = "",
    ignored_columns: Sequence[str] = (),
) -> ImportReport:
    """Create or update an agency for every row that passes; flush and audit, never commit.

    A row whose name matches an existing agency (ignoring case) updates it; an
    empty cluster then keeps the agency's cluster unless its type changes.
    """
    services.require_agency_manager(actor)
    regions = dict(db.session.execute(sa.select(Region.code, Region.name)).all())
    results = validate_rows(LAYOUT.raw_rows(rows), regions=regions)
    report = ImportReport(filename=filename, rows=results, ignored_columns=list(ignored_columns))
    return spreadsheets.import_rows(actor, report, partial(_import_row, actor),
                                    action="agency.imported", object_type="agency_import")


def _import_row(actor: User | None, result: RowResult) -> None:
    """Create or update the row's agency; sets the outcome (raises DomainError)."""
    assert result.type is not None
    existing = services.find_agency_by_name(result.name)
    if existing is None:
        agency = services.create_agency(
            actor, name=result.name, type=result.type, region_code=result.region_code,
            is_3t=result.is_3t, cluster=result.cluster,
        )
        result.outcome, result.agency_id = CREATED, agency.id
    else:
        cluster = result.cluster
        if cluster is None and existing.type is result.type:
            cluster = existing.cluster
        changed = services.update_agency(
            actor, existing, name=result.name, type=result.type, region_code=result.region_code,
            is_3t=result.is_3t, cluster=cluster,
        )
        result.outcome, result.agency_id = (UPDATED if changed else UNCHANGED), existing.id
        if not existing.active:
            result.notes.append(_("This agency is deactivated and stays so."))


def import_file(
    actor: User | None, source: str | PathLike[str] | bytes, *, filename: str | None = None
) -> ImportReport:
    """Read a CSV/XLSX file (a path, or bytes with their ``filename``) and import it.

    Raises ImportFileError when the file cannot be read at all; otherwise the
    report says what became of each row. The caller commits.
    """
    return spreadsheets.import_source(source, filename, read=read_table, run=partial(import_agencies, actor))


# --- templates -------------------------------------------------------------------------------


def template_csv() -> bytes:
    """The header row, as UTF-8 with a byte-order mark so that Excel reads it right."""
    return spreadsheets.header_csv(TEMPLATE_HEADERS)


def template_xlsx(regions: Sequence[tuple[str, str]]) -> bytes:
    """A workbook: the (empty) agency sheet first, then instructions and the region codes.

    ``regions`` are (code, name) pairs, provinces and kabupaten/kota.
    """
    workbook, sheet = spreadsheets.template_workbook(
        "Instansi", TEMPLATE_HEADERS, {"A": 48, "B": 24, "C": 16, "D": 14, "E": 8})
    # The code column is formatted as text, so that Excel does not turn 11.10 into the
    # number 11.1 (a column style: no empty cells are created below the header).
    sheet.column_dimensions["D"].number_format = "@"
    spreadsheets.add_choice_list(sheet, "B", list(AGENCY_TYPE_LABELS.values()), rows=1000)
    spreadsheets.add_choice_list(sheet, "C", list(CLUSTER_LABELS.values()), rows=1000)
    spreadsheets.add_choice_list(sheet, "E", ["ya", "tidak"], rows=1000)

    spreadsheets.add_instructions(workbook, (
        ("nama", _("The agency's full name, e.g. Pemerintah Kota Manado. Required. A name that already exists "
                   "updates that agency.")),
        ("jenis", _("Required. One of: %(choices)s.", choices=_type_choices())),
        ("klaster", _("Optional. One of: %(choices)s. Empty: the usual cluster of the type.",
                      choices=_cluster_choices())),
        ("kode_wilayah", _("The Kemendagri region code: a province like 71, a kabupaten/kota like 71.71 (see the "
                           "region sheet). Required for provincial, regency and city governments and BUMD.")),
        ("3t", _("ya if the agency is in a lagging region (daerah tertinggal, 3T); otherwise tidak or empty.")),
    ), _("Only the first sheet is imported. Rows with a problem are reported and not imported."))

    codes = spreadsheets.add_sheet(workbook, _("Regions"), ["kode_wilayah", _("Name"), _("Kind")],
                                   {"A": 14, "B": 48})
    for code, name in regions:
        codes.append([code, name, region_kind(code)])
        codes.cell(row=codes.max_row, column=1).number_format = "@"
    return spreadsheets.workbook_bytes(workbook)


__all__ = [
    "CREATED", "UPDATED", "UNCHANGED", "REJECTED",
    "ImportFileError", "ImportReport", "ParsedFile", "RawRow", "RowResult",
    "check_row", "display_value", "header_field", "import_agencies", "import_file", "normalise_header",
    "normalise_region_code", "parse_agency_type", "parse_cluster", "parse_flag", "read_table",
    "template_csv", "template_xlsx", "validate_rows",
]
