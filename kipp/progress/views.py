"""Where an edition stands and the secretariat's next step (one action per stage move)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import BuildError

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.db import utcnow
from kipp.editions.kinds import StageKind
from kipp.editions.models import Edition, Stage
from kipp.editions.queries import current_edition
from kipp.extensions import db
from kipp.i18n import localized
from kipp.progress import services, stages
from kipp.web import audience, get_or_404, run_service

bp = Blueprint("progress", __name__, url_prefix="/admin/progress")
audience(bp, Role.SECRETARIAT)

def _workspaces() -> dict[StageKind, list[tuple[Any, str, dict[str, Any]]]]:
    """The pages where each stage's work is done, in the order the work comes."""

    def scoring(kind: StageKind) -> list[tuple[Any, str, dict[str, Any]]]:
        return [(_l("Judges' pool"), "pools.stage", {"stage": kind.value}),
                (_l("Assignment"), "assignment.stage", {"stage": kind.value}),
                (_l("Scoring"), "scoring.stage", {"stage": kind.value})]

    return {
        StageKind.SUBMISSION: [(_l("Proposals"), "proposals_admin.index", {}),
                               (_l("Deadlines"), "deadlines.index", {})],
        StageKind.SCREENING: [(_l("Screening queue"), "screening.index", {}),
                              (_l("Announcements"), "screening.announcements", {})],
        StageKind.EVALUATION: scoring(StageKind.EVALUATION),
        StageKind.PANEL_REVIEW: [(_l("Nominees"), "selection.nominees", {}), *scoring(StageKind.PANEL_REVIEW),
                                 (_l("Plenary"), "plenary.index", {})],
        StageKind.OBJECTION: [(_l("Objections and confirmation"), "objections.index", {}),
                              (_l("Public finalist list"), "public_objections.finalists", {})],
        StageKind.PRESENTATION: [(_l("Presentation schedule"), "presentations.index", {}),
                                 *scoring(StageKind.PRESENTATION)],
        StageKind.FIELD_VERIFICATION: [(_l("Judges' pool"), "pools.stage", {"stage": "field_verification"}),
                                       (_l("Field visits"), "verification.index", {})],
        StageKind.FINAL: [(_l("Final result"), "selection.final", {})],
        StageKind.ANNOUNCEMENT: [(_l("Publication"), "publication.index", {}),
                                 (_l("Public results"), "results.index", {})],
    }


def _url(endpoint: str, edition: Edition, values: dict[str, Any]) -> str | None:
    """A workspace's address for this edition (the edition named the way that page expects)."""
    for key in ("edition_id", "year", "edition"):
        try:
            extra = {"edition_id": edition.id, "year": edition.year, "edition": edition.id}[key]
            return url_for(endpoint, **{key: extra}, **values)
        except BuildError:
            continue
    return None


def workspace_links(edition: Edition) -> dict[StageKind, list[tuple[Any, str]]]:
    links: dict[StageKind, list[tuple[Any, str]]] = {}
    for kind, items in _workspaces().items():
        found = [(label, url) for label, endpoint, values in items
                 if (url := _url(endpoint, edition, values)) is not None]
        links[kind] = found
    return links


def check_url(check: services.Check, edition: Edition) -> str | None:
    if check.link is None:
        return None
    endpoint, values = check.link
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@bp.route("/")
def index() -> Any:
    edition = current_edition()
    if edition is None:
        return redirect(url_for("editions.index"))
    return redirect(url_for("progress.edition", edition_id=edition.id))


@bp.route("/<int:edition_id>")
def edition(edition_id: int) -> Any:
    chosen = get_or_404(Edition, edition_id)
    now = utcnow()
    people = {u.id: u.name for u in db.session.scalars(sa.select(User).where(User.id.in_(
        [i for s in chosen.stages for i in (s.opened_by_id, s.closed_by_id) if i])))}
    return render_template(
        "progress/edition.html", edition=chosen, now=now, step=services.next_step(chosen, now=now),
        stage_rows=stages.held_stages(chosen), not_held=[s for s in chosen.stages if not stages.is_held(chosen, s.kind)],
        links=workspace_links(chosen), check_url=check_url, people=people,
        editions=db.session.scalars(sa.select(Edition).order_by(Edition.year.desc())).all(),
        status_text=services.status_text)


@bp.route("/<int:edition_id>/step", methods=["POST"])
def step(edition_id: int) -> Any:
    chosen = get_or_404(Edition, edition_id)
    stage_id = request.form.get("stage_id", type=int)
    try:
        move = services.Move(request.form.get("move", ""))
    except ValueError:
        abort(400)
    if stage_id is None:
        abort(400)
    stage = get_or_404(Stage, stage_id, where=Stage.edition_id == chosen.id)
    success = (_("The stage “%(stage)s” is open.", stage=localized(stage, "name")) if move is services.Move.OPEN
               else _("The stage “%(stage)s” is closed.", stage=localized(stage, "name")))
    run_service(services.take_step, current_user, chosen, stage, move,
                force_reason=request.form.get("force_reason"), success=success)
    return redirect(url_for("progress.edition", edition_id=chosen.id))
