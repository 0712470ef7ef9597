"""The secretariat's innovations: award history, past-results import, khusus invitations."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload
from wtforms.fields.choices import SelectChoice

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.agencies.models import Agency, Unit
from kipp.agencies.views import save_with_form
from kipp.editions.kinds import GroupCode
from kipp.editions.models import Edition, EditionGroup
from kipp.extensions import db
from kipp.innovations import importer, rules, services
from kipp.innovations.forms import AwardForm, ImportForm, InnovationForm, InviteForm
from kipp.innovations.kinds import TIER_LABELS, AwardTier
from kipp.innovations.models import Award, Innovation
from kipp.proposals.models import KhususInvitation
from kipp.web import audience, get_or_404, paginate, run_service, run_import

bp = Blueprint("innovations", __name__, url_prefix="/admin/innovations")
audience(bp, Role.SECRETARIAT)

INNOVATION_FIELD_OF_CODE = {"title": "title", "start_date": "start_date", "unit": "unit_id", "too_long":
                            "innovator_decree"}
AWARD_FIELD_OF_CODE = {"year": "year", "too_long": "decree_number"}


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"tier_label": services.tier_label, "format_day": services.format_day, "AwardTier": AwardTier,
            "sorted_awards": services.sorted_awards}


# --- list -----------------------------------------------------------------------------------


def _list_filters() -> list[Any]:
    """WHERE conditions from the list's search and filter parameters."""
    args = request.args
    conditions: list[Any] = []
    text = " ".join(args.get("q", "").split()).lower()
    if text:
        conditions.append(sa.or_(
            sa.func.lower(Innovation.title).contains(text, autoescape=True),
            sa.func.lower(Agency.name).contains(text, autoescape=True),
        ))
    award_conditions = []
    if args.get("tier") in {t.value for t in AwardTier}:
        award_conditions.append(Award.tier == AwardTier(args["tier"]))
    year = args.get("year", type=int)
    if year:
        award_conditions.append(Award.year == year)
    if award_conditions:
        conditions.append(sa.exists().where(Award.innovation_id == Innovation.id, *award_conditions))
    agency_id = args.get("agency", type=int)
    if agency_id:
        conditions.append(Innovation.agency_id == agency_id)
    return conditions


@bp.route("/")
def index() -> Any:
    query = (
        sa.select(Innovation)
        .join(Agency, Innovation.agency_id == Agency.id)
        .options(joinedload(Innovation.agency), joinedload(Innovation.unit), selectinload(Innovation.awards))
        .where(*_list_filters())
        .order_by(Agency.name, Innovation.title, Innovation.id)
    )
    years = db.session.scalars(sa.select(Award.year).distinct().order_by(Award.year.desc())).all()
    agency_id = request.args.get("agency", type=int)
    agency = db.session.get(Agency, agency_id) if agency_id else None
    return render_template("innovations/index.html", page=paginate(query), years=years, agency=agency,
                           tier_labels=TIER_LABELS)


# --- one innovation -------------------------------------------------------------------------


def _khusus_editions() -> list[Edition]:
    """Editions with a kelompok khusus, newest first."""
    return list(db.session.scalars(
        sa.select(Edition)
        .join(EditionGroup, EditionGroup.edition_id == Edition.id)
        .where(EditionGroup.code == GroupCode.KHUSUS)
        .options(selectinload(Edition.groups))
        .order_by(Edition.year.desc())
    ))


def _inviters(invitations: Any) -> dict[int, User]:
    ids = {i.invited_by_id for i in invitations}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}


def _render_detail(innovation: Innovation, *, award_form: AwardForm | None = None, status: int = 200) -> Any:
    invitations = services.invitations_of(innovation)
    awards = services.award_lines(innovation)
    khusus_problems = [
        services.eligibility_message(code, rules.EligibilityFacts(
            group=GroupCode.KHUSUS, start_date=None, closing_date=services.today(), min_age_months=0, awards=awards))
        for code in rules.khusus_history_problems(awards)
    ]
    return render_template(
        "innovations/detail.html",
        innovation=innovation,
        award_form=award_form or AwardForm(formdata=None),
        editions=_khusus_editions(),
        invitations=invitations,
        inviters=_inviters(invitations.values()),
        khusus_problems=khusus_problems,
        invite_form=InviteForm(formdata=None),
    ), status


@bp.route("/<int:innovation_id>")
def detail(innovation_id: int) -> Any:
    return _render_detail(get_or_404(Innovation, innovation_id))


def _agency_choices() -> list[SelectChoice]:
    agencies = db.session.execute(sa.select(Agency.id, Agency.name, Agency.active).order_by(Agency.name)).all()
    return [SelectChoice(0, _("— Choose an agency —"))] + [
        SelectChoice(a.id, a.name if a.active else _("%(name)s (deactivated)", name=a.name)) for a in agencies
    ]


def _unit_choices(agency: Agency, current: Unit | None) -> list[SelectChoice]:
    units = [u for u in agency.units if u.active or (current is not None and u.id == current.id)]
    return [SelectChoice(0, _("— No unit —"))] + [SelectChoice(u.id, u.name) for u in units]


@bp.route("/new", methods=["GET", "POST"])
def create() -> Any:
    form = InnovationForm(data={"agency_id": request.args.get("agency", 0, type=int)})
    del form.unit_id
    form.agency_id.choices = _agency_choices()
    if form.validate_on_submit():
        agency = db.session.get(Agency, form.agency_id.data)
        if agency is None:
            form.agency_id.errors = [*form.agency_id.errors, _("Choose the agency.")]
        else:
            ok, innovation = save_with_form(
                form, INNOVATION_FIELD_OF_CODE, services.create_innovation, current_user, agency=agency,
                title=form.title.data, start_date=form.start_date.data, innovator_decree=form.innovator_decree.data,
            )
            if ok:
                flash(_("The innovation %(title)s has been recorded.", title=innovation.title), "success")
                return redirect(url_for("innovations.detail", innovation_id=innovation.id))
    return render_template("innovations/form.html", form=form, innovation=None)


@bp.route("/<int:innovation_id>/edit", methods=["GET", "POST"])
def edit(innovation_id: int) -> Any:
    innovation = get_or_404(Innovation, innovation_id)
    form = InnovationForm(data={
        "title": innovation.title,
        "unit_id": innovation.unit_id or 0,
        "start_date": innovation.start_date,
        "innovator_decree": innovation.innovator_decree or "",
    })
    del form.agency_id
    form.unit_id.choices = _unit_choices(innovation.agency, innovation.unit)
    if form.validate_on_submit():
        unit = db.session.get(Unit, form.unit_id.data) if form.unit_id.data else None
        ok, changed = save_with_form(
            form, INNOVATION_FIELD_OF_CODE, services.update_innovation, current_user, innovation,
            title=form.title.data, unit=unit, start_date=form.start_date.data,
            innovator_decree=form.innovator_decree.data,
        )
        if ok:
            flash(_("The changes have been saved.") if changed else _("Nothing was changed."),
                  "success" if changed else "info")
            return redirect(url_for("innovations.detail", innovation_id=innovation.id))
    return render_template("innovations/form.html", form=form, innovation=innovation)


@bp.route("/<int:innovation_id>/awards", methods=["POST"])
def add_award(innovation_id: int) -> Any:
    innovation = get_or_404(Innovation, innovation_id)
    form = AwardForm()
    if form.validate_on_submit():
        ok, award = save_with_form(
            form, AWARD_FIELD_OF_CODE, services.add_award, current_user, innovation, year=form.year.data,
            tier=AwardTier(form.tier.data), decree_number=form.decree_number.data, source="manual",
        )
        if ok:
            flash(_("%(tier)s %(year)s has been added.", tier=services.tier_label(award.tier), year=award.year),
                  "success")
            return redirect(url_for("innovations.detail", innovation_id=innovation.id, _anchor="awards"))
        innovation = get_or_404(Innovation, innovation_id)
    return _render_detail(innovation, award_form=form, status=400)


@bp.route("/awards/<int:award_id>/remove", methods=["POST"])
def remove_award(award_id: int) -> Any:
    award = get_or_404(Award, award_id)
    innovation_id = award.innovation_id
    run_service(services.remove_award, current_user, award,
                success=_("%(tier)s %(year)s has been removed.", tier=services.tier_label(award.tier),
                          year=award.year))
    return redirect(url_for("innovations.detail", innovation_id=innovation_id, _anchor="awards"))


# --- import ---------------------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
def import_results() -> Any:
    form = ImportForm()
    if form.validate_on_submit():
        report = run_import(form, importer.import_file)
        if report is not None:
            return render_template("innovations/import_report.html", report=report,
                                   innovations=_innovations_by_id(report))
    return render_template("innovations/import.html", form=form, tier_choices=importer.TIER_CHOICES)


def _innovations_by_id(report: importer.ImportReport) -> dict[int, Innovation]:
    ids = [r.innovation_id for r in report.rows if r.innovation_id is not None]
    if not ids:
        return {}
    return {i.id: i for i in db.session.scalars(
        sa.select(Innovation).options(joinedload(Innovation.agency)).where(Innovation.id.in_(ids)))}


@bp.route("/import/template.<fmt>")
def import_template(fmt: str) -> Any:
    if fmt == "csv":
        return Response(importer.template_csv(), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=template-hasil-kipp.csv"})
    if fmt == "xlsx":
        names = db.session.scalars(sa.select(Agency.name).where(Agency.active).order_by(Agency.name)).all()
        return Response(
            importer.template_xlsx(names),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": "attachment; filename=template-hasil-kipp.xlsx"},
        )
    abort(404)


# --- khusus invitations ---------------------------------------------------------------------


@bp.route("/khusus")
def khusus() -> Any:
    """The invitations of the newest edition with a kelompok khusus."""
    editions = _khusus_editions()
    if editions:
        return redirect(url_for("innovations.khusus_edition", edition_id=editions[0].id))
    return render_template("innovations/khusus.html", edition=None, editions=[], invited=[], page=None,
                           inviters={}, invite_form=None)


@bp.route("/khusus/<int:edition_id>")
def khusus_edition(edition_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    invited = db.session.execute(
        sa.select(KhususInvitation, Innovation)
        .join(Innovation, KhususInvitation.innovation_id == Innovation.id)
        .join(Agency, Innovation.agency_id == Agency.id)
        .options(joinedload(Innovation.agency), selectinload(Innovation.awards))
        .where(KhususInvitation.edition_id == edition.id)
        .order_by(Agency.name, Innovation.title)
    ).all()
    page = None
    if edition.group(GroupCode.KHUSUS) is not None:
        already = sa.select(KhususInvitation.id).where(
            KhususInvitation.edition_id == edition.id, KhususInvitation.innovation_id == Innovation.id
        )
        query = (
            sa.select(Innovation)
            .join(Agency, Innovation.agency_id == Agency.id)
            .options(joinedload(Innovation.agency), selectinload(Innovation.awards))
            .where(services.khusus_eligible_condition(), ~sa.exists(already))
            .order_by(Agency.name, Innovation.title)
        )
        text = " ".join(request.args.get("q", "").split()).lower()
        if text:
            query = query.where(sa.or_(
                sa.func.lower(Innovation.title).contains(text, autoescape=True),
                sa.func.lower(Agency.name).contains(text, autoescape=True),
            ))
        page = paginate(query)
    return render_template(
        "innovations/khusus.html", edition=edition, editions=_khusus_editions(), invited=invited, page=page,
        inviters=_inviters(i for i, _innovation in invited), invite_form=InviteForm(formdata=None),
    )


@bp.route("/khusus/<int:edition_id>/invite", methods=["POST"])
def invite(edition_id: int) -> Any:
    edition = get_or_404(Edition, edition_id)
    form = InviteForm()
    innovation_id = form.innovation_id.data
    if not form.validate_on_submit() or not str(innovation_id).isdigit():
        flash(_("Choose an innovation to invite."), "danger")
        return redirect(url_for("innovations.khusus_edition", edition_id=edition.id))
    innovation = get_or_404(Innovation, int(innovation_id))
    run_service(services.invite_khusus, current_user, edition, innovation,
                success=_("%(title)s is invited to kelompok khusus of %(edition)s.", title=innovation.title,
                          edition=edition.name))
    if form.back.data == "innovation":
        return redirect(url_for("innovations.detail", innovation_id=innovation.id, _anchor="khusus"))
    return redirect(url_for("innovations.khusus_edition", edition_id=edition.id))


@bp.route("/khusus/invitations/<int:invitation_id>/revoke", methods=["POST"])
def revoke(invitation_id: int) -> Any:
    invitation = get_or_404(KhususInvitation, invitation_id)
    edition_id, innovation_id = invitation.edition_id, invitation.innovation_id
    title = invitation.innovation.title
    run_service(services.revoke_khusus_invitation, current_user, invitation,
                success=_("The invitation of %(title)s is withdrawn.", title=title))
    if request.form.get("back") == "innovation":
        return redirect(url_for("innovations.detail", innovation_id=innovation_id, _anchor="khusus"))
    return redirect(url_for("innovations.khusus_edition", edition_id=edition_id))
