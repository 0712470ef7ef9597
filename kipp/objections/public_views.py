"""The public finalist list and the objection form (no account needed).

Visible once the OBJECTION stage has been opened (the announcement) and after it closes; before,
every page here answers 404. Filing is rate-limited per client address (KIPP_OBJECTION_RATE_LIMIT),
CSRF-protected, size-limited before the body is read, and guarded by a honeypot field; only a keyed
hash of the client address is kept.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale

from kipp.db import utcnow
from kipp.editions.kinds import StageKind
from kipp.editions.models import Edition
from kipp.editions.queries import edition_of_year
from kipp.extensions import db, limiter
from kipp.objections import rules, services
from kipp.objections.forms import ObjectionForm, StatusForm
from kipp.web import run_service

bp = Blueprint("public_objections", __name__, url_prefix="/public")

_RECEIPT = "objection_receipt"


def _objection_limit() -> str:
    return current_app.config["KIPP_OBJECTION_RATE_LIMIT"]


def _lookup_limit() -> str:
    # Looking up a ruling is guessing a reference and a contact: limited like a login.
    return current_app.config["KIPP_LOGIN_RATE_LIMIT"]


def _edition(year: int) -> Edition:
    edition = edition_of_year(year)
    if edition is None or not services.is_announced(edition):
        abort(404)
    return edition


@bp.app_template_global("finalists_announced")
def finalists_announced(edition: Edition) -> bool:
    return services.is_announced(edition)


@bp.url_value_preprocessor
def _limit_objection_size(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # The body limit must be set before anything reads the form, and CSRFProtect reads it in the
    # app's before_request; URL value preprocessors run before that.
    if endpoint != "public_objections.objection" or request.method != "POST" or not values:
        return
    max_file_mb = db.session.scalar(sa.select(Edition.max_file_mb).where(Edition.year == values.get("year")))
    if max_file_mb is not None:
        request.max_content_length = rules.request_limit_bytes(max_file_mb)


@bp.route("/<int:year>/finalists")
def finalists(year: int) -> Any:
    edition = _edition(year)
    now = utcnow()
    return render_template(
        "public_objections/finalists.html", edition=edition, groups=services.public_finalists(edition),
        stage=edition.stage(StageKind.OBJECTION), window=services.window(edition, now), Window=rules.Window,
        window_message=services.window_message(edition, now), shortlist=services.finalists_list(edition))


@bp.route("/<int:year>/finalists/<int:proposal_id>/objection", methods=["GET", "POST"])
@limiter.limit(_objection_limit, methods=["POST"])
def objection(year: int, proposal_id: int) -> Any:
    edition = _edition(year)
    proposal = services.public_finalist(edition, proposal_id)
    if proposal is None:
        abort(404)
    now = utcnow()
    form = ObjectionForm()
    file_lost = False
    if form.validate_on_submit():
        upload = form.evidence.data
        has_file = bool(upload and upload.filename)
        ok, filed = run_service(
            services.file_objection, edition, proposal, name=form.name.data, contact=form.contact.data,
            reason=form.reason.data, evidence_name=upload.filename if has_file else None,
            evidence_data=upload.read() if has_file else None,
            client_hash=rules.client_hash(current_app.config["SECRET_KEY"], request.remote_addr),
            locale=str(get_locale() or "id"), now=now, form=form)
        if ok:
            session[_RECEIPT] = {"year": edition.year, "reference": filed.reference, "title": proposal.title}
            return redirect(url_for("public_objections.receipt", year=edition.year))
        file_lost = has_file
    elif form.is_submitted():
        upload = form.evidence.data
        file_lost = bool(upload and getattr(upload, "filename", None))
    return render_template(
        "public_objections/objection.html", edition=edition, proposal=proposal, form=form, file_lost=file_lost,
        is_open=services.is_window_open(edition, now), window_message=services.window_message(edition, now),
        stage=edition.stage(StageKind.OBJECTION))


@bp.route("/<int:year>/objections/receipt")
def receipt(year: int) -> Any:
    edition = _edition(year)
    filed = session.get(_RECEIPT)
    if not filed or filed.get("year") != edition.year:
        return redirect(url_for("public_objections.finalists", year=edition.year))
    return render_template("public_objections/receipt.html", edition=edition, filed=filed,
                           stage=edition.stage(StageKind.OBJECTION))


@bp.route("/<int:year>/objections/status", methods=["GET", "POST"])
@limiter.limit(_lookup_limit, methods=["POST"])
def status(year: int) -> Any:
    edition = _edition(year)
    form = StatusForm()
    objection, not_found = None, False
    if form.validate_on_submit():
        objection = services.find_for_filer(edition, reference=form.reference.data, contact=form.contact.data)
        not_found = objection is None
    return render_template("public_objections/status.html", edition=edition, form=form, objection=objection,
                           not_found=not_found, labels=services.STATUS_LABELS,
                           shortlist=services.finalists_list(edition))
