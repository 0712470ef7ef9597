"""The agency's presentation slot: confirmation and materials.

The Admin Lokal of the finalist's agency confirms and sends the materials; the UPP of the
proposal's unit reads. Another agency's slot answers 404."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from kipp.accounts.roles import Role
from kipp.db import utcnow
from kipp.extensions import db
from kipp.presentations import rules, services
from kipp.presentations.forms import ConfirmForm, MaterialsForm
from kipp.presentations.models import PresentationSlot
from kipp.proposals import access, uploads
from kipp.proposals.models import Proposal, StoredFile
from kipp.web import audience, get_or_404, run_service

bp = Blueprint("agency_presentations", __name__, url_prefix="/presentations")
audience(bp, Role.ADMIN_LOKAL, Role.UPP)


def _visible() -> Any:
    return PresentationSlot.proposal_id.in_(sa.select(Proposal.id).where(access.visible_to(current_user)))


def _load(slot_id: int) -> PresentationSlot:
    slot: PresentationSlot = get_or_404(PresentationSlot, slot_id, where=_visible())
    if slot.proposal.status not in services.LISTED:
        abort(404)
    return slot


@bp.route("/")
def index() -> Any:
    slots = db.session.scalars(
        sa.select(PresentationSlot).where(_visible())
        .options(selectinload(PresentationSlot.proposal).selectinload(Proposal.edition),
                 selectinload(PresentationSlot.slides))
        .order_by(PresentationSlot.starts_at)).all()
    return render_template("agency_presentations/index.html",
                           slots=[s for s in slots if s.proposal.status in services.LISTED], now=utcnow(),
                           deadline=services.confirmation_deadline)


def _render(slot: PresentationSlot, *, confirm_form: ConfirmForm | None = None,
            materials_form: MaterialsForm | None = None, status: int = 200) -> Any:
    now = utcnow()
    return render_template(
        "agency_presentations/slot.html", slot=slot, now=now, deadline=services.confirmation_deadline(slot),
        may_act=services.can_confirm(current_user, slot),
        may_confirm=rules.may_confirm(now, slot.starts_at, slot.edition.confirm_hours),
        confirm_form=confirm_form or ConfirmForm(formdata=None, presenter_name=slot.presenter_name),
        materials_form=materials_form or MaterialsForm(formdata=None, video_url=slot.video_url)), status


@bp.route("/<int:slot_id>")
def slot(slot_id: int) -> Any:
    return _render(_load(slot_id))


@bp.route("/<int:slot_id>/confirm", methods=["POST"])
def confirm(slot_id: int) -> Any:
    item = _load(slot_id)
    if not services.can_confirm(current_user, item):
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        ok, _result = run_service(services.confirm_attendance, current_user, item,
                                  presenter_name=form.presenter_name.data, form=form,
                                  success=_("Attendance confirmed. The secretariat was told."))
        if ok:
            return redirect(url_for("agency_presentations.slot", slot_id=item.id))
    return _render(item, confirm_form=form, status=422)


@bp.route("/<int:slot_id>/materials", methods=["POST"])
def materials(slot_id: int) -> Any:
    """The video link and the slides, each saved on its own: a refused file keeps the link."""
    item = _load(slot_id)
    if not services.can_confirm(current_user, item):
        abort(404)
    form = MaterialsForm()
    if not form.validate_on_submit():
        return _render(item, materials_form=form, status=422)
    saved: list[str] = []
    failed = False
    if (form.video_url.data or "").strip() != (item.video_url or ""):
        ok, _result = run_service(services.set_video_link, current_user, item, video_url=form.video_url.data,
                                  form=form)
        failed |= not ok
        if ok:
            saved.append(_("the video link"))
    upload = request.files.get(form.slides.name)
    if upload is not None and upload.filename:
        ok, _result = run_service(services.upload_slides, current_user, item, filename=upload.filename,
                                  data=upload.read(), form=form)
        failed |= not ok
        if ok:
            saved.append(_("the slides"))
    if saved:
        flash(_("Saved: %(what)s.", what=", ".join(saved)), "success")
    if failed:
        return _render(item, materials_form=form, status=422)
    if not saved:
        flash(_("Nothing changed: choose a PDF file or change the video link."), "info")
    return redirect(url_for("agency_presentations.slot", slot_id=item.id))


@bp.route("/<int:slot_id>/slides")
def slides(slot_id: int) -> Any:
    item = _load(slot_id)
    if item.slides_id is None:
        abort(404)
    return uploads.send_attachment(get_or_404(StoredFile, item.slides_id))
