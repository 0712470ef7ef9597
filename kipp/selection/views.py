"""The secretariat's selection pages: the nominee list (from the evaluation ranking) and the final
result (the winners). The panel plenary's page is in plenary_views. Views commit (run_service);
the services check the stages and the rules."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kipp.accounts.roles import Role
from kipp.agencies.kinds import Cluster
from kipp.editions.kinds import PlacesMode, StageKind, StageStatus
from kipp.editions.models import Edition, EditionGroup
from kipp.extensions import db
from kipp.scoring.services import scheme_for
from kipp.scoring.views import ListPage
from kipp.selection import final as final_score
from kipp.selection import services
from kipp.selection.forms import ActionForm, ChoiceForm, FreezeFinalForm, MinutesForm, NomineeSettingsForm, place_field
from kipp.selection.models import ShortlistEntry, ShortlistKind
from kipp.web import audience, get_or_404, run_service

bp = Blueprint("selection", __name__, url_prefix="/admin/editions")
audience(bp, Role.SECRETARIAT)

NOMINEE_STAGES = ((StageKind.EVALUATION, (StageStatus.CLOSED,)), (StageKind.PANEL_REVIEW, (StageStatus.PLANNED,)))
FINAL_STAGES = ((StageKind.FINAL, (StageStatus.OPEN,)),)


def chosen_group(edition: Edition) -> EditionGroup | None:
    """The group asked for by ?group=, by default the first; an unknown one is a 404."""
    wanted = request.args.get("group", "")
    if not wanted:
        return edition.groups[0] if edition.groups else None
    group = next((g for g in edition.groups if g.code.value == wanted), None)
    if group is None:
        abort(404)
    return group


def shown_filter() -> str:
    show = request.args.get("show", "all")
    return show if show in services.FILTERS else "all"


def posted_choice() -> tuple[bool, str]:
    form = ChoiceForm()
    if not form.validate() or form.chosen.data not in ("0", "1"):
        abort(400)
    return form.chosen.data == "1", form.reason.data or ""


def _csrf_ok() -> None:
    if not ActionForm().validate():
        abort(400)


def list_entry(kind: ShortlistKind, edition: Edition, proposal_id: int) -> ShortlistEntry | None:
    """The proposal's entry in the edition's list of ``kind``; None (and a message) when there is no list
    yet; a proposal not on the list is a 404."""
    shortlist = services.shortlist_of(edition, kind)
    if shortlist is None:
        flash(_("There is no list yet: build the proposed list first."), "danger")
        return None
    entry = db.session.scalar(sa.select(ShortlistEntry).where(ShortlistEntry.shortlist_id == shortlist.id,
                                                             ShortlistEntry.proposal_id == proposal_id))
    if entry is None:
        abort(404)
    return entry


def back(endpoint: str, edition: Edition, entry: ShortlistEntry | None = None) -> Any:
    """Back to the page (and the group, filter and page) the form was posted from."""
    values = {k: request.args[k] for k in ("group", "show", "page") if request.args.get(k)}
    if entry is not None:
        values.setdefault("group", entry.group_code.value)
        values["_anchor"] = f"entry-{entry.id}"
    return redirect(url_for(endpoint, edition_id=edition.id, **values))


# --- nominees ----------------------------------------------------------------------------------------


def _settings_form(group: EditionGroup, posted: bool = False) -> NomineeSettingsForm:
    prefix = f"g{group.id}"
    if posted:
        return NomineeSettingsForm(prefix=prefix)
    places = group.cluster_places or {}
    return NomineeSettingsForm(formdata=None, prefix=prefix, nominee_count=group.nominee_count,
                               places_mode=group.places_mode.value, min_3t=group.min_3t,
                               **{place_field(c): int(places.get(c.value) or 0) for c in Cluster})


def _render_nominees(edition: Edition, *, forms: dict[int, NomineeSettingsForm] | None = None,
                     status: int = 200) -> Any:
    group = chosen_group(edition)
    scheme = scheme_for(edition, StageKind.EVALUATION)
    shortlist = services.shortlist_of(edition, ShortlistKind.NOMINEES)
    problems = services.stage_problems(edition, *NOMINEE_STAGES) if not (shortlist and shortlist.frozen) else []
    forms = {g.id: (forms or {}).get(g.id) or _settings_form(g) for g in edition.groups}
    show = shown_filter()
    context: dict[str, Any] = {}
    if shortlist is not None and group is not None:
        total = services.count_entries(shortlist, group.code, show=show)
        page = ListPage(total, request.args.get("page", 1, type=int))
        rows = services.entry_rows(shortlist, group.code, show=show, offset=page.start, limit=ListPage.per_page)
        summary = services.summaries(shortlist, edition)
        report = shortlist.report.get(group.code.value, {})
        context = dict(rows=rows, page=page, total=total, summary=summary.get(group.code), report=report,
                       displaced_by={d["displaced"]: d for d in report.get("displacements", [])},
                       built_rules=shortlist.rules.get("groups", {}).get(group.code.value, {}),
                       changed=services.settings_changed(shortlist, edition) if not shortlist.frozen else [])
    return render_template(
        "selection/nominees.html", edition=edition, group=group, scheme=scheme, shortlist=shortlist,
        problems=problems, forms=forms, show=show, filters=services.FILTERS, clusters=list(Cluster),
        action_form=ActionForm(), PlacesMode=PlacesMode, place_field=place_field,
        editable=shortlist is None or not shortlist.frozen, **context), status


@bp.route("/<int:edition_id>/nominees")
def nominees(edition_id: int) -> Any:
    return _render_nominees(get_or_404(Edition, edition_id))


@bp.route("/<int:edition_id>/nominees/settings/<int:group_id>", methods=["POST"])
def nominee_settings(edition_id: int, group_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    group = get_or_404(EditionGroup, group_id, where=EditionGroup.edition_id == edition.id)
    form = _settings_form(group, posted=True)
    if not form.validate():
        return _render_nominees(edition, forms={group.id: form}, status=422)
    places = {c.value: getattr(form, place_field(c)).data or 0 for c in Cluster}
    ok, changed = run_service(
        services.update_nominee_settings, current_user, group, form=form,
        nominee_count=form.nominee_count.data, places_mode=PlacesMode(form.places_mode.data),
        cluster_places=places, min_3t=form.min_3t.data)
    if not ok:
        return _render_nominees(edition, forms={group.id: form}, status=422)
    flash(_("The nominee settings of %(group)s were saved.", group=group.name_id) if changed
          else _("Nothing changed."), "success" if changed else "info")
    return redirect(url_for("selection.nominees", edition_id=edition.id, group=group.code.value))


@bp.route("/<int:edition_id>/nominees/build", methods=["POST"])
def build_nominees(edition_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    _csrf_ok()
    run_service(services.build_nominees, current_user, edition,
                success=_("The proposed nominee list was built from the evaluation ranking. Check it, adjust it "
                          "where needed (with a reason), then freeze it."))
    return back("selection.nominees", edition)


@bp.route("/<int:edition_id>/nominees/proposals/<int:proposal_id>", methods=["POST"])
def nominee_entry(edition_id: int, proposal_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    chosen, reason = posted_choice()
    entry = list_entry(ShortlistKind.NOMINEES, edition, proposal_id)
    if entry is None:
        return back("selection.nominees", edition)
    run_service(services.adjust_nominee, current_user, entry, chosen=chosen, reason=reason,
                success=_("%(number)s is now on the list.", number=entry.proposal.number) if chosen
                else _("%(number)s is now off the list.", number=entry.proposal.number))
    return back("selection.nominees", edition, entry)


@bp.route("/<int:edition_id>/nominees/freeze", methods=["POST"])
def freeze_nominees(edition_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    _csrf_ok()
    run_service(services.freeze_nominees, current_user, edition,
                success=_("The nominee list is frozen: the chosen proposals are nominated, the others are not."))
    return back("selection.nominees", edition)


# --- the final result ------------------------------------------------------------------------------------


def _render_final(edition: Edition, *, freeze_form: FreezeFinalForm | None = None, status: int = 200) -> Any:
    group = chosen_group(edition)
    shortlist = services.shortlist_of(edition, ShortlistKind.WINNERS)
    show = shown_filter()
    context: dict[str, Any] = {}
    if shortlist is not None and group is not None:
        rows = services.entry_rows(shortlist, group.code, show=show)
        context = dict(rows=rows, total=len(rows), summary=services.summaries(shortlist, edition).get(group.code),
                       report=shortlist.report.get(group.code.value, {}))
    if freeze_form is None:
        freeze_form = FreezeFinalForm(formdata=None, minutes=shortlist.minutes if shortlist else None)
    return render_template(
        "selection/final.html", edition=edition, group=group, shortlist=shortlist, show=show,
        filters=services.FILTERS,
        problems=services.stage_problems(edition, *FINAL_STAGES) if not (shortlist and shortlist.frozen) else [],
        weights=services.final_weights(edition), components=final_score.COMPONENTS,
        tie_break=final_score.TIE_BREAK,
        finalists=services.shortlist_of(edition, ShortlistKind.FINALISTS), action_form=ActionForm(),
        minutes_form=MinutesForm(formdata=None, minutes=shortlist.minutes if shortlist else None),
        freeze_form=freeze_form, editable=shortlist is None or not shortlist.frozen,
        winner_tier=services.WINNER_TIER, **context), status


@bp.route("/<int:edition_id>/final")
def final(edition_id: int) -> Any:
    return _render_final(get_or_404(Edition, edition_id))


@bp.route("/<int:edition_id>/final/build", methods=["POST"])
def build_final(edition_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    _csrf_ok()
    run_service(services.build_final, current_user, edition,
                success=_("The proposed result was computed from the stage scores. Record the panel's consensus "
                          "adjustments (each with its reason) and the minutes, then freeze it with the decree."))
    return back("selection.final", edition)


@bp.route("/<int:edition_id>/final/proposals/<int:proposal_id>", methods=["POST"])
def final_entry(edition_id: int, proposal_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    chosen, reason = posted_choice()
    entry = list_entry(ShortlistKind.WINNERS, edition, proposal_id)
    if entry is None:
        return back("selection.final", edition)
    run_service(services.adjust_winner, current_user, entry, chosen=chosen, reason=reason,
                success=_("%(number)s is now among the winners.", number=entry.proposal.number) if chosen
                else _("%(number)s is now off the winners.", number=entry.proposal.number))
    return back("selection.final", edition, entry)


@bp.route("/<int:edition_id>/final/minutes", methods=["POST"])
def final_minutes(edition_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    shortlist = services.shortlist_of(edition, ShortlistKind.WINNERS)
    if shortlist is None:
        flash(_("There is no list yet: build the proposed list first."), "danger")
        return back("selection.final", edition)
    form = MinutesForm()
    if not form.validate():
        flash(" ".join(form.minutes.errors) or _("The minutes could not be saved."), "danger")
        return back("selection.final", edition)
    run_service(services.save_minutes, current_user, shortlist, form.minutes.data,
                success=_("The minutes were saved."))
    return back("selection.final", edition)


@bp.route("/<int:edition_id>/final/freeze", methods=["POST"])
def freeze_final(edition_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    form = FreezeFinalForm()
    if not form.validate():
        return _render_final(edition, freeze_form=form, status=422)
    ok, _result = run_service(services.freeze_final, current_user, edition, form=form,
                              decree_number=form.decree_number.data or "", decree_date=form.decree_date.data,
                              minutes=form.minutes.data,
                              success=_("The final result is frozen with its decree; the award history of every "
                                        "finalist's innovation is written."))
    if not ok:
        return _render_final(edition, freeze_form=form, status=422)
    return back("selection.final", edition)

