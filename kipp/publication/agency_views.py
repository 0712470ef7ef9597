"""The agency's outcome and certificates, once the edition's result is published."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, render_template
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from kipp.accounts.roles import Role
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.proposals import access
from kipp.proposals.models import Proposal
from kipp.proposals.states import NUMBERED
from kipp.publication import certificates, services
from kipp.selection.models import Shortlist, ShortlistKind
from kipp.web import audience, get_or_404

bp = Blueprint("agency_results", __name__, url_prefix="/results")
audience(bp, Role.ADMIN_LOKAL, Role.UPP)


def _published_editions() -> list[Edition]:
    return list(db.session.scalars(
        sa.select(Edition).join(Shortlist, Shortlist.edition_id == Edition.id)
        .where(Shortlist.kind == ShortlistKind.WINNERS, Shortlist.published_at.is_not(None))
        .options(selectinload(Edition.groups)).order_by(Edition.year.desc())))


def _rows(edition: Edition, proposals: list[Proposal]) -> list[dict[str, Any]]:
    """Each proposal with its outcome in words and its certificate, if it has one."""
    tiers = services.tiers_of(edition)
    issued = {c.proposal_id: c for c in certificates.certificates_of(edition)}
    groups = {g.id: g for g in edition.groups}
    return [{"proposal": p, "outcome": services.outcome(p.status, group=groups.get(p.group_id),
                                                        tier=tiers.get(p.id)),
             "certificate": issued.get(p.id)} for p in proposals]


@bp.route("/")
def index() -> Any:
    sections = []
    for edition in _published_editions():
        proposals = list(db.session.scalars(
            sa.select(Proposal).where(Proposal.edition_id == edition.id, access.visible_to(current_user),
                                      Proposal.status.in_([s.value for s in NUMBERED]))
            .order_by(Proposal.number)))
        if proposals:
            sections.append((edition, _rows(edition, proposals)))
    return render_template("agency_results/index.html", sections=sections)


def _published_proposal(proposal_id: int) -> tuple[Proposal, Edition]:
    """One of the person's own proposals in an edition whose result is published (else 404)."""
    proposal: Proposal = get_or_404(Proposal, proposal_id, where=access.visible_to(current_user))
    edition = proposal.edition
    if not services.is_published(edition) or proposal.number is None:
        abort(404)
    return proposal, edition


@bp.route("/proposals/<int:proposal_id>")
def outcome(proposal_id: int) -> Any:
    proposal, edition = _published_proposal(proposal_id)
    return render_template("agency_results/outcome.html", edition=edition, row=_rows(edition, [proposal])[0])


@bp.route("/proposals/<int:proposal_id>/certificate.pdf")
def certificate(proposal_id: int) -> Any:
    proposal, edition = _published_proposal(proposal_id)
    found = certificates.certificate_for(edition, proposal.id)
    if found is None:
        abort(404)
    if certificates.unavailable() is not None:
        return render_template("errors/error.html", code=503,
                               message=_("PDF printing is not available on this server.")), 503
    return Response(certificates.pdf_bytes(edition, found), mimetype=certificates.PDF_MIMETYPE,
                    headers={"Content-Disposition": f"attachment; filename={found.filename}"})
