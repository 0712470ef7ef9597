"""The proposal list as an Excel workbook: one row per proposal, one column per section's word count.

Written as a streamed workbook (rows go into the file, not kept as cell objects), so
thousands of proposals take a second or two; its sheet neutralises every cell
(``kipp.spreadsheets.safe_cell``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from openpyxl.utils import get_column_letter

from kipp.agencies.kinds import AGENCY_TYPE_LABELS, CLUSTER_LABELS
from kipp.editions.models import Edition
from kipp.i18n import localized, to_wib
from kipp.proposals.labels import holder_label, status_label
from kipp.proposals.overview import ProposalFilters, export_rows
from kipp.proposals.states import HOLDER
from kipp.spreadsheets import XLSX_MIMETYPE, streamed_workbook, workbook_bytes

__all__ = ["XLSX_MIMETYPE", "build_workbook", "filename"]


def _wib(value: dt.datetime | None) -> dt.datetime | None:
    # Excel has no time zones: WIB wall-clock time, said in the header.
    return to_wib(value).replace(tzinfo=None) if value is not None else None


def build_workbook(edition: Edition, filters: ProposalFilters) -> bytes:
    columns, rows = export_rows(edition, filters)
    groups = {g.id: localized(g, "name") for g in edition.groups}
    categories = {c.id: localized(c, "name") for c in edition.categories}
    yes, no = _("Yes"), _("No")

    workbook, sheet = streamed_workbook(_("Proposals"))
    header = [
        _("Number"), _("Title"), _("Group"), _("Category"), _("Status"), _("Held by"), _("Agency"),
        _("Agency type"), _("Cluster"), _("Province"), _("Kabupaten/kota"), "3T", _("Unit (UPP)"), _("SDGs"),
        _("Innovation start date"), _("Created (WIB)"), _("Submitted (WIB)"),
        *(_("Words: %(section)s", section=localized(col.section, "title")) for col in columns),
    ]
    widths = [18, 60, 16, 28, 18, 14, 40, 20, 14, 24, 28, 5, 36, 12, 14, 17, 17, *(12 for _c in columns)]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "C2"
    sheet.append(header)
    for row in rows:
        values: list[Any] = [
            row.number,
            row.title,
            groups.get(row.group_id),
            categories.get(row.category_id) if row.category_id else None,
            status_label(row.status),
            holder_label(HOLDER[row.status]),
            row.agency,
            AGENCY_TYPE_LABELS[row.agency_type],
            CLUSTER_LABELS[row.cluster],
            row.province,
            row.regency,
            yes if row.is_3t else no,
            row.unit,
            ", ".join(str(n) for n in row.sdgs),
            row.innovation_start_date,
            _wib(row.created_at),
            _wib(row.submitted_at),
            *row.words,
        ]
        sheet.append(values)
    return workbook_bytes(workbook)


def filename(edition: Edition) -> str:
    return f"kipp-{edition.year}-proposals.xlsx"
