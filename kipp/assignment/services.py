"""Assigning a stage's proposals to its judges: build the problem from the database,
solve it exactly (kipp.assignment.solver), keep the result as a draft the
secretariat reviews, then publish it to the judges.

Solving runs as an outbox task (a Celery worker in production); the run row
records inputs, solver, objective, status, duration and progress.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from kipp.accounts.models import User
from kipp.assignment import rules, solver
from kipp.audit.services import record, snapshot
from kipp.db import utcnow
from kipp.editions.kinds import StageKind
from kipp.editions.models import Edition
from kipp.errors import DomainError
from kipp.extensions import db
from kipp.judging.conflicts import conflict_matrix, worst
from kipp.judging.models import (
    Assignment,
    Team,
    AssignmentRun,
    AssignmentState,
    InvitationStatus,
    PoolMember,
    RunStatus,
    Severity,
)
from kipp.notifications.services import notify
from kipp.outbox.dispatch import enqueue
from kipp.outbox.registry import REASSIGN_PROPOSAL, handles
from kipp.proposals.models import Proposal
from kipp.proposals.states import IN_FINAL_ROUND, PASSED_SCREENING, ProposalStatus

SOLVE = "kipp.assignment.solve"

# Which proposals each stage assigns: the evaluation those that passed screening, the panel
# the nominees, the presentations and the field verification the confirmed finalists. Each
# keeps its proposals once a later round has moved them on, so its pages still show them.
STAGE_PROPOSALS = {
    StageKind.EVALUATION: tuple(sorted(PASSED_SCREENING)),
    StageKind.PANEL_REVIEW: tuple(sorted(PASSED_SCREENING - {ProposalStatus.ADMIN_PASSED, ProposalStatus.NOT_NOMINATED})),
    StageKind.PRESENTATION: tuple(sorted(IN_FINAL_ROUND | {ProposalStatus.WINNER, ProposalStatus.FINALIST_ONLY})),
    StageKind.FIELD_VERIFICATION: tuple(sorted(IN_FINAL_ROUND | {ProposalStatus.WINNER, ProposalStatus.FINALIST_ONLY})),
}
LIVE = (AssignmentState.DRAFT, AssignmentState.PUBLISHED)


def stage_members(edition: Edition, stage: StageKind) -> list[PoolMember]:
    return list(db.session.scalars(
        sa.select(PoolMember).where(PoolMember.edition_id == edition.id, PoolMember.stage == stage,
                                    PoolMember.status == InvitationStatus.ACCEPTED)
        .options(selectinload(PoolMember.expertise), selectinload(PoolMember.user)).order_by(PoolMember.id)
    ))


def stage_proposals(edition: Edition, stage: StageKind) -> list[Proposal]:
    statuses = STAGE_PROPOSALS.get(stage)
    if not statuses:
        raise DomainError(_("This stage has no assignment yet."), code="stage")
    return list(db.session.scalars(
        sa.select(Proposal).where(Proposal.edition_id == edition.id,
                                  Proposal.status.in_([s.value for s in statuses]))
        .options(selectinload(Proposal.category)).order_by(Proposal.id)
    ))


def live_assignments(edition: Edition, stage: StageKind) -> list[Assignment]:
    return list(db.session.scalars(
        sa.select(Assignment).where(Assignment.edition_id == edition.id, Assignment.stage == stage,
                                    Assignment.state.in_([s.value for s in LIVE]))
        .options(selectinload(Assignment.member).selectinload(PoolMember.user), selectinload(Assignment.team),
                 selectinload(Assignment.proposal))
        .order_by(Assignment.proposal_id, Assignment.id)
    ))


def judges_per_proposal(edition: Edition, stage: StageKind) -> int:
    """How many judges each proposal of the stage gets: as its last run asked, else the edition's setting.

    Stages differ (three evaluators per proposal; the panel reviews nominees in pairs), so the
    number is chosen with each run and kept for the re-assignments that follow it."""
    params = db.session.scalar(sa.select(AssignmentRun.params).where(
        AssignmentRun.edition_id == edition.id, AssignmentRun.stage == stage,
        AssignmentRun.status == RunStatus.DONE).order_by(AssignmentRun.id.desc()).limit(1))
    if params and not params.get("by_team") and params.get("k"):
        return int(params["k"])
    return edition.reviewers_per_proposal


def build_problem(edition: Edition, stage: StageKind, *, relaxed: bool = False,
                  per_proposal: int | None = None) -> solver.AssignmentProblem:
    """The solver's input: accepted judges, the stage's proposals, expertise affinities,
    conflicts (hard excluded, soft penalised) and the pinned manual choices.

    ``relaxed`` (after a withdrawal): instead of strict balance, each judge may
    take one review more than an even share, so that only the withdrawn judge's
    proposals need to move."""
    members = stage_members(edition, stage)
    proposals = stage_proposals(edition, stage)
    k = per_proposal or judges_per_proposal(edition, stage)
    conflicts = conflict_matrix(edition, stage, members, proposals)
    hard = {pair for pair, found in conflicts.items() if worst(found) is Severity.HARD}
    soft = {pair for pair, found in conflicts.items() if worst(found) is Severity.SOFT}
    # Manual choices and what judges already received stay as they are.
    pinned = {tuple(row) for row in db.session.execute(
        sa.select(Assignment.proposal_id, Assignment.member_id).where(
            Assignment.edition_id == edition.id, Assignment.stage == stage, Assignment.member_id.is_not(None),
            Assignment.state.in_([s.value for s in LIVE]),
            sa.or_(Assignment.pinned, Assignment.state == AssignmentState.PUBLISHED))
    )} if members else set()
    candidates = _candidate_arrays(edition, proposals, members, hard)
    caps = {m.id: m.max_load for m in members}
    if relaxed and members:
        share = -(-len(proposals) * k // len(members)) + 1
        caps = {m.id: min(share, m.max_load) if m.max_load is not None else share for m in members}
    return solver.AssignmentProblem(
        proposals=[solver.Proposal(p.id, category=p.category.name_id if p.category else None,
                                   label=p.number or p.title) for p in proposals],
        reviewers=[solver.Reviewer(m.id, max_load=caps[m.id], label=m.user.name) for m in members],
        candidates=candidates,
        k=k,
        balanced=edition.balanced_load and not relaxed,
        hard_conflicts=frozenset(hard),
        soft_conflicts=frozenset(soft),
        pinned=frozenset(pinned),
    )


def stage_teams(edition: Edition, stage: StageKind) -> list[Team]:
    teams = db.session.scalars(
        sa.select(Team).where(Team.edition_id == edition.id, Team.stage == stage)
        .options(selectinload(Team.members)).order_by(Team.id)
    ).all()
    return [t for t in teams if any(m.status is InvitationStatus.ACCEPTED for m in t.members)]


def build_team_problem(edition: Edition, stage: StageKind, *, per_proposal: int) -> solver.AssignmentProblem:
    """The same problem with teams as the reviewers: a team's affinity is its members' mean and it
    has a conflict with a proposal when any member has one."""
    members = stage_members(edition, stage)
    proposals = stage_proposals(edition, stage)
    teams = stage_teams(edition, stage)
    conflicts = conflict_matrix(edition, stage, members, proposals)
    hard = {pair for pair, found in conflicts.items() if worst(found) is Severity.HARD}
    soft = {pair for pair, found in conflicts.items() if worst(found) is Severity.SOFT}
    arrays = _candidate_arrays(edition, proposals, members, set())
    member_candidates: dict[int, list[tuple[int, int]]] = {}
    for i, j, value in zip(arrays.proposal.tolist(), arrays.reviewer.tolist(), arrays.affinity.tolist()):
        member_candidates.setdefault(proposals[i].id, []).append((members[j].id, int(value)))
    team_members = {t.id: [m.id for m in t.members if m.status is InvitationStatus.ACCEPTED] for t in teams}
    candidates, team_hard, team_soft = solver.team_inputs(team_members, member_candidates, hard, soft)
    pinned = {tuple(row) for row in db.session.execute(
        sa.select(Assignment.proposal_id, Assignment.team_id).where(
            Assignment.edition_id == edition.id, Assignment.stage == stage, Assignment.team_id.is_not(None),
            Assignment.state.in_([s.value for s in LIVE]),
            sa.or_(Assignment.pinned, Assignment.state == AssignmentState.PUBLISHED))
    )}
    return solver.AssignmentProblem(
        proposals=[solver.Proposal(p.id, category=p.category.name_id if p.category else None,
                                   label=p.number or p.title) for p in proposals],
        reviewers=[solver.Reviewer(t.id, max_load=t.max_load, label=t.name) for t in teams],
        candidates=candidates, k=per_proposal, balanced=edition.balanced_load,
        hard_conflicts=frozenset(team_hard), soft_conflicts=frozenset(team_soft), pinned=frozenset(pinned),
    )


def _candidate_arrays(edition: Edition, proposals: list[Proposal], members: list[PoolMember],
                      hard: set[tuple[int, int]]) -> solver.CandidateArrays:
    """Every non-conflicting (proposal, judge) pair with its affinity, as arrays (3,000 × 150 in milliseconds)."""
    category_index = {c.id: i for i, c in enumerate(edition.categories)}
    none = len(category_index)  # a column for proposals without a category
    knows = np.zeros((len(members), none + 1), dtype=bool)
    declared = np.zeros(len(members), dtype=bool)
    for j, member in enumerate(members):
        for category in member.expertise:
            knows[j, category_index[category.id]] = True
        declared[j] = bool(member.expertise)
    category_of = np.array([category_index.get(p.category_id, none) for p in proposals], dtype=np.int64)
    affinity = np.where(knows[:, category_of].T, rules.EXPERT, rules.OUTSIDE_EXPERTISE)
    affinity[:, ~declared] = rules.UNDECLARED
    allowed = np.ones((len(proposals), len(members)), dtype=bool)
    proposal_at = {p.id: i for i, p in enumerate(proposals)}
    member_at = {m.id: j for j, m in enumerate(members)}
    for proposal_id, member_id in hard:
        if proposal_id in proposal_at and member_id in member_at:
            allowed[proposal_at[proposal_id], member_at[member_id]] = False
    rows, columns = np.nonzero(allowed)
    return solver.CandidateArrays(proposal=rows, reviewer=columns, affinity=affinity[rows, columns])


def request_run(actor: User, edition: Edition, stage: StageKind, *, by_team: bool = False,
                teams_per_proposal: int = 1, per_proposal: int | None = None) -> AssignmentRun:
    running = db.session.scalar(sa.select(AssignmentRun.id).where(
        AssignmentRun.edition_id == edition.id, AssignmentRun.stage == stage,
        AssignmentRun.status.in_([RunStatus.QUEUED.value, RunStatus.RUNNING.value])))
    if running:
        raise DomainError(_("An assignment is already being computed for this stage."), code="running")
    if not stage_members(edition, stage):
        raise DomainError(_("No judge of this stage's pool has accepted yet."), code="no_judges")
    if by_team and not stage_teams(edition, stage):
        raise DomainError(_("This stage has no team with a judge who accepted."), code="no_teams")
    if by_team and not 1 <= teams_per_proposal <= 5:
        raise DomainError(_("Give between 1 and 5 teams per proposal."), code="teams_per_proposal")
    if not stage_proposals(edition, stage):
        raise DomainError(_("No proposals have reached this stage yet."), code="no_proposals")
    judges = judges_per_proposal(edition, stage) if per_proposal is None else per_proposal
    if not by_team and not 1 <= judges <= 10:
        raise DomainError(_("Give between 1 and 10 judges per proposal."), code="per_proposal")
    run = AssignmentRun(edition_id=edition.id, stage=stage, requested_by_id=actor.id,
                        params={"k": teams_per_proposal if by_team else judges,
                                "balanced": edition.balanced_load, "by_team": by_team,
                                "coi_same_province": edition.coi_same_province})
    db.session.add(run)
    db.session.flush()
    record(actor, "assignment.run_requested", run, label=f"{edition.name} · {stage.value}")
    enqueue(SOLVE, run_id=run.id)
    return run


@handles(SOLVE)
def solve_run(outbox_id: int, *, run_id: int) -> None:
    """The task: solve and write the draft. Progress is committed as it goes."""
    run = db.session.get(AssignmentRun, run_id)
    if run is None or run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return
    run.status, run.progress = RunStatus.RUNNING, 10
    db.session.commit()
    try:
        edition = db.session.get(Edition, run.edition_id)
        if run.params.get("by_team"):
            problem = build_team_problem(edition, run.stage, per_proposal=run.params["k"])
        else:
            problem = build_problem(edition, run.stage, per_proposal=run.params.get("k"))
        run.progress = 40
        db.session.commit()
        result = solver.solve(problem)
    except solver.Infeasible as infeasible:
        run.status, run.progress, run.finished_at = RunStatus.INFEASIBLE, 100, utcnow()
        run.result = {"shortfalls": [s.as_dict() for s in infeasible.shortfalls], "record": infeasible.record}
        record(None, "assignment.run_infeasible", run)
        return
    except Exception as error:
        db.session.rollback()
        failed = db.session.get(AssignmentRun, run_id)
        failed.status, failed.finished_at, failed.error = RunStatus.FAILED, utcnow(), repr(error)[:2000]
        db.session.commit()
        raise
    run.progress = 80
    db.session.commit()
    _write_draft(edition, run, result)
    run.status, run.progress, run.finished_at = RunStatus.DONE, 100, utcnow()
    run.result = result.record
    record(None, "assignment.run_done", run, after={"objective": result.objective, "pairs": len(result.pairs),
                                                   "status": result.status})


def _write_draft(edition: Edition, run: AssignmentRun, result: solver.Assignment) -> None:
    """Replace the stage's unpinned draft pairs by the new ones; published and pinned pairs stay."""
    stage_rows = sa.and_(Assignment.edition_id == edition.id, Assignment.stage == run.stage)
    by_team = bool(run.params.get("by_team"))
    holder = Assignment.team_id if by_team else Assignment.member_id
    kept = {tuple(row) for row in db.session.execute(sa.select(Assignment.proposal_id, holder).where(
        stage_rows, holder.is_not(None), sa.or_(Assignment.pinned, Assignment.state == AssignmentState.PUBLISHED),
        Assignment.state != AssignmentState.REMOVED))}
    db.session.execute(sa.delete(Assignment).where(stage_rows, Assignment.state == AssignmentState.DRAFT,
                                                   sa.not_(Assignment.pinned)))
    explanations = {(e.proposal_id, e.reviewer_id): e for e in result.explanations()}
    rows = [
        {"edition_id": edition.id, "stage": run.stage, "proposal_id": proposal_id,
         "member_id": None if by_team else holder_id, "team_id": holder_id if by_team else None,
         "run_id": run.id, "source": "solver", "pinned": False, "state": AssignmentState.DRAFT,
         "explanation": explanations[(proposal_id, holder_id)].as_dict(), "created_at": utcnow()}
        for proposal_id, holder_id in result.pairs if (proposal_id, holder_id) not in kept
    ]
    if rows:
        db.session.execute(sa.insert(Assignment), rows)  # one executemany for thousands of pairs
    db.session.flush()


@handles(REASSIGN_PROPOSAL)
def reassign_proposal(outbox_id: int, *, edition_id: int, stage: str, proposal_id: int, publish: bool) -> None:
    """A judge declared a conflict: give the proposal a replacement, moving nothing else.

    The new pair is published at once (and its judge told) when the removed one was published."""
    edition = db.session.get(Edition, edition_id)
    kind = StageKind(stage)
    if edition is None or kind not in STAGE_PROPOSALS:
        return
    live = live_assignments(edition, kind)
    if sum(1 for a in live if a.proposal_id == proposal_id) >= judges_per_proposal(edition, kind):
        return  # already replaced (a redelivered message), or by hand
    problem = build_problem(edition, kind, relaxed=True)
    previous = [(a.proposal_id, a.member_id) for a in live if a.member_id is not None]
    try:
        result = solver.reassign(problem, previous)
    except solver.Infeasible as infeasible:
        record(None, "assignment.reassignment_impossible", object_type="proposals", object_id=proposal_id,
               after={"shortfalls": [s.message for s in infeasible.shortfalls]})
        return
    explanations = {(e.proposal_id, e.reviewer_id): e for e in result.explanations()}
    kept = set(previous)
    members = {m.id: m for m in stage_members(edition, kind)}
    for pair in result.pairs:
        if pair in kept:
            continue
        state = AssignmentState.PUBLISHED if publish else AssignmentState.DRAFT
        added = Assignment(edition_id=edition.id, stage=kind, proposal_id=pair[0], member_id=pair[1],
                           source="reassigned", state=state, explanation=explanations[pair].as_dict())
        db.session.add(added)
        db.session.flush()
        record(None, "assignment.reassigned", added, after=snapshot(added))
        if publish and pair[1] in members:
            notify([members[pair[1]].user], "assignments_published", link=("home.index", {}), count=1,
                   edition=edition.name)


def publish(actor: User, edition: Edition, stage: StageKind) -> int:
    drafts = [a for a in live_assignments(edition, stage) if a.state is AssignmentState.DRAFT]
    if not drafts:
        raise DomainError(_("There is no draft assignment to publish."), code="nothing")
    now = utcnow()
    for assignment in drafts:
        assignment.state = AssignmentState.PUBLISHED
    latest = db.session.scalar(sa.select(AssignmentRun).where(
        AssignmentRun.edition_id == edition.id, AssignmentRun.stage == stage,
        AssignmentRun.status == RunStatus.DONE).order_by(AssignmentRun.id.desc()).limit(1))
    if latest is not None:
        latest.published_at, latest.published_by_id = now, actor.id
    db.session.flush()
    members = {m.id: m for m in stage_members(edition, stage)}
    per_judge: dict[int, int] = {}
    for assignment in drafts:
        holders = ([assignment.member_id] if assignment.member_id is not None
                   else [m.id for m in members.values() if m.team_id == assignment.team_id])
        for member_id in holders:
            per_judge[member_id] = per_judge.get(member_id, 0) + 1
    for member_id, count in per_judge.items():
        member = members.get(member_id)
        if member is not None:
            notify([member.user], "assignments_published", link=("home.index", {}), count=count,
                   edition=edition.name)
    record(actor, "assignment.published", object_type="assignment_stage", object_id=f"{edition.id}:{stage.value}",
           after={"published": len(drafts)}, label=f"{edition.name} · {stage.value}")
    return len(drafts)


def add_manual(actor: User, edition: Edition, stage: StageKind, *, proposal: Proposal,
               member: PoolMember) -> tuple[Assignment, list[str]]:
    """A pinned pair chosen by hand: never a hard conflict, never twice, never over the judge's maximum."""
    if member.edition_id != edition.id or member.stage != stage or member.status is not InvitationStatus.ACCEPTED:
        raise DomainError(_("This judge is not in the stage's pool."), code="member")
    if proposal.edition_id != edition.id:
        raise DomainError(_("This proposal is not part of the edition."), code="proposal")
    live = live_assignments(edition, stage)
    if any(a.proposal_id == proposal.id and a.member_id == member.id for a in live):
        raise DomainError(_("This judge already has this proposal."), code="twice")
    load = sum(1 for a in live if a.member_id == member.id)
    if member.max_load is not None and load >= member.max_load:
        raise DomainError(_("%(name)s already has %(load)s proposals, the maximum.", name=member.user.name,
                            load=load), code="load")
    found = conflict_matrix(edition, stage, [member], [proposal]).get((proposal.id, member.id), [])
    if worst(found) is Severity.HARD:
        raise DomainError(_("Conflict of interest: %(reasons)s", reasons="; ".join(c.reason for c in found)),
                          code="conflict")
    assignment = Assignment(edition_id=edition.id, stage=stage, proposal_id=proposal.id, member_id=member.id,
                            pinned=True, source="manual", explanation={"reason": "manual", "load": load + 1})
    db.session.add(assignment)
    db.session.flush()
    record(actor, "assignment.added", assignment, after=snapshot(assignment), label=proposal.title)
    return assignment, [c.reason for c in found]


def swap(actor: User, assignment: Assignment, member: PoolMember) -> tuple[Assignment, list[str]]:
    """Give the proposal another judge in place of this one (checked and pinned like a manual choice)."""
    if assignment.member_id == member.id:
        raise DomainError(_("Choose a different judge."), code="same")
    edition = db.session.get(Edition, assignment.edition_id)
    remove(actor, assignment)
    added, warnings = add_manual(actor, edition, assignment.stage, proposal=assignment.proposal, member=member)
    return added, warnings


def remove(actor: User, assignment: Assignment) -> None:
    before = snapshot(assignment)
    assignment.state = AssignmentState.REMOVED
    assignment.pinned = False
    db.session.flush()
    record(actor, "assignment.removed", assignment, before=before, after=snapshot(assignment),
           label=assignment.proposal.title)


def pin(actor: User, assignment: Assignment, pinned: bool = True) -> None:
    before = snapshot(assignment)
    assignment.pinned = pinned
    db.session.flush()
    record(actor, "assignment.pinned" if pinned else "assignment.unpinned", assignment, before=before,
           after=snapshot(assignment), label=assignment.proposal.title)


def withdraw_member(actor: User, member: PoolMember) -> int:
    """A judge leaves the stage: their pairs are removed and only their proposals are given to others."""
    edition = member.edition
    live = live_assignments(edition, member.stage)
    theirs = [a for a in live if a.member_id == member.id]
    previous = [(a.proposal_id, a.member_id) for a in live]
    for assignment in theirs:
        assignment.state = AssignmentState.REMOVED
    member.status = InvitationStatus.DECLINED
    db.session.flush()
    problem = build_problem(edition, member.stage, relaxed=True)
    try:
        result = solver.reassign(problem, previous, withdrawn=[member.id])
    except solver.Infeasible as infeasible:
        raise DomainError(" ".join(s.message for s in infeasible.shortfalls), code="infeasible") from infeasible
    kept = {(a.proposal_id, a.member_id) for a in live if a.member_id != member.id}
    explanations = {(e.proposal_id, e.reviewer_id): e for e in result.explanations()}
    moved = 0
    for proposal_id, member_id in result.pairs:
        if (proposal_id, member_id) in kept:
            continue
        db.session.add(Assignment(edition_id=edition.id, stage=member.stage, proposal_id=proposal_id,
                                  member_id=member_id, source="reassigned",
                                  state=AssignmentState.DRAFT,
                                  explanation=explanations[(proposal_id, member_id)].as_dict()))
        moved += 1
    db.session.flush()
    record(actor, "assignment.member_withdrawn", member, after={"moved": moved}, label=member.user.name)
    return moved


def stage_summary(edition: Edition, stage: StageKind) -> dict[str, Any]:
    latest = db.session.scalar(sa.select(AssignmentRun).where(
        AssignmentRun.edition_id == edition.id, AssignmentRun.stage == stage).order_by(AssignmentRun.id.desc())
        .limit(1))
    return {"run": latest, "now": dt.datetime.now(dt.timezone.utc)}
