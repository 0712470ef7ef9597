"""Every stage's results of an edition as one Excel workbook (the secretariat's record).

An "About" worksheet says what each worksheet holds and when each list was frozen; then one
worksheet per stage: the screening outcomes, the evaluation ranking, the nominees, the panel's
ranking and finalists, the objections (never the filers' names or contacts), the presentations,
the field visits (when held) and the final result. The whole workbook is read in a fixed number
of queries whatever the number of proposals: every table is read once for the edition and looked
up in memory. Its sheets neutralise every cell so that no spreadsheet reads one as a formula.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

import sqlalchemy as sa
from flask_babel import gettext as _

from kipp.agencies.kinds import CLUSTER_LABELS, Cluster
from kipp.agencies.models import Agency, Region
from kipp.editions.kinds import STAGE_ORDER, StageKind
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.i18n import localized, to_wib, wib_datetime
from kipp.innovations.kinds import TIER_LABELS, AwardTier
from kipp.objections.models import Objection, ObjectionStatus
from kipp.presentations.models import Attendance, PresentationSlot
from kipp.progress.stages import is_held, status_of
from kipp.progress.stages import STATUS_LABELS
from kipp.proposals.labels import status_label
from kipp.proposals.models import Proposal
from kipp.proposals.states import NUMBERED, PASSED_SCREENING, ProposalStatus
from kipp.scoring.models import ProposalScore, ScoringScheme
from kipp.screening.models import ScreeningCheck, ScreeningReason, ScreeningReview
from kipp.selection.models import Shortlist, ShortlistEntry, ShortlistKind
from kipp.spreadsheets import XLSX_MIMETYPE, add_sheet, template_workbook, workbook_bytes
from kipp.verification.models import FieldVisit

__all__ = ["XLSX_MIMETYPE", "filename", "results_workbook"]

FACT_WIDTHS = [18, 50, 36, 14, 24, 14, 26]


def filename(edition: Edition) -> str:
    return f"kipp-{edition.year}-results.xlsx"


def _wib(value: dt.datetime | None) -> dt.datetime | None:
    # Excel has no time zones: WIB wall-clock time, said in the header.
    return to_wib(value).replace(tzinfo=None) if value is not None else None


def _number(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _column(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


@dataclass
class _Facts:
    number: str | None
    title: str
    agency: str
    cluster: str
    province: str | None
    group: str
    category: str | None
    status: ProposalStatus
    group_code: Any = None

    def cells(self) -> list[Any]:
        return [self.number, self.title, self.agency, self.cluster, self.province, self.group, self.category]


class _Book:
    """The edition's tables, each read once, and the workbook being written."""

    def __init__(self, edition: Edition) -> None:
        self.edition = edition
        self.yes, self.no = _("Yes"), _("No")
        groups = {g.id: g for g in edition.groups}
        self.group_position = {g.code: g.position for g in edition.groups}
        self.group_names = {g.code: localized(g, "name") for g in edition.groups}
        categories = {c.id: localized(c, "name") for c in edition.categories}
        provinces = dict(db.session.execute(sa.select(Region.code, Region.name).where(Region.level == 1)).all())
        self.facts: dict[int, _Facts] = {}
        for row in db.session.execute(
                sa.select(Proposal.id, Proposal.number, Proposal.title, Proposal.status, Proposal.group_id,
                          Proposal.category_id, Agency.name, Agency.cluster, Agency.region_code)
                .join(Agency, Agency.id == Proposal.agency_id)
                .where(Proposal.edition_id == edition.id, Proposal.status.in_([s.value for s in NUMBERED]))):
            group = groups.get(row.group_id)
            self.facts[row.id] = _Facts(
                row.number, row.title, row.name, CLUSTER_LABELS[Cluster(row.cluster)],
                provinces.get((row.region_code or "").split(".")[0]),
                localized(group, "name") if group is not None else "", categories.get(row.category_id), row.status,
                group.code if group is not None else None)
        self.lists = {s.kind: s for s in db.session.scalars(sa.select(Shortlist).where(
            Shortlist.edition_id == edition.id))}
        self.entries: dict[int, list[Any]] = defaultdict(list)
        if self.lists:
            for entry in db.session.execute(
                    sa.select(ShortlistEntry.shortlist_id, ShortlistEntry.proposal_id, ShortlistEntry.group_code,
                              ShortlistEntry.rank, ShortlistEntry.score, ShortlistEntry.components,
                              ShortlistEntry.is_3t, ShortlistEntry.proposed, ShortlistEntry.chosen,
                              ShortlistEntry.reason, ShortlistEntry.entered_by, ShortlistEntry.displaced_proposal_id,
                              ShortlistEntry.tier, ShortlistEntry.stability)
                    .where(ShortlistEntry.shortlist_id.in_([s.id for s in self.lists.values()]))):
                self.entries[entry.shortlist_id].append(entry)
        self.schemes = {s.stage: s for s in db.session.scalars(sa.select(ScoringScheme).where(
            ScoringScheme.edition_id == edition.id))}
        self.scores: dict[int, dict[int, Any]] = defaultdict(dict)
        if self.schemes:
            for score in db.session.execute(
                    sa.select(ProposalScore.scheme_id, ProposalScore.proposal_id, ProposalScore.rank,
                              ProposalScore.sheets, ProposalScore.raw_total, ProposalScore.normalised_total)
                    .where(ProposalScore.scheme_id.in_([s.id for s in self.schemes.values()]))):
                self.scores[score.scheme_id][score.proposal_id] = score
        self.workbook, self.about = template_workbook(_("About"), [_("Item"), _("Value")], {"A": 40, "B": 100})
        self.sheets: list[tuple[str, str]] = []

    # --- helpers -----------------------------------------------------------------------------

    def fact_headers(self) -> list[str]:
        return [_("Number"), _("Title"), _("Agency"), _("Cluster"), _("Province"), _("Group"), _("Category")]

    def fact_cells(self, proposal_id: int | None) -> list[Any]:
        facts = self.facts.get(proposal_id) if proposal_id is not None else None
        return facts.cells() if facts is not None else [None] * 7

    def number_of(self, proposal_id: int | None) -> str | None:
        facts = self.facts.get(proposal_id) if proposal_id is not None else None
        return facts.number if facts is not None else None

    def yesno(self, value: bool | None) -> str | None:
        return None if value is None else (self.yes if value else self.no)

    def sheet(self, title: str, about: str, headers: list[str], widths: list[float], *, freeze: str = "C2") -> Any:
        sheet = add_sheet(self.workbook, title, headers, {_column(i): w for i, w in enumerate(widths, start=1)})
        sheet.freeze_panes = freeze
        self.sheets.append((sheet.title, about))
        return sheet

    def scheme_score(self, stage: StageKind, proposal_id: int) -> Any:
        scheme = self.schemes.get(stage)
        return self.scores[scheme.id].get(proposal_id) if scheme is not None else None

    def chosen_total(self, stage: StageKind, score: Any) -> Decimal | None:
        if score is None:
            return None
        scheme = self.schemes[stage]
        return _number(score.normalised_total if scheme.normalise else score.raw_total)

    def by_group_then(self, key: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return lambda row: (self.group_position.get(row.group_code, 99), key(row))

    # --- the worksheets ----------------------------------------------------------------------

    def screening(self) -> None:
        sheet = self.sheet(
            _("Screening"),
            _("Every proposal submitted to the ministry: the outcome of its administrative screening and the "
              "checklist items it failed."),
            [*self.fact_headers(), _("Outcome"), _("Failed items"), _("Screened (WIB)"), _("Status now")],
            [*FACT_WIDTHS, 22, 60, 17, 26])
        reviews: dict[int, Any] = {}
        for review in db.session.execute(
                sa.select(ScreeningReview.id, ScreeningReview.proposal_id, ScreeningReview.round,
                          ScreeningReview.confirmed_at)
                .join(Proposal, Proposal.id == ScreeningReview.proposal_id)
                .where(Proposal.edition_id == self.edition.id, ScreeningReview.confirmed_at.is_not(None))):
            known = reviews.get(review.proposal_id)
            if known is None or (review.round, review.id) > (known.round, known.id):
                reviews[review.proposal_id] = review
        failed: dict[int, list[str]] = defaultdict(list)
        for review_id, code, title_id, title_en in db.session.execute(
                sa.select(ScreeningCheck.review_id, ScreeningReason.code, ScreeningReason.title_id,
                          ScreeningReason.title_en)
                .join(ScreeningReason, ScreeningReason.id == ScreeningCheck.reason_id)
                .join(ScreeningReview, ScreeningReview.id == ScreeningCheck.review_id)
                .join(Proposal, Proposal.id == ScreeningReview.proposal_id)
                .where(Proposal.edition_id == self.edition.id, ScreeningCheck.passed.is_(False))
                .order_by(ScreeningReason.position, ScreeningReason.id)):
            failed[review_id].append(f"{code} {title_en if self.english else title_id}")
        for proposal_id, facts in sorted(self.facts.items(), key=lambda item: (item[1].number or "", item[0])):
            review = reviews.get(proposal_id)
            sheet.append([*facts.cells(), self.screening_outcome(facts.status),
                          "; ".join(failed.get(review.id, [])) if review is not None else None,
                          _wib(review.confirmed_at) if review is not None else None, status_label(facts.status)])

    @property
    def english(self) -> bool:
        from flask_babel import get_locale

        return str(get_locale() or "id") == "en"

    def screening_outcome(self, status: ProposalStatus) -> str:
        if status in PASSED_SCREENING:
            return _("passed")
        return {
            ProposalStatus.ADMIN_FAILED: _("failed"),
            ProposalStatus.IN_CORRECTION: _("in correction"),
            ProposalStatus.WITHDRAWN: _("withdrawn"),
        }.get(status, _("not screened yet"))

    def ranking(self, stage: StageKind, title: str, about: str) -> None:
        scheme = self.schemes.get(stage)
        grade = _number(scheme.passing_grade) if scheme is not None else None
        headers = [_("Rank"), *self.fact_headers(), _("Sheets"), _("Raw total"), _("Normalised total")]
        if grade is not None:
            headers.append(_("≥ passing grade (%(grade)s)", grade=grade))
        sheet = self.sheet(title, about, headers, [6, *FACT_WIDTHS, 8, 10, 12, 14], freeze="D2")
        if scheme is None:
            sheet.append([None, _("This stage has no scoring scheme.")])
            return
        rows = sorted(self.scores[scheme.id].values(), key=lambda s: (
            self.group_position.get(self._group_code(s.proposal_id), 99), s.rank is None, s.rank or 0,
            self.number_of(s.proposal_id) or ""))
        for score in rows:
            values = [score.rank, *self.fact_cells(score.proposal_id), score.sheets, _number(score.raw_total),
                      _number(score.normalised_total)]
            if grade is not None:
                total = self.chosen_total(stage, score)
                values.append(None if total is None else self.yesno(total >= grade))
            sheet.append(values)

    def _group_code(self, proposal_id: int) -> Any:
        facts = self.facts.get(proposal_id)
        return facts.group_code if facts is not None else None

    def nominees(self) -> None:
        nominees = self.lists.get(ShortlistKind.NOMINEES)
        sheet = self.sheet(
            _("Nominees"),
            _("Every candidate of the nominee list as built from the evaluation ranking, chosen or not: the rule "
              "that brought it in, whom it displaced, and the reason for every change by hand."),
            [_("Group"), _("Rank"), *self.fact_headers(), _("3T region"), _("Score"), _("Proposed by the rules"),
             _("Nominee"), _("Entered by rule"), _("Displaced"), _("Reason for the change"), _("Stability")],
            [14, 6, *FACT_WIDTHS, 9, 9, 12, 9, 16, 18, 50, 10], freeze="E2")
        if nominees is None:
            sheet.append([_("The nominee list has not been built.")])
            return
        for entry in sorted(self.entries[nominees.id], key=self.by_group_then(lambda e: (e.rank, e.proposal_id))):
            sheet.append([self.group_names.get(entry.group_code), entry.rank, *self.fact_cells(entry.proposal_id),
                          self.yesno(entry.is_3t), _number(entry.score), self.yesno(entry.proposed),
                          self.yesno(entry.chosen), entry.entered_by,
                          self.number_of(entry.displaced_proposal_id), entry.reason,
                          _number(entry.stability)])

    def finalists(self) -> None:
        finalists = self.lists.get(ShortlistKind.FINALISTS)
        sheet = self.sheet(
            _("Panel and finalists"),
            _("The panel's ranking of the nominees and the plenary's decision: each nominee's panel totals, "
              "whether it became a finalist, the reason for every departure from rank, its tier and where it "
              "stands now (confirmed, disqualified …)."),
            [_("Group"), _("Panel rank"), *self.fact_headers(), _("Panel sheets"), _("Panel raw total"),
             _("Panel normalised total"), _("Rank on the list"), _("Score on the list"), _("Proposed"),
             _("Finalist"), _("Reason for the departure"), _("Tier"), _("Stability"), _("Status now")],
            [14, 8, *FACT_WIDTHS, 8, 10, 12, 8, 9, 9, 9, 50, 22, 10, 26], freeze="E2")
        entries = {e.proposal_id: e for e in self.entries[finalists.id]} if finalists is not None else {}
        scheme = self.schemes.get(StageKind.PANEL_REVIEW)
        panel = self.scores[scheme.id] if scheme is not None else {}
        ids = set(entries) | set(panel)
        if not ids:
            sheet.append([_("The panel has not ranked the nominees yet.")])
            return

        def order(pid: int) -> Any:
            entry, score = entries.get(pid), panel.get(pid)
            code = entry.group_code if entry is not None else self._group_code(pid)
            rank = entry.rank if entry is not None else (score.rank if score is not None else None)
            return self.group_position.get(code, 99), rank is None, rank or 0, self.number_of(pid) or ""

        for pid in sorted(ids, key=order):
            entry, score = entries.get(pid), panel.get(pid)
            facts = self.facts.get(pid)
            group = self.group_names.get(entry.group_code) if entry is not None else (facts.group if facts else None)
            sheet.append([
                group, score.rank if score is not None else None, *self.fact_cells(pid),
                score.sheets if score is not None else None, _number(score.raw_total) if score is not None else None,
                _number(score.normalised_total) if score is not None else None,
                entry.rank if entry is not None else None, _number(entry.score) if entry is not None else None,
                self.yesno(entry.proposed) if entry is not None else None,
                self.yesno(entry.chosen) if entry is not None else None,
                entry.reason if entry is not None else None,
                TIER_LABELS.get(entry.tier) if entry is not None and entry.tier else None,
                _number(entry.stability) if entry is not None else None,
                status_label(facts.status) if facts is not None else None,
            ])

    def objections(self) -> None:
        sheet = self.sheet(
            _("Objections"),
            _("Every objection filed against a finalist in the objection window: its reference, the finalist, its "
              "status and the secretariat's ruling. The filers' names, contacts and texts are not exported."),
            [_("Reference"), _("Filed (WIB)"), *self.fact_headers(), _("Status"), _("Ruling"), _("Ruled (WIB)")],
            [18, 17, *FACT_WIDTHS, 12, 60, 17], freeze="C2")
        labels = {ObjectionStatus.PENDING: _("pending"), ObjectionStatus.REJECTED: _("rejected"),
                  ObjectionStatus.UPHELD: _("upheld (finalist disqualified)")}
        for row in db.session.execute(
                sa.select(Objection.reference, Objection.submitted_at, Objection.proposal_id, Objection.status,
                          Objection.ruling, Objection.ruled_at)
                .where(Objection.edition_id == self.edition.id)
                .order_by(Objection.submitted_at, Objection.id)):
            sheet.append([row.reference, _wib(row.submitted_at), *self.fact_cells(row.proposal_id),
                          labels[row.status], row.ruling, _wib(row.ruled_at)])

    def presentations(self) -> None:
        sheet = self.sheet(
            _("Presentations"),
            _("Each confirmed finalist's presentation and interview: the slot, the confirmation, the attendance "
              "and the presentation score (the panel's mean)."),
            [_("Starts (WIB)"), *self.fact_headers(), _("Presentation (minutes)"), _("Interview (minutes)"),
             _("Confirmed (WIB)"), _("Attendance"), _("Sheets"), _("Presentation raw total"),
             _("Presentation normalised total")],
            [17, *FACT_WIDTHS, 12, 12, 17, 14, 8, 12, 12], freeze="C2")
        labels = {Attendance.SCHEDULED: _("not recorded"), Attendance.PRESENTED: _("presented"),
                  Attendance.NO_SHOW: _("did not present")}
        for row in db.session.execute(
                sa.select(PresentationSlot.proposal_id, PresentationSlot.starts_at,
                          PresentationSlot.presentation_minutes, PresentationSlot.interview_minutes,
                          PresentationSlot.confirmed_at, PresentationSlot.attendance)
                .where(PresentationSlot.edition_id == self.edition.id)
                .order_by(PresentationSlot.starts_at, PresentationSlot.id)):
            score = self.scheme_score(StageKind.PRESENTATION, row.proposal_id)
            sheet.append([_wib(row.starts_at), *self.fact_cells(row.proposal_id), row.presentation_minutes,
                          row.interview_minutes, _wib(row.confirmed_at), labels[row.attendance],
                          score.sheets if score is not None else None,
                          _number(score.raw_total) if score is not None else None,
                          _number(score.normalised_total) if score is not None else None])

    def field_visits(self) -> None:
        sheet = self.sheet(
            _("Field visits"),
            _("Each finalist visited in the field verification: the date, the place, the findings and the score."),
            [*self.fact_headers(), _("Visit date"), _("Location"), _("Score"), _("Findings"), _("Recorded (WIB)")],
            [*FACT_WIDTHS, 12, 30, 8, 80, 17])
        for row in db.session.execute(
                sa.select(FieldVisit.proposal_id, FieldVisit.visit_date, FieldVisit.location, FieldVisit.score,
                          FieldVisit.findings, FieldVisit.recorded_at)
                .where(FieldVisit.edition_id == self.edition.id).order_by(FieldVisit.visit_date, FieldVisit.id)):
            sheet.append([*self.fact_cells(row.proposal_id), row.visit_date, row.location,
                          _number(row.score), row.findings, _wib(row.recorded_at)])

    def final(self) -> None:
        winners = self.lists.get(ShortlistKind.WINNERS)
        entries = self.entries[winners.id] if winners is not None else []
        keys = _component_keys(entries)
        headers = [_("Group"), _("Rank"), *self.fact_headers()]
        widths: list[float] = [14, 6, *FACT_WIDTHS]
        for key in keys:
            headers += [_("%(stage)s: score", stage=_stage_name(key)), _("%(stage)s: weight (%%)",
                                                                           stage=_stage_name(key))]
            widths += [12, 10]
        headers += [_("Combined score"), _("Proposed"), _("Chosen"), _("Tier"), _("Reason for the departure"),
                    _("Stability"), _("Status now")]
        widths += [10, 9, 9, 26, 50, 10, 22]
        sheet = self.sheet(
            _("Final result"),
            _("Every finalist of the final round: each stage's score and its weight, the combined score, and the "
              "tier the panel agreed (with the reason for every departure from rank)."),
            headers, widths, freeze="E2")
        if winners is None:
            sheet.append([_("The final result has not been built.")])
            return
        for entry in sorted(entries, key=self.by_group_then(lambda e: (e.rank, e.proposal_id))):
            values: list[Any] = [self.group_names.get(entry.group_code), entry.rank,
                                 *self.fact_cells(entry.proposal_id)]
            scores, weights = _scores_and_weights(entry.components)
            for key in keys:
                values += [_number(scores.get(key)), _number(weights.get(key))]
            facts = self.facts.get(entry.proposal_id)
            values += [_number(entry.score), self.yesno(entry.proposed), self.yesno(entry.chosen),
                       _tier_label(entry.tier), entry.reason, _number(entry.stability),
                       status_label(facts.status) if facts is not None else None]
            sheet.append(values)

    def fill_about(self) -> None:
        about, edition = self.about, self.edition
        about.append([_("Edition"), edition.name])
        about.append([_("Exported at"), wib_datetime(dt.datetime.now(dt.timezone.utc))])
        about.append([_("Proposals submitted to the ministry"), len(self.facts)])
        about.append([])
        for kind, name in ((ShortlistKind.NOMINEES, _("Nominee list")), (ShortlistKind.FINALISTS, _("Finalists")),
                           (ShortlistKind.WINNERS, _("Final result"))):
            found = self.lists.get(kind)
            if found is None:
                about.append([name, _("not built")])
                continue
            about.append([name, _("frozen %(when)s", when=wib_datetime(found.frozen_at)) if found.frozen
                          else _("draft, not frozen")])
            if found.decree_number:
                decree = found.decree_number
                if found.decree_date:
                    decree = f"{decree} ({found.decree_date.isoformat()})"
                about.append([_("%(list)s: decree", list=name), decree])
            if kind is ShortlistKind.FINALISTS and found.confirmed_at:
                about.append([_("%(list)s: confirmed", list=name), wib_datetime(found.confirmed_at)])
            if kind is ShortlistKind.WINNERS:
                about.append([_("%(list)s: published", list=name),
                              wib_datetime(found.published_at) if found.published_at else _("not published")])
        about.append([])
        about.append([_("Stage"), _("Where it stands")])
        for stage in sorted(edition.stages, key=lambda s: STAGE_ORDER.index(s.kind)):
            about.append([localized(stage, "name"), str(STATUS_LABELS[status_of(edition, stage.kind)])])
        about.append([])
        about.append([_("Worksheet"), _("What it holds")])
        for title, text in self.sheets:
            about.append([title, text])
        about.append([])
        about.append([_("Times are in WIB (Asia/Jakarta). Scores are as they stood when each list was frozen "
                        "(lists) or last computed (rankings).")])


# The final score's components, as kipp.selection writes them: {"scores": {name: total}, "weights":
# {name: percent}, "missing": [...], ...}, each name one of kipp.selection.final.COMPONENTS.
COMPONENT_ORDER = ("evaluation", "panel", "presentation", "field")


def _stage_name(key: str) -> str:
    names = {"evaluation": _("Evaluation"), "panel": _("Panel review"), StageKind.PANEL_REVIEW.value: _("Panel review"),
             "presentation": _("Presentation"), "field": _("Field verification"),
             StageKind.FIELD_VERIFICATION.value: _("Field verification")}
    return names.get(key, key)


def _scores_and_weights(components: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(stage -> score, stage -> weight) of an entry's components, in the selection's shape or, from
    older lists, one {"total": …, "weight": …} (or a number) per stage."""
    components = components or {}
    if isinstance(components.get("scores"), dict):
        return components["scores"], components.get("weights") or {}
    scores, weights = {}, {}
    for key, value in components.items():
        if isinstance(value, dict):
            scores[key] = next((value[k] for k in ("total", "score", "value") if value.get(k) is not None), None)
            weights[key] = value.get("weight")
        elif not isinstance(value, (list, bool)):
            scores[key] = value
    return scores, weights


def _component_keys(entries: list[Any]) -> list[str]:
    """The stages the final score combines, in the competition's order."""
    found = {key for e in entries for key in _scores_and_weights(e.components)[0]}
    return sorted(found, key=lambda k: (COMPONENT_ORDER.index(k) if k in COMPONENT_ORDER else len(COMPONENT_ORDER), k))


def _tier_label(tier: AwardTier | None) -> str | None:
    return TIER_LABELS.get(tier) if tier is not None else None


def results_workbook(edition: Edition) -> bytes:
    """The workbook of every stage's results (see the module's docstring)."""
    book = _Book(edition)
    book.screening()
    book.ranking(StageKind.EVALUATION, _("Evaluation ranking"),
                 _("The Tim Evaluasi's ranking per group, as last computed: raw and normalised totals."))
    book.nominees()
    book.finalists()
    book.objections()
    book.presentations()
    if is_held(edition, StageKind.FIELD_VERIFICATION):
        book.field_visits()
    book.final()
    book.fill_about()
    return workbook_bytes(book.workbook)
