"""A team chair's consolidation of their team's proposals: once the secretariat opens consolidation,
the chair sees the list and each proposal's matrix, and may ask the judges to reconcile (never
reopen one sheet nor add a judge: those stay with the secretariat). Anyone else gets 404."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template
from flask_login import current_user

from kipp.accounts.roles import Role
from kipp.judging.models import PoolMember
from kipp.scoring import reports, services
from kipp.scoring.models import ScoringScheme
from kipp.scoring.views import (
    _edition_stage,
    reconcile_view,
    render_consolidation,
    render_matrix,
    stage_proposal_or_404,
)
from kipp.web import audience

bp = Blueprint("scoring_chair", __name__, url_prefix="/score/team")
audience(bp, Role.EVALUATOR, Role.PANELIST)


def _chaired(edition_id: int, stage: str) -> tuple[ScoringScheme, PoolMember]:
    """The stage's scheme and the current person's chair membership, once consolidation is open."""
    edition, kind = _edition_stage(edition_id, stage)
    scheme = services.scheme_for(edition, kind)
    if scheme is None or not services.is_revealed(scheme):
        abort(404)
    chair = reports.chair_membership(current_user, scheme)
    if chair is None:
        abort(404)
    return scheme, chair


def _team_proposal(scheme: ScoringScheme, proposal_id: int) -> Any:
    if not services.may_consolidate(current_user, scheme, proposal_id):
        abort(404)
    return stage_proposal_or_404(scheme, proposal_id)


@bp.route("/")
def index() -> Any:
    return render_template("scoring/chair_index.html", chaired=reports.chaired_stages(current_user))


@bp.route("/<int:edition_id>/<stage>")
def consolidation(edition_id: int, stage: str) -> Any:
    scheme, chair = _chaired(edition_id, stage)
    return render_consolidation(scheme, chair=chair)


@bp.route("/<int:edition_id>/<stage>/<int:proposal_id>")
def proposal(edition_id: int, stage: str, proposal_id: int) -> Any:
    scheme, chair = _chaired(edition_id, stage)
    return render_matrix(scheme, _team_proposal(scheme, proposal_id), chair=chair)


@bp.route("/<int:edition_id>/<stage>/<int:proposal_id>/reconcile", methods=["POST"])
def reconcile(edition_id: int, stage: str, proposal_id: int) -> Any:
    scheme, _chair = _chaired(edition_id, stage)
    return reconcile_view(scheme, _team_proposal(scheme, proposal_id), "scoring_chair.proposal")
