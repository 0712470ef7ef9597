"""The queries behind the secretariat's and the team chairs' scoring pages: progress,
consolidation (list and matrix) and ranking.

Each page runs a fixed number of queries whatever the number of proposals or judges:
rows are read in bulk (grouped queries, selectinload) and put together in Python."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from kipp.accounts.models import User
from kipp.agencies.models import Agency
from kipp.editions.kinds import StageKind
from kipp.editions.models import Edition, EditionGroup
from kipp.extensions import db
from kipp.judging.models import InvitationStatus, PoolMember, RunStatus
from kipp.proposals.models import Proposal
from kipp.scoring import rules
from kipp.scoring.models import (
    AggregationRun,
    ProposalScore,
    Reconciliation,
    ScoreReminder,
    ScoreSheet,
    ScoringAspect,
    ScoringScheme,
    SheetStatus,
)
from kipp.scoring.services import SCORED_STAGES, deadline_of, published_pairs

# --- the list of stages ----------------------------------------------------------------------------


@dataclass
class StageEntry:
    edition: Edition
    stage: StageKind
    scheme: ScoringScheme | None
    expected: int = 0
    submitted: int = 0


def stage_entries() -> list[StageEntry]:
    """Every edition (newest first) with each scored stage and its scheme, if it has one."""
    editions = list(db.session.scalars(sa.select(Edition).options(selectinload(Edition.stages))
                                       .order_by(Edition.year.desc())))
    schemes = {(s.edition_id, s.stage): s for s in db.session.scalars(sa.select(ScoringScheme))}
    submitted = dict(db.session.execute(
        sa.select(ScoreSheet.scheme_id, sa.func.count()).where(ScoreSheet.status == SheetStatus.SUBMITTED)
        .group_by(ScoreSheet.scheme_id)).all())
    entries = []
    for edition in editions:
        for stage in SCORED_STAGES:
            scheme = schemes.get((edition.id, stage))
            entries.append(StageEntry(edition, stage, scheme,
                                      submitted=submitted.get(scheme.id, 0) if scheme else 0))
    return entries


# --- progress --------------------------------------------------------------------------------------


@dataclass
class JudgeProgress:
    member: PoolMember
    assigned: int = 0
    not_started: int = 0
    draft: int = 0
    submitted: int = 0
    last_save: dt.datetime | None = None
    last_reminder: dt.datetime | None = None
    late: bool = False

    @property
    def unfinished(self) -> int:
        return self.assigned - self.submitted


@dataclass
class ClusterProgress:
    cluster: Any
    proposals: int = 0
    expected: int = 0
    submitted: int = 0


@dataclass
class Progress:
    expected: int
    submitted: int
    drafts: int
    not_started: int
    deadline: dt.datetime | None
    judges: list[JudgeProgress]
    clusters: list[ClusterProgress]
    late: int

    @property
    def percent(self) -> int:
        return int(100 * self.submitted / self.expected) if self.expected else 0


def progress(scheme: ScoringScheme, now: dt.datetime) -> Progress:
    pairs = published_pairs(scheme)
    sheets = {(p, m): (status, updated) for p, m, status, updated in db.session.execute(
        sa.select(ScoreSheet.proposal_id, ScoreSheet.member_id, ScoreSheet.status, ScoreSheet.updated_at)
        .where(ScoreSheet.scheme_id == scheme.id))}
    members = {m.id: m for m in db.session.scalars(
        sa.select(PoolMember).join(User, User.id == PoolMember.user_id)
        .where(PoolMember.edition_id == scheme.edition_id, PoolMember.stage == scheme.stage,
               sa.or_(PoolMember.status == InvitationStatus.ACCEPTED,
                      PoolMember.id.in_({m for _p, m in pairs})))
        .options(joinedload(PoolMember.user), joinedload(PoolMember.team)).order_by(User.name, PoolMember.id))}
    reminders = dict(db.session.execute(
        sa.select(ScoreReminder.member_id, sa.func.max(ScoreReminder.sent_at))
        .where(ScoreReminder.scheme_id == scheme.id).group_by(ScoreReminder.member_id)).all())
    proposal_ids = {p for p, _m in pairs}
    clusters_of = dict(db.session.execute(
        sa.select(Proposal.id, Agency.cluster).join(Agency, Agency.id == Proposal.agency_id)
        .where(Proposal.id.in_(proposal_ids))).all()) if proposal_ids else {}
    deadline = deadline_of(scheme)
    judges = {mid: JudgeProgress(member, last_reminder=reminders.get(mid)) for mid, member in members.items()}
    clusters: dict[Any, ClusterProgress] = {}
    counted_proposals: dict[Any, set[int]] = defaultdict(set)
    drafts = not_started = submitted = 0
    for proposal_id, member_id in pairs:
        judge = judges[member_id]
        judge.assigned += 1
        status, _updated = sheets.get((proposal_id, member_id), (None, None))
        cluster = clusters_of.get(proposal_id)
        row = clusters.setdefault(cluster, ClusterProgress(cluster))
        counted_proposals[cluster].add(proposal_id)
        row.expected += 1
        if status is SheetStatus.SUBMITTED:
            judge.submitted += 1
            row.submitted += 1
            submitted += 1
        elif status is SheetStatus.DRAFT:
            judge.draft += 1
            drafts += 1
        else:
            judge.not_started += 1
            not_started += 1
    for (_proposal_id, member_id), (_status, updated) in sheets.items():
        judge = judges.get(member_id)
        if judge is not None and (judge.last_save is None or updated > judge.last_save):
            judge.last_save = updated
    passed = deadline is not None and now >= deadline
    for judge in judges.values():
        judge.late = passed and judge.unfinished > 0
    for cluster, row in clusters.items():
        row.proposals = len(counted_proposals[cluster])
    ordered_clusters = sorted(clusters.values(), key=lambda c: (c.cluster is None, getattr(c.cluster, "value", "")))
    return Progress(expected=len(pairs), submitted=submitted, drafts=drafts, not_started=not_started,
                    deadline=deadline, judges=list(judges.values()), clusters=ordered_clusters,
                    late=sum(1 for j in judges.values() if j.late))


def latest_run(scheme: ScoringScheme) -> AggregationRun | None:
    return db.session.scalar(sa.select(AggregationRun).where(AggregationRun.scheme_id == scheme.id)
                             .order_by(AggregationRun.id.desc()).limit(1))


def run_active(run: AggregationRun | None) -> bool:
    return run is not None and run.status in (RunStatus.QUEUED, RunStatus.RUNNING)


# --- consolidation: the list -------------------------------------------------------------------------


@dataclass
class ConsolidationRow:
    proposal: Proposal
    expected: int
    submitted: int
    score: ProposalScore | None

    @property
    def flagged(self) -> bool:
        return bool(self.score and self.score.disagreement)


def consolidation(scheme: ScoringScheme, *, flagged_only: bool = False, q: str = "",
                  only_proposals: Iterable[int] | None = None) -> list[ConsolidationRow]:
    """Every proposal of the stage (or of those listed) with its sheets and aggregate, flagged first."""
    pairs = published_pairs(scheme)
    if only_proposals is not None:
        wanted = set(only_proposals)
        pairs = {pair for pair in pairs if pair[0] in wanted}
    expected: dict[int, int] = defaultdict(int)
    for proposal_id, _member in pairs:
        expected[proposal_id] += 1
    submitted: dict[int, int] = defaultdict(int)
    for proposal_id, member_id in db.session.execute(
            sa.select(ScoreSheet.proposal_id, ScoreSheet.member_id)
            .where(ScoreSheet.scheme_id == scheme.id, ScoreSheet.status == SheetStatus.SUBMITTED)):
        if (proposal_id, member_id) in pairs:
            submitted[proposal_id] += 1
    scored = sa.select(ProposalScore.proposal_id).where(ProposalScore.scheme_id == scheme.id)
    ids = set(expected)
    where = [Proposal.id.in_(ids) | (Proposal.id.in_(scored) if only_proposals is None else sa.false())]
    text = (q or "").strip()
    if text:
        pattern = f"%{text.lower()}%"
        where.append(sa.or_(sa.func.lower(Proposal.title).like(pattern),
                            sa.func.lower(sa.func.coalesce(Proposal.number, "")).like(pattern)))
    query = (sa.select(Proposal, ProposalScore)
             .outerjoin(ProposalScore, sa.and_(ProposalScore.proposal_id == Proposal.id,
                                               ProposalScore.scheme_id == scheme.id))
             .where(Proposal.edition_id == scheme.edition_id, *where)
             .options(joinedload(Proposal.agency), joinedload(Proposal.group), joinedload(Proposal.category))
             .order_by(Proposal.number, Proposal.id))
    rows = [ConsolidationRow(proposal, expected.get(proposal.id, 0), submitted.get(proposal.id, 0), score)
            for proposal, score in db.session.execute(query).unique()]
    if flagged_only:
        rows = [r for r in rows if r.flagged]
    rows.sort(key=lambda r: (not r.flagged, r.proposal.number or "", r.proposal.id))
    return rows


# --- consolidation: one proposal ---------------------------------------------------------------------


@dataclass
class Cell:
    value: Decimal | None
    comment: str
    deviates: bool = False


@dataclass
class JudgeRow:
    member: PoolMember
    sheet: ScoreSheet | None
    holds: bool  # the judge still holds the proposal (their submitted sheet counts)
    cells: dict[str, Cell] = field(default_factory=dict)


@dataclass
class Matrix:
    aspects: list[ScoringAspect]
    judges: list[JudgeRow]
    means: dict[str, Decimal | None]
    score: ProposalScore | None
    reconciliations: list[Reconciliation]
    threshold: Decimal
    mean_total: Decimal | None
    std_dev: Decimal | None
    spread: Decimal | None
    disagreement: bool


def matrix(scheme: ScoringScheme, proposal: Proposal) -> Matrix:
    """Judges (rows) by aspects (columns) of one proposal; figures from the counted sheets."""
    pairs = published_pairs(scheme, [proposal.id])
    holders = {m for _p, m in pairs}
    sheets = {s.member_id: s for s in db.session.scalars(
        sa.select(ScoreSheet).where(ScoreSheet.scheme_id == scheme.id, ScoreSheet.proposal_id == proposal.id))}
    member_ids = holders | set(sheets)
    members = list(db.session.scalars(
        sa.select(PoolMember).join(User, User.id == PoolMember.user_id).where(PoolMember.id.in_(member_ids))
        .options(joinedload(PoolMember.user), joinedload(PoolMember.team))
        .order_by(User.name, PoolMember.id))) if member_ids else []
    aspects = scheme.aspects_of(proposal.group.code)
    threshold = Decimal(scheme.disagreement_threshold)
    judges = []
    for member in members:
        sheet = sheets.get(member.id)
        row = JudgeRow(member, sheet, member.id in holders)
        scores = sheet.scores if sheet is not None else {}
        for aspect in aspects:
            entry = scores.get(aspect.key) or {}
            row.cells[aspect.key] = Cell(rules.parse_score(entry.get("value")), entry.get("comment") or "")
        judges.append(row)
    counted = [j for j in judges if j.holds and j.sheet is not None and j.sheet.status is SheetStatus.SUBMITTED]
    means: dict[str, Decimal | None] = {}
    for aspect in aspects:
        values = [j.cells[aspect.key].value for j in counted if j.cells[aspect.key].value is not None]
        means[aspect.key] = rules.quantize(sum(values, Decimal(0)) / len(values)) if values else None
        mean = means[aspect.key]
        if mean is None or len(values) < 2:
            continue
        for judge in counted:
            cell = judge.cells[aspect.key]
            cell.deviates = cell.value is not None and abs(cell.value - mean) > threshold
    totals = [j.sheet.weighted_total for j in counted if j.sheet.weighted_total is not None]
    summary = rules.summarise([Decimal(t) for t in totals], threshold)
    score = db.session.scalar(sa.select(ProposalScore).where(ProposalScore.scheme_id == scheme.id,
                                                             ProposalScore.proposal_id == proposal.id))
    reconciliations = list(db.session.scalars(
        sa.select(Reconciliation).where(Reconciliation.scheme_id == scheme.id,
                                        Reconciliation.proposal_id == proposal.id)
        .options(joinedload(Reconciliation.requested_by)).order_by(Reconciliation.created_at.desc(),
                                                                   Reconciliation.id.desc())))
    return Matrix(aspects=aspects, judges=judges, means=means, score=score, reconciliations=reconciliations,
                  threshold=threshold, mean_total=summary.mean, std_dev=summary.std_dev, spread=summary.spread,
                  disagreement=summary.disagreement)


def addable_members(scheme: ScoringScheme, proposal: Proposal) -> list[PoolMember]:
    """Accepted pool members of the stage who do not hold the proposal yet."""
    holders = {m for _p, m in published_pairs(scheme, [proposal.id])}
    return [m for m in db.session.scalars(
        sa.select(PoolMember).join(User, User.id == PoolMember.user_id)
        .where(PoolMember.edition_id == scheme.edition_id, PoolMember.stage == scheme.stage,
               PoolMember.status == InvitationStatus.ACCEPTED)
        .options(joinedload(PoolMember.user)).order_by(User.name, PoolMember.id)) if m.id not in holders]


def stage_proposal(scheme: ScoringScheme, proposal_id: int) -> Proposal | None:
    """A proposal of the scheme's edition, with what the matrix shows of it."""
    return db.session.scalar(sa.select(Proposal).where(Proposal.id == proposal_id,
                                                       Proposal.edition_id == scheme.edition_id)
                             .options(joinedload(Proposal.group), joinedload(Proposal.agency),
                                      joinedload(Proposal.category)))


# --- team chairs ---------------------------------------------------------------------------------------


def chair_membership(user: User, scheme: ScoringScheme) -> PoolMember | None:
    """The user's pool membership in the stage if it chairs a team."""
    return db.session.scalar(sa.select(PoolMember).where(
        PoolMember.user_id == user.id, PoolMember.edition_id == scheme.edition_id, PoolMember.stage == scheme.stage,
        PoolMember.is_chair, PoolMember.team_id.is_not(None), PoolMember.status == InvitationStatus.ACCEPTED)
        .options(joinedload(PoolMember.team)))


def team_proposal_ids(scheme: ScoringScheme, team_id: int) -> set[int]:
    """Proposals at least one member of the team holds (given to the team, or to one of them)."""
    team_members = set(db.session.scalars(sa.select(PoolMember.id).where(PoolMember.team_id == team_id)))
    return {p for p, m in published_pairs(scheme) if m in team_members}


def chaired_stages(user: User) -> list[tuple[PoolMember, ScoringScheme]]:
    """The scored stages (with a scheme open for consolidation) in which the user chairs a team."""
    rows = db.session.execute(
        sa.select(PoolMember, ScoringScheme)
        .join(ScoringScheme, sa.and_(ScoringScheme.edition_id == PoolMember.edition_id,
                                     ScoringScheme.stage == PoolMember.stage))
        .where(PoolMember.user_id == user.id, PoolMember.is_chair, PoolMember.team_id.is_not(None),
               PoolMember.status == InvitationStatus.ACCEPTED, ScoringScheme.revealed_at.is_not(None))
        .options(joinedload(PoolMember.team), joinedload(PoolMember.edition))
        .order_by(ScoringScheme.id.desc())).all()
    return [(member, scheme) for member, scheme in rows]


# --- ranking ---------------------------------------------------------------------------------------------


@dataclass
class RankRow:
    score: ProposalScore
    proposal: Proposal
    passes: bool | None  # None without a passing grade


def ranking(scheme: ScoringScheme, group: EditionGroup) -> list[RankRow]:
    """A group's proposals by rank (unranked last), with whether each reaches the passing grade."""
    query = (sa.select(ProposalScore, Proposal).join(Proposal, Proposal.id == ProposalScore.proposal_id)
             .where(ProposalScore.scheme_id == scheme.id, Proposal.group_id == group.id)
             .options(joinedload(Proposal.agency), joinedload(Proposal.category))
             .order_by(ProposalScore.rank.is_(None), ProposalScore.rank, Proposal.number, Proposal.id))
    grade = Decimal(scheme.passing_grade) if scheme.passing_grade is not None else None
    rows = []
    for score, proposal in db.session.execute(query).unique():
        chosen = score.normalised_total if scheme.normalise else score.raw_total
        passes = None if grade is None else (chosen is not None and Decimal(chosen) >= grade)
        rows.append(RankRow(score, proposal, passes))
    return rows

