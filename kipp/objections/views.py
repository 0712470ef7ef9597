"""The secretariat's objection rulings and the confirmation of the finalists."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kipp.accounts.roles import Role
from kipp.db import utcnow
from kipp.editions.kinds import StageKind, StageStatus
from kipp.editions.models import Edition
from kipp.objections import services
from kipp.objections.forms import ConfirmForm, RulingForm
from kipp.objections.models import Objection, ObjectionStatus
from kipp.progress.stages import status_of
from kipp.proposals import uploads
from kipp.web import audience, get_or_404, paginate, run_service

bp = Blueprint("objections", __name__, url_prefix="/admin/editions")
audience(bp, Role.SECRETARIAT)

PER_PAGE = 50


def _objection(edition: Edition, objection_id: int) -> Objection:
    return get_or_404(Objection, objection_id, where=Objection.edition_id == edition.id)


def _render_index(edition: Edition, confirm_form: ConfirmForm | None = None) -> str:
    now = utcnow()
    wanted = request.args.get("status", "")
    status = ObjectionStatus(wanted) if wanted in {s.value for s in ObjectionStatus} else None
    proposal_id = request.args.get("proposal", type=int)
    tallies = services.finalist_tallies(edition)
    return render_template(
        "objections/index.html", edition=edition, now=now, status=status, proposal_id=proposal_id,
        filtered_proposal=next((t.proposal for t in tallies if t.proposal.id == proposal_id), None),
        page=paginate(services.objections_query(edition, status=status, proposal_id=proposal_id), per_page=PER_PAGE),
        counts=services.counts(edition), tallies=tallies, labels=services.STATUS_LABELS, Status=ObjectionStatus,
        stage=edition.stage(StageKind.OBJECTION),
        window_message=services.window_message(edition, now), shortlist=services.finalists_list(edition),
        confirmation=services.confirmation_state(edition, now), confirm_form=confirm_form or ConfirmForm(),
        upheld=services.upheld_proposal_ids(edition))


@bp.route("/<int:edition_id>/objections")
def index(edition_id: int) -> Any:
    return _render_index(get_or_404(Edition, edition_id))


def _render_detail(edition: Edition, objection: Objection, form: RulingForm | None = None) -> str:
    return render_template(
        "objections/detail.html", edition=edition, objection=objection, form=form or RulingForm(),
        labels=services.STATUS_LABELS, Status=ObjectionStatus,
        stage_open=status_of(edition, StageKind.OBJECTION) is StageStatus.OPEN)


@bp.route("/<int:edition_id>/objections/<int:objection_id>")
def detail(edition_id: int, objection_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    return _render_detail(edition, _objection(edition, objection_id))


@bp.route("/<int:edition_id>/objections/<int:objection_id>/evidence")
def evidence(edition_id: int, objection_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    objection = _objection(edition, objection_id)
    if objection.evidence is None:
        abort(404)
    return uploads.send_attachment(objection.evidence)


@bp.route("/<int:edition_id>/objections/<int:objection_id>/ruling", methods=["POST"])
def rule(edition_id: int, objection_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    objection = _objection(edition, objection_id)
    form = RulingForm()
    if form.validate_on_submit():
        decision = ObjectionStatus(form.decision.data)
        success = (_("Objection %(reference)s is upheld; the finalist is disqualified and its agency told.",
                     reference=objection.reference) if decision is ObjectionStatus.UPHELD else
                   _("Objection %(reference)s is rejected.", reference=objection.reference))
        ok, _result = run_service(services.rule, current_user, objection, decision=decision, ruling=form.ruling.data,
                                  form=form, success=success)
        if ok:
            return redirect(url_for("objections.detail", edition_id=edition.id, objection_id=objection.id))
    return _render_detail(edition, objection, form)


@bp.route("/<int:edition_id>/objections/confirm", methods=["POST"])
def confirm(edition_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        ok, _result = run_service(
            services.confirm_finalists, current_user, edition, decree_number=form.decree_number.data,
            decree_date=form.decree_date.data, form=form,
            success=_("The finalists are confirmed by decree %(decree)s; their agencies have been told.",
                      decree=form.decree_number.data.strip()))
        if ok:
            return redirect(url_for("objections.index", edition_id=edition.id))
    return _render_index(edition, form)
