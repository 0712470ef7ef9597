"""Reading CSV and XLSX files for the importers, and what every import shares.

An importer (:mod:`kipp.agencies.importer`, :mod:`kipp.innovations.importer`)
describes its columns with a ``Layout`` and keeps only the parsing of its own
values and its own create/update logic. This module does the rest:

* ``read_source(source, filename)``: the bytes and the name of a path, or of bytes;
* ``read_table(data, filename, layout)``: the checks of the file as a whole (size,
  old Excel, type, empty, header) with their messages; a CSV file (UTF-8 with or
  without a byte-order mark; comma, semicolon or tab, or a first line ``sep=;``)
  or the first sheet of an XLSX workbook; the header row, looked for among the
  first rows and matched through the layout's aliases in any case; and the data
  rows as ``RawRow``s numbered as the spreadsheet shows them;
* ``ImportReport``: the rows of a report, their outcomes, the counts and the
  report as text;
* ``import_rows(...)``: the rows that passed imported one by one by the
  importer's function (a DomainError rejects the row), then ``record_import``:
  the one audit event of a whole import;
* ``import_source(...)``: reading a file and importing its rows (the CLI);
* writing: ``safe_cell``, the one function every cell kipp writes to a CSV or XLSX file
  goes through (no spreadsheet reads it as a formula), ``csv_bytes`` and the workbooks
  whose sheets apply it (``template_workbook``, ``add_sheet``, ``streamed_workbook``).

A file that cannot be read raises ``ImportFileError`` with one clear message.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from flask_babel import gettext as _

from kipp.audit.services import record
from kipp.errors import DomainError
from kipp.extensions import db

if TYPE_CHECKING:
    from openpyxl import Workbook

    from kipp.accounts.models import User

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 5000
# A header is looked for among the first rows, in case a title sits above it.
HEADER_SEARCH_ROWS = 10
# Stop reading a sheet after this many empty rows in a row (formatted but empty sheets).
MAX_BLANK_RUN = 10000

CREATED, UPDATED, UNCHANGED, REJECTED = "created", "updated", "unchanged", "rejected"


class ImportFileError(DomainError):
    """The file as a whole cannot be imported (the message says why)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="import_file")


# --- cells -----------------------------------------------------------------------------------


def words(value: Any) -> str:
    """Lower case, with punctuation used as separators turned into single spaces."""
    text = str(value).strip().lower()
    text = re.sub(r"[\s._/\-]+", " ", text)
    return text.strip()


def normalise_header(value: Any) -> str:
    """'Kode Wilayah' / 'KODE-WILAYAH' / '\\ufeffkode_wilayah ' -> 'kode_wilayah'."""
    if value is None:
        return ""
    return words(str(value).replace("\ufeff", "")).replace(" ", "_")


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


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


# --- the columns of an import ----------------------------------------------------------------


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


class Layout:
    """The columns an importer reads, and the messages that name them.

    ``aliases`` maps each field, in the template's order, to the column names
    accepted for it (after ``normalise_header``); ``template_headers`` are the
    template's column names, one a field. ``missing_header(found)`` is the message
    for a file without a header row with the ``required`` fields (``found``: what
    the first row holds), ``no_rows()`` the one for a header without rows below it.
    """

    def __init__(
        self,
        aliases: Mapping[str, tuple[str, ...]],
        *,
        template_headers: Sequence[str],
        required: Sequence[str],
        missing_header: Callable[[str], str],
        no_rows: Callable[[], str],
    ) -> None:
        self.aliases = dict(aliases)
        self.fields = tuple(self.aliases)
        self.template_headers = tuple(template_headers)
        self.required = tuple(required)
        self.header_of = dict(zip(self.fields, self.template_headers))
        self.missing_header = missing_header
        self.no_rows = no_rows
        self._field_of_header = {alias: name for name, names in self.aliases.items() for alias in names}

    def header_field(self, value: Any) -> str | None:
        """The field a column header names, or None for a column kipp does not read."""
        return self._field_of_header.get(normalise_header(value))

    def raw_rows(self, rows: Iterable[RawRow | Mapping[str, Any]]) -> list[RawRow]:
        """RawRows as they are; plain mappings (keyed by header or field name) numbered from row 2."""
        result = []
        for number, row in enumerate(rows, start=2):
            if isinstance(row, RawRow):
                result.append(row)
                continue
            values: dict[str, Any] = {}
            for key, value in row.items():
                name = key if key in self.fields else self.header_field(key)
                if name is not None:
                    values[name] = value
            result.append(RawRow(row=number, values=values))
        return result


# --- reading files ---------------------------------------------------------------------------


def read_source(source: str | PathLike[str] | bytes, filename: str | None) -> tuple[bytes, str]:
    """The bytes and the name of a file given by its path, or as bytes with their ``filename``."""
    if isinstance(source, bytes):
        if not filename:
            raise ValueError("filename is needed with bytes (its extension tells CSV from XLSX)")
        return source, filename
    path = Path(source)
    data = path.read_bytes()
    return data, filename or path.name


def read_table(data: bytes, filename: str, layout: Layout) -> ParsedFile:
    """The rows of a CSV or XLSX file; ImportFileError says why a file cannot be read."""
    return _rows_from_cells(read_cells(data, filename), filename, layout)


def read_cells(data: bytes, filename: str) -> Iterable[tuple[int, list[Any]]]:
    """The numbered rows of cells of a CSV file or of the first sheet of an XLSX file."""
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
        return _csv_cells(data)
    table = _xlsx_cells(data)
    if not table:
        raise ImportFileError(_("The first sheet of the workbook is empty; only the first sheet is read."))
    return table


def _csv_cells(data: bytes) -> list[tuple[int, list[Any]]]:
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


def _xlsx_cells(data: bytes) -> list[tuple[int, list[Any]]]:
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
            if all(is_blank(c) for c in cells):
                blank_run += 1
                if blank_run >= MAX_BLANK_RUN:
                    break
                continue
            blank_run = 0
            rows.append((number, cells))
        return rows
    finally:
        workbook.close()


def _rows_from_cells(table: Iterable[tuple[int, list[Any]]], filename: str, layout: Layout) -> ParsedFile:
    table = [(n, cells) for n, cells in table if not all(is_blank(c) for c in cells)]
    if not table:
        raise ImportFileError(_("The file is empty."))
    header_at = None
    for index, (_number, cells) in enumerate(table[:HEADER_SEARCH_ROWS]):
        fields = {layout.header_field(c) for c in cells}
        if all(f in fields for f in layout.required):
            header_at = index
            break
    if header_at is None:
        found = ", ".join(display_value(c) for c in table[0][1] if not is_blank(c)) or "–"
        raise ImportFileError(layout.missing_header(found))
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, cell in enumerate(table[header_at][1]):
        name = layout.header_field(cell)
        if name is None:
            if not is_blank(cell):
                ignored.append(display_value(cell))
            continue
        if name in columns:
            raise ImportFileError(_("The column \"%(column)s\" appears twice in the header row.",
                                    column=layout.header_of[name]))
        columns[name] = index
    rows = []
    for number, cells in table[header_at + 1:]:
        values = {name: (cells[i] if i < len(cells) else None) for name, i in columns.items()}
        if all(is_blank(v) for v in values.values()):
            continue
        rows.append(RawRow(row=number, values=values))
    if not rows:
        raise ImportFileError(layout.no_rows())
    if len(rows) > MAX_ROWS:
        raise ImportFileError(_("The file has %(n)s rows; at most %(max)s can be imported at once. "
                                "Split it into smaller files.", n=len(rows), max=MAX_ROWS))
    return ParsedFile(filename=filename, rows=rows, ignored_columns=ignored)


# --- importing -------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What became of every row of a file.

    A row is any object with ``row`` (its number), ``values`` (the cells as text,
    by field), ``outcome``, ``problems`` and ``notes``. ``label_field`` names the
    cell that ``as_text`` shows for a rejected row; ``describe`` says what an
    imported row created or updated.
    """

    filename: str
    rows: list[Any]
    ignored_columns: list[str] = field(default_factory=list)
    event_id: int | None = None

    label_field: ClassVar[str] = "name"

    def having(self, outcome: str) -> list[Any]:
        return [r for r in self.rows if r.outcome == outcome]

    @property
    def created(self) -> list[Any]:
        return self.having(CREATED)

    @property
    def updated(self) -> list[Any]:
        return self.having(UPDATED)

    @property
    def unchanged(self) -> list[Any]:
        return self.having(UNCHANGED)

    @property
    def rejected(self) -> list[Any]:
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

    def describe(self, row: Any) -> str:
        """What an imported row is, for ``as_text``."""
        return str(row.values.get(self.label_field, ""))

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
                lines.append(f"row {r.row} rejected ({r.values[self.label_field] or '-'}): " + " ".join(r.problems))
            elif r.outcome in (CREATED, UPDATED):
                lines.append(f"row {r.row} {r.outcome}: {self.describe(r)}"
                             + (" (" + " ".join(r.notes) + ")" if r.notes else ""))
        return "\n".join(lines)


def import_rows(
    actor: User | None,
    report: ImportReport,
    import_row: Callable[[Any], object],
    *,
    action: str,
    object_type: str,
    on_error: Callable[[Any], object] | None = None,
) -> ImportReport:
    """Import the rows of ``report`` that passed the checks, then record the import (``record_import``).

    ``import_row(row)`` creates or updates what the row describes and sets its
    outcome. A row with problems is rejected; so is a row whose import raises
    DomainError, with the error's message, after which ``on_error(row)`` may
    forget what the importer remembered of it.
    """
    for result in report.rows:
        if result.problems:
            result.outcome = REJECTED
            continue
        try:
            import_row(result)
        except DomainError as error:
            result.problems.append(error.message)
            result.outcome = REJECTED
            if on_error is not None:
                on_error(result)
    return record_import(actor, report, action=action, object_type=object_type)


def record_import(actor: User | None, report: ImportReport, *, action: str, object_type: str) -> ImportReport:
    """Record the import as one audit event (counts, and the reasons of up to 200 rejected rows); flush."""
    event = record(
        actor,
        action,
        object_type=object_type,
        label=report.filename or None,
        after={
            "file": report.filename,
            **report.counts,
            "rejected_rows": {str(r.row): " ".join(r.problems) for r in report.rejected[:200]},
        },
    )
    db.session.flush()
    report.event_id = event.id
    return report


def import_source(
    source: str | PathLike[str] | bytes,
    filename: str | None,
    *,
    read: Callable[[bytes, str], ParsedFile],
    run: Callable[..., ImportReport],
    before_reading: Callable[[], object] | None = None,
) -> ImportReport:
    """Read a file (see ``read_source``) with ``read`` and import its rows with ``run``.

    ``run(rows, filename=..., ignored_columns=...)`` is the importer's import
    function; ``before_reading``, when given, runs once the file is at hand and
    before it is parsed (a permission check).
    """
    data, filename = read_source(source, filename)
    if before_reading is not None:
        before_reading()
    parsed = read(data, filename)
    return run(parsed.rows, filename=filename, ignored_columns=parsed.ignored_columns)


# --- writing: every cell kipp writes to a CSV or XLSX file ---------------------------------------

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Text starting with one of these is a formula (or a DDE payload) to Excel, LibreOffice or Google
# Sheets, the full-width forms included (an Asian input method types them, and Excel accepts them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN = (int, float, Decimal, dt.date, dt.time, dt.timedelta)


def safe_cell(value: Any) -> Any:
    """A value as a spreadsheet cell that no spreadsheet reads as a formula.

    Text that starts with a formula character, or with spaces before one (some readers
    trim them), gets a leading apostrophe (OWASP's advice on CSV injection); numbers,
    dates, booleans and empty cells stay as they are; anything else (a lazy translation)
    becomes its text first. Every cell kipp writes to CSV or XLSX passes through here:
    ``csv_bytes`` and the sheets of this module's workbooks call it.
    """
    if value is None or isinstance(value, _PLAIN):  # bool is an int
        return value
    text = value if isinstance(value, str) else str(value)
    if text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """Rows as CSV, every cell through ``safe_cell``, in UTF-8 with a byte-order mark so Excel reads it right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def header_csv(headers: Sequence[str]) -> bytes:
    """A CSV file of only its header row (an import's template)."""
    return csv_bytes([headers])


class SafeSheet:
    """A worksheet whose every written value goes through ``safe_cell``.

    Each sheet this module hands out is one, so no code elsewhere writes a cell of
    its own; everything else (titles, widths, frozen panes, reading) is the sheet's.
    """

    def __init__(self, sheet: Any) -> None:
        self._sheet = sheet

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sheet, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "_sheet":
            object.__setattr__(self, name, value)
        else:
            setattr(self._sheet, name, value)

    def __getitem__(self, key: Any) -> Any:
        return self._sheet[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._sheet[key] = safe_cell(value)

    def append(self, values: Iterable[Any]) -> None:
        self._sheet.append([safe_cell(value) for value in values])

    def cell(self, row: int, column: int, value: Any = None) -> Any:
        return self._sheet.cell(row=row, column=column, value=safe_cell(value))


def _set_up_sheet(sheet: Any, title: str, headers: Sequence[str], widths: Mapping[str, float]) -> SafeSheet:
    from openpyxl.styles import Font

    safe = SafeSheet(sheet)
    safe.title = title[:31]
    safe.append(headers)
    for cell in safe[1]:
        cell.font = Font(bold=True)
    for column, width in widths.items():
        safe.column_dimensions[column].width = width
    return safe


def template_workbook(title: str, headers: Sequence[str], widths: Mapping[str, float]) -> tuple[Workbook, SafeSheet]:
    """A workbook whose first sheet holds the bold ``headers``, frozen below them."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = _set_up_sheet(workbook.active, title, headers, widths)
    sheet.freeze_panes = "A2"
    return workbook, sheet


def add_sheet(workbook: Workbook, title: str, headers: Sequence[str], widths: Mapping[str, float]) -> SafeSheet:
    """A further sheet (title cut to Excel's 31 characters), with bold ``headers``."""
    return _set_up_sheet(workbook.create_sheet(), title, headers, widths)


def streamed_workbook(title: str) -> tuple[Workbook, SafeSheet]:
    """A write-only workbook of one sheet: rows are streamed into the file, not kept as cells
    (thousands of rows in a second or two); set widths and panes before the first row."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    return workbook, SafeSheet(workbook.create_sheet(title=title[:31]))


def add_choice_list(sheet: SafeSheet, column: str, choices: Sequence[str], *, rows: int) -> None:
    """Offer ``choices`` as a drop-down list in ``column`` of the ``rows`` rows below the header."""
    from openpyxl.worksheet.datavalidation import DataValidation

    validation = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
    validation.add(f"{column}2:{column}{rows + 1}")
    sheet.add_data_validation(validation)


def add_instructions(workbook: Workbook, columns: Iterable[tuple[str, str]], footer: str) -> SafeSheet:
    """The instructions sheet: what to write in each column, then ``footer``."""
    guide = add_sheet(workbook, _("Instructions"), [_("Column"), _("What to write")], {"A": 16, "B": 100})
    for column, text in columns:
        guide.append([column, text])
    guide.append([])
    guide.append([footer])
    return guide


def workbook_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
