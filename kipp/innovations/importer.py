"""Importing past KIPP results (innovations and their awards) from a CSV or XLSX file.

The secretariat loads the published results of earlier editions so that the
eligibility rules (kipp-domain §2: "not Top 99 twice", khusus only for earlier
Top 45 winners, replication of past Top innovations) work from the first
edition kipp runs. It follows :mod:`kipp.agencies.importer`, whose file reading
(CSV sniffing, XLSX first sheet, cell display) it reuses:

1. ``read_table(data, filename)`` reads the file into numbered ``RawRow``s keyed
   by field (``year``, ``tier``, ``title``, ``agency``, ``unit``, ``start_date``,
   ``decree_number``), finding the columns by their Indonesian or English header.
2. ``validate_rows(rows)`` reads and checks every row without the database and
   collects *every* reason a row is rejected; a row repeating an earlier row's
   award (same agency, title, year and tier) is rejected.
3. ``import_results(actor, rows)`` matches each remaining row's agency (by name,
   ignoring case) and innovation (by agency and title, ignoring case and white
   space), creates the innovation if it is new, and adds the award unless the
   innovation already holds it. One audit event for the import, plus the usual
   events of each innovation created or changed.

``import_file(actor, source, filename=...)`` does all three (for the CLI).

Outcomes per row: *created* (a new innovation, with its award), *updated* (an
award added to a known innovation, or an empty start date, unit or decree
number filled in), *unchanged* (already recorded as in the file), *rejected*
(nothing changed; every reason is listed). A value in the file never overwrites
a different value already recorded: the report notes the difference instead.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from flask_babel import gettext as _

from kipp.accounts.models import User
from kipp.agencies import importer as table_reader
from kipp.agencies.importer import (
    CREATED,
    HEADER_SEARCH_ROWS,
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
from kipp.agencies.models import Agency, Unit
from kipp.agencies.services import find_agency_by_name, normalise_name
from kipp.audit.services import record
from kipp.errors import DomainError
from kipp.extensions import db
from kipp.innovations import services
from kipp.innovations.kinds import TIER_LABELS, AwardTier
from kipp.innovations.models import Innovation

FIELDS = ("year", "tier", "title", "agency", "unit", "start_date", "decree_number")
REQUIRED_FIELDS = ("year", "tier", "title", "agency")
# The column names of the template, in this order.
TEMPLATE_HEADERS = ("tahun", "tingkat", "judul", "instansi", "unit", "tanggal_mulai", "nomor_sk")
HEADER_OF = dict(zip(FIELDS, TEMPLATE_HEADERS))

# Accepted column names, after ``normalise_header``.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "year": ("tahun", "tahun_kipp", "tahun_penghargaan", "year", "award_year"),
    "tier": ("tingkat", "peringkat", "predikat", "penghargaan", "kategori_penghargaan", "tier", "award", "rank"),
    "title": ("judul", "judul_inovasi", "nama_inovasi", "inovasi", "title", "innovation", "innovation_title"),
    "agency": ("instansi", "nama_instansi", "agency", "agency_name"),
    "unit": ("unit", "unit_kerja", "upp", "unit_penyelenggara_pelayanan", "satuan_kerja", "unit_name"),
    "start_date": ("tanggal_mulai", "tgl_mulai", "mulai", "tanggal_mulai_inovasi", "tanggal_implementasi",
                   "start_date", "started", "start"),
    "decree_number": ("nomor_sk", "no_sk", "sk", "nomor_keputusan", "nomor_kepmen", "decree_number", "decree"),
}
_FIELD_OF_HEADER = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}

SOURCE = "import"


def header_field(value: Any) -> str | None:
    """The field a column header names, or None for a column kipp does not read."""
    return _FIELD_OF_HEADER.get(normalise_header(value))


# --- values ----------------------------------------------------------------------------------


def _tier_words(value: Any) -> str:
    """'Top-45 (Top Inovasi Terpuji)' -> 'top 45 top inovasi terpuji'; 'top99' -> 'top 99'."""
    text = str(value).strip().lower()
    text = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", text)
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


_TIER_WORDS: dict[str, AwardTier] = {
    "top 99": AwardTier.TOP_99,
    "top 99 inovasi": AwardTier.TOP_99,
    "top 99 inovasi pelayanan publik": AwardTier.TOP_99,
    "finalis top 99": AwardTier.TOP_99,
    "top 45": AwardTier.TOP_45,
    "top 40": AwardTier.TOP_45,
    "top 35": AwardTier.TOP_45,
    "top 25": AwardTier.TOP_45,
    "top 9": AwardTier.TOP_45,
    "top inovasi terpuji": AwardTier.TOP_45,
    "top inovasi pelayanan publik terpuji": AwardTier.TOP_45,
    "top terpuji": AwardTier.TOP_45,
    "terpuji": AwardTier.TOP_45,
    "top 45 top inovasi terpuji": AwardTier.TOP_45,
    "outstanding achievement": AwardTier.OUTSTANDING,
    "outstanding achievement of public service innovation": AwardTier.OUTSTANDING,
    "outstanding": AwardTier.OUTSTANDING,
    "oa": AwardTier.OUTSTANDING,
    "finalis khusus": AwardTier.FINALIST_KHUSUS,
    "finalis kelompok khusus": AwardTier.FINALIST_KHUSUS,
    "finalist khusus": AwardTier.FINALIST_KHUSUS,
    "top 15 khusus": AwardTier.FINALIST_KHUSUS,
    "top 15 kelompok khusus": AwardTier.FINALIST_KHUSUS,
    "top 15 replikasi": AwardTier.TOP_15_REPLIKASI,
    "top 15 kelompok replikasi": AwardTier.TOP_15_REPLIKASI,
    "finalis replikasi": AwardTier.TOP_15_REPLIKASI,
    "top 5 replikasi": AwardTier.TOP_5_REPLIKASI,
    "top 5 kelompok replikasi": AwardTier.TOP_5_REPLIKASI,
}
# The tier's own value and label are accepted too.
for _tier in AwardTier:
    _TIER_WORDS.setdefault(_tier_words(_tier.value), _tier)
    _TIER_WORDS.setdefault(_tier_words(TIER_LABELS[_tier]), _tier)

TIER_CHOICES = (
    "Top 99", "Top 45", "Top 40", "Top 35", "Top 25", "Top 9", "Top Inovasi Terpuji", "Outstanding Achievement",
    "OA", "Finalis khusus", "Top 15 khusus", "Top 15 replikasi", "Top 5 replikasi",
)
# Tiers of earlier years that kipp records as Top 45: the winners were 9, 25, 35, 40, then 45.
_RECORDED_AS_TOP45 = frozenset({"top 40", "top 35", "top 25", "top 9", "top inovasi terpuji",
                                "top inovasi pelayanan publik terpuji", "top terpuji", "terpuji"})


def parse_tier(value: Any) -> AwardTier | None:
    """'Top 99', 'Top 40', 'Top Inovasi Terpuji', 'OA', 'Top 15 khusus' ... -> AwardTier; None if unknown."""
    if value is None or isinstance(value, (bool, dt.date)):
        return None
    if isinstance(value, (int, float, decimal.Decimal)):
        return None
    return _TIER_WORDS.get(_tier_words(value))


def parse_year(value: Any) -> int | None:
    """2019, 2019.0, ' 2019 ' -> 2019; None if it is not a whole number."""
    if value is None or isinstance(value, (bool, dt.date, dt.time)):
        return None
    if isinstance(value, (int, float, decimal.Decimal)):
        if isinstance(value, float) and not value.is_integer():
            return None
        if isinstance(value, decimal.Decimal) and value != value.to_integral_value():
            return None
        return int(value)
    text = str(value).strip()
    match = re.fullmatch(r"(\d{4})(?:[.,]0+)?", text)
    return int(match.group(1)) if match else None


_MONTHS = {
    "januari": 1, "january": 1, "jan": 1,
    "februari": 2, "february": 2, "feb": 2, "pebruari": 2,
    "maret": 3, "march": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "agustus": 8, "august": 8, "agu": 8, "agt": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nopember": 11, "nov": 11,
    "desember": 12, "december": 12, "des": 12, "dec": 12,
}


class DateError(ValueError):
    """A cell that is not a date; ``reason`` is 'year' (only a year) or 'format'."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_date(value: Any) -> dt.date | None:
    """A start date from a cell; None when empty, DateError when not a date.

    Accepts spreadsheet dates, Excel serial numbers, ISO (2019-03-01),
    day/month/year (01/03/2019, 1-3-2019, 1.3.2019) and '1 Maret 2019' / '1 March 2019'.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise DateError("format")
    if isinstance(value, (int, float, decimal.Decimal)):
        number = float(value)
        if number.is_integer() and 1900 <= number <= 2100:
            raise DateError("year")
        if not 1 <= number < 2958466:
            raise DateError("format")
        from openpyxl.utils.datetime import from_excel

        return from_excel(number).date()
    text = str(value).strip()
    if not text:
        return None
    try:
        return _parse_date_text(text)
    except ValueError:
        raise DateError("year" if re.fullmatch(r"\d{4}", text) else "format") from None


def _parse_date_text(text: str) -> dt.date:
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?", text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return dt.date(year, month, day)
    match = re.fullmatch(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})", text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return dt.date(year, month, day)
    match = re.fullmatch(r"(\d{1,2})[\s\-]+([A-Za-z]+)\.?[\s\-]+(\d{4})", text)
    if match and match.group(2).lower() in _MONTHS:
        return dt.date(int(match.group(3)), _MONTHS[match.group(2).lower()], int(match.group(1)))
    raise ValueError(text)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


# --- reading files ---------------------------------------------------------------------------


def _cells(data: bytes, filename: str) -> Iterable[tuple[int, list[Any]]]:
    """The numbered rows of cells of a CSV or XLSX file (the same checks as the agency import)."""
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
        return table_reader._csv_cells(data)
    table = table_reader._xlsx_cells(data)
    if not table:
        raise ImportFileError(_("The first sheet of the workbook is empty; only the first sheet is read."))
    return table


def read_table(data: bytes, filename: str) -> ParsedFile:
    """The result rows of a CSV or XLSX file; ImportFileError says why a file cannot be read."""
    table = [(n, cells) for n, cells in _cells(data, filename) if not all(_is_blank(c) for c in cells)]
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
            _("The file needs a header row with at least the columns \"tahun\", \"tingkat\", \"judul\" and "
              "\"instansi\" (and optionally \"unit\", \"tanggal_mulai\", \"nomor_sk\"). The first row holds: "
              "%(found)s. Download the template to see the expected columns.", found=found)
        )
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, cell in enumerate(table[header_at][1]):
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
        raise ImportFileError(_("The file has a header row but no results below it."))
    if len(rows) > MAX_ROWS:
        raise ImportFileError(_("The file has %(n)s rows; at most %(max)s can be imported at once. "
                                "Split it into smaller files.", n=len(rows), max=MAX_ROWS))
    return ParsedFile(filename=filename, rows=rows, ignored_columns=ignored)


# --- validation (pure) -----------------------------------------------------------------------


@dataclass
class RowResult:
    """What became of one row: the values read, and the outcome with every reason."""

    row: int
    values: dict[str, str]
    year: int | None = None
    tier: AwardTier | None = None
    title: str = ""
    agency_name: str = ""
    unit_name: str = ""
    start_date: dt.date | None = None
    decree_number: str | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    outcome: str | None = None
    innovation_id: int | None = None
    award_id: int | None = None

    @property
    def accepted(self) -> bool:
        return not self.problems

    @property
    def name(self) -> str:
        """What the report calls the row (the agencies report's ``name``)."""
        return self.title or self.values.get("title", "")

    @property
    def key(self) -> tuple[str, str, int | None, AwardTier | None]:
        return (services.title_key(self.agency_name), services.title_key(self.title), self.year, self.tier)


def _tier_choices() -> str:
    return ", ".join(TIER_CHOICES)


def check_row(raw: RawRow) -> RowResult:
    """Read and check one row without the database."""
    values = raw.values
    result = RowResult(row=raw.row, values={f: display_value(values.get(f)) for f in FIELDS})

    year_text = result.values["year"]
    result.year = parse_year(values.get("year"))
    if not year_text:
        result.problems.append(_("The year (tahun) is missing."))
    elif result.year is None:
        result.problems.append(_("\"%(value)s\" is not a year; write the year of the award, like 2019.",
                                 value=year_text))
    else:
        problem = services.year_problem(result.year)
        if problem:
            result.problems.append(problem)
            result.year = None
        elif result.year == 2024:
            result.notes.append(_("KIPP was not held in 2024 (PKRI replaced it); check the year."))

    tier_text = result.values["tier"]
    result.tier = parse_tier(values.get("tier"))
    if result.tier is None:
        if tier_text:
            result.problems.append(_("Unknown tier \"%(value)s\"; use one of: %(choices)s.",
                                     value=tier_text, choices=_tier_choices()))
        else:
            result.problems.append(_("The tier (tingkat) is missing; use one of: %(choices)s.",
                                     choices=_tier_choices()))
    elif _tier_words(tier_text) in _RECORDED_AS_TOP45:
        result.notes.append(_("\"%(value)s\" is recorded as %(tier)s.", value=tier_text,
                              tier=TIER_LABELS[AwardTier.TOP_45]))

    result.title = normalise_name(result.values["title"])
    if not result.title:
        result.problems.append(_("The title of the innovation (judul) is missing."))
    elif len(result.title) > services.TITLE_MAX:
        result.problems.append(_("The title is longer than %(n)s characters.", n=services.TITLE_MAX))

    result.agency_name = normalise_name(result.values["agency"])
    if not result.agency_name:
        result.problems.append(_("The agency (instansi) is missing."))
    result.unit_name = normalise_name(result.values["unit"])

    date_text = result.values["start_date"]
    try:
        result.start_date = parse_date(values.get("start_date"))
    except DateError as error:
        if error.reason == "year":
            result.problems.append(_("The start date \"%(value)s\" is only a year; write the whole date, like "
                                     "01/03/2019.", value=date_text))
        else:
            result.problems.append(_("\"%(value)s\" is not a date; write the start date as day/month/year "
                                     "(01/03/2019) or 2019-03-01.", value=date_text))
    else:
        problem = services.start_date_problem(result.start_date, first_award_year=result.year)
        if problem:
            result.problems.append(problem)

    decree = normalise_name(result.values["decree_number"])
    if len(decree) > services.DECREE_MAX:
        result.problems.append(_("The decree number is longer than %(n)s characters.", n=services.DECREE_MAX))
    result.decree_number = decree or None
    return result


def validate_rows(rows: Iterable[RawRow]) -> list[RowResult]:
    """Check every row; a row repeating an earlier row's award is rejected (only the first counts)."""
    results = []
    first_row_of: dict[tuple[Any, ...], int] = {}
    for raw in rows:
        result = check_row(raw)
        if result.accepted:
            key = result.key
            if key in first_row_of:
                result.problems.append(_("The same award (%(tier)s %(year)s of %(title)s, %(agency)s) already "
                                         "appears in row %(row)s of this file.",
                                         tier=TIER_LABELS[result.tier], year=result.year, title=result.title,
                                         agency=result.agency_name, row=first_row_of[key]))
            else:
                first_row_of[key] = result.row
        results.append(result)
    return results


# --- importing -------------------------------------------------------------------------------


@dataclass
class ImportReport(table_reader.ImportReport):
    """The agencies' report (counts, outcomes), with rows of past results."""

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
                lines.append(f"row {r.row} rejected ({r.values['title'] or '-'}): " + " ".join(r.problems))
            elif r.outcome in (CREATED, UPDATED):
                lines.append(f"row {r.row} {r.outcome}: {r.title}, {r.agency_name}, {r.values['tier']} {r.year}"
                             + (" (" + " ".join(r.notes) + ")" if r.notes else ""))
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


class _Lookups:
    """Agencies and innovations met so far in this import (one query per name, not per row)."""

    def __init__(self) -> None:
        self.agencies: dict[str, Agency | None] = {}
        self.innovations: dict[tuple[int, str], Innovation | None] = {}

    def agency(self, name: str) -> Agency | None:
        key = name.casefold()
        if key not in self.agencies:
            self.agencies[key] = find_agency_by_name(name)
        return self.agencies[key]

    def innovation(self, agency: Agency, title: str) -> Innovation | None:
        key = (agency.id, services.title_key(title))
        if key not in self.innovations:
            self.innovations[key] = services.find_innovation(agency.id, title)
        return self.innovations[key]

    def forget(self, agency: Agency, title: str) -> None:
        self.innovations.pop((agency.id, services.title_key(title)), None)


def _unit(agency: Agency, name: str) -> Unit | None:
    wanted = name.casefold()
    return next((u for u in agency.units if normalise_name(u.name).casefold() == wanted), None)


def _import_row(actor: User | None, result: RowResult, lookups: _Lookups) -> None:
    """Create or complete the row's innovation and award; sets the outcome (raises DomainError)."""
    assert result.year is not None and result.tier is not None
    agency = lookups.agency(result.agency_name)
    if agency is None:
        raise DomainError(_("There is no agency named %(name)s. Add it under Agencies (or import the agencies) "
                            "first, or write its name exactly as kipp has it.", name=result.agency_name),
                          code="agency_unknown")
    unit = None
    if result.unit_name:
        unit = _unit(agency, result.unit_name)
        if unit is None:
            result.notes.append(_("%(agency)s has no unit named %(unit)s; the unit is left empty.",
                                  agency=agency.name, unit=result.unit_name))
    innovation = lookups.innovation(agency, result.title)
    if innovation is None:
        innovation = services.create_innovation(actor, agency=agency, unit=unit, title=result.title,
                                                start_date=result.start_date)
        lookups.innovations[(agency.id, services.title_key(result.title))] = innovation
        award = services.add_award(actor, innovation, year=result.year, tier=result.tier,
                                   decree_number=result.decree_number, source=SOURCE)
        result.outcome, result.innovation_id, result.award_id = CREATED, innovation.id, award.id
        return

    changed = False
    start_date = innovation.start_date
    if result.start_date is not None and result.start_date != start_date:
        if start_date is None:
            start_date = result.start_date
        else:
            result.notes.append(_("The recorded start date %(recorded)s is kept; the file says %(file)s.",
                                  recorded=services.format_day(start_date),
                                  file=services.format_day(result.start_date)))
    new_unit = innovation.unit
    if unit is not None and unit.id != innovation.unit_id:
        if innovation.unit_id is None:
            new_unit = unit
        else:
            result.notes.append(_("The recorded unit %(recorded)s is kept; the file says %(file)s.",
                                  recorded=innovation.unit.name if innovation.unit else "–", file=unit.name))
    if start_date != innovation.start_date or new_unit is not innovation.unit:
        changed |= services.update_innovation(actor, innovation, title=innovation.title, unit=new_unit,
                                              start_date=start_date, innovator_decree=innovation.innovator_decree)

    award = services.find_award(innovation, result.year, result.tier)
    if award is None:
        award = services.add_award(actor, innovation, year=result.year, tier=result.tier,
                                   decree_number=result.decree_number, source=SOURCE)
        changed = True
    elif result.decree_number and result.decree_number != award.decree_number:
        if award.decree_number is None:
            changed |= services.set_award_decree(actor, award, result.decree_number)
        else:
            result.notes.append(_("The recorded decree number %(recorded)s is kept; the file says %(file)s.",
                                  recorded=award.decree_number, file=result.decree_number))
    result.outcome = UPDATED if changed else UNCHANGED
    result.innovation_id, result.award_id = innovation.id, award.id


def import_results(
    actor: User | None,
    rows: Iterable[RawRow | Mapping[str, Any]],
    *,
    filename: str = "",
    ignored_columns: Sequence[str] = (),
) -> ImportReport:
    """Record the innovation and award of every row that passes; flush and audit, never commit."""
    services.require_innovation_manager(actor)
    results = validate_rows(_as_raw_rows(rows))
    lookups = _Lookups()
    for result in results:
        if result.problems:
            result.outcome = REJECTED
            continue
        try:
            # A row that fails half-way (an innovation created, its award refused) leaves nothing behind.
            with db.session.begin_nested():
                _import_row(actor, result, lookups)
        except DomainError as error:
            result.problems.append(error.message)
            result.outcome = REJECTED
            result.innovation_id = result.award_id = None
            agency = lookups.agencies.get(result.agency_name.casefold())
            if agency is not None:
                lookups.forget(agency, result.title)
    report = ImportReport(filename=filename, rows=results, ignored_columns=list(ignored_columns))
    event = record(
        actor,
        "innovation.imported",
        object_type="innovation_import",
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
    services.require_innovation_manager(actor)
    parsed = read_table(data, filename)
    return import_results(actor, parsed.rows, filename=filename, ignored_columns=parsed.ignored_columns)


# --- templates -------------------------------------------------------------------------------


def template_csv() -> bytes:
    """The header row, as UTF-8 with a byte-order mark so that Excel reads it right."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(TEMPLATE_HEADERS)
    return buffer.getvalue().encode("utf-8-sig")


def template_xlsx(agency_names: Sequence[str] = ()) -> bytes:
    """A workbook: the (empty) results sheet first, then instructions and the agencies' names."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Hasil KIPP"
    sheet.append(list(TEMPLATE_HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = {"A": 8, "B": 22, "C": 60, "D": 44, "E": 36, "F": 14, "G": 30}
    for column, width in widths.items():
        sheet.column_dimensions[column].width = width
    # Dates as dates; the decree number as text (so that "050" or "1/2" stay as typed).
    sheet.column_dimensions["F"].number_format = "DD/MM/YYYY"
    sheet.column_dimensions["G"].number_format = "@"
    tiers = DataValidation(type="list", formula1='"' + ",".join(TIER_CHOICES) + '"', allow_blank=True)
    tiers.add("B2:B5001")
    sheet.add_data_validation(tiers)
    sheet.freeze_panes = "A2"

    guide = workbook.create_sheet(_("Instructions")[:31])
    guide.column_dimensions["A"].width = 16
    guide.column_dimensions["B"].width = 100
    guide.append([_("Column"), _("What to write")])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for column, text in (
        ("tahun", _("Required. The year of the award, e.g. 2019.")),
        ("tingkat", _("Required. One of: %(choices)s. Top 9, 25, 35 and 40 (the winners of earlier years) and "
                      "Top Inovasi Terpuji are recorded as Top 45.", choices=_tier_choices())),
        ("judul", _("Required. The title of the innovation. Rows with the same agency and title (ignoring case) "
                    "are the same innovation.")),
        ("instansi", _("Required. The agency's name exactly as kipp has it (see the agency sheet); case does not "
                       "matter.")),
        ("unit", _("Optional. The unit (UPP) of the agency that runs the innovation.")),
        ("tanggal_mulai", _("Optional. The date the innovation started, e.g. 01/03/2019 (day/month/year).")),
        ("nomor_sk", _("Optional. The number of the decree (Keputusan Menteri) that named the award.")),
    ):
        guide.append([column, text])
    guide.append([])
    guide.append([_("One row per award: an innovation that was Top 99 and then Top 45 in 2019 has two rows. "
                    "Only the first sheet is imported. Rows with a problem are reported and not imported.")])

    agencies = workbook.create_sheet(_("Agencies")[:31])
    agencies.append(["instansi"])
    agencies["A1"].font = Font(bold=True)
    agencies.column_dimensions["A"].width = 60
    for name in agency_names:
        agencies.append([name])

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


__all__ = [
    "CREATED", "UPDATED", "UNCHANGED", "REJECTED",
    "DateError", "ImportFileError", "ImportReport", "ParsedFile", "RawRow", "RowResult",
    "check_row", "header_field", "import_file", "import_results", "parse_date", "parse_tier", "parse_year",
    "read_table", "template_csv", "template_xlsx", "validate_rows",
]
