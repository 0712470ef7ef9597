"""The agency's side of the submission stage: UPP drafts and sends, Admin Lokal returns or submits."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from kipp.accounts.roles import Role
from kipp.agencies.models import Unit
from kipp.db import utcnow
from kipp.editions.kinds import GroupCode
from kipp.editions.models import EditionGroup, Sdg
from kipp.editions.queries import current_edition
from kipp.errors import DomainError, NotAllowed
from kipp.extensions import db
from kipp.innovations.kinds import TOP_TIERS
from kipp.innovations.models import Award, Innovation
from kipp.proposals import access, labels, printing, services, uploads
from kipp.proposals.forms import CommentForm, NewProposalForm, VersionForm, WithdrawForm
from kipp.proposals.models import Proposal, ProposalFile
from kipp.proposals.states import NUMBERED, ProposalStatus
from kipp.publication import disclosure
from kipp.web import audience, get_or_404, run_service

bp = Blueprint("agency_proposals", __name__, url_prefix="/proposals")
audience(bp, Role.UPP, Role.ADMIN_LOKAL)


def _load(proposal_id: int) -> Proposal:
    proposal: Proposal = get_or_404(Proposal, proposal_id, where=access.visible_to(current_user))
    return proposal


@bp.route("/")
def index() -> Any:
    edition = current_edition()
    proposals: list[Proposal] = []
    quotas: list[dict[str, Any]] = []
    window = None
    if edition is not None:
        proposals = list(db.session.scalars(
            sa.select(Proposal)
            .where(Proposal.edition_id == edition.id, access.visible_to(current_user))
            .options(selectinload(Proposal.unit), selectinload(Proposal.group), selectinload(Proposal.answers),
                     selectinload(Proposal.files), selectinload(Proposal.sdgs), selectinload(Proposal.events))
        ))
        # Latest change first, as the agency knows it: a round's unannounced decision moves no row up.
        proposals.sort(key=lambda p: disclosure.disclosed(p).last_change, reverse=True)
        window = services.submission_window(edition, current_user.agency_id)
        submitted = dict(db.session.execute(
            sa.select(Proposal.group_id, sa.func.count()).where(
                Proposal.edition_id == edition.id, Proposal.agency_id == current_user.agency_id,
                Proposal.status.in_([s.value for s in NUMBERED if s is not ProposalStatus.WITHDRAWN]))
            .group_by(Proposal.group_id)
        ).all())
        quotas = [{"group": g, "used": submitted.get(g.id, 0)} for g in edition.groups]
    now = utcnow()
    return render_template(
        "proposals/index.html", edition=edition, proposals=proposals, quotas=quotas, window=window, now=now,
        missing={p.id: services.missing_items(p) for p in proposals if p.status in (
            ProposalStatus.DRAFT, ProposalStatus.RETURNED, ProposalStatus.WITH_ADMIN_LOKAL)},
        is_open=window is not None and window[0] <= now < window[1],
    )


@bp.route("/new", methods=["GET", "POST"])
def new() -> Any:
    edition = current_edition()
    if edition is None:
        abort(404)
    form = NewProposalForm()
    form.group_id.choices = [(g.id, g.name_id) for g in edition.groups]
    units = db.session.scalars(
        sa.select(Unit).where(Unit.agency_id == current_user.agency_id, Unit.active).order_by(Unit.name)).all()
    form.unit_id.choices = [(u.id, u.name) for u in units]
    innovations = db.session.scalars(
        sa.select(Innovation).where(Innovation.agency_id == current_user.agency_id).order_by(Innovation.title)
    ).all()
    form.innovation_id.choices = [(0, _("A new innovation"))] + [(i.id, i.title) for i in innovations]
    if form.validate_on_submit():
        group = get_or_404(EditionGroup, form.group_id.data, where=EditionGroup.edition_id == edition.id)
        unit = None
        if current_user.role is Role.ADMIN_LOKAL:
            unit = get_or_404(Unit, form.unit_id.data, where=Unit.agency_id == current_user.agency_id)
        innovation = None
        if form.innovation_id.data:
            innovation = get_or_404(Innovation, form.innovation_id.data,
                                    where=Innovation.agency_id == current_user.agency_id)
        ok, proposal = run_service(services.start_draft, current_user, edition=edition, group=group, unit=unit,
                                   innovation=innovation)
        if ok:
            return redirect(url_for("agency_proposals.edit", proposal_id=proposal.id))
    return render_template("proposals/new.html", form=form, edition=edition)


@bp.route("/<int:proposal_id>")
def detail(proposal_id: int) -> Any:
    proposal = _load(proposal_id)
    return render_template(
        "proposals/detail.html", proposal=proposal, missing=services.missing_items(proposal),
        window=services.submission_window(proposal.edition, proposal.agency_id), now=utcnow(),
        quota_left=services.quota_left(proposal), access=access, comment_form=CommentForm(),
        withdraw_form=WithdrawForm(), version_form=VersionForm(version=proposal.version),
        describe=services.describe, print_html=Markup(printing.render_html(proposal, standalone=False)),
    )


def _parse_date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _changes_from(form: Any, proposal: Proposal) -> tuple[dict[str, Any], dict[int, str], list[int] | None]:
    """What the submitted form says, for the fields present in it (autosave sends a few)."""
    fields: dict[str, Any] = {}
    if "title" in form:
        fields["title"] = form.get("title", "")
    if "category_id" in form:
        fields["category_id"] = form.get("category_id", type=int) or None
    if "innovation_start_date" in form:
        fields["innovation_start_date"] = _parse_date(form.get("innovation_start_date"))
    if "video_url" in form:
        fields["video_url"] = form.get("video_url", "").strip() or None
    if "is_application" in form:
        fields["is_application"] = {"yes": True, "no": False}.get(form.get("is_application", ""))
    if "spbe_app_name" in form:
        fields["spbe"] = {key: form.get(f"spbe_{key}", "").strip()[:255]
                          for key in ("app_name", "app_url", "platform")}
    if "replicates_id" in form:
        fields["replicates_id"] = form.get("replicates_id", type=int) or None
    answers = {}
    for key in form:
        if key.startswith("answer-") and key[7:].isdigit():
            answers[int(key[7:])] = form.get(key, "")
    sdgs = [int(v) for v in form.getlist("sdg") if v.isdigit()] if "sdg-present" in form else None
    return fields, answers, sdgs


def _replicable() -> list[Innovation]:
    """Past Top innovations a replikasi proposal may name."""
    return list(db.session.scalars(
        sa.select(Innovation).where(Innovation.id.in_(
            sa.select(Award.innovation_id).where(Award.tier.in_([t.value for t in TOP_TIERS]))
        )).options(selectinload(Innovation.agency)).order_by(Innovation.title)
    ))


@bp.route("/<int:proposal_id>/edit", methods=["GET", "POST"])
def edit(proposal_id: int) -> Any:
    proposal = _load(proposal_id)
    if not access.can_edit(current_user, proposal):
        flash(_("This proposal cannot be edited now: %(holder)s holds it.",
                holder=labels.holder_label(disclosure.agency_holder(proposal))), "warning")
        return redirect(url_for("agency_proposals.detail", proposal_id=proposal.id))
    posted: dict[str, Any] | None = None
    warnings: list[str] = []
    if request.method == "POST":
        posted = request.form.to_dict(flat=False)
        fields, answers, sdgs = _changes_from(request.form, proposal)
        version = request.form.get("version", type=int) or -1
        try:
            too_long = services.save_draft(current_user, proposal, version=version, fields=fields, answers=answers,
                                           sdg_numbers=sdgs)
            db.session.commit()
        except NotAllowed:
            db.session.rollback()
            abort(404)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return _render_form(proposal, posted=posted), 409 if error.code == "stale" else 422
        warnings += [services.describe(m) for m in too_long]
        upload_errors = _save_uploads(proposal)
        if upload_errors:
            for message in upload_errors:
                flash(message, "danger")
            flash(_("Your text was saved; only the files listed above were not."), "info")
        else:
            flash(_("Saved."), "success")
        for message in warnings:
            flash(message, "warning")
        if request.form.get("next") == "send" and not upload_errors:
            return redirect(url_for("agency_proposals.detail", proposal_id=proposal.id))
        return redirect(url_for("agency_proposals.edit", proposal_id=proposal.id))
    return _render_form(proposal)


def _save_uploads(proposal: Proposal) -> list[str]:
    """Attach each uploaded file in its own transaction, so one bad file loses nothing else; but
    more files than the edition allows refuse the whole request, before any is stored."""
    chosen = []
    for key, storage in request.files.items(multi=True):
        kind, _sep, ident = key.partition("-")
        if storage and storage.filename and kind in ("evidence", "document") and ident.isdigit():
            chosen.append((storage, (int(ident), None) if kind == "evidence" else (None, int(ident))))
    try:
        services.require_room_for_files(proposal, Counter(slot for _storage, slot in chosen))
    except DomainError as error:
        return [error.message]
    errors = []
    for storage, (section_id, document_id) in chosen:
        data = storage.read()
        try:
            services.attach_file(current_user, proposal, filename=storage.filename, data=data,
                                 section_id=section_id, document_id=document_id)
            db.session.commit()
        except NotAllowed:
            db.session.rollback()
            abort(404)
        except DomainError as error:
            db.session.rollback()
            errors.append(error.message)
    return errors


def _render_form(proposal: Proposal, posted: dict[str, Any] | None = None) -> str:
    def value(name: str, default: Any = "") -> Any:
        if posted is not None and name in posted:
            return posted[name][0]
        return default

    answers = {a.section_id: a.text for a in proposal.answers}
    return render_template(
        "proposals/edit.html", proposal=proposal, value=value, answers=answers, posted=posted,
        sdgs=db.session.scalars(sa.select(Sdg).order_by(Sdg.number)).all(),
        chosen_sdgs=({int(v) for v in posted.get("sdg", [])} if posted is not None
                     else {s.number for s in proposal.sdgs}),
        replicable=_replicable() if proposal.group.code is GroupCode.REPLIKASI else [],
        documents=[d for d in proposal.edition.documents if d.applies_to(proposal.group.code)],
        missing=services.missing_items(proposal),
        window=services.submission_window(proposal.edition, proposal.agency_id),
        max_file_mb=proposal.edition.max_file_mb,
    )


@bp.route("/<int:proposal_id>/autosave", methods=["POST"])
def autosave(proposal_id: int) -> Any:
    proposal = _load(proposal_id)
    fields, answers, sdgs = _changes_from(request.form, proposal)
    version = request.form.get("version", type=int) or -1
    try:
        too_long = services.save_draft(current_user, proposal, version=version, fields=fields, answers=answers,
                                       sdg_numbers=sdgs)
        db.session.commit()
    except NotAllowed:
        db.session.rollback()
        return jsonify(ok=False, code="not_editable", message=_("You may not change this proposal now.")), 409
    except DomainError as error:
        db.session.rollback()
        return jsonify(ok=False, code=error.code, message=error.message), 409
    return jsonify(ok=True, version=proposal.version, saved_at=services._wib(utcnow()),
                   warnings=[services.describe(m) for m in too_long])


@bp.route("/<int:proposal_id>/print.pdf")
def print_pdf(proposal_id: int) -> Any:
    proposal = _load(proposal_id)
    return printing.pdf_response(proposal)


@bp.route("/<int:proposal_id>/files/<int:file_id>")
def download(proposal_id: int, file_id: int) -> Any:
    proposal = _load(proposal_id)
    attached = get_or_404(ProposalFile, file_id, where=ProposalFile.proposal_id == proposal.id)
    return uploads.send_attachment(attached)


@bp.route("/<int:proposal_id>/files/<int:file_id>/delete", methods=["POST"])
def delete_file(proposal_id: int, file_id: int) -> Any:
    proposal = _load(proposal_id)
    attached = get_or_404(ProposalFile, file_id, where=ProposalFile.proposal_id == proposal.id)
    run_service(services.remove_file, current_user, proposal, attached, success=_("The file was removed."))
    return redirect(url_for("agency_proposals.edit", proposal_id=proposal.id))


def _checked_version(proposal: Proposal) -> bool:
    """A send/submit button on a page older than the proposal does nothing (a double click, another tab)."""
    version = request.form.get("version", type=int)
    if version is not None and version != proposal.version:
        if proposal.status is ProposalStatus.SUBMITTED:
            flash(_("This proposal has already been submitted to the ministry (number %(number)s).",
                    number=proposal.number), "info")
        else:
            flash(_("This proposal changed since you opened the page; check it and try again."), "warning")
        return False
    return True


@bp.route("/<int:proposal_id>/send", methods=["POST"])
def send(proposal_id: int) -> Any:
    proposal = _load(proposal_id)
    if _checked_version(proposal):
        run_service(services.send_to_admin_lokal, current_user, proposal,
                    success=_("The proposal was sent to your Admin Lokal."))
    return redirect(url_for("agency_proposals.detail", proposal_id=proposal.id))


@bp.route("/<int:proposal_id>/return", methods=["POST"])
def return_to_unit(proposal_id: int) -> Any:
    proposal = _load(proposal_id)
    form = CommentForm()
    if not form.validate():
        flash(_("Say what the unit should change: the comment is required."), "danger")
    else:
        run_service(services.return_to_upp, current_user, proposal, comment=form.comment.data,
                    success=_("The proposal was returned to the unit with your comments."))
    return redirect(url_for("agency_proposals.detail", proposal_id=proposal.id))


@bp.route("/<int:proposal_id>/submit", methods=["POST"])
def submit(proposal_id: int) -> Any:
    proposal = _load(proposal_id)
    if _checked_version(proposal):
        ok, _result = run_service(services.submit, current_user, proposal)
        if ok:
            flash(_("Submitted to the ministry. Proposal number: %(number)s.", number=proposal.number), "success")
    return redirect(url_for("agency_proposals.detail", proposal_id=proposal.id))


@bp.route("/<int:proposal_id>/withdraw", methods=["POST"])
def withdraw(proposal_id: int) -> Any:
    proposal = _load(proposal_id)
    form = WithdrawForm()
    if not form.validate():
        flash(_("Give the reason for the withdrawal."), "danger")
    else:
        run_service(services.withdraw, current_user, proposal, reason=form.reason.data,
                    success=_("The proposal was withdrawn."))
    return redirect(url_for("agency_proposals.detail", proposal_id=proposal.id))
