"""The panel's plenary: the panel's ranking of the nominees, the composition of the decision against
the targets, and the decision on the finalists. The secretariat and the panel's chair record it;
the other members of the panel (the PANEL_REVIEW pool) may read it; anyone else gets 404.

The panel is blind to each other's sheets until its scheme reveals them
(:func:`kipp.scoring.services.sees_colleague_figures`): before that a panelist, the chair included,
reads here none of the figures, the order or the list built from them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from kipp.accounts.roles import Role
from kipp.agencies.kinds import Cluster
from kipp.editions.kinds import StageKind, StageStatus
from kipp.editions.models import Edition
from kipp.innovations.kinds import TIER_LABELS
from kipp.judging.models import PoolMember
from kipp.scoring.services import scheme_for, sees_colleague_figures, stage_figures_open
from kipp.selection import services
from kipp.selection.forms import ActionForm, ChairForm, ChoiceForm, ForcedBuildForm, MinutesForm
from kipp.selection.models import ShortlistKind
from kipp.selection.views import back, chosen_group, list_entry, posted_choice, shown_filter
from kipp.web import audience, get_or_404, run_service

bp = Blueprint("plenary", __name__, url_prefix="/admin/editions")
audience(bp, Role.SECRETARIAT, Role.PANELIST)


def _readable(edition_id: int) -> Edition:
    edition = get_or_404(Edition, edition_id)
    if not services.may_read_plenary(current_user, edition):
        abort(404)
    return edition


def _recordable(edition_id: int) -> Edition:
    edition = _readable(edition_id)
    if not services.may_record_plenary(current_user, edition):
        abort(404)
    return edition


def _render(edition: Edition, *, minutes_form: MinutesForm | None = None, forced_form: ForcedBuildForm | None = None,
            status: int = 200) -> Any:
    group = chosen_group(edition)
    shortlist = services.shortlist_of(edition, ShortlistKind.FINALISTS)
    nominated = services.shortlist_of(edition, ShortlistKind.NOMINEES)
    problems = []
    if shortlist is None or not shortlist.frozen:
        problems = services.stage_problems(edition, (StageKind.PANEL_REVIEW, (StageStatus.OPEN,)))
    if (shortlist is None or not shortlist.frozen) and (nominated is None or not nominated.frozen):
        problems.append(_("The nominee list is not frozen yet; the plenary decides among the frozen nominees."))
    chair = services.panel_chair(edition)
    secretariat = current_user.role is Role.SECRETARIAT
    chair_form = None
    if secretariat:
        chair_form = ChairForm(formdata=None, member_id=chair.id if chair else 0)
        in_team = _("in a review team")
        chair_form.member_id.choices = [(0, _("– no chair –"))] + [
            (m.id, f"{m.user.name} ({in_team})" if m.team_id else m.user.name) for m in services.panel_members(edition)]
    show = shown_filter()
    scheme = scheme_for(edition, StageKind.PANEL_REVIEW, with_aspects=False)
    figures = sees_colleague_figures(current_user, scheme)
    can_record = services.may_record_plenary(current_user, edition)
    editable = shortlist is None or not shortlist.frozen
    refusal = None
    if can_record and editable and not problems:
        refusal = services.build_refusal(current_user, edition, scheme)
    context: dict[str, Any] = {}
    if figures and shortlist is not None and group is not None:
        summary = services.summaries(shortlist, edition).get(group.code)
        provinces = services.province_names(summary.provinces if summary else [])
        province_rows = sorted(((provinces.get(code, code) if code else None, counts)
                                for code, counts in (summary.provinces if summary else {}).items()),
                               key=lambda item: (item[0] is None, item[0] or ""))
        context = dict(rows=services.entry_rows(shortlist, group.code, show=show), summary=summary,
                       # A list built elsewhere (an import, a hand-made one) may carry no report.
                       report={"finalist_count": group.finalist_count, "targets": {}, "unranked": [],
                               **shortlist.report.get(group.code.value, {})}, provinces=provinces,
                       province_rows=province_rows)
    if minutes_form is None:
        minutes_form = MinutesForm(formdata=None, minutes=shortlist.minutes if shortlist else None)
    return render_template(
        "selection/plenary.html", edition=edition, group=group, shortlist=shortlist, nominated=nominated,
        scheme=scheme, problems=problems, chair=chair, chair_form=chair_form, can_record=can_record, show=show,
        filters=services.FILTERS, clusters=list(Cluster), action_form=ActionForm(), choice_form=ChoiceForm(),
        minutes_form=minutes_form, forced_form=forced_form or ForcedBuildForm(formdata=None), editable=editable,
        tier_labels=TIER_LABELS, figures=figures, refusal=refusal,
        panel_sees=scheme is not None and stage_figures_open(scheme),
        evaluation_shown=sees_colleague_figures(current_user,
                                                scheme_for(edition, StageKind.EVALUATION, with_aspects=False)),
        **context), status


@bp.route("/<int:edition_id>/plenary")
def index(edition_id: int) -> Any:
    return _render(_readable(edition_id))


@bp.route("/<int:edition_id>/plenary/chair", methods=["POST"])
def chair(edition_id: int) -> Any:
    edition = _readable(edition_id)
    if current_user.role is not Role.SECRETARIAT:
        abort(404)
    form = ChairForm()
    if not form.validate():
        abort(400)
    member = None
    if form.member_id.data:
        member = get_or_404(PoolMember, form.member_id.data, where=(PoolMember.edition_id == edition.id)
                            & (PoolMember.stage == StageKind.PANEL_REVIEW))
    run_service(services.set_panel_chair, current_user, edition, member,
                success=_("%(name)s chairs the panel's plenary.", name=member.user.name) if member
                else _("The panel has no chair now."))
    return back("plenary.index", edition)


@bp.route("/<int:edition_id>/plenary/build", methods=["POST"])
def build(edition_id: int) -> Any:
    """Build the list; with ``force``, the secretariat's build while panel sheets are missing."""
    edition = _recordable(edition_id)
    form = ForcedBuildForm()
    if not form.validate():
        if "reason" not in form.errors:
            abort(400)
        return _render(edition, forced_form=form, status=422)
    forced = "force" in request.form
    ok, _result = run_service(
        services.build_finalists, current_user, edition, forced_reason=form.reason.data if forced else None,
        form=form if forced else None,
        success=_("The proposed decision was built from the panel's ranking: the top of each group. Record "
                  "every departure from the ranking with its reason, and the minutes."))
    if not ok and forced:
        return _render(edition, forced_form=form, status=422)
    return back("plenary.index", edition)


@bp.route("/<int:edition_id>/plenary/proposals/<int:proposal_id>", methods=["POST"])
def entry(edition_id: int, proposal_id: int) -> Any:
    edition = _recordable(edition_id)
    chosen, reason = posted_choice()
    item = list_entry(ShortlistKind.FINALISTS, edition, proposal_id)
    if item is None:
        return back("plenary.index", edition)
    run_service(services.adjust_finalist, current_user, item, chosen=chosen, reason=reason,
                success=_("%(number)s is now among the finalists.", number=item.proposal.number) if chosen
                else _("%(number)s is now off the finalists.", number=item.proposal.number))
    return back("plenary.index", edition, item)


@bp.route("/<int:edition_id>/plenary/minutes", methods=["POST"])
def minutes(edition_id: int) -> Any:
    edition = _recordable(edition_id)
    shortlist = services.shortlist_of(edition, ShortlistKind.FINALISTS)
    if shortlist is None:
        flash(_("There is no list yet: build the proposed list first."), "danger")
        return back("plenary.index", edition)
    form = MinutesForm()
    if not form.validate():
        return _render(edition, minutes_form=form, status=422)
    ok, _result = run_service(services.save_minutes, current_user, shortlist, form.minutes.data, form=form,
                              success=_("The minutes were saved."))
    if not ok:
        return _render(edition, minutes_form=form, status=422)
    return back("plenary.index", edition)


@bp.route("/<int:edition_id>/plenary/freeze", methods=["POST"])
def freeze(edition_id: int) -> Any:
    edition = _recordable(edition_id)
    form = MinutesForm()
    if not form.validate():
        return _render(edition, minutes_form=form, status=422)
    ok, _result = run_service(services.freeze_finalists, current_user, edition, minutes=form.minutes.data, form=form,
                              success=_("The plenary's decision is frozen: the finalists are chosen. Opening the "
                                        "objection stage publishes their list."))
    if not ok:
        return _render(edition, minutes_form=form, status=422)
    flash(_("Next: the secretariat closes the panel review and opens the objection window on the progress page."),
          "info")
    return back("plenary.index", edition)
