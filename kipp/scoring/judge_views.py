"""The judges' scoring pages: their dashboard, and a sheet per proposal beside the proposal itself.

A proposal that is not published to the judge (or their team) answers 404, like its files."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from kipp.accounts.roles import Role
from kipp.db import utcnow
from kipp.editions.kinds import StageKind
from kipp.errors import DomainError, NotAllowed
from kipp.extensions import db
from kipp.i18n import wib_time
from kipp.judging.models import PoolMember
from kipp.presentations.services import slot_of
from kipp.proposals import printing, uploads
from kipp.proposals.models import Proposal
from kipp.scoring import my_sheets, services
from kipp.scoring.views import scored_stage
from kipp.scoring.models import Reconciliation, ScoreSheet, ScoringScheme, SheetStatus
from kipp.web import audience, get_or_404, run_service

bp = Blueprint("scoring_judge", __name__, url_prefix="/score")
# Two tabs passed the version check together; the row's own version caught the second.
SAVED_AT_THE_SAME_MOMENT = _l("This sheet was saved in another window or tab at the same moment. Reload the page "
                              "to see the latest version; copy what you typed first.")
audience(bp, Role.EVALUATOR, Role.PANELIST)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"plain": plain_number}


def plain_number(value: Any) -> str:
    """30.00 -> "30", 12.50 -> "12.5"."""
    return format(Decimal(value).normalize(), "f") if value is not None else ""


@bp.route("/")
def dashboard() -> Any:
    chairs = db.session.scalar(sa.select(PoolMember.id).where(PoolMember.user_id == current_user.id,
                                                              PoolMember.is_chair).limit(1)) is not None
    return render_template("scoring_judge/dashboard.html", stages=my_sheets.my_stages(current_user.id),
                           now=utcnow(), chairs=chairs)


def _load(stage: str, proposal_id: int) -> tuple[ScoringScheme, PoolMember, Proposal]:
    kind = scored_stage(stage)
    proposal = get_or_404(Proposal, proposal_id)
    scheme = services.scheme_for(proposal.edition, kind)
    if scheme is None:
        abort(404)
    member = services.member_for(current_user, scheme, proposal.id)
    if member is None:
        abort(404)
    return scheme, member, proposal


def _target(stage: str, proposal_id: int) -> services.SaveTarget:
    """The lean load of a save (autosave runs every few seconds per judge)."""
    found = services.sheet_target(current_user, scored_stage(stage), proposal_id)
    if found is None:
        abort(404)
    return found


def _own_sheet(scheme: ScoringScheme, member: PoolMember, proposal: Proposal) -> ScoreSheet | None:
    return db.session.scalar(sa.select(ScoreSheet).where(
        ScoreSheet.scheme_id == scheme.id, ScoreSheet.proposal_id == proposal.id, ScoreSheet.member_id == member.id))


def _colleagues(scheme: ScoringScheme, member: PoolMember, proposal: Proposal,
                sheet: ScoreSheet | None) -> list[ScoreSheet] | None:
    """The other judges' submitted sheets, only when the scheme lets this judge see them now."""
    if not services.sees_colleague_figures(current_user, scheme,
                                           own_sheet_submitted=sheet is not None
                                           and sheet.status is SheetStatus.SUBMITTED):
        return None
    holders = {m for p, m in services.published_pairs(scheme, [proposal.id])} - {member.id}
    if not holders:
        return []
    return list(db.session.scalars(sa.select(ScoreSheet).where(
        ScoreSheet.scheme_id == scheme.id, ScoreSheet.proposal_id == proposal.id,
        ScoreSheet.member_id.in_(holders), ScoreSheet.status == SheetStatus.SUBMITTED)
        .options(selectinload(ScoreSheet.member).selectinload(PoolMember.user)).order_by(ScoreSheet.id)))


def _posted() -> tuple[dict[str, str], dict[str, str], str]:
    values = {k[len("score-"):]: v for k, v in request.form.items() if k.startswith("score-")}
    comments = {k[len("comment-"):]: v for k, v in request.form.items() if k.startswith("comment-")}
    return values, comments, request.form.get("comment", "")


def _render(scheme: ScoringScheme, member: PoolMember, proposal: Proposal, *, sheet: ScoreSheet | None,
            posted: tuple[dict[str, str], dict[str, str], str] | None = None,
            problems: dict[str, str] | None = None, status: int = 200) -> Any:
    aspects = scheme.aspects_of(proposal.group.code)
    stored = sheet.scores if sheet is not None else {}
    if posted is not None:
        values, comments, general = posted
    else:
        values = {k: (v or {}).get("value") or "" for k, v in stored.items()}
        comments = {k: (v or {}).get("comment") or "" for k, v in stored.items()}
        general = (sheet.comment if sheet else None) or ""
    mine = my_sheets.stage_of(current_user.id, scheme.id)
    following = mine.next_unfinished(proposal.id) if mine else None
    reconciliations = db.session.scalars(sa.select(Reconciliation).where(
        Reconciliation.scheme_id == scheme.id, Reconciliation.proposal_id == proposal.id)
        .order_by(Reconciliation.id)).all()
    return render_template(
        "scoring_judge/sheet.html", scheme=scheme, member=member, proposal=proposal, sheet=sheet,
        aspects=aspects, values=values, comments=comments, general=general, problems=problems or {},
        locked=sheet is not None and sheet.status is not SheetStatus.DRAFT, closed=scheme.closed,
        colleagues=_colleagues(scheme, member, proposal, sheet), reconciliations=reconciliations,
        following=following, mine=mine, deadline=services.deadline_of(scheme), now=utcnow(),
        print_html=Markup(printing.render_html(proposal, standalone=False)),
        slot=_presentation_slot(scheme, proposal),
    ), status


def _presentation_slot(scheme: ScoringScheme, proposal: Proposal) -> Any:
    """The finalist's presentation slot, shown beside a presentation sheet."""
    if scheme.stage is not StageKind.PRESENTATION:
        return None
    return slot_of(proposal)


@bp.route("/<stage>/<int:proposal_id>")
def sheet(stage: str, proposal_id: int) -> Any:
    scheme, member, proposal = _load(stage, proposal_id)
    return _render(scheme, member, proposal, sheet=_own_sheet(scheme, member, proposal))


def _save(scheme: ScoringScheme, member: PoolMember, proposal: Proposal, *, submit: bool,
          sheet: Any = services.LOAD) -> ScoreSheet:
    values, comments, general = _posted()
    return services.save_sheet(current_user, scheme, member, proposal,
                               version=request.form.get("version", type=int) or 0, values=values,
                               comments=comments, comment=general, submit=submit, sheet=sheet)


@bp.route("/<stage>/<int:proposal_id>/slides")
def slides(stage: str, proposal_id: int) -> Any:
    """The finalist's presentation slides, for the judges who score its presentation."""
    scheme, _member, proposal = _load(stage, proposal_id)
    slot = _presentation_slot(scheme, proposal)
    if slot is None or slot.slides is None:
        abort(404)
    return uploads.send_attachment(slot.slides)


@bp.route("/<stage>/<int:proposal_id>", methods=["POST"])
def save(stage: str, proposal_id: int) -> Any:
    """The form's buttons: save the draft, save and go to the next unfinished one, or submit."""
    scheme, member, proposal = _load(stage, proposal_id)
    action = request.form.get("action", "save")
    submit = action == "submit"
    try:
        saved = _save(scheme, member, proposal, submit=submit)
        db.session.commit()
    except NotAllowed:
        db.session.rollback()
        abort(404)
    except services.SheetInvalid as invalid:
        db.session.rollback()
        flash(invalid.message, "danger")
        return _render(scheme, member, proposal, sheet=_own_sheet(scheme, member, proposal), posted=_posted(),
                       problems=invalid.problems, status=422)
    except (DomainError, StaleDataError, sa.exc.IntegrityError) as error:
        db.session.rollback()
        message = error.message if isinstance(error, DomainError) else str(SAVED_AT_THE_SAME_MOMENT)
        flash(message, "danger")
        return _render(scheme, member, proposal, sheet=_own_sheet(scheme, member, proposal), posted=_posted(),
                       status=409)
    if submit:
        flash(_("Your sheet was submitted (total %(total)s). It is now locked.", total=saved.weighted_total),
              "success")
        return redirect(url_for("scoring_judge.sheet", stage=stage, proposal_id=proposal.id))
    if action == "next":
        mine = my_sheets.stage_of(current_user.id, scheme.id)
        following = mine.next_unfinished(proposal.id) if mine else None
        flash(_("Your draft was saved."), "success")
        if following is not None and following.proposal.id != proposal.id:
            return redirect(url_for("scoring_judge.sheet", stage=stage, proposal_id=following.proposal.id))
        return redirect(url_for("scoring_judge.dashboard"))
    flash(_("Your draft was saved."), "success")
    return redirect(url_for("scoring_judge.sheet", stage=stage, proposal_id=proposal.id))


@bp.route("/<stage>/<int:proposal_id>/autosave", methods=["POST"])
def autosave(stage: str, proposal_id: int) -> Any:
    target = _target(stage, proposal_id)
    try:
        saved = _save(target.scheme, target.member, target.proposal, submit=False, sheet=target.sheet)
        # Read before the commit expires them: no reload of the sheet afterwards.
        version, total, saved_at = saved.version, saved.weighted_total, saved.updated_at
        db.session.commit()
    except NotAllowed:
        db.session.rollback()
        abort(404)
    except services.SheetInvalid as invalid:
        db.session.rollback()
        return jsonify(ok=False, code=invalid.code, message=invalid.message, problems=invalid.problems), 422
    except DomainError as error:
        db.session.rollback()
        return jsonify(ok=False, code=error.code, message=error.message), 409
    except (StaleDataError, sa.exc.IntegrityError):
        db.session.rollback()
        return jsonify(ok=False, code="stale", message=str(SAVED_AT_THE_SAME_MOMENT)), 409
    return jsonify(ok=True, version=version, saved_at=wib_time(saved_at),
                   total=str(total) if total is not None else None)


@bp.route("/<stage>/<int:proposal_id>/conflict", methods=["POST"])
def declare_conflict(stage: str, proposal_id: int) -> Any:
    scheme, member, proposal = _load(stage, proposal_id)
    ok, _result = run_service(
        services.declare_conflict, current_user, scheme, member, proposal, request.form.get("reason", ""),
        success=_("Your conflict of interest was recorded. Your sheet was discarded and the proposal goes to "
                  "another judge."))
    if ok:
        return redirect(url_for("scoring_judge.dashboard"))
    return redirect(url_for("scoring_judge.sheet", stage=stage, proposal_id=proposal.id))
