"""What a judge has to score: their published proposals per scored stage and the state of
their own sheet of each. Only the judge's own sheets are read here, never a colleague's
(blindness: not even how many of them are done)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.judging.models import Assignment, AssignmentState, InvitationStatus, PoolMember
from kipp.proposals.models import Proposal
from kipp.scoring.models import ScoreSheet, ScoringScheme, SheetStatus
from kipp.scoring.services import deadline_of


@dataclass
class Row:
    proposal: Proposal
    member_id: int
    status: str  # not_started | draft | submitted
    total: Decimal | None
    saved_at: dt.datetime | None


@dataclass
class StageSheets:
    scheme: ScoringScheme
    edition: Edition
    deadline: dt.datetime | None
    rows: list[Row] = field(default_factory=list)

    @property
    def submitted(self) -> int:
        return sum(1 for r in self.rows if r.status == "submitted")

    @property
    def percent(self) -> int:
        return round(100 * self.submitted / len(self.rows)) if self.rows else 0

    def next_unfinished(self, after_proposal_id: int | None = None) -> Row | None:
        """The next proposal not yet submitted, after the given one (wrapping round)."""
        open_rows = [r for r in self.rows if r.status != "submitted"]
        if not open_rows:
            return None
        if after_proposal_id is not None:
            ids = [r.proposal.id for r in self.rows]
            if after_proposal_id in ids:
                start = ids.index(after_proposal_id)
                ordered = self.rows[start + 1:] + self.rows[:start]
                return next((r for r in ordered if r.status != "submitted"), None)
        return open_rows[0]


def my_stages(user_id: int) -> list[StageSheets]:
    """Every scored stage in which the judge has published proposals, newest edition first."""
    members = db.session.scalars(sa.select(PoolMember).where(
        PoolMember.user_id == user_id, PoolMember.status == InvitationStatus.ACCEPTED)).all()
    if not members:
        return []
    schemes = db.session.scalars(sa.select(ScoringScheme).where(
        sa.tuple_(ScoringScheme.edition_id, ScoringScheme.stage).in_([(m.edition_id, m.stage) for m in members]))
        .options(selectinload(ScoringScheme.edition).selectinload(Edition.stages))).all()
    if not schemes:
        return []
    by_key = {(s.edition_id, s.stage): s for s in schemes}
    member_of_team = {m.team_id: m for m in members if m.team_id is not None}
    member_by_id = {m.id: m for m in members}
    holder = Assignment.member_id.in_(list(member_by_id))
    if member_of_team:
        holder = sa.or_(holder, Assignment.team_id.in_(list(member_of_team)))
    assignments = db.session.execute(sa.select(Assignment.proposal_id, Assignment.member_id, Assignment.team_id,
                                               Assignment.edition_id, Assignment.stage)
                                     .where(Assignment.state == AssignmentState.PUBLISHED, holder)
                                     .order_by(Assignment.proposal_id)).all()
    proposals = {p.id: p for p in db.session.scalars(
        sa.select(Proposal).where(Proposal.id.in_({a.proposal_id for a in assignments}))
        .options(selectinload(Proposal.category), selectinload(Proposal.group)))} if assignments else {}
    sheets = {(s.scheme_id, s.proposal_id, s.member_id): s for s in db.session.scalars(
        sa.select(ScoreSheet).where(ScoreSheet.member_id.in_(list(member_by_id))))}
    stages = {s.id: StageSheets(s, s.edition, deadline_of(s)) for s in schemes}
    seen: set[tuple[int, int]] = set()
    for a in assignments:
        scheme = by_key.get((a.edition_id, a.stage))
        member = member_by_id.get(a.member_id) if a.member_id is not None else member_of_team.get(a.team_id)
        if scheme is None or member is None or member.stage != a.stage or (scheme.id, a.proposal_id) in seen:
            continue
        seen.add((scheme.id, a.proposal_id))
        sheet = sheets.get((scheme.id, a.proposal_id, member.id))
        if sheet is not None and sheet.status is SheetStatus.DISCARDED:
            continue
        status = "not_started" if sheet is None else sheet.status.value
        stages[scheme.id].rows.append(Row(proposals[a.proposal_id], member.id, status,
                                          sheet.weighted_total if sheet else None,
                                          sheet.updated_at if sheet else None))
    result = [s for s in stages.values() if s.rows]
    return sorted(result, key=lambda s: (-s.edition.year, s.scheme.stage.value))


def stage_of(user_id: int, scheme_id: int) -> StageSheets | None:
    return next((s for s in my_stages(user_id) if s.scheme.id == scheme_id), None)
