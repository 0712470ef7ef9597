"""The secretariat's scoring pages per edition and stage: progress and reminders, the scheme's
settings and rubric, consolidation (list and matrix, reconcile, reopen, add a judge) and the ranking.
Views commit (through run_service); the queries are in kipp.scoring.reports."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kipp.accounts.roles import Role
from kipp.db import utcnow
from kipp.editions.kinds import StageKind
from kipp.editions.models import Edition
from kipp.i18n import from_wib, to_wib
from kipp.judging.models import InvitationStatus, PoolMember
from kipp.scoring import aggregation, reports, services
from kipp.scoring.admin_forms import (
    ActionForm,
    AddJudgeForm,
    NoteForm,
    ReasonForm,
    RemindForm,
    SettingsForm,
)
from kipp.scoring.models import ScoreSheet, ScoringAspect, ScoringScheme, SheetStatus, Visibility
from kipp.web import audience, get_or_404, run_service

bp = Blueprint("scoring", __name__, url_prefix="/admin/scoring")
audience(bp, Role.SECRETARIAT)


@bp.app_template_global()
def scoring_stage_name(stage: Any) -> str:
    """What a scored stage is called (a global, so that imported macros see it too)."""
    return str(services.STAGE_NAMES[StageKind(stage)])


def scored_stage(value: str) -> StageKind:
    try:
        stage = StageKind(value)
    except ValueError:
        abort(404)
    if stage not in services.SCORED_STAGES:
        abort(404)
    return stage


def _edition_stage(edition_id: int, stage: str) -> tuple[Edition, StageKind]:
    kind = scored_stage(stage)
    return get_or_404(Edition, edition_id), kind


def _scheme(edition_id: int, stage: str) -> ScoringScheme:
    edition, kind = _edition_stage(edition_id, stage)
    scheme = services.scheme_for(edition, kind)
    if scheme is None:
        abort(404)
    return scheme


def _here(scheme: ScoringScheme, endpoint: str = "scoring.stage", **values: Any) -> Any:
    return redirect(url_for(endpoint, edition_id=scheme.edition_id, stage=scheme.stage.value, **values))


def _csrf_ok() -> None:
    if not ActionForm().validate():
        abort(400)


# --- the list of stages and the progress page ------------------------------------------------------


@bp.route("/")
def index() -> Any:
    return render_template("scoring/index.html", entries=reports.stage_entries())


@bp.route("/<int:edition_id>/<stage>")
def stage(edition_id: int, stage: str) -> Any:
    edition, kind = _edition_stage(edition_id, stage)
    scheme = services.scheme_for(edition, kind)
    if scheme is None:
        return render_template("scoring/no_scheme.html", edition=edition, stage=kind, form=ActionForm(),
                               weighted=[g for g in edition.groups if any(s.weight > 0 for s in g.sections)])
    now = utcnow()
    run = reports.latest_run(scheme)
    return render_template("scoring/progress.html", edition=edition, stage=kind, scheme=scheme, tab="progress",
                           progress=reports.progress(scheme, now), now=now, run=run,
                           run_active=reports.run_active(run), form=ActionForm())


@bp.route("/<int:edition_id>/<stage>/create", methods=["POST"])
def create(edition_id: int, stage: str) -> Any:
    edition, kind = _edition_stage(edition_id, stage)
    _csrf_ok()
    success = (_("The scoring scheme was created from the default presentation rubric. Check its aspects, weights "
                  "and rubric before the panel starts.") if kind is StageKind.PRESENTATION else
               _("The scoring scheme was created from the edition's weighted sections. Check its settings "
                 "and rubric before the judges start."))
    run_service(services.create_scheme, current_user, edition, kind, success=success)
    return redirect(url_for("scoring.stage", edition_id=edition.id, stage=kind.value))


@bp.route("/<int:edition_id>/<stage>/remind", methods=["POST"])
def remind(edition_id: int, stage: str) -> Any:
    scheme = _scheme(edition_id, stage)
    form = RemindForm()
    if not form.validate():
        abort(400)
    member_ids = None
    if form.member_id.data:
        member = get_or_404(PoolMember, form.member_id.data, where=(PoolMember.edition_id == scheme.edition_id)
                            & (PoolMember.stage == scheme.stage))
        member_ids = [member.id]
    ok, count = run_service(services.remind, current_user, scheme, member_ids)
    if ok:
        if count:
            flash(_("%(n)s judges were reminded of their unfinished sheets.", n=count), "success")
        else:
            flash(_("Nobody was reminded: no unfinished sheets."), "info")
    return _here(scheme)


@bp.route("/<int:edition_id>/<stage>/reveal", methods=["POST"])
def reveal(edition_id: int, stage: str) -> Any:
    scheme = _scheme(edition_id, stage)
    _csrf_ok()
    run_service(services.reveal, current_user, scheme,
                success=_("Consolidation is open: the judges and the team chairs now see each other's scores."))
    return _here(scheme)


@bp.route("/<int:edition_id>/<stage>/recompute", methods=["POST"])
def recompute(edition_id: int, stage: str) -> Any:
    scheme = _scheme(edition_id, stage)
    _csrf_ok()
    if not services.sheets_started(scheme):
        flash(_("No judge has scored yet: there is nothing to compute."), "warning")
    else:
        run_service(aggregation.request_recompute, current_user, scheme,
                    success=_("The ranking is being recomputed; this page shows its progress."))
    target = request.form.get("next")
    if target == "ranking":
        return _here(scheme, "scoring.ranking")
    return _here(scheme)


@bp.route("/<int:edition_id>/<stage>/status.json")
def status(edition_id: int, stage: str) -> Any:
    scheme = _scheme(edition_id, stage)
    run = reports.latest_run(scheme)
    if run is None:
        return jsonify(status=None, stale=scheme.ranking_stale)
    return jsonify(status=run.status.value, progress=run.progress, stale=scheme.ranking_stale)


# --- settings and rubric ------------------------------------------------------------------------------


def _settings_form(scheme: ScoringScheme) -> SettingsForm:
    if request.method == "POST":
        return SettingsForm()
    return SettingsForm(formdata=None, passing_grade=scheme.passing_grade,
                        disagreement_threshold=scheme.disagreement_threshold, normalise=scheme.normalise,
                        normalise_min_sheets=scheme.normalise_min_sheets, tie_break=scheme.tie_break,
                        visibility=scheme.visibility.value,
                        deadline=to_wib(scheme.deadline).replace(tzinfo=None) if scheme.deadline else None,
                        reminder_days=scheme.reminder_days, closed=scheme.closed)


def _render_settings(scheme: ScoringScheme, form: SettingsForm, status: int = 200) -> Any:
    edition = scheme.edition
    groups = [(g, scheme.aspects_of(g.code)) for g in edition.groups if scheme.aspects_of(g.code)]
    stage_row = edition.stage(scheme.stage)
    return render_template("scoring/settings.html", edition=edition, stage=scheme.stage, scheme=scheme,
                           tab="settings", form=form, groups=groups, action_form=ActionForm(),
                           started=services.sheets_started(scheme), stage_closes=stage_row.closes_at if stage_row
                           else None, keys=sorted({a.key for a in scheme.aspects})), status


@bp.route("/<int:edition_id>/<stage>/settings", methods=["GET", "POST"])
def settings(edition_id: int, stage: str) -> Any:
    scheme = _scheme(edition_id, stage)
    form = _settings_form(scheme)
    if request.method == "POST":
        if not form.validate():
            return _render_settings(scheme, form, 422)
        ok, _result = run_service(
            services.update_settings, current_user, scheme, form=form,
            success=_("The scoring settings were saved."),
            passing_grade=form.passing_grade.data, disagreement_threshold=form.disagreement_threshold.data,
            normalise=form.normalise.data, normalise_min_sheets=form.normalise_min_sheets.data,
            tie_break=(form.tie_break.data or "").strip(), visibility=Visibility(form.visibility.data),
            deadline=from_wib(form.deadline.data) if form.deadline.data else None,
            reminder_days=form.reminder_days.data, closed=form.closed.data)
        if ok:
            return _here(scheme, "scoring.settings")
        # The failed change was rolled back: show the form as typed over the stored scheme.
        return _render_settings(_scheme(edition_id, stage), form, 422)
    return _render_settings(scheme, form)


@bp.route("/<int:edition_id>/<stage>/aspects/<int:aspect_id>", methods=["POST"])
def aspect(edition_id: int, stage: str, aspect_id: int) -> Any:
    scheme = _scheme(edition_id, stage)
    _csrf_ok()
    item = get_or_404(ScoringAspect, aspect_id, where=ScoringAspect.scheme_id == scheme.id)
    try:
        weight = Decimal((request.form.get("weight") or "").strip().replace(",", "."))
    except InvalidOperation:
        flash(_("A weight is a percentage above 0 and at most 100."), "danger")
        return _here(scheme, "scoring.settings", _anchor=f"aspect-{item.id}")
    bands = {}
    for band in item.bands:
        text_id = (request.form.get(f"band-{band.id}-id") or "").strip()
        text_en = (request.form.get(f"band-{band.id}-en") or "").strip()
        if not text_id or not text_en:
            flash(_("Every band needs its description in both languages."), "danger")
            return _here(scheme, "scoring.settings", _anchor=f"aspect-{item.id}")
        bands[band.id] = (text_id, text_en)
    run_service(services.update_aspect, current_user, item, weight=weight, bands=bands,
                success=_("The aspect %(name)s was saved.", name=item.key))
    return _here(scheme, "scoring.settings", _anchor=f"aspect-{item.id}")


# --- consolidation ------------------------------------------------------------------------------------


def render_consolidation(scheme: ScoringScheme, *, chair: PoolMember | None = None) -> Any:
    flagged_only = request.args.get("flagged") == "1"
    q = request.args.get("q", "").strip()
    only = reports.team_proposal_ids(scheme, chair.team_id) if chair is not None else None
    rows = reports.consolidation(scheme, flagged_only=flagged_only, q=q, only_proposals=only)
    page = ListPage(len(rows), request.args.get("page", 1, type=int))
    return render_template("scoring/consolidation.html", edition=scheme.edition, stage=scheme.stage, scheme=scheme,
                           tab="consolidation", rows=rows[page.start:page.end], total=len(rows), page=page,
                           flagged_only=flagged_only, q=q, chair=chair,
                           ep="scoring_chair" if chair is not None else "scoring")


class ListPage:
    """One page of an in-memory list, shaped like Flask-SQLAlchemy's pagination for the pager macro
    (a stage's 3,000 proposals render in 0.8 s at once; a page of 100 in a tenth of that)."""

    per_page = 100

    def __init__(self, total: int, page: int) -> None:
        self.pages = max(1, -(-total // self.per_page))
        self.page = min(max(1, page), self.pages)
        self.start, self.end = (self.page - 1) * self.per_page, self.page * self.per_page
        self.has_prev, self.has_next = self.page > 1, self.page < self.pages
        self.prev_num, self.next_num = self.page - 1, self.page + 1


@bp.route("/<int:edition_id>/<stage>/consolidation")
def consolidation(edition_id: int, stage: str) -> Any:
    return render_consolidation(_scheme(edition_id, stage))


def stage_proposal_or_404(scheme: ScoringScheme, proposal_id: int) -> Any:
    proposal = reports.stage_proposal(scheme, proposal_id)
    if proposal is None:
        abort(404)
    return proposal


def render_matrix(scheme: ScoringScheme, proposal: Any, *, chair: PoolMember | None = None) -> Any:
    admin = chair is None
    add_form = None
    if admin:
        add_form = AddJudgeForm()
        add_form.member_id.choices = [(m.id, m.user.name) for m in reports.addable_members(scheme, proposal)]
    return render_template("scoring/matrix.html", edition=scheme.edition, stage=scheme.stage, scheme=scheme,
                           tab="consolidation", proposal=proposal, m=reports.matrix(scheme, proposal), chair=chair,
                           ep="scoring" if admin else "scoring_chair", add_form=add_form, note_form=NoteForm(),
                           reason_form=ReasonForm(), SheetStatus=SheetStatus)


@bp.route("/<int:edition_id>/<stage>/consolidation/<int:proposal_id>")
def proposal(edition_id: int, stage: str, proposal_id: int) -> Any:
    scheme = _scheme(edition_id, stage)
    return render_matrix(scheme, stage_proposal_or_404(scheme, proposal_id))


def reconcile_view(scheme: ScoringScheme, proposal: Any, endpoint: str) -> Any:
    form = NoteForm()
    if not form.validate():
        abort(400)
    ok, count = run_service(services.request_reconciliation, current_user, scheme, proposal, form.note.data or "")
    if ok:
        flash(_("The judges were asked to reconcile; %(n)s submitted sheets were reopened.", n=count), "success")
    return redirect(url_for(endpoint, edition_id=scheme.edition_id, stage=scheme.stage.value,
                            proposal_id=proposal.id))


@bp.route("/<int:edition_id>/<stage>/consolidation/<int:proposal_id>/reconcile", methods=["POST"])
def reconcile(edition_id: int, stage: str, proposal_id: int) -> Any:
    scheme = _scheme(edition_id, stage)
    return reconcile_view(scheme, stage_proposal_or_404(scheme, proposal_id), "scoring.proposal")


@bp.route("/<int:edition_id>/<stage>/consolidation/<int:proposal_id>/add-judge", methods=["POST"])
def add_judge(edition_id: int, stage: str, proposal_id: int) -> Any:
    scheme = _scheme(edition_id, stage)
    item = stage_proposal_or_404(scheme, proposal_id)
    form = AddJudgeForm()
    if not form.validate():
        abort(400)
    if not form.member_id.data:
        flash(_("Choose a judge."), "danger")
        return _here(scheme, "scoring.proposal", proposal_id=item.id)
    member = get_or_404(PoolMember, form.member_id.data,
                        where=(PoolMember.edition_id == scheme.edition_id) & (PoolMember.stage == scheme.stage)
                        & (PoolMember.status == InvitationStatus.ACCEPTED))
    ok, warnings = run_service(services.add_judge, current_user, scheme, item, member)
    if ok:
        flash(_("%(name)s was added as a judge of this proposal and has been told.", name=member.user.name),
              "success")
        for warning in warnings:
            flash(_("Warning (soft conflict): %(reason)s", reason=warning), "warning")
    return _here(scheme, "scoring.proposal", proposal_id=item.id)


@bp.route("/<int:edition_id>/<stage>/sheets/<int:sheet_id>/reopen", methods=["POST"])
def reopen(edition_id: int, stage: str, sheet_id: int) -> Any:
    scheme = _scheme(edition_id, stage)
    sheet = get_or_404(ScoreSheet, sheet_id, where=ScoreSheet.scheme_id == scheme.id)
    form = ReasonForm()
    if not form.validate():
        abort(400)
    run_service(services.reopen, current_user, sheet, form.reason.data or "",
                success=_("The sheet was given back to %(name)s as a draft; they have been told.",
                          name=sheet.member.user.name))
    return _here(scheme, "scoring.proposal", proposal_id=sheet.proposal_id)


# --- ranking ----------------------------------------------------------------------------------------------


@bp.route("/<int:edition_id>/<stage>/ranking")
def ranking(edition_id: int, stage: str) -> Any:
    scheme = _scheme(edition_id, stage)
    edition = scheme.edition
    groups = [g for g in edition.groups if scheme.aspects_of(g.code)]
    wanted = request.args.get("group", "")
    group = next((g for g in groups if g.code.value == wanted), None) if wanted else (groups[0] if groups else None)
    if wanted and group is None:
        abort(404)
    run = reports.latest_run(scheme)
    return render_template("scoring/ranking.html", edition=edition, stage=scheme.stage, scheme=scheme, tab="ranking",
                           groups=groups, group=group, rows=reports.ranking(scheme, group) if group else [],
                           run=run, run_active=reports.run_active(run), form=ActionForm())
