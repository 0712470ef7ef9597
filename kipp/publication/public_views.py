"""The public results page of an edition, and the verification of its certificates (no login)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template

from kipp.editions.models import Edition
from kipp.editions.queries import edition_of_year
from kipp.publication import certificates, services

bp = Blueprint("results", __name__, url_prefix="/public")


@bp.app_template_global()
def results_published(edition: Edition | None) -> bool:
    """Whether an edition's result is public (templates link the results page with it)."""
    return services.results_published(edition)


def _edition(year: int) -> Edition:
    edition = edition_of_year(year)
    if edition is None:
        abort(404)
    return edition


@bp.route("/<int:year>/results")
def index(year: int) -> Any:
    edition = _edition(year)
    results = services.public_results(edition)
    if results is None:
        abort(404)  # nothing is public before the result is published
    return render_template("results/index.html", edition=edition, results=results)


@bp.route("/<int:year>/certificates/<code>")
def verify(year: int, code: str) -> Any:
    edition = _edition(year)
    if not services.is_published(edition):
        abort(404)
    found = certificates.find_by_code(edition, code)
    if found is None:
        return render_template("results/verify.html", edition=edition, found=None,
                               code=certificates.normalise_code(code)[:20]), 404
    renderer = certificates.Renderer(edition, [found.proposal_id])
    return render_template("results/verify.html", edition=edition, found=found,
                           code=certificates.verification_code(found.proposal_id, found.tier),
                           holder=renderer.holders[found.proposal_id],
                           tier_title=services.tier_title(edition.group(found.group_code), found.tier),
                           decree_number=renderer.decrees_of(found).number)
