"""Importing agencies from a CSV or XLSX file, with a per-row report.

Three steps, the first two pure (no database):

1. ``read_table(data, filename)`` reads the file into numbered ``RawRow``s keyed by
   field (``name``, ``type``, ``cluster``, ``region_code``, ``is_3t``), finding the
   columns by their header, in Indonesian or English, ignoring case. A file that
   cannot be read raises ``ImportFileError`` with one clear message.
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

import csv
import datetime as dt
import decimal
import io
import math
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

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
from kipp.audit.services import record
from kipp.errors import DomainError
from kipp.extensions import db

FIELDS = ("name", "type", "cluster", "region_code", "is_3t")
REQUIRED_FIELDS = ("name", "type")
# The column names of the template, in this order.
TEMPLATE_HEADERS = ("nama", "jenis", "klaster", "kode_wilayah", "3t")
HEADER_OF = dict(zip(FIELDS, TEMPLATE_HEADERS))

# Accepted column names, after ``normalise_header``.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("nama", "nama_instansi", "instansi", "name", "agency", "agency_name"),
    "type": ("jenis", "jenis_instansi", "tipe", "type", "agency_type"),
    "cluster": ("klaster", "kluster", "cluster"),
    "region_code": ("kode_wilayah", "kode_wil", "kode", "wilayah", "region_code", "region"),
    "is_3t": ("3t", "is_3t", "daerah_3t", "daerah_tertinggal", "tertinggal"),
}
_FIELD_OF_HEADER = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 5000
# A header is looked for among the first rows, in case a title sits above it.
HEADER_SEARCH_ROWS = 10
# Stop reading a sheet after this many empty rows in a row (formatted but empty sheets).
MAX_BLANK_RUN = 10000


class ImportFileError(DomainError):
    """The file as a whole cannot be imported (the message says why)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="import_file")


# --- values ----------------------------------------------------------------------------------


def _words(value: Any) -> str:
    """Lower case, with punctuation used as separators turned into single spaces."""
    text = str(value).strip().lower()
    text = re.sub(r"[\s._/\-]+", " ", text)
    return text.strip()


def normalise_header(value: Any) -> str:
    """'Kode Wilayah' / 'KODE-WILAYAH' / '\\ufeffkode_wilayah ' -> 'kode_wilayah'."""
    if value is None:
        return ""
    return _words(str(value).replace("\ufeff", "")).replace(" ", "_")


def header_field(value: Any) -> str | None:
    """The field a column header names, or None for a column kipp does not read."""
    return _FIELD_OF_HEADER.get(normalise_header(value))


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


def display_value(value: Any) -> str:
    """A cell as the report shows it: what the file held, as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip()


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


# --- reading files ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RawRow:
    """One data row: its number as the spreadsheet shows it, and its cells by field."""

    row: int
    values: Mapping[str, Any]


@dataclass
class ParsedFile:
    filename: str
    rows: list[RawRow]
    ignored_columns: list[str] = field(default_factory=list)


def read_table(data: bytes, filename: str) -> ParsedFile:
    """The agency rows of a CSV or XLSX file; ImportFileError says why a file cannot be read."""
    suffix = Path(filename or "").suffix.lower()
    if len(data) > MAX_BYTES:
        raise ImportFileError(_("The file is larger than %(mb)s MB. Split it into smaller files.",
                                mb=MAX_BYTES // (1024 * 1024)))
    if suffix == ".xls" or data[:4] == b"\xd0\xcf\x11\xe0":
        raise ImportFileError(_("Old Excel files (.xls) cannot be read. In Excel, save the file as "
                                "\"Excel Workbook (.xlsx)\" or as \"CSV UTF-8\" and upload it again."))
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        raise ImportFileError(_("Only CSV (.csv) and Excel (.xlsx) files can be imported; %(name)s is neither.",
                                name=filename or "?"))
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    if suffix == ".csv":
        if data[:4] == b"PK\x03\x04":
            raise ImportFileError(_("This file is an Excel workbook with a .csv name. Save it as CSV, or "
                                    "upload it with its .xlsx name."))
        table = _csv_cells(data)
    else:
        table = _xlsx_cells(data)
        if not table:
            raise ImportFileError(_("The first sheet of the workbook is empty; only the first sheet is read."))
    return _rows_from_cells(table, filename)


def _csv_cells(data: bytes) -> Iterable[tuple[int, list[Any]]]:
    if b"\x00" in data:
        raise ImportFileError(_("This file is not a CSV text file."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(_("The CSV file is not in UTF-8. In Excel, choose \"Save as\" and the type "
                                "\"CSV UTF-8 (Comma delimited)\".")) from None
    lines = text.splitlines()
    delimiter = None
    first = next((line for line in lines if line.strip()), "")
    # Excel honours a first line "sep=;"; so do we.
    if re.fullmatch(r"sep=.", first.strip()):
        delimiter = first.strip()[4]
        text = text.split(first, 1)[1].lstrip("\r\n")
        first = next((line for line in text.splitlines() if line.strip()), "")
    if delimiter is None:
        counts = {d: first.count(d) for d in (";", ",", "\t")}
        delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [(number, cells) for number, cells in enumerate(reader, start=1)]
    except csv.Error as error:
        raise ImportFileError(_("The CSV file cannot be read: %(error)s", error=str(error))) from None


def _xlsx_cells(data: bytes) -> Iterable[tuple[int, list[Any]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError):
        raise ImportFileError(_("This file is not a readable Excel (.xlsx) workbook.")) from None
    try:
        if not workbook.worksheets:
            raise ImportFileError(_("The file is empty."))
        sheet = workbook.worksheets[0]
        rows: list[tuple[int, list[Any]]] = []
        blank_run = 0
        for number, cells in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
            cells = list(cells)
            if all(_is_blank(c) for c in cells):
                blank_run += 1
                if blank_run >= MAX_BLANK_RUN:
                    break
                continue
            blank_run = 0
            rows.append((number, cells))
        return rows
    finally:
        workbook.close()


def _rows_from_cells(table: Iterable[tuple[int, list[Any]]], filename: str) -> ParsedFile:
    table = [(n, cells) for n, cells in table if not all(_is_blank(c) for c in cells)]
    if not table:
        raise ImportFileError(_("The file is empty."))
    header_at = None
    for index, (_number, cells) in enumerate(table[:HEADER_SEARCH_ROWS]):
        fields = {header_field(c) for c in cells}
        if all(f in fields for f in REQUIRED_FIELDS):
            header_at = index
            break
    if header_at is None:
        found = ", ".join(display_value(c) for c in table[0][1] if not _is_blank(c)) or "–"
        raise ImportFileError(
            _("The file needs a header row with at least the columns \"nama\" and \"jenis\" "
              "(and usually \"kode_wilayah\", \"3t\", \"klaster\"). The first row holds: %(found)s. "
              "Download the template to see the expected columns.", found=found)
        )
    header = table[header_at][1]
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, cell in enumerate(header):
        name = header_field(cell)
        if name is None:
            if not _is_blank(cell):
                ignored.append(display_value(cell))
            continue
        if name in columns:
            raise ImportFileError(_("The column \"%(column)s\" appears twice in the header row.",
                                    column=HEADER_OF[name]))
        columns[name] = index
    rows = []
    for number, cells in table[header_at + 1:]:
        values = {name: (cells[i] if i < len(cells) else None) for name, i in columns.items()}
        if all(_is_blank(v) for v in values.values()):
            continue
        rows.append(RawRow(row=number, values=values))
    if not rows:
        raise ImportFileError(_("The file has a header row but no agencies below it."))
    if len(rows) > MAX_ROWS:
        raise ImportFileError(_("The file has %(n)s rows; at most %(max)s can be imported at once. "
                                "Split it into smaller files.", n=len(rows), max=MAX_ROWS))
    return ParsedFile(filename=filename, rows=rows, ignored_columns=ignored)


# --- validation (pure) -----------------------------------------------------------------------

CREATED, UPDATED, UNCHANGED, REJECTED = "created", "updated", "unchanged", "rejected"


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


@dataclass
class ImportReport:
    filename: str
    rows: list[RowResult]
    ignored_columns: list[str] = field(default_factory=list)
    event_id: int | None = None

    def having(self, outcome: str) -> list[RowResult]:
        return [r for r in self.rows if r.outcome == outcome]

    @property
    def created(self) -> list[RowResult]:
        return self.having(CREATED)

    @property
    def updated(self) -> list[RowResult]:
        return self.having(UPDATED)

    @property
    def unchanged(self) -> list[RowResult]:
        return self.having(UNCHANGED)

    @property
    def rejected(self) -> list[RowResult]:
        return self.having(REJECTED)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "rows": len(self.rows),
            CREATED: len(self.created),
            UPDATED: len(self.updated),
            UNCHANGED: len(self.unchanged),
            REJECTED: len(self.rejected),
        }

    def as_text(self) -> str:
        """The report for a terminal."""
        c = self.counts
        lines = [
            f"{self.filename}: {c['rows']} rows; created {c[CREATED]}, updated {c[UPDATED]}, "
            f"unchanged {c[UNCHANGED]}, rejected {c[REJECTED]}."
        ]
        if self.ignored_columns:
            lines.append("Ignored columns: " + ", ".join(self.ignored_columns))
        for r in self.rows:
            if r.outcome == REJECTED:
                lines.append(f"row {r.row} rejected ({r.values['name'] or '-'}): " + " ".join(r.problems))
            elif r.outcome in (CREATED, UPDATED):
                lines.append(f"row {r.row} {r.outcome}: {r.name}" + (" (" + " ".join(r.notes) + ")" if r.notes else ""))
        return "\n".join(lines)


def _as_raw_rows(rows: Iterable[RawRow | Mapping[str, Any]]) -> list[RawRow]:
    """RawRows as they are; plain mappings (keyed by header or field name) numbered from row 2."""
    result = []
    for number, row in enumerate(rows, start=2):
        if isinstance(row, RawRow):
            result.append(row)
            continue
        values: dict[str, Any] = {}
        for key, value in row.items():
            name = key if key in FIELDS else header_field(key)
            if name is not None:
                values[name] = value
        result.append(RawRow(row=number, values=values))
    return result


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
    results = validate_rows(_as_raw_rows(rows), regions=regions)
    for result in results:
        if result.problems:
            result.outcome = REJECTED
            continue
        assert result.type is not None
        existing = services.find_agency_by_name(result.name)
        try:
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
        except DomainError as error:
            result.problems.append(error.message)
            result.outcome = REJECTED
    report = ImportReport(filename=filename, rows=results, ignored_columns=list(ignored_columns))
    event = record(
        actor,
        "agency.imported",
        object_type="agency_import",
        label=filename or None,
        after={
            "file": filename,
            **report.counts,
            "rejected_rows": {str(r.row): " ".join(r.problems) for r in report.rejected[:200]},
        },
    )
    db.session.flush()
    report.event_id = event.id
    return report


def import_file(
    actor: User | None, source: str | PathLike[str] | bytes, *, filename: str | None = None
) -> ImportReport:
    """Read a CSV/XLSX file (a path, or bytes with their ``filename``) and import it.

    Raises ImportFileError when the file cannot be read at all; otherwise the
    report says what became of each row. The caller commits.
    """
    if isinstance(source, bytes):
        if not filename:
            raise ValueError("filename is needed with bytes (its extension tells CSV from XLSX)")
        data = source
    else:
        path = Path(source)
        data = path.read_bytes()
        filename = filename or path.name
    parsed = read_table(data, filename)
    return import_agencies(actor, parsed.rows, filename=filename, ignored_columns=parsed.ignored_columns)


# --- templates -------------------------------------------------------------------------------


def template_csv() -> bytes:
    """The header row, as UTF-8 with a byte-order mark so that Excel reads it right."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(TEMPLATE_HEADERS)
    return buffer.getvalue().encode("utf-8-sig")


def template_xlsx(regions: Sequence[tuple[str, str]]) -> bytes:
    """A workbook: the (empty) agency sheet first, then instructions and the region codes.

    ``regions`` are (code, name) pairs, provinces and kabupaten/kota.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Instansi"
    sheet.append(list(TEMPLATE_HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = {"A": 48, "B": 24, "C": 16, "D": 14, "E": 8}
    for column, width in widths.items():
        sheet.column_dimensions[column].width = width
    # The code column is formatted as text, so that Excel does not turn 11.10 into the
    # number 11.1 (a column style: no empty cells are created below the header).
    sheet.column_dimensions["D"].number_format = "@"
    lists = (
        ("B", ",".join(AGENCY_TYPE_LABELS.values())),
        ("C", ",".join(CLUSTER_LABELS.values())),
        ("E", "ya,tidak"),
    )
    for column, values in lists:
        validation = DataValidation(type="list", formula1=f'"{values}"', allow_blank=True)
        validation.add(f"{column}2:{column}1001")
        sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"

    guide = workbook.create_sheet(_("Instructions")[:31])
    guide.column_dimensions["A"].width = 16
    guide.column_dimensions["B"].width = 100
    guide.append([_("Column"), _("What to write")])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for column, text in (
        ("nama", _("The agency's full name, e.g. Pemerintah Kota Manado. Required. A name that already exists "
                   "updates that agency.")),
        ("jenis", _("Required. One of: %(choices)s.", choices=_type_choices())),
        ("klaster", _("Optional. One of: %(choices)s. Empty: the usual cluster of the type.",
                      choices=_cluster_choices())),
        ("kode_wilayah", _("The Kemendagri region code: a province like 71, a kabupaten/kota like 71.71 (see the "
                           "region sheet). Required for provincial, regency and city governments and BUMD.")),
        ("3t", _("ya if the agency is in a lagging region (daerah tertinggal, 3T); otherwise tidak or empty.")),
    ):
        guide.append([column, text])
    guide.append([])
    guide.append([_("Only the first sheet is imported. Rows with a problem are reported and not imported.")])

    codes = workbook.create_sheet(_("Regions")[:31])
    codes.append(["kode_wilayah", _("Name"), _("Kind")])
    for cell in codes[1]:
        cell.font = Font(bold=True)
    codes.column_dimensions["A"].width = 14
    codes.column_dimensions["B"].width = 48
    for code, name in regions:
        codes.append([code, name, region_kind(code)])
        codes.cell(row=codes.max_row, column=1).number_format = "@"

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


__all__ = [
    "CREATED", "UPDATED", "UNCHANGED", "REJECTED",
    "ImportFileError", "ImportReport", "ParsedFile", "RawRow", "RowResult",
    "check_row", "display_value", "header_field", "import_agencies", "import_file", "normalise_header",
    "normalise_region_code", "parse_agency_type", "parse_cluster", "parse_flag", "read_table",
    "template_csv", "template_xlsx", "validate_rows",
]
