"""Conflicts of interest between judges and proposals: pure rules, and one query helper.

The rules (:func:`conflicts_for`) work on plain facts and know nothing of the
database, so they are tested on hand-made data. :func:`conflict_matrix` loads
the facts of a stage in a handful of queries and applies the rules only to
the pairs that can conflict (found through indexes by agency, province,
region and proposal), so 3,000 proposals × 150 judges cost milliseconds, not
450,000 rule calls. The assignment solver turns the result into hard pairs
(never assigned) and soft pairs (assigned with a warning).

The rules, in the order they are reported:

1. **Own agency** (always hard): the judge works at the proposal's agency.
2. **Same province** (severity from ``Edition.coi_same_province``: ``hard``,
   ``soft`` or ``off``): the judge has a *regional affiliation* in the
   province of a *regional* proposal. A judge's regional affiliations are
   the province of their agency when that agency is a regional government
   (provinsi, kabupaten, kota) or a BUMD (owned by one), and the province of
   their home region, if they have one. A proposal is regional when its
   agency is of those same types; its province comes from its agency's region
   code (``71.71`` Kota Manado lies in ``71`` Sulawesi Utara). So Pemerintah
   Provinsi Sulawesi Utara and Kota Manado conflict, as do Kota Manado and
   Kabupaten Minahasa (``71.02``).

   Decision: a central agency (kementerian, lembaga, BUMN) is never
   "in" a province, even when its seat has a region code. A ministry seated in
   Jakarta does not conflict with DKI Jakarta's governments, and a judge
   working there has no regional affiliation through it (their home region
   still counts). A conflict with one central agency is covered by rule 1 or
   by a declaration of that agency.
3. **Declared** (severity as declared): an agency (its proposals), a region
   (the regional agencies in it; a province code covers the province's own
   government and every kabupaten/kota in it, a kabupaten/kota code only
   itself), or a single proposal.

Own agency takes precedence over the same-province rule for the same pair (it
says more). Every conflict has a code, a severity and the names its readable
reason needs (:attr:`Conflict.reason`, translated when read).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Hashable, Iterable, Mapping, Sequence

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from kipp.accounts.models import User
from kipp.agencies.kinds import AgencyType, province_code
from kipp.agencies.models import Agency, Region
from kipp.editions.kinds import StageKind
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.judging.models import ConflictDeclaration, ConflictKind, InvitationStatus, PoolMember, Severity
from kipp.proposals.models import Proposal
from kipp.proposals.states import ProposalStatus

# Agencies that belong to a region: regional governments and their enterprises.
REGIONAL_TYPES = frozenset({AgencyType.PROVINSI, AgencyType.KABUPATEN, AgencyType.KOTA, AgencyType.BUMD})

# Values of Edition.coi_same_province.
PROVINCE_RULES = {"hard": Severity.HARD, "soft": Severity.SOFT, "off": None}

MESSAGES: dict[str, Any] = {
    "own_agency": _l("Works at %(agency)s, the agency of this proposal."),
    "same_province_agency": _l("Works at %(agency)s, in the same province (%(province)s) as %(proposal_agency)s."),
    "same_province_home": _l("Home region %(home)s is in the same province (%(province)s) as %(proposal_agency)s."),
    "declared_agency": _l("Declared a conflict with %(target)s: %(reason)s"),
    "declared_region": _l("Declared a conflict with the region %(target)s: %(reason)s"),
    "declared_proposal": _l("Declared a conflict with the proposal %(target)s: %(reason)s"),
}


# --- facts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JudgeFacts:
    """A pool member as the rules see them. ``member_id`` keys the matrix."""

    member_id: Hashable
    user_id: int
    agency_id: int | None = None
    agency_type: AgencyType | None = None
    agency_region_code: str | None = None
    home_region_code: str | None = None
    name: str = ""
    agency_name: str | None = None
    home_region_name: str | None = None

    @property
    def regional_agency(self) -> bool:
        return self.agency_type in REGIONAL_TYPES and self.agency_region_code is not None


@dataclass(frozen=True)
class ProposalFacts:
    id: int
    agency_id: int
    agency_type: AgencyType
    agency_region_code: str | None = None
    label: str = ""  # number or title, for messages
    agency_name: str = ""
    province_name: str | None = None

    @property
    def region(self) -> str | None:
        """The region the proposal belongs to, or None for central agencies."""
        return self.agency_region_code if self.agency_type in REGIONAL_TYPES else None

    @property
    def province(self) -> str | None:
        return province_code(self.region) if self.region else None


@dataclass(frozen=True)
class DeclarationFacts:
    user_id: int
    kind: ConflictKind
    severity: Severity
    reason: str
    agency_id: int | None = None
    region_code: str | None = None
    proposal_id: int | None = None
    target: str = ""  # the agency's, region's or proposal's name, for messages
    id: int | None = None

    def covers(self, proposal: ProposalFacts) -> bool:
        if self.kind is ConflictKind.AGENCY:
            return proposal.agency_id == self.agency_id
        if self.kind is ConflictKind.PROPOSAL:
            return proposal.id == self.proposal_id
        region = proposal.region
        if region is None or self.region_code is None:
            return False
        if "." in self.region_code:  # a kabupaten/kota: itself only
            return region == self.region_code
        return province_code(region) == self.region_code  # a province: its government and kab/kota


@dataclass(frozen=True)
class Conflict:
    severity: Severity
    code: str  # a key of MESSAGES
    params: Mapping[str, Any] = field(default_factory=dict)  # what the reason's text needs
    declaration_id: int | None = None

    @property
    def reason(self) -> str:
        """The readable reason, in the current language."""
        return str(MESSAGES[self.code]) % dict(self.params)

    @property
    def is_hard(self) -> bool:
        return self.severity is Severity.HARD


def province_severity(setting: str | None) -> Severity | None:
    """``Edition.coi_same_province`` as a severity (None: the rule is off)."""
    if setting not in PROVINCE_RULES:
        raise ValueError(f"unknown same-province rule {setting!r}")
    return PROVINCE_RULES[setting]


def worst(conflicts: Iterable[Conflict]) -> Severity | None:
    """HARD if any conflict is hard, SOFT if any is soft, None without conflicts."""
    severities = {c.severity for c in conflicts}
    if Severity.HARD in severities:
        return Severity.HARD
    return Severity.SOFT if severities else None


# --- the rules ---------------------------------------------------------------------------------


def conflicts_for(
    judge: JudgeFacts,
    proposal: ProposalFacts,
    *,
    declarations: Iterable[DeclarationFacts],
    province_rule: str,
) -> list[Conflict]:
    """Every conflict between ``judge`` and ``proposal``, hard ones first.

    ``declarations`` may hold anyone's; only the judge's own count.
    ``province_rule`` is ``Edition.coi_same_province`` (hard, soft or off).
    """
    found: list[Conflict] = []
    own_agency = judge.agency_id is not None and judge.agency_id == proposal.agency_id
    if own_agency:
        found.append(Conflict(Severity.HARD, "own_agency", {"agency": proposal.agency_name}))

    severity = province_severity(province_rule)
    target_province = proposal.province
    if severity is not None and target_province is not None and not own_agency:
        province = proposal.province_name or target_province
        if judge.regional_agency and province_code(judge.agency_region_code or "") == target_province:
            found.append(Conflict(severity, "same_province_agency", {
                "agency": judge.agency_name or "", "province": province, "proposal_agency": proposal.agency_name,
            }))
        elif judge.home_region_code and province_code(judge.home_region_code) == target_province:
            found.append(Conflict(severity, "same_province_home", {
                "home": judge.home_region_name or judge.home_region_code, "province": province,
                "proposal_agency": proposal.agency_name,
            }))

    for declaration in declarations:
        if declaration.user_id != judge.user_id or not declaration.covers(proposal):
            continue
        found.append(Conflict(declaration.severity, f"declared_{declaration.kind.value}",
                              {"target": declaration.target, "reason": declaration.reason},
                              declaration_id=declaration.id))
    found.sort(key=lambda c: not c.is_hard)  # stable: rule order within a severity
    return found


def conflict_pairs(
    judges: Sequence[JudgeFacts],
    proposals: Sequence[ProposalFacts],
    *,
    declarations: Iterable[DeclarationFacts],
    province_rule: str,
) -> dict[tuple[int, Hashable], list[Conflict]]:
    """:func:`conflicts_for` over every (proposal, judge) pair that has a conflict, keyed
    ``(proposal id, member id)``; pairs without one are absent.

    Only pairs that can conflict are examined: the proposals of the judge's
    agency, of the judge's provinces, and of what the judge declared.
    """
    by_agency: dict[int, list[ProposalFacts]] = defaultdict(list)
    by_province: dict[str, list[ProposalFacts]] = defaultdict(list)
    by_region: dict[str, list[ProposalFacts]] = defaultdict(list)
    by_id: dict[int, ProposalFacts] = {}
    for p in proposals:
        by_agency[p.agency_id].append(p)
        by_id[p.id] = p
        if p.region is not None:
            by_province[province_code(p.region)].append(p)
            by_region[p.region].append(p)

    declared: dict[int, list[DeclarationFacts]] = defaultdict(list)
    for d in declarations:
        declared[d.user_id].append(d)
    province_on = province_severity(province_rule) is not None

    result: dict[tuple[int, Hashable], list[Conflict]] = {}
    for judge in judges:
        mine = declared.get(judge.user_id, [])
        candidates: dict[int, ProposalFacts] = {}
        if judge.agency_id is not None:
            candidates.update((p.id, p) for p in by_agency.get(judge.agency_id, ()))
        if province_on:
            provinces = set()
            if judge.regional_agency:
                provinces.add(province_code(judge.agency_region_code or ""))
            if judge.home_region_code:
                provinces.add(province_code(judge.home_region_code))
            for code in provinces:
                candidates.update((p.id, p) for p in by_province.get(code, ()))
        for d in mine:
            if d.kind is ConflictKind.AGENCY and d.agency_id is not None:
                candidates.update((p.id, p) for p in by_agency.get(d.agency_id, ()))
            elif d.kind is ConflictKind.PROPOSAL and d.proposal_id in by_id:
                candidates[d.proposal_id] = by_id[d.proposal_id]
            elif d.kind is ConflictKind.REGION and d.region_code:
                index = by_region if "." in d.region_code else by_province
                candidates.update((p.id, p) for p in index.get(d.region_code, ()))
        for p in candidates.values():
            conflicts = conflicts_for(judge, p, declarations=mine, province_rule=province_rule)
            if conflicts:
                result[(p.id, judge.member_id)] = conflicts
    return result


# --- loading the facts (the database side) -----------------------------------------------------

_IN_LIMIT = 500  # above this many ids, load the edition's rows and filter in Python


def _ids(items: Iterable[Any] | None) -> set[int] | None:
    if items is None:
        return None
    return {item if isinstance(item, int) else item.id for item in items}


def load_region_names() -> dict[str, str]:
    return {code: name for code, name in db.session.execute(sa.select(Region.code, Region.name))}


def judge_facts(edition: Edition, stage: StageKind, members: Iterable[PoolMember | int] | None = None, *,
                region_names: Mapping[str, str] | None = None) -> list[JudgeFacts]:
    """The facts of ``members`` (objects or ids) of the stage; None: every member who has not declined."""
    names = load_region_names() if region_names is None else region_names
    wanted = _ids(members)
    if wanted is not None and not wanted:
        return []
    query = (
        sa.select(PoolMember.id, PoolMember.user_id, PoolMember.home_region_code, User.name, User.agency_id,
                  Agency.type, Agency.region_code, Agency.name.label("agency_name"))
        .join(User, User.id == PoolMember.user_id)
        .outerjoin(Agency, Agency.id == User.agency_id)
        .where(PoolMember.edition_id == edition.id, PoolMember.stage == stage)
        .order_by(PoolMember.id)
    )
    if wanted is None:
        query = query.where(PoolMember.status != InvitationStatus.DECLINED)
    elif len(wanted) <= _IN_LIMIT:
        query = query.where(PoolMember.id.in_(wanted))
    facts = []
    for row in db.session.execute(query):
        if wanted is not None and row.id not in wanted:
            continue
        facts.append(JudgeFacts(
            member_id=row.id, user_id=row.user_id, agency_id=row.agency_id, agency_type=row.type,
            agency_region_code=row.region_code, home_region_code=row.home_region_code, name=row.name,
            agency_name=row.agency_name,
            home_region_name=names.get(row.home_region_code) if row.home_region_code else None,
        ))
    return facts


def competing_proposals_query(edition: Edition) -> Any:
    """Ids of the edition's proposals still in the competition (submitted, not withdrawn or failed)."""
    out = (ProposalStatus.WITHDRAWN, ProposalStatus.ADMIN_FAILED, ProposalStatus.NOT_SUBMITTED,
           ProposalStatus.DISQUALIFIED)
    return sa.select(Proposal.id).where(
        Proposal.edition_id == edition.id, Proposal.number.is_not(None), Proposal.status.not_in(out)
    )


def proposal_facts(edition: Edition, proposals: Iterable[Proposal | int] | None = None, *,
                   region_names: Mapping[str, str] | None = None) -> list[ProposalFacts]:
    """The facts of ``proposals`` (objects or ids) of the edition; None: those still competing."""
    names = load_region_names() if region_names is None else region_names
    wanted = _ids(proposals)
    if wanted is not None and not wanted:
        return []
    query = (
        sa.select(Proposal.id, Proposal.number, Proposal.title, Proposal.agency_id, Agency.name, Agency.type,
                  Agency.region_code)
        .join(Agency, Agency.id == Proposal.agency_id)
        .where(Proposal.edition_id == edition.id)
        .order_by(Proposal.id)
    )
    if wanted is None:
        query = query.where(Proposal.id.in_(competing_proposals_query(edition)))
    elif len(wanted) <= _IN_LIMIT:
        query = query.where(Proposal.id.in_(wanted))
    facts = []
    for row in db.session.execute(query):
        if wanted is not None and row.id not in wanted:
            continue
        province = province_code(row.region_code) if row.region_code else None
        facts.append(ProposalFacts(
            id=row.id, agency_id=row.agency_id, agency_type=row.type, agency_region_code=row.region_code,
            label=proposal_label(row.number, row.title), agency_name=row.name,
            province_name=names.get(province) if province else None,
        ))
    return facts


def proposal_label(number: str | None, title: str) -> str:
    return f"{number} “{title}”" if number else f"“{title}”"


def declaration_facts(edition: Edition, user_ids: Iterable[int] | None = None, *,
                      region_names: Mapping[str, str] | None = None) -> list[DeclarationFacts]:
    """The conflicts declared in the edition (by ``user_ids`` only, if given), with their targets' names."""
    names = load_region_names() if region_names is None else region_names
    query = (
        sa.select(ConflictDeclaration)
        .options(joinedload(ConflictDeclaration.agency), joinedload(ConflictDeclaration.proposal))
        .where(ConflictDeclaration.edition_id == edition.id)
        .order_by(ConflictDeclaration.id)
    )
    if user_ids is not None:
        query = query.where(ConflictDeclaration.user_id.in_(set(user_ids)))
    return [declaration_as_facts(d, region_names=names) for d in db.session.scalars(query)]


def declaration_as_facts(declaration: ConflictDeclaration, *,
                         region_names: Mapping[str, str] | None = None) -> DeclarationFacts:
    """A ConflictDeclaration row as the rules see it."""
    if declaration.kind is ConflictKind.AGENCY:
        target = declaration.agency.name
    elif declaration.kind is ConflictKind.PROPOSAL:
        target = proposal_label(declaration.proposal.number, declaration.proposal.title)
    else:
        names = region_names if region_names is not None else {}
        target = names.get(declaration.region_code) or (
            declaration.region.name if declaration.region else declaration.region_code)
    return DeclarationFacts(
        id=declaration.id, user_id=declaration.user_id, kind=declaration.kind, severity=declaration.severity,
        reason=declaration.reason, agency_id=declaration.agency_id, region_code=declaration.region_code,
        proposal_id=declaration.proposal_id, target=target,
    )


def conflict_matrix(
    edition: Edition,
    stage: StageKind,
    members: Iterable[PoolMember | int] | None = None,
    proposals: Iterable[Proposal | int] | None = None,
) -> dict[tuple[int, int], list[Conflict]]:
    """Every conflict between the stage's ``members`` and ``proposals``, keyed
    ``(proposal id, member id)``; pairs without a conflict are absent.

    ``members`` and ``proposals`` are objects or ids. None means every member
    of the stage who has not declined, and every proposal of the edition still
    in the competition. The same-province rule's severity is the edition's
    ``coi_same_province``. Four queries, whatever the sizes.
    """
    names = load_region_names()
    judges = judge_facts(edition, stage, members, region_names=names)
    facts = proposal_facts(edition, proposals, region_names=names)
    declarations = declaration_facts(edition, {j.user_id for j in judges}, region_names=names)
    return conflict_pairs(judges, facts, declarations=declarations,  # type: ignore[return-value]
                          province_rule=edition.coi_same_province)
