"""Charts and exports of a scored stage, for the secretariat: how each judge scores, the mean
totals by cluster and category, the completion over time; every sheet and the ranking as Excel."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template

from kipp.accounts.roles import Role
from kipp.editions.kinds import StageKind
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.scoring import export
from kipp.scoring.charts import stage_charts
from kipp.scoring.models import ScoringScheme
from kipp.scoring.services import SCORED_STAGES, STAGE_NAMES, scheme_for
from kipp.web import audience

bp = Blueprint("scoring_reports", __name__, url_prefix="/admin/scoring")
audience(bp, Role.SECRETARIAT)


def _scheme(edition_id: int, stage: str) -> ScoringScheme:
    if stage not in {s.value for s in SCORED_STAGES}:
        abort(404)
    edition = db.session.get(Edition, edition_id)
    if edition is None:
        abort(404)
    scheme = scheme_for(edition, StageKind(stage))
    if scheme is None:
        abort(404)
    return scheme


@bp.route("/<int:edition_id>/<stage>/charts")
def charts(edition_id: int, stage: str) -> Any:
    scheme = _scheme(edition_id, stage)
    return render_template("scoring/charts.html", scheme=scheme, edition=scheme.edition,
                           stage_name=STAGE_NAMES[scheme.stage], data=stage_charts(scheme))


def _xlsx(content: bytes, name: str) -> Response:
    return Response(content, mimetype=export.XLSX_MIMETYPE,
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.route("/<int:edition_id>/<stage>/sheets.xlsx")
def sheets_xlsx(edition_id: int, stage: str) -> Any:
    scheme = _scheme(edition_id, stage)
    return _xlsx(export.sheets_workbook(scheme), export.filename(scheme, "sheets"))


@bp.route("/<int:edition_id>/<stage>/ranking.xlsx")
def ranking_xlsx(edition_id: int, stage: str) -> Any:
    scheme = _scheme(edition_id, stage)
    return _xlsx(export.ranking_workbook(scheme), export.filename(scheme, "ranking"))

