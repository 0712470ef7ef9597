"""The secretariat's assignment page per edition and stage, and the judges' view of their proposals."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from kipp.accounts.roles import Role
from kipp.assignment import services
from kipp.editions.kinds import StageKind
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.judging.models import Assignment, AssignmentState, PoolMember
from kipp.proposals import printing, uploads
from kipp.proposals.models import Proposal, ProposalFile
from kipp.web import audience, get_or_404, run_service

bp = Blueprint("assignment", __name__, url_prefix="/admin/assignment")
audience(bp, Role.SECRETARIAT)

review_bp = Blueprint("review", __name__, url_prefix="/review")
audience(review_bp, Role.EVALUATOR, Role.PANELIST)


def _stage(value: str) -> StageKind:
    try:
        stage = StageKind(value)
    except ValueError:
        abort(404)
    if stage not in services.STAGE_PROPOSALS:
        abort(404)
    return stage


def _here(edition: Edition, stage: StageKind) -> Any:
    return redirect(url_for("assignment.stage", edition_id=edition.id, stage=stage.value))


@bp.route("/<int:edition_id>/<stage>")
def stage(edition_id: int, stage: str) -> Any:
    edition = get_or_404(Edition, edition_id)
    kind = _stage(stage)
    members = services.stage_members(edition, kind)
    proposals = services.stage_proposals(edition, kind)
    live = services.live_assignments(edition, kind)
    by_proposal: dict[int, list[Assignment]] = defaultdict(list)
    load: dict[int, int] = defaultdict(int)
    for assignment in live:
        by_proposal[assignment.proposal_id].append(assignment)
        if assignment.member_id is not None:
            load[assignment.member_id] += 1
    summary = services.stage_summary(edition, kind)
    per_proposal = services.judges_per_proposal(edition, kind)
    return render_template(
        "assignment/stage.html", edition=edition, stage=kind, members=members, proposals=proposals,
        by_proposal=by_proposal, load=load, run=summary["run"], teams=services.stage_teams(edition, kind),
        drafts=sum(1 for a in live if a.state is AssignmentState.DRAFT), per_proposal=per_proposal,
        short=[p for p in proposals if not by_proposal.get(p.id)
               or (by_proposal[p.id][0].team_id is None and len(by_proposal[p.id]) < per_proposal)],
    )


@bp.route("/<int:edition_id>/<stage>/status.json")
def status(edition_id: int, stage: str) -> Any:
    edition = get_or_404(Edition, edition_id)
    run = services.stage_summary(edition, _stage(stage))["run"]
    if run is None:
        return jsonify(status=None)
    return jsonify(status=run.status.value, progress=run.progress)


@bp.route("/<int:edition_id>/<stage>/run", methods=["POST"])
def run(edition_id: int, stage: str) -> Any:
    edition = get_or_404(Edition, edition_id)
    kind = _stage(stage)
    by_team = request.form.get("by_team") == "1"
    run_service(services.request_run, current_user, edition, kind, by_team=by_team,
                teams_per_proposal=request.form.get("teams_per_proposal", 1, type=int),
                per_proposal=request.form.get("per_proposal", type=int),
                success=_("The assignment is being computed; this page shows its progress."))
    return _here(edition, kind)


@bp.route("/<int:edition_id>/<stage>/publish", methods=["POST"])
def publish(edition_id: int, stage: str) -> Any:
    edition = get_or_404(Edition, edition_id)
    kind = _stage(stage)
    ok, count = run_service(services.publish, current_user, edition, kind)
    if ok:
        flash(_("%(n)s assignments were published; the judges have been told.", n=count), "success")
    return _here(edition, kind)


@bp.route("/<int:edition_id>/<stage>/add", methods=["POST"])
def add(edition_id: int, stage: str) -> Any:
    edition = get_or_404(Edition, edition_id)
    kind = _stage(stage)
    if not request.form.get("proposal_id", type=int) or not request.form.get("member_id", type=int):
        flash(_("Choose a proposal and a judge."), "danger")
        return _here(edition, kind)
    proposal = get_or_404(Proposal, request.form.get("proposal_id", type=int),
                          where=Proposal.edition_id == edition.id)
    member = get_or_404(PoolMember, request.form.get("member_id", type=int),
                        where=PoolMember.edition_id == edition.id)
    ok, result = run_service(services.add_manual, current_user, edition, kind, proposal=proposal, member=member)
    if ok:
        _assignment, warnings = result
        flash(_("The judge was added and pinned."), "success")
        for warning in warnings:
            flash(_("Warning (soft conflict): %(reason)s", reason=warning), "warning")
    return _here(edition, kind)


@bp.route("/<int:edition_id>/<stage>/<int:assignment_id>/remove", methods=["POST"])
def remove(edition_id: int, stage: str, assignment_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    kind = _stage(stage)
    assignment = get_or_404(Assignment, assignment_id, where=Assignment.edition_id == edition.id)
    run_service(services.remove, current_user, assignment, success=_("The judge was removed from the proposal."))
    return _here(edition, kind)


@bp.route("/<int:edition_id>/<stage>/<int:assignment_id>/swap", methods=["POST"])
def swap(edition_id: int, stage: str, assignment_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    kind = _stage(stage)
    assignment = get_or_404(Assignment, assignment_id, where=Assignment.edition_id == edition.id)
    if not request.form.get("member_id", type=int):
        flash(_("Choose a proposal and a judge."), "danger")
        return _here(edition, kind)
    member = get_or_404(PoolMember, request.form.get("member_id", type=int),
                        where=PoolMember.edition_id == edition.id)
    ok, result = run_service(services.swap, current_user, assignment, member)
    if ok:
        flash(_("The judge was replaced; the new choice is pinned."), "success")
        for warning in result[1]:
            flash(_("Warning (soft conflict): %(reason)s", reason=warning), "warning")
    return _here(edition, kind)


@bp.route("/<int:edition_id>/<stage>/<int:assignment_id>/pin", methods=["POST"])
def pin(edition_id: int, stage: str, assignment_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    kind = _stage(stage)
    assignment = get_or_404(Assignment, assignment_id, where=Assignment.edition_id == edition.id)
    run_service(services.pin, current_user, assignment, not assignment.pinned)
    return _here(edition, kind)


@bp.route("/<int:edition_id>/<stage>/members/<int:member_id>/withdraw", methods=["POST"])
def withdraw(edition_id: int, stage: str, member_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    kind = _stage(stage)
    member = get_or_404(PoolMember, member_id, where=PoolMember.edition_id == edition.id)
    ok, moved = run_service(services.withdraw_member, current_user, member)
    if ok:
        flash(_("%(name)s left the stage; %(n)s of their proposals went to other judges as drafts.",
                name=member.user.name, n=moved), "success")
    return _here(edition, kind)


# --- judges ------------------------------------------------------------------------------------


def _mine(user_id: int) -> Any:
    """Published assignments of this person: to them, or to a team they are in."""
    memberships = sa.select(PoolMember.id).where(PoolMember.user_id == user_id)
    teams = sa.select(PoolMember.team_id).where(PoolMember.user_id == user_id, PoolMember.team_id.is_not(None))
    return sa.and_(Assignment.state == AssignmentState.PUBLISHED,
                   sa.or_(Assignment.member_id.in_(memberships), Assignment.team_id.in_(teams)))


def _assigned_proposal(proposal_id: int) -> Proposal:
    """A proposal published to the current judge (or their team), or 404 (also for its files)."""
    assigned = db.session.scalar(
        sa.select(Assignment.id).where(Assignment.proposal_id == proposal_id, _mine(current_user.id)).limit(1))
    if assigned is None:
        abort(404)
    proposal: Proposal = get_or_404(Proposal, proposal_id)
    return proposal


@review_bp.route("/<int:proposal_id>")
def proposal(proposal_id: int) -> Any:
    item = _assigned_proposal(proposal_id)
    return render_template("assignment/review.html", proposal=item,
                           print_html=Markup(printing.render_html(item, standalone=False)))


@review_bp.route("/<int:proposal_id>/files/<int:file_id>")
def download(proposal_id: int, file_id: int) -> Any:
    item = _assigned_proposal(proposal_id)
    attached = get_or_404(ProposalFile, file_id, where=ProposalFile.proposal_id == item.id)
    return uploads.send_attachment(attached)


def my_assignments(user_id: int) -> list[Assignment]:
    from sqlalchemy.orm import selectinload

    return list(db.session.scalars(
        sa.select(Assignment).where(_mine(user_id))
        .options(selectinload(Assignment.proposal).selectinload(Proposal.category), selectinload(Assignment.team))
        .order_by(Assignment.id)
    ))
