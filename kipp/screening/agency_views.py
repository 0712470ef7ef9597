"""The Admin Lokal's side of the correction window: the reasons, the time left, and the resubmission."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from kipp.accounts.roles import Role
from kipp.db import utcnow
from kipp.extensions import db
from kipp.proposals import access
from kipp.proposals.models import Proposal
from kipp.proposals.services import describe, missing_items
from kipp.proposals.states import ProposalStatus
from kipp.screening import rules, services
from kipp.screening.forms import ActionForm
from kipp.web import audience, get_or_404, run_service

bp = Blueprint("correction", __name__, url_prefix="/correction")
audience(bp, Role.ADMIN_LOKAL)


def _load(proposal_id: int) -> Proposal:
    proposal: Proposal = get_or_404(Proposal, proposal_id, where=access.visible_to(current_user))
    return proposal


@bp.route("/")
def index() -> Any:
    """The agency's proposals in a correction window, and those it already sent back."""
    proposals = list(db.session.scalars(
        sa.select(Proposal)
        .where(access.visible_to(current_user), Proposal.correction_due_at.is_not(None))
        .options(joinedload(Proposal.unit), joinedload(Proposal.edition))
        .order_by(Proposal.correction_due_at.desc(), Proposal.id)
    ))
    return render_template("screening/correction_index.html", proposals=proposals, now=utcnow())


@bp.route("/<int:proposal_id>")
def detail(proposal_id: int) -> Any:
    proposal = _load(proposal_id)
    now = utcnow()
    review, failed = services.correction_reasons(proposal)
    in_window = proposal.status is ProposalStatus.IN_CORRECTION
    return render_template(
        "screening/correction.html", proposal=proposal, review=review, failed=failed, now=now,
        in_window=in_window, window_open=rules.correction_open(proposal.correction_due_at, now),
        can_resubmit=services.can_resubmit(current_user, proposal, now),
        can_edit=access.can_edit(current_user, proposal),
        missing=[describe(m) for m in missing_items(proposal)] if in_window else [],
        action_form=ActionForm(),
    )


@bp.route("/<int:proposal_id>/resubmit", methods=["POST"])
def resubmit(proposal_id: int) -> Any:
    proposal = _load(proposal_id)
    if not ActionForm().validate():
        abort(400)
    run_service(services.resubmit_correction, current_user, proposal,
                success=_("The corrected proposal was submitted to the ministry again. It will be screened once "
                          "more."))
    return redirect(url_for("correction.detail", proposal_id=proposal.id))
