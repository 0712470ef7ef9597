"""The secretariat's presentation schedule and attendance."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from kipp.accounts.roles import Role
from kipp.assignment.services import stage_members
from kipp.db import utcnow
from kipp.editions.models import Edition
from kipp.extensions import db
from kipp.i18n import from_wib, to_wib
from kipp.judging.models import Assignment, AssignmentState
from kipp.presentations import rules, services
from kipp.presentations.forms import ActionForm, AttendanceForm, GenerateForm, SlotForm
from kipp.presentations.models import Attendance, PresentationSlot
from kipp.progress.stages import STATUS_LABELS, status_of
from kipp.proposals import uploads
from kipp.proposals.models import StoredFile
from kipp.web import audience, get_or_404, run_service

bp = Blueprint("presentations", __name__, url_prefix="/admin/editions")
audience(bp, Role.SECRETARIAT)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"stage_label": lambda status: str(STATUS_LABELS[status])}


def _here(edition: Edition) -> Any:
    return redirect(url_for("presentations.index", edition_id=edition.id))


def _slot(edition: Edition, slot_id: int) -> PresentationSlot:
    slot: PresentationSlot = get_or_404(PresentationSlot, slot_id, where=PresentationSlot.edition_id == edition.id)
    return slot


def _render_index(edition: Edition, form: GenerateForm | None = None, status: int = 200) -> Any:
    if form is None:
        form = GenerateForm(presentation_minutes=edition.presentation_minutes,
                            interview_minutes=edition.interview_minutes)
    proposals = services.finalists(edition)
    slots = services.slots_of(edition)
    now = utcnow()
    published = dict(db.session.execute(
        sa.select(Assignment.proposal_id, sa.func.count()).where(
            Assignment.edition_id == edition.id, Assignment.stage == services.STAGE,
            Assignment.state == AssignmentState.PUBLISHED).group_by(Assignment.proposal_id)).all())
    return render_template(
        "presentations/index.html", edition=edition, proposals=proposals, slots=slots, form=form, now=now,
        confirmed=services.finalists_confirmed(edition), stage_status=status_of(edition, services.STAGE),
        unscheduled=[p for p in proposals if p.id not in slots and p.status.value == "confirmed"],
        unrecorded=services.unrecorded_count(edition), panel=stage_members(edition, services.STAGE),
        published=published, deadline=services.confirmation_deadline, action_form=ActionForm(),
        earliest=rules.round_up(rules.earliest_start(now, edition.confirm_hours)),
    ), status


@bp.route("/<int:edition_id>/presentations")
def index(edition_id: int) -> Any:
    return _render_index(get_or_404(Edition, edition_id))


@bp.route("/<int:edition_id>/presentations/generate", methods=["POST"])
def generate(edition_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    form = GenerateForm()
    if not form.validate_on_submit():
        return _render_index(edition, form, 422)
    plan = rules.DayPlan(first_day=form.first_day.data, day_start=form.day_start.data, day_end=form.day_end.data,
                         presentation_minutes=form.presentation_minutes.data,
                         interview_minutes=form.interview_minutes.data, break_minutes=form.break_minutes.data,
                         skip_weekends=form.skip_weekends.data)
    ok, created = run_service(services.generate_schedule, current_user, edition, plan=plan,
                              meeting_url=form.meeting_url.data, form=form)
    if not ok:
        return _render_index(edition, form, 422)
    flash(ngettext("%(num)d slot was scheduled; the agencies were told.",
                   "%(num)d slots were scheduled; the agencies were told.", len(created)), "success")
    return _here(edition)


@bp.route("/<int:edition_id>/presentations/<int:slot_id>", methods=["GET", "POST"])
def slot(edition_id: int, slot_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    item = _slot(edition, slot_id)
    form = SlotForm() if request.method == "POST" else _slot_form(item)
    status = 200
    if form.validate_on_submit():
        ok, moved = run_service(services.update_slot, current_user, item, starts_at=from_wib(form.starts_at.data),
                                presentation_minutes=form.presentation_minutes.data,
                                interview_minutes=form.interview_minutes.data, meeting_url=form.meeting_url.data,
                                notes=form.notes.data, form=form)
        if ok:
            flash(_("The slot was moved; the agency was told and must confirm again.") if moved
                  else _("The slot was saved."), "success")
            return redirect(url_for("presentations.slot", edition_id=edition.id, slot_id=item.id))
        status = 422
    elif request.method == "POST":
        status = 422
    attendance = AttendanceForm(attendance=item.attendance.value if item.attendance is not Attendance.SCHEDULED
                                else None, note=item.attendance_note)
    return _render_slot(edition, item, form, attendance, status)


def _slot_form(item: PresentationSlot) -> SlotForm:
    """The slot's form filled from the slot, its start shown in WIB."""
    form = SlotForm(formdata=None, obj=item)
    form.starts_at.data = to_wib(item.starts_at).replace(tzinfo=None)
    return form


def _render_slot(edition: Edition, item: PresentationSlot, form: SlotForm, attendance: AttendanceForm,
                 status: int) -> Any:
    now = utcnow()
    return render_template("presentations/slot.html", edition=edition, slot=item, form=form,
                           attendance_form=attendance, now=now, deadline=services.confirmation_deadline(item),
                           stage_status=status_of(edition, services.STAGE)), status


@bp.route("/<int:edition_id>/presentations/<int:slot_id>/attendance", methods=["POST"])
def attendance(edition_id: int, slot_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    item = _slot(edition, slot_id)
    form = AttendanceForm()
    if form.validate_on_submit():
        ok, _result = run_service(services.record_attendance, current_user, item,
                                  attendance=Attendance(form.attendance.data), note=form.note.data, form=form)
        if ok:
            flash(_("The attendance of %(number)s was recorded.", number=item.proposal.number), "success")
            if request.form.get("back") == "index":
                return _here(edition)
            return redirect(url_for("presentations.slot", edition_id=edition.id, slot_id=item.id))
    return _render_slot(edition, item, _slot_form(item), form, 422)


@bp.route("/<int:edition_id>/presentations/<int:slot_id>/slides")
def slides(edition_id: int, slot_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    item = _slot(edition, slot_id)
    if item.slides_id is None:
        abort(404)
    return uploads.send_attachment(get_or_404(StoredFile, item.slides_id))


@bp.route("/<int:edition_id>/presentations/assign-panel", methods=["POST"])
def assign_panel(edition_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    ok, result = run_service(services.assign_panel, current_user, edition)
    if ok:
        flash(ngettext("%(num)d assignment was published to the panel.",
                       "%(num)d assignments were published to the panel.", result.published), "success")
        if result.skipped:
            flash(_("Not assigned because of a conflict of interest: %(pairs)s", pairs=" · ".join(result.skipped)),
                  "warning")
        if result.warnings:
            flash(_("Assigned despite a possible conflict of interest: %(pairs)s",
                    pairs=" · ".join(result.warnings)), "warning")
    return _here(edition)
