"""The secretariat's field verification: teams and visits."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from kipp.accounts.roles import Role
from kipp.editions.models import Edition
from kipp.progress.stages import STATUS_LABELS, status_of
from kipp.proposals.models import Proposal
from kipp.verification import services
from kipp.verification.forms import ActionForm, FindingsForm, VisitChangeForm, VisitForm
from kipp.verification.models import FieldVisit
from kipp.web import audience, get_or_404, run_service

bp = Blueprint("verification", __name__, url_prefix="/admin/editions")
audience(bp, Role.SECRETARIAT)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"stage_label": lambda status: str(STATUS_LABELS[status])}


def member_label(member: Any) -> str:
    role = _("panelist") if member.user.role is Role.PANELIST else _("evaluator")
    affiliation = f", {member.user.affiliation}" if member.user.affiliation else ""
    return f"{member.user.name} ({role}{affiliation})"


def _visit(edition: Edition, visit_id: int) -> FieldVisit:
    visit: FieldVisit = get_or_404(FieldVisit, visit_id, where=FieldVisit.edition_id == edition.id)
    return visit


def _team_choices(form: Any, edition: Edition) -> None:
    form.member_ids.choices = [SelectChoice(m.id, member_label(m)) for m in services.pool(edition)]


def _render_index(edition: Edition, form: VisitForm | None = None, status: int = 200) -> Any:
    visits = services.visits(edition)
    planned = {v.proposal_id for v in visits}
    if form is None:
        form = VisitForm(formdata=None)
    form.proposal_id.choices = [SelectChoice(p.id, f"{p.number} · {p.title} ({p.agency.name})")
                                for p in services.candidates(edition) if p.id not in planned]
    _team_choices(form, edition)
    return render_template(
        "verification/index.html", edition=edition, visits=visits, teams=services.teams(edition), form=form,
        confirmed=services.finalists_confirmed(edition), stage_status=status_of(edition, services.STAGE),
        incomplete=services.incomplete_teams(edition), unrecorded=services.unrecorded_count(edition),
        member_label=member_label), status


@bp.route("/<int:edition_id>/field")
def index(edition_id: int) -> Any:
    return _render_index(get_or_404(Edition, edition_id))


@bp.route("/<int:edition_id>/field/plan", methods=["POST"])
def plan(edition_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    form = VisitForm()
    _team_choices(form, edition)
    if form.validate_on_submit():
        proposal = get_or_404(Proposal, form.proposal_id.data, where=Proposal.edition_id == edition.id)
        ok, planned = run_service(services.plan_visit, current_user, edition, proposal=proposal,
                                visit_date=form.visit_date.data, location=form.location.data,
                                member_ids=form.member_ids.data or [], form=form,
                                success=_("The visit was planned; its team was told."))
        if ok:
            return redirect(url_for("verification.visit", edition_id=edition.id, visit_id=planned.id))
    return _render_index(edition, form, 422)


def _render_visit(edition: Edition, visit: FieldVisit, *, form: VisitChangeForm | None = None,
                  findings_form: FindingsForm | None = None, status: int = 200) -> Any:
    team = services.team_of(visit)
    if form is None:
        form = VisitChangeForm(formdata=None, visit_date=visit.visit_date, location=visit.location,
                               member_ids=[m.id for m in team])
    _team_choices(form, edition)
    if findings_form is None:
        findings_form = FindingsForm(formdata=None, findings=visit.findings,
                                     score=f"{visit.score.normalize():f}" if visit.score is not None else "")
    return render_template("verification/visit.html", edition=edition, visit=visit, team=team, form=form,
                           findings_form=findings_form, stage_status=status_of(edition, services.STAGE),
                           member_label=member_label, action_form=ActionForm()), status


@bp.route("/<int:edition_id>/field/<int:visit_id>", methods=["GET", "POST"])
def visit(edition_id: int, visit_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    item = _visit(edition, visit_id)
    if request.method == "GET":
        return _render_visit(edition, item)
    form = VisitChangeForm()
    _team_choices(form, edition)
    if form.validate_on_submit():
        ok, _result = run_service(services.update_visit, current_user, item, visit_date=form.visit_date.data,
                                  location=form.location.data, member_ids=form.member_ids.data or [], form=form,
                                  success=_("The visit was saved."))
        if ok:
            return redirect(url_for("verification.visit", edition_id=edition.id, visit_id=item.id))
    return _render_visit(edition, item, form=form, status=422)


@bp.route("/<int:edition_id>/field/<int:visit_id>/record", methods=["POST"])
def record(edition_id: int, visit_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    item = _visit(edition, visit_id)
    form = FindingsForm()
    if form.validate_on_submit():
        ok, _result = run_service(services.record_findings, current_user, item, findings=form.findings.data,
                                  score=form.score.data, form=form,
                                  success=_("The findings and the score were recorded."))
        if ok:
            return redirect(url_for("verification.visit", edition_id=edition.id, visit_id=item.id))
    return _render_visit(edition, item, findings_form=form, status=422)


@bp.route("/<int:edition_id>/field/<int:visit_id>/cancel", methods=["POST"])
def cancel(edition_id: int, visit_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    item = _visit(edition, visit_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    ok, _result = run_service(services.cancel_visit, current_user, item, success=_("The visit was cancelled."))
    if ok:
        return redirect(url_for("verification.index", edition_id=edition.id))
    return redirect(url_for("verification.visit", edition_id=edition.id, visit_id=item.id))
