"""The verifiers' own visits: findings and a score.

A visit whose team the judge is not on answers 404."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from kipp.accounts.roles import Role
from kipp.progress.stages import status_of
from kipp.proposals import printing
from kipp.verification import services
from kipp.verification.forms import FindingsForm
from kipp.verification.models import FieldVisit
from kipp.web import audience, get_or_404, run_service

bp = Blueprint("field", __name__, url_prefix="/judge/field")
audience(bp, Role.EVALUATOR, Role.PANELIST)


def _load(visit_id: int) -> FieldVisit:
    visit: FieldVisit = get_or_404(FieldVisit, visit_id)
    if not services.is_on_team(current_user, visit):
        abort(404)
    return visit


@bp.route("/")
def index() -> Any:
    return render_template("field/index.html", visits=services.visits_of(current_user))


def _render(visit: FieldVisit, form: FindingsForm | None = None, status: int = 200) -> Any:
    if form is None:
        form = FindingsForm(formdata=None, findings=visit.findings,
                            score=f"{visit.score.normalize():f}" if visit.score is not None else "")
    return render_template("field/visit.html", visit=visit, team=services.team_of(visit), form=form,
                           stage_status=status_of(visit.edition, services.STAGE),
                           print_html=Markup(printing.render_html(visit.proposal, standalone=False))), status


@bp.route("/<int:visit_id>")
def visit(visit_id: int) -> Any:
    return _render(_load(visit_id))


@bp.route("/<int:visit_id>", methods=["POST"])
def record(visit_id: int) -> Any:
    item = _load(visit_id)
    form = FindingsForm()
    if form.validate_on_submit():
        ok, _result = run_service(services.record_findings, current_user, item, findings=form.findings.data,
                                  score=form.score.data, form=form,
                                  success=_("The findings and the score were recorded."))
        if ok:
            return redirect(url_for("field.visit", visit_id=item.id))
    return _render(item, form, 422)
