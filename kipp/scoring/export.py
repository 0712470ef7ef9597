"""A scored stage as Excel workbooks: every judge's sheet in full, and the ranking with how it
was computed.

Each workbook is read from a constant number of queries, whatever the number of sheets or
proposals; one worksheet per group, because each group is scored on its own aspects. Their sheets
neutralise every cell (titles, comments, names) so no spreadsheet reads one as a formula."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal
from typing import Any, Iterable, Sequence

import sqlalchemy as sa
from flask_babel import gettext as _

from kipp.accounts.models import User
from kipp.agencies.kinds import CLUSTER_LABELS, Cluster
from kipp.agencies.models import Agency, Region
from kipp.editions.models import EditionGroup
from kipp.extensions import db
from kipp.i18n import localized, to_wib, wib_datetime
from kipp.judging.models import PoolMember
from kipp.proposals.models import Proposal
from kipp.scoring.models import ProposalScore, ScoreSheet, ScoringAspect, ScoringScheme, SheetStatus
from kipp.scoring.services import STAGE_NAMES, tie_break_keys
from kipp.spreadsheets import XLSX_MIMETYPE, add_sheet, template_workbook, workbook_bytes

__all__ = ["XLSX_MIMETYPE", "filename", "ranking_workbook", "sheets_workbook"]

def filename(scheme: ScoringScheme, what: str) -> str:
    return f"kipp-{scheme.edition.year}-{scheme.stage.value.replace('_', '-')}-{what}.xlsx"


def _weight(value: Decimal) -> str:
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _wib(value: dt.datetime | None) -> dt.datetime | None:
    # Excel has no time zones: WIB wall-clock time, said in the header.
    return to_wib(value).replace(tzinfo=None) if value is not None else None


def _number(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _lookups(scheme: ScoringScheme, rows: Sequence[Any]) -> tuple[dict[str, str], dict[int, str],
                                                                   dict[int, list[Any]]]:
    """What both workbooks look up per row: province names, category names, the rows per group."""
    by_group: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_group[row.group_id].append(row)
    categories = {c.id: localized(c, "name") for c in scheme.edition.categories}
    return _provinces(row.region_code for row in rows), categories, by_group


def _provinces(region_codes: Iterable[str | None]) -> dict[str, str]:
    """Region code -> the name of its province, for the codes given (one query)."""
    codes = {c for c in region_codes if c}
    wanted = codes | {c.split(".")[0] for c in codes}
    if not wanted:
        return {}
    names = dict(db.session.execute(sa.select(Region.code, Region.name).where(Region.code.in_(wanted))).all())
    return {code: names[code.split(".")[0]] for code in codes if code.split(".")[0] in names}


def _groups(scheme: ScoringScheme) -> list[tuple[EditionGroup, list[ScoringAspect]]]:
    """The edition's groups that the stage scores, each with its aspects."""
    return [(group, scheme.aspects_of(group.code)) for group in scheme.edition.groups if scheme.aspects_of(group.code)]


def _sheet_title(group: EditionGroup, taken: set[str]) -> str:
    # Excel refuses two worksheets of the same name, names above 31 characters and a few characters.
    title = re.sub(r"[\[\]:*?/\\]", "-", localized(group, "name")).strip("'")[:31] or group.code.value
    if title in taken:
        title = f"{title[:27]} ({group.code.value})"[:31]
    taken.add(title)
    return title


# --- every sheet ---------------------------------------------------------------------------------


def sheets_workbook(scheme: ScoringScheme) -> bytes:
    """Every sheet of the stage but the discarded ones: who scored what, with each aspect's
    score and comment, one worksheet per group."""
    rows = db.session.execute(
        sa.select(ScoreSheet.status, ScoreSheet.scores, ScoreSheet.comment, ScoreSheet.weighted_total,
                  ScoreSheet.submitted_at, Proposal.number, Proposal.title, Proposal.group_id, Proposal.category_id,
                  Agency.name.label("agency"), Agency.cluster, Agency.region_code, User.name.label("judge"),
                  User.affiliation)
        .join(Proposal, Proposal.id == ScoreSheet.proposal_id)
        .join(Agency, Agency.id == Proposal.agency_id)
        .join(PoolMember, PoolMember.id == ScoreSheet.member_id)
        .join(User, User.id == PoolMember.user_id)
        .where(ScoreSheet.scheme_id == scheme.id, ScoreSheet.status != SheetStatus.DISCARDED)
        .order_by(Proposal.number.is_(None), Proposal.number, Proposal.id, User.name, ScoreSheet.id)
    ).all()
    provinces, categories, by_group = _lookups(scheme, rows)
    statuses = {SheetStatus.SUBMITTED: _("submitted"), SheetStatus.DRAFT: _("draft")}

    fixed = [_("Number"), _("Title"), _("Agency"), _("Cluster"), _("Province"), _("Group"), _("Category"),
             _("Judge"), _("Affiliation"), _("Status"), _("Submitted (WIB)")]
    widths = [18, 50, 36, 14, 24, 16, 26, 28, 28, 12, 17]
    workbook, taken = None, set()
    for group, aspects in _groups(scheme):
        headers = [*fixed]
        for aspect in aspects:
            name = localized(aspect, "title")
            headers += [_("Score: %(aspect)s (%(weight)s%%)", aspect=name, weight=_weight(aspect.weight)),
                        _("Comment: %(aspect)s", aspect=name)]
        headers += [_("Weighted total"), _("General comment")]
        column_widths = [*widths, *([10, 40] * len(aspects)), 12, 50]
        letters = {_column(i): w for i, w in enumerate(column_widths, start=1)}
        sheet_title = _sheet_title(group, taken)
        if workbook is None:
            workbook, sheet = template_workbook(sheet_title, headers, letters)
        else:
            sheet = add_sheet(workbook, sheet_title, headers, letters)
            sheet.freeze_panes = "A2"
        group_name = localized(group, "name")
        for row in by_group.get(group.id, []):
            values: list[Any] = [
                row.number, row.title, row.agency,
                CLUSTER_LABELS[Cluster(row.cluster)], provinces.get(row.region_code), group_name,
                categories.get(row.category_id),
                row.judge, row.affiliation, statuses[row.status], _wib(row.submitted_at),
            ]
            scores = row.scores or {}
            for aspect in aspects:
                entry = scores.get(aspect.key) or {}
                values += [_number(entry.get("value")), entry.get("comment") or None]
            values += [_number(row.weighted_total), row.comment]
            sheet.append(values)
    if workbook is None:
        workbook, _sheet = template_workbook(_("Sheets"), fixed, {})
    return workbook_bytes(workbook)


def _column(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


# --- the ranking ---------------------------------------------------------------------------------


def ranking_workbook(scheme: ScoringScheme) -> bytes:
    """An About worksheet saying how the ranking was computed, then per group the proposals in
    rank order with their raw and normalised totals side by side."""
    yes, no = _("Yes"), _("No")
    params = scheme.ranking_params or {}
    chosen = params.get("total") or ("normalised" if scheme.normalise else "raw")
    keys = params.get("tie_break") or tie_break_keys(scheme)
    titles = {a.key: localized(a, "title") for a in scheme.aspects}

    workbook, about = template_workbook(_("About"), [_("Item"), _("Value")], {"A": 34, "B": 90})
    normalisation = params.get("normalisation") or {}
    # The passing grade does not order the ranking, so the current one applies even to an older ranking.
    passing = str(scheme.passing_grade) if scheme.passing_grade is not None else None
    scale = params.get("scale") or [scheme.scale_min, scheme.scale_max]
    for item, value in (
        (_("Edition"), scheme.edition.name),
        (_("Stage"), str(STAGE_NAMES.get(scheme.stage, scheme.stage.value))),
        (_("Ranked at"), wib_datetime(scheme.ranked_at) if scheme.ranked_at else _("Not ranked yet")),
        (_("Ranking up to date"), no if scheme.ranking_stale or scheme.ranked_at is None else yes),
        (_("Ranked by"), _("normalised total") if chosen == "normalised" else _("raw total")),
        (_("Normalisation"), normalisation.get("method") if normalisation else _("none")),
        (_("Fewest sheets of a judge to normalise"), normalisation.get("min_sheets") if normalisation else None),
        (_("Tie-break (in order)"), ", ".join(f"{titles.get(k, k)} ({k})" for k in keys) or _("none")),
        (_("Passing grade"), _weight(Decimal(passing)) if passing else _("none")),
        (_("Disagreement threshold (standard deviation)"),
         params.get("disagreement_threshold", str(scheme.disagreement_threshold))),
        (_("Scale"), f"{scale[0]}-{scale[1]}"),
        (_("Exported at"), wib_datetime(dt.datetime.now(dt.timezone.utc))),
    ):
        about.append([item, str(value) if value is not None else None])
    about.append([])
    about.append([_("The raw total is the mean of the judges' weighted totals; the normalised total corrects "
                    "for harsh and lenient judges. Both are shown side by side; the rank follows the one above.")])
    if scheme.ranking_stale:
        about.append([_("Sheets changed after this ranking was computed: recompute it for an up-to-date ranking.")])

    rows = db.session.execute(
        sa.select(ProposalScore.rank, ProposalScore.sheets, ProposalScore.raw_total, ProposalScore.normalised_total,
                  ProposalScore.std_dev, ProposalScore.spread, ProposalScore.disagreement,
                  ProposalScore.aspect_means, Proposal.number, Proposal.title, Proposal.group_id,
                  Proposal.category_id, Agency.name.label("agency"), Agency.cluster, Agency.region_code)
        .join(Proposal, Proposal.id == ProposalScore.proposal_id)
        .join(Agency, Agency.id == Proposal.agency_id)
        .where(ProposalScore.scheme_id == scheme.id)
        .order_by(ProposalScore.rank.is_(None), ProposalScore.rank, Proposal.number.is_(None), Proposal.number,
                  Proposal.id)
    ).all()
    provinces, categories, by_group = _lookups(scheme, rows)
    grade = Decimal(passing) if passing is not None else None

    taken = {about.title}
    for group, aspects in _groups(scheme):
        own = {a.key: localized(a, "title") for a in aspects}
        headers = [_("Rank"), _("Number"), _("Title"), _("Agency"), _("Cluster"), _("Province"), _("Category"),
                   _("Sheets"), _("Raw total"), _("Normalised total"), _("Standard deviation"), _("Spread"),
                   _("Disagreement")]
        if grade is not None:
            headers.append(_("≥ passing grade (%(grade)s)", grade=_weight(grade)))
        headers += [_("Tie-break: %(aspect)s", aspect=own.get(k, k)) for k in keys]
        widths = [6, 18, 50, 36, 14, 24, 26, 8, 10, 12, 12, 10, 12, *([14] if grade is not None else []),
                  *([16] * len(keys))]
        sheet = add_sheet(workbook, _sheet_title(group, taken), headers,
                          {_column(i): w for i, w in enumerate(widths, start=1)})
        sheet.freeze_panes = "D2"
        for row in by_group.get(group.id, []):
            values: list[Any] = [
                row.rank, row.number, row.title, row.agency,
                CLUSTER_LABELS[Cluster(row.cluster)], provinces.get(row.region_code),
                categories.get(row.category_id), row.sheets, _number(row.raw_total), _number(row.normalised_total),
                _number(row.std_dev), _number(row.spread), yes if row.disagreement else no,
            ]
            if grade is not None:
                total = row.normalised_total if chosen == "normalised" else row.raw_total
                values.append(None if total is None else (yes if Decimal(total) >= grade else no))
            means = row.aspect_means or {}
            values += [_number(means.get(k)) for k in keys]
            sheet.append(values)
    return workbook_bytes(workbook)
