"""The secretariat's agencies: list, detail, create and edit, units, regions, import."""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload
from wtforms import Form

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.agencies import importer, services
from kipp.agencies.forms import AgencyForm, ImportForm, UnitForm, region_choices
from kipp.agencies.kinds import AGENCY_TYPE_LABELS, CLUSTER_LABELS, DEFAULT_CLUSTER, AgencyType, Cluster
from kipp.agencies.models import Agency, Region, Unit
from kipp.errors import DomainError
from kipp.extensions import db
from kipp.web import audience, get_or_404, paginate, run_service, run_import

bp = Blueprint("agencies", __name__, url_prefix="/admin/agencies")
audience(bp, Role.SECRETARIAT)

REGION_KIND_LABELS = {"provinsi": "Provinsi", "kabupaten": "Kabupaten", "kota": "Kota"}


@bp.app_template_global()
def region_kind_label(kind: str) -> str:
    return REGION_KIND_LABELS.get(kind, kind)


# --- helpers shared with the Admin Lokal views ---------------------------------------------


def save_with_form(form: Form, field_of_code: dict[str, str], func: Any, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
    """Call a service and commit; a refusal lands on the form field its code names (the typed data
    stays in the form)."""

    def field_of(error: DomainError) -> str | None:
        return next((f for prefix, f in field_of_code.items() if (error.code or "").startswith(prefix)), None)

    return run_service(func, *args, form=form, field_of=field_of, **kwargs)


AGENCY_FIELD_OF_CODE = {"region": "region_code", "name": "name"}
UNIT_FIELD_OF_CODE = {"name": "name"}


def people_by_unit(agency_id: int) -> tuple[list[User], dict[int, list[User]]]:
    """(Admin Lokal accounts, UPP accounts by unit id) of an agency."""
    people = db.session.scalars(
        sa.select(User).where(User.agency_id == agency_id).order_by(User.name)
    ).all()
    admins = [p for p in people if p.role is Role.ADMIN_LOKAL]
    upp: dict[int, list[User]] = {}
    for person in people:
        if person.role is Role.UPP and person.unit_id is not None:
            upp.setdefault(person.unit_id, []).append(person)
    return admins, upp


# --- agencies -------------------------------------------------------------------------------


@bp.route("/")
def index() -> Any:
    conditions = _list_filters()
    query = (
        sa.select(Agency)
        .options(joinedload(Agency.region).joinedload(Region.parent))
        .where(*conditions)
    )
    by_cluster = dict(
        db.session.execute(
            sa.select(Agency.cluster, sa.func.count()).where(*conditions).group_by(Agency.cluster)
        ).all()
    )
    page = paginate(query.order_by(Agency.name))
    ids = [a.id for a in page.items]
    unit_counts = dict(
        db.session.execute(
            sa.select(Unit.agency_id, sa.func.count()).where(Unit.agency_id.in_(ids), Unit.active)
            .group_by(Unit.agency_id)
        ).all()
    ) if ids else {}
    people_counts: Counter[tuple[int, Role]] = Counter()
    if ids:
        for agency_id, role, count in db.session.execute(
            sa.select(User.agency_id, User.role, sa.func.count())
            .where(User.agency_id.in_(ids), User.active)
            .group_by(User.agency_id, User.role)
        ):
            people_counts[(agency_id, role)] = count
    provinces = db.session.scalars(sa.select(Region).where(Region.level == 1).order_by(Region.name)).all()
    return render_template(
        "agencies/index.html",
        page=page,
        unit_counts=unit_counts,
        people_counts=people_counts,
        by_cluster=by_cluster,
        provinces=provinces,
        type_labels=AGENCY_TYPE_LABELS,
        cluster_labels=CLUSTER_LABELS,
    )


def _list_filters() -> list[Any]:
    """WHERE conditions from the list's search and filter parameters."""
    args = request.args
    conditions: list[Any] = []
    text = args.get("q", "").strip()
    if text:
        conditions.append(sa.func.lower(Agency.name).contains(text.lower(), autoescape=True))
    if args.get("type") in {t.value for t in AgencyType}:
        conditions.append(Agency.type == AgencyType(args["type"]))
    if args.get("cluster") in {c.value for c in Cluster}:
        conditions.append(Agency.cluster == Cluster(args["cluster"]))
    province = args.get("province", "")
    if province.isdigit() and len(province) == 2:
        conditions.append(sa.or_(Agency.region_code == province, Agency.region_code.like(f"{province}.%")))
    region = args.get("region", "").strip()
    if region:
        conditions.append(Agency.region_code == region)
    if args.get("t3") == "yes":
        conditions.append(Agency.is_3t)
    elif args.get("t3") == "no":
        conditions.append(sa.not_(Agency.is_3t))
    if args.get("status") == "active":
        conditions.append(Agency.active)
    elif args.get("status") == "inactive":
        conditions.append(sa.not_(Agency.active))
    return conditions


def _agency_arguments(form: AgencyForm) -> dict[str, Any]:
    return {
        "name": form.name.data,
        "type": AgencyType(form.type.data),
        "region_code": form.region_code.data or None,
        "is_3t": bool(form.is_3t.data),
        "cluster": Cluster(form.cluster.data) if form.cluster.data else None,
    }


@bp.route("/new", methods=["GET", "POST"])
def create() -> Any:
    form = AgencyForm()
    form.region_code.choices = region_choices()
    if form.validate_on_submit():
        ok, agency = save_with_form(form, AGENCY_FIELD_OF_CODE, services.create_agency, current_user,
                                    **_agency_arguments(form))
        if ok:
            flash(_("The agency %(name)s has been created.", name=agency.name), "success")
            return redirect(url_for("agencies.detail", agency_id=agency.id))
    return render_template("agencies/form.html", form=form, agency=None)


@bp.route("/<int:agency_id>")
def detail(agency_id: int) -> Any:
    agency = get_or_404(Agency, agency_id)
    admins, upp = people_by_unit(agency.id)
    return render_template("agencies/detail.html", agency=agency, admins=admins, upp=upp, unit_form=UnitForm())


@bp.route("/<int:agency_id>/edit", methods=["GET", "POST"])
def edit(agency_id: int) -> Any:
    agency = get_or_404(Agency, agency_id)
    form = AgencyForm(data={
        "name": agency.name,
        "type": agency.type.value,
        "cluster": "" if agency.cluster is DEFAULT_CLUSTER[agency.type] else agency.cluster.value,
        "region_code": agency.region_code or "",
        "is_3t": agency.is_3t,
    })
    form.region_code.choices = region_choices()
    if form.validate_on_submit():
        ok, changed = save_with_form(form, AGENCY_FIELD_OF_CODE, services.update_agency, current_user, agency,
                                     **_agency_arguments(form))
        if ok:
            flash(_("The changes have been saved.") if changed else _("Nothing was changed."),
                  "success" if changed else "info")
            return redirect(url_for("agencies.detail", agency_id=agency.id))
    return render_template("agencies/form.html", form=form, agency=agency)


@bp.route("/<int:agency_id>/deactivate", methods=["POST"])
def deactivate(agency_id: int) -> Any:
    agency = get_or_404(Agency, agency_id)
    run_service(services.set_agency_active, current_user, agency, False,
                success=_("The agency is deactivated. Its accounts are unchanged; deactivate them separately "
                          "if needed."))
    return redirect(url_for("agencies.detail", agency_id=agency_id))


@bp.route("/<int:agency_id>/reactivate", methods=["POST"])
def reactivate(agency_id: int) -> Any:
    agency = get_or_404(Agency, agency_id)
    run_service(services.set_agency_active, current_user, agency, True, success=_("The agency is active again."))
    return redirect(url_for("agencies.detail", agency_id=agency_id))


# --- units ----------------------------------------------------------------------------------


@bp.route("/<int:agency_id>/units", methods=["POST"])
def add_unit(agency_id: int) -> Any:
    agency = get_or_404(Agency, agency_id)
    form = UnitForm()
    if form.validate_on_submit():
        ok, unit = save_with_form(form, UNIT_FIELD_OF_CODE, services.create_unit, current_user, agency,
                                  name=form.name.data)
        if ok:
            flash(_("The unit %(name)s has been added.", name=unit.name), "success")
            return redirect(url_for("agencies.detail", agency_id=agency.id, _anchor="units"))
    admins, upp = people_by_unit(agency.id)
    return render_template("agencies/detail.html", agency=agency, admins=admins, upp=upp, unit_form=form), 400


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
def edit_unit(unit_id: int) -> Any:
    unit = get_or_404(Unit, unit_id)
    form = UnitForm(data={"name": unit.name})
    if form.validate_on_submit():
        ok, changed = save_with_form(form, UNIT_FIELD_OF_CODE, services.rename_unit, current_user, unit,
                                     name=form.name.data)
        if ok:
            flash(_("The unit has been renamed.") if changed else _("Nothing was changed."),
                  "success" if changed else "info")
            return redirect(url_for("agencies.detail", agency_id=unit.agency_id, _anchor="units"))
    return render_template("agencies/unit_form.html", form=form, unit=unit,
                           back=url_for("agencies.detail", agency_id=unit.agency_id))


@bp.route("/units/<int:unit_id>/deactivate", methods=["POST"])
def deactivate_unit(unit_id: int) -> Any:
    unit = get_or_404(Unit, unit_id)
    remaining = services.active_upp_count(unit)
    message = _("The unit is deactivated and is no longer offered for new UPP accounts.")
    if remaining:
        message += " " + _("Its %(n)s active UPP account(s) can still log in; deactivate them separately if "
                           "needed.", n=remaining)
    run_service(services.set_unit_active, current_user, unit, False, success=message)
    return redirect(url_for("agencies.detail", agency_id=unit.agency_id, _anchor="units"))


@bp.route("/units/<int:unit_id>/reactivate", methods=["POST"])
def reactivate_unit(unit_id: int) -> Any:
    unit = get_or_404(Unit, unit_id)
    run_service(services.set_unit_active, current_user, unit, True, success=_("The unit is active again."))
    return redirect(url_for("agencies.detail", agency_id=unit.agency_id, _anchor="units"))


# --- regions --------------------------------------------------------------------------------


def _agencies_per_region() -> Counter[str]:
    return Counter(dict(
        db.session.execute(
            sa.select(Agency.region_code, sa.func.count()).where(Agency.region_code.is_not(None))
            .group_by(Agency.region_code)
        ).all()
    ))


@bp.route("/regions")
def regions() -> Any:
    all_regions = db.session.scalars(sa.select(Region).order_by(Region.code)).all()
    per_region = _agencies_per_region()
    rows: dict[str, dict[str, Any]] = {}
    for region in all_regions:
        if region.parent_code is None:
            rows[region.code] = {"region": region, "kabupaten": 0, "kota": 0, "agencies": per_region[region.code]}
    for region in all_regions:
        if region.parent_code is not None:
            row = rows[region.parent_code]
            row[region.kind] += 1
            row["agencies"] += per_region[region.code]
    totals = {
        "provinces": len(rows),
        "kabupaten": sum(r["kabupaten"] for r in rows.values()),
        "kota": sum(r["kota"] for r in rows.values()),
    }
    return render_template("agencies/regions.html", rows=list(rows.values()), totals=totals)


@bp.route("/regions/<code>")
def province(code: str) -> Any:
    region = get_or_404(Region, code, where=Region.level == 1)
    children = db.session.scalars(
        sa.select(Region).where(Region.parent_code == region.code).order_by(Region.code)
    ).all()
    return render_template("agencies/province.html", province=region, children=children,
                           per_region=_agencies_per_region())


# --- import ---------------------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
def import_agencies() -> Any:
    form = ImportForm()
    if form.validate_on_submit():
        report = run_import(form, importer.import_file)
        if report is not None:
            return render_template("agencies/import_report.html", report=report,
                                   agencies=_agencies_by_id(report))
    return render_template("agencies/import.html", form=form, type_labels=AGENCY_TYPE_LABELS,
                           cluster_labels=CLUSTER_LABELS)


def _agencies_by_id(report: importer.ImportReport) -> dict[int, Agency]:
    ids = [r.agency_id for r in report.rows if r.agency_id is not None]
    if not ids:
        return {}
    return {a.id: a for a in db.session.scalars(sa.select(Agency).where(Agency.id.in_(ids)))}


@bp.route("/import/template.<fmt>")
def import_template(fmt: str) -> Any:
    if fmt == "csv":
        return Response(importer.template_csv(), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=template-instansi.csv"})
    if fmt == "xlsx":
        regions = db.session.execute(sa.select(Region.code, Region.name).order_by(Region.code)).all()
        return Response(
            importer.template_xlsx(regions),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": "attachment; filename=template-instansi.xlsx"},
        )
    abort(404)
