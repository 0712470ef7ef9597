"""The secretariat's read models of the submission stage: the filtered list, the funnel, export rows.

Every function here only reads. Each runs a fixed number of queries whatever
the number of proposals: lists eager-load what their pages show, counts are
GROUP BY queries, and the export reads plain column tuples rather than
objects.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterator

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager, joinedload

from kipp.agencies.kinds import CLUSTER_LABELS, AgencyType, Cluster
from kipp.agencies.models import Agency, Region, Unit
from kipp.editions.models import Edition, Section
from kipp.extensions import db
from kipp.i18n import localized
from kipp.proposals.models import Proposal, ProposalAnswer, proposal_sdgs
from kipp.proposals.states import PASSED_SCREENING, ProposalStatus

from kipp.proposals.labels import STATUS_COLOURS  # noqa: E402  one table for every badge

# Value of the province filter that picks agencies without a region (ministries, BUMN).
NO_REGION = "none"

PER_PAGE = 50

SORTS = {
    "updated": (Proposal.updated_at.desc(), Proposal.id.desc()),
    "submitted": (Proposal.submitted_at.is_(None), Proposal.submitted_at.desc(), Proposal.id.desc()),
    "number": (Proposal.number.is_(None), Proposal.number, Proposal.id),
    "agency": (Agency.name, Proposal.id),
}
DEFAULT_SORT = "updated"


# --- filters ----------------------------------------------------------------------------------


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@dataclass(frozen=True)
class ProposalFilters:
    """The list's filters, read from query parameters; unknown values are ignored."""

    statuses: tuple[ProposalStatus, ...] = ()
    group_id: int | None = None
    category_id: int | None = None
    cluster: Cluster | None = None
    province: str | None = None  # a two-digit province code, or NO_REGION
    agency_id: int | None = None
    q: str = ""

    @classmethod
    def from_args(cls, args: Any) -> "ProposalFilters":
        """From a MultiDict (``request.args``) or a plain mapping."""
        raw_statuses = args.getlist("status") if hasattr(args, "getlist") else [args.get("status", "")]
        known = {s.value for s in ProposalStatus}
        statuses = tuple(dict.fromkeys(ProposalStatus(s) for s in raw_statuses if s in known))
        cluster = args.get("cluster", "")
        province = args.get("province", "").strip()
        if not (province == NO_REGION or (len(province) == 2 and province.isdigit())):
            province = ""
        return cls(
            statuses=statuses,
            group_id=_int(args.get("group")),
            category_id=_int(args.get("category")),
            cluster=Cluster(cluster) if cluster in {c.value for c in Cluster} else None,
            province=province or None,
            agency_id=_int(args.get("agency")),
            q=" ".join(args.get("q", "").split())[:200],
        )

    def as_args(self) -> dict[str, Any]:
        """Query parameters that give these filters back (for links such as the export)."""
        values: dict[str, Any] = {
            "status": [s.value for s in self.statuses],
            "group": self.group_id,
            "category": self.category_id,
            "cluster": self.cluster.value if self.cluster else None,
            "province": self.province,
            "agency": self.agency_id,
            "q": self.q,
        }
        return {k: v for k, v in values.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.as_args())

    def conditions(self, *, with_status: bool = True) -> list[Any]:
        """WHERE conditions over Proposal joined with Agency."""
        conditions: list[Any] = []
        if with_status and self.statuses:
            conditions.append(Proposal.status.in_(self.statuses))
        if self.group_id is not None:
            conditions.append(Proposal.group_id == self.group_id)
        if self.category_id is not None:
            conditions.append(Proposal.category_id == self.category_id)
        if self.cluster is not None:
            conditions.append(Agency.cluster == self.cluster)
        if self.province == NO_REGION:
            conditions.append(Agency.region_code.is_(None))
        elif self.province:
            conditions.append(
                sa.or_(Agency.region_code == self.province, Agency.region_code.like(f"{self.province}.%"))
            )
        if self.agency_id is not None:
            conditions.append(Proposal.agency_id == self.agency_id)
        if self.q:
            text = self.q.lower()
            conditions.append(
                sa.or_(
                    sa.func.lower(Proposal.title).contains(text, autoescape=True),
                    sa.func.lower(Proposal.number).contains(text, autoescape=True),
                    sa.func.lower(Agency.name).contains(text, autoescape=True),
                )
            )
        return conditions


def _filtered(edition_id: int, filters: ProposalFilters, *, with_status: bool = True) -> list[Any]:
    return [Proposal.edition_id == edition_id, *filters.conditions(with_status=with_status)]


# --- the list -----------------------------------------------------------------------------------


def list_query(edition_id: int, filters: ProposalFilters, *, sort: str = DEFAULT_SORT) -> sa.Select[Any]:
    """Proposals of an edition with everything a list row shows loaded in the same query."""
    return (
        sa.select(Proposal)
        .join(Proposal.agency)
        .options(
            contains_eager(Proposal.agency).joinedload(Agency.region).joinedload(Region.parent),
            joinedload(Proposal.unit),
            joinedload(Proposal.group),
            joinedload(Proposal.category),
        )
        .where(*_filtered(edition_id, filters))
        .order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))
    )


def status_counts(edition_id: int, filters: ProposalFilters) -> dict[ProposalStatus, int]:
    """Proposals per status under every filter but the status itself."""
    rows = db.session.execute(
        sa.select(Proposal.status, sa.func.count())
        .join(Proposal.agency)
        .where(*_filtered(edition_id, filters, with_status=False))
        .group_by(Proposal.status)
    ).all()
    return {status: count for status, count in rows}


def agencies_with_proposals(edition_id: int) -> list[tuple[int, str]]:
    """(id, name) of the agencies that have a proposal in the edition, for the agency filter."""
    return [
        (agency_id, name)
        for agency_id, name in db.session.execute(
            sa.select(Agency.id, Agency.name)
            .where(Agency.id.in_(sa.select(Proposal.agency_id).where(Proposal.edition_id == edition_id)))
            .order_by(Agency.name)
        )
    ]


def provinces() -> list[Region]:
    return list(db.session.scalars(sa.select(Region).where(Region.level == 1).order_by(Region.name)))


# --- the funnel ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStage:
    key: str
    label: Any
    statuses: tuple[ProposalStatus, ...]
    colour: str  # a Bootstrap colour name, also used for the SVG bars


FUNNEL_STAGES = (
    FunnelStage("at_upp", _l("Draft at the UPP"), (ProposalStatus.DRAFT, ProposalStatus.RETURNED), "secondary"),
    FunnelStage("at_admin_lokal", _l("At the Admin Lokal"), (ProposalStatus.WITH_ADMIN_LOKAL,), "info"),
    # Everything that reached the ministry, whatever screening later made of it.
    FunnelStage("submitted", _l("Submitted"), (ProposalStatus.SUBMITTED, ProposalStatus.IN_CORRECTION,
                                                ProposalStatus.ADMIN_FAILED, *sorted(PASSED_SCREENING)), "success"),
    FunnelStage("withdrawn", _l("Withdrawn"), (ProposalStatus.WITHDRAWN,), "dark"),
    FunnelStage("not_submitted", _l("Not submitted"), (ProposalStatus.NOT_SUBMITTED,), "danger"),
)
STAGE_OF_STATUS = {status: stage.key for stage in FUNNEL_STAGES for status in stage.statuses}


@dataclass
class FunnelRow:
    key: str  # cluster value, province code, NO_REGION, group id or "all"
    label: str
    counts: dict[str, int] = field(default_factory=lambda: {s.key: 0 for s in FUNNEL_STAGES})

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def percent(self, stage_key: str) -> float:
        return 100.0 * self.counts[stage_key] / self.total if self.total else 0.0

    def add(self, stage_key: str, count: int) -> None:
        self.counts[stage_key] += count


@dataclass
class Funnel:
    overall: FunnelRow
    by_cluster: list[FunnelRow]
    by_province: list[FunnelRow]
    by_group: list[FunnelRow]


def province_of(region_code: Any) -> Any:
    """SQL: the two-digit province code of a region code ('71' of '71.71'); NULL stays NULL."""
    return sa.func.substr(region_code, 1, 2)


def funnel(edition: Edition) -> Funnel:
    """Counts per funnel stage, overall and by cluster, province and group: two queries in all
    (the counts, grouped once by cluster, province, group and status; and the provinces)."""
    province_code = province_of(Agency.region_code).label("province")
    rows = db.session.execute(
        sa.select(Agency.cluster, province_code, Proposal.group_id, Proposal.status, sa.func.count())
        .select_from(Proposal)
        .join(Agency, Agency.id == Proposal.agency_id)
        .where(Proposal.edition_id == edition.id)
        .group_by(Agency.cluster, province_code, Proposal.group_id, Proposal.status)
    ).all()
    overall = FunnelRow("all", str(_l("All proposals")))
    by_cluster = {c: FunnelRow(c.value, CLUSTER_LABELS[c]) for c in Cluster}
    by_province = {p.code: FunnelRow(p.code, p.name) for p in provinces()}
    central = FunnelRow(NO_REGION, str(_l("Pusat / no region")))
    by_group = {g.id: FunnelRow(str(g.id), localized(g, "name")) for g in edition.groups}
    for cluster, province, group_id, status, count in rows:
        stage = STAGE_OF_STATUS[status]
        overall.add(stage, count)
        by_cluster[cluster].add(stage, count)
        (by_province.get(province, central) if province else central).add(stage, count)
        if group_id in by_group:
            by_group[group_id].add(stage, count)
    return Funnel(
        overall=overall,
        by_cluster=list(by_cluster.values()),
        by_province=[*sorted(by_province.values(), key=lambda r: r.label), central],
        by_group=list(by_group.values()),
    )


# --- export rows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionColumn:
    key: str
    section_ids: tuple[int, ...]  # the same key in several groups is one column
    section: Section  # the first group's section, for its title


def section_columns(edition: Edition) -> list[SectionColumn]:
    """One column per section key, in the order of the groups and their sections."""
    by_key: dict[str, list[Section]] = {}
    for group in edition.groups:
        for section in group.sections:
            by_key.setdefault(section.key, []).append(section)
    return [SectionColumn(key, tuple(s.id for s in sections), sections[0]) for key, sections in by_key.items()]


@dataclass(frozen=True)
class ExportRow:
    id: int
    number: str | None
    title: str
    group_id: int
    category_id: int | None
    status: ProposalStatus
    agency: str
    agency_type: AgencyType
    cluster: Cluster
    province: str | None
    regency: str | None  # the kabupaten/kota, when the agency sits on one
    is_3t: bool
    unit: str
    sdgs: tuple[int, ...]
    innovation_start_date: dt.date | None
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    words: tuple[int | None, ...]  # per section column; None: the group has no such section


def export_rows(edition: Edition, filters: ProposalFilters) -> tuple[list[SectionColumn], Iterator[ExportRow]]:
    """The export's section columns and its rows: four queries (regions, SDGs, word counts, proposals)
    whatever the number of proposals, plus the edition's groups and categories."""
    columns = section_columns(edition)
    column_of_section = {sid: i for i, col in enumerate(columns) for sid in col.section_ids}
    sections_of_group = {
        g.id: {column_of_section[s.id] for s in g.sections} for g in edition.groups
    }
    where = _filtered(edition.id, filters)
    ids = sa.select(Proposal.id).join(Proposal.agency).where(*where)
    regions = {code: (name, parent) for code, name, parent in db.session.execute(
        sa.select(Region.code, Region.name, Region.parent_code)
    )}
    sdgs: dict[int, list[int]] = defaultdict(list)
    for proposal_id, number in db.session.execute(
        sa.select(proposal_sdgs.c.proposal_id, proposal_sdgs.c.sdg_number)
        .where(proposal_sdgs.c.proposal_id.in_(ids))
        .order_by(proposal_sdgs.c.proposal_id, proposal_sdgs.c.sdg_number)
    ):
        sdgs[proposal_id].append(number)
    words: dict[int, dict[int, int]] = defaultdict(dict)
    for proposal_id, section_id, count in db.session.execute(
        sa.select(ProposalAnswer.proposal_id, ProposalAnswer.section_id, ProposalAnswer.word_count)
        .where(ProposalAnswer.proposal_id.in_(ids))
    ):
        if section_id in column_of_section:
            words[proposal_id][column_of_section[section_id]] = count
    result = db.session.execute(
        sa.select(
            Proposal.id, Proposal.number, Proposal.title, Proposal.group_id, Proposal.category_id,
            Proposal.status, Agency.name, Agency.type, Agency.cluster, Agency.region_code, Agency.is_3t,
            Unit.name, Proposal.innovation_start_date, Proposal.created_at, Proposal.submitted_at,
        )
        .select_from(Proposal)
        .join(Agency, Agency.id == Proposal.agency_id)
        .join(Unit, Unit.id == Proposal.unit_id)
        .where(*where)
        .order_by(*SORTS["number"])
    ).all()

    def rows() -> Iterator[ExportRow]:
        for (pid, number, title, group_id, category_id, status, agency, agency_type, cluster, region_code,
             is_3t, unit, start, created, submitted) in result:
            province = regency = None
            if region_code in regions:
                name, parent = regions[region_code]
                if parent is None:
                    province = name
                else:
                    regency, province = name, regions[parent][0]
            answered = words.get(pid, {})
            own = sections_of_group.get(group_id, set())
            yield ExportRow(
                id=pid, number=number, title=title, group_id=group_id, category_id=category_id, status=status,
                agency=agency, agency_type=agency_type, cluster=cluster, province=province, regency=regency,
                is_3t=is_3t, unit=unit, sdgs=tuple(sdgs.get(pid, ())), innovation_start_date=start,
                created_at=created, submitted_at=submitted,
                words=tuple(answered.get(i, 0) if i in own else answered.get(i) for i in range(len(columns))),
            )

    return columns, rows()
