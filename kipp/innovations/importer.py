"""Importing past KIPP results (innovations and their awards) from a CSV or XLSX file.

The secretariat loads the published results of earlier editions so that the
eligibility rules (kipp-domain §2: "not Top 99 twice", khusus only for earlier
Top 45 winners, replication of past Top innovations) work from the first
edition kipp runs. It works like :mod:`kipp.agencies.importer`; the file reading
(CSV sniffing, XLSX first sheet, header matching, cell display), the report and
the audit event of the import are :mod:`kipp.spreadsheets`, which both share:

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

import datetime as dt
import decimal
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from os import PathLike
from typing import Any

from flask_babel import gettext as _

from kipp import spreadsheets
from kipp.accounts.models import User
from kipp.agencies.models import Agency, Unit
from kipp.agencies.services import find_agency_by_name, normalise_name
from kipp.errors import DomainError
from kipp.extensions import db
from kipp.innovations import services
from kipp.innovations.kinds import TIER_LABELS, AwardTier
from kipp.innovations.models import Innovation

# What every import shares, still importable from here.
from kipp.spreadsheets import (  # noqa: F401
    CREATED,
    REJECTED,
    UNCHANGED,
    UPDATED,
    ImportFileError,
    ParsedFile,
    RawRow,
    display_value,
)

# Accepted column names, after ``normalise_header``, by field in the template's order.
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
REQUIRED_FIELDS = ("year", "tier", "title", "agency")
# The column names of the template, in this order.
TEMPLATE_HEADERS = ("tahun", "tingkat", "judul", "instansi", "unit", "tanggal_mulai", "nomor_sk")

LAYOUT = spreadsheets.Layout(
    HEADER_ALIASES,
    template_headers=TEMPLATE_HEADERS,
    required=REQUIRED_FIELDS,
    missing_header=lambda found: _(
        "The file needs a header row with at least the columns \"tahun\", \"tingkat\", \"judul\" and "
        "\"instansi\" (and optionally \"unit\", \"tanggal_mulai\", \"nomor_sk\"). The first row holds: "
        "%(found)s. Download the template to see the expected columns.", found=found),
    no_rows=lambda: _("The file has a header row but no results below it."),
)
FIELDS = LAYOUT.fields
HEADER_OF = LAYOUT.header_of
header_field = LAYOUT.header_field

SOURCE = "import"


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


# --- reading files ---------------------------------------------------------------------------


def read_table(data: bytes, filename: str) -> ParsedFile:
    """The result rows of a CSV or XLSX file; ImportFileError says why a file cannot be read."""
    return spreadsheets.read_table(data, filename, LAYOUT)


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


class ImportReport(spreadsheets.ImportReport):
    """What became of every row of a results file (see :class:`kipp.spreadsheets.ImportReport`)."""

    label_field = "title"

    def describe(self, row: RowResult) -> str:
        return f"{row.title}, {row.agency_name}, {row.values['tier']} {row.year}"


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
    results = validate_rows(LAYOUT.raw_rows(rows))
    lookups = _Lookups()

    def import_row(result: RowResult) -> None:
        # A row that fails half-way (an innovation created, its award refused) leaves nothing behind.
        with db.session.begin_nested():
            _import_row(actor, result, lookups)

    def forget(result: RowResult) -> None:
        result.innovation_id = result.award_id = None
        agency = lookups.agencies.get(result.agency_name.casefold())
        if agency is not None:
            lookups.forget(agency, result.title)

    report = ImportReport(filename=filename, rows=results, ignored_columns=list(ignored_columns))
    return spreadsheets.import_rows(actor, report, import_row, on_error=forget,
                                    action="innovation.imported", object_type="innovation_import")


def import_file(
    actor: User | None, source: str | PathLike[str] | bytes, *, filename: str | None = None
) -> ImportReport:
    """Read a CSV/XLSX file (a path, or bytes with their ``filename``) and import it.

    Raises ImportFileError when the file cannot be read at all; otherwise the
    report says what became of each row. The caller commits.
    """
    return spreadsheets.import_source(source, filename, read=read_table, run=partial(import_results, actor),
                                      before_reading=partial(services.require_innovation_manager, actor))


# --- templates -------------------------------------------------------------------------------


def template_csv() -> bytes:
    """The header row, as UTF-8 with a byte-order mark so that Excel reads it right."""
    return spreadsheets.header_csv(TEMPLATE_HEADERS)


def template_xlsx(agency_names: Sequence[str] = ()) -> bytes:
    """A workbook: the (empty) results sheet first, then instructions and the agencies' names."""
    workbook, sheet = spreadsheets.template_workbook(
        "Hasil KIPP", TEMPLATE_HEADERS, {"A": 8, "B": 22, "C": 60, "D": 44, "E": 36, "F": 14, "G": 30})
    # Dates as dates; the decree number as text (so that "050" or "1/2" stay as typed).
    sheet.column_dimensions["F"].number_format = "DD/MM/YYYY"
    sheet.column_dimensions["G"].number_format = "@"
    spreadsheets.add_choice_list(sheet, "B", TIER_CHOICES, rows=5000)

    spreadsheets.add_instructions(workbook, (
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
    ), _("One row per award: an innovation that was Top 99 and then Top 45 in 2019 has two rows. "
         "Only the first sheet is imported. Rows with a problem are reported and not imported."))

    agencies = spreadsheets.add_sheet(workbook, _("Agencies"), ["instansi"], {"A": 60})
    for name in agency_names:
        agencies.append([name])
    return spreadsheets.workbook_bytes(workbook)


__all__ = [
    "CREATED", "UPDATED", "UNCHANGED", "REJECTED",
    "DateError", "ImportFileError", "ImportReport", "ParsedFile", "RawRow", "RowResult",
    "check_row", "header_field", "import_file", "import_results", "parse_date", "parse_tier", "parse_year",
    "read_table", "template_csv", "template_xlsx", "validate_rows",
]
