"""The secretariat's view of the submission stage: proposal list, funnel, Excel export, printable proposal.

Read-only pages: nothing here commits.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, render_template, request

from kipp.accounts.roles import Role
from kipp.agencies.kinds import CLUSTER_LABELS, Cluster
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.proposals import export, overview, printing
from kipp.proposals.overview import (
    DEFAULT_SORT,
    FUNNEL_STAGES,
    NO_REGION,
    PER_PAGE,
    SORTS,
    STATUS_COLOURS,
    ProposalFilters,
)
from kipp.proposals.states import ProposalStatus
from kipp.web import audience, paginate

bp = Blueprint("proposals_admin", __name__, url_prefix="/admin/proposals")
audience(bp, Role.SECRETARIAT)


@bp.app_template_global()
def proposal_status_colour(status: ProposalStatus) -> str:
    return STATUS_COLOURS[ProposalStatus(status)]


def _editions() -> tuple[list[Edition], Edition | None]:
    """Every edition (newest first) and the one chosen by ?edition=, by default the newest."""
    editions = list(db.session.scalars(sa.select(Edition).order_by(Edition.year.desc())))
    wanted = request.args.get("edition", "")
    if not wanted:
        return editions, editions[0] if editions else None
    chosen = next((e for e in editions if str(e.id) == wanted), None)
    if chosen is None:
        abort(404)
    return editions, chosen


@bp.route("/")
def index() -> Any:
    editions, edition = _editions()
    if edition is None:
        return render_template("proposals_admin/index.html", editions=editions, edition=None)
    filters = ProposalFilters.from_args(request.args)
    sort = request.args.get("sort", DEFAULT_SORT)
    if sort not in SORTS:
        sort = DEFAULT_SORT
    page = paginate(overview.list_query(edition.id, filters, sort=sort), per_page=PER_PAGE)
    return render_template(
        "proposals_admin/index.html",
        editions=editions,
        edition=edition,
        filters=filters,
        sort=sort,
        page=page,
        counts=overview.status_counts(edition.id, filters),
        statuses=list(ProposalStatus),
        groups=edition.groups,
        categories=edition.categories,
        clusters=CLUSTER_LABELS,
        provinces=overview.provinces(),
        agencies=overview.agencies_with_proposals(edition.id),
        no_region=NO_REGION,
    )


@bp.route("/funnel")
def funnel() -> Any:
    editions, edition = _editions()
    data = overview.funnel(edition) if edition is not None else None
    return render_template(
        "proposals_admin/funnel.html",
        editions=editions,
        edition=edition,
        funnel=data,
        stages=FUNNEL_STAGES,
        no_region=NO_REGION,
        clusters=list(Cluster),
    )


@bp.route("/export.xlsx")
def export_xlsx() -> Any:
    _all, edition = _editions()
    if edition is None:
        abort(404)
    content = export.build_workbook(edition, ProposalFilters.from_args(request.args))
    return Response(
        content,
        mimetype=export.XLSX_MIMETYPE,
        headers={"Content-Disposition": f"attachment; filename={export.filename(edition)}"},
    )


def _proposal(proposal_id: int) -> Any:
    proposal = printing.load(proposal_id)
    if proposal is None:
        abort(404)
    return proposal


@bp.route("/<int:proposal_id>")
def detail(proposal_id: int) -> Any:
    proposal = _proposal(proposal_id)
    return render_template(
        "proposals_admin/detail.html", pdf_unavailable=printing.unavailable(), **printing.context(proposal)
    )


@bp.route("/<int:proposal_id>/print.pdf")
def print_pdf(proposal_id: int) -> Any:
    proposal = _proposal(proposal_id)
    return printing.pdf_response(proposal)

