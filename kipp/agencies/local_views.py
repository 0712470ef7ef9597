"""The Admin Lokal's own agency: its units and the UPP accounts of those units.

Everything is scoped to ``current_user.agency_id``: a unit or a person of
another agency answers 404, as does a person who is not a UPP.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from kipp.accounts import services as accounts
from kipp.accounts.forms import UppAccountForm
from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.agencies import services
from kipp.agencies.forms import UnitForm
from kipp.agencies.models import Agency, Unit
from kipp.agencies.views import UNIT_FIELD_OF_CODE, people_by_unit, save_with_form
from kipp.extensions import db
from kipp.web import audience, get_or_404, run_service

bp = Blueprint("local", __name__, url_prefix="/agency")
audience(bp, Role.ADMIN_LOKAL)

# Errors of accounts.services.invite, by the form field they belong to.
UPP_FIELD_OF_CODE = {"email": "email", "unit": "unit_id"}


def _agency() -> Agency:
    agency = db.session.get(Agency, current_user.agency_id)
    if agency is None:
        abort(404)
    return agency


def _own_unit(unit_id: int) -> Unit:
    return get_or_404(Unit, unit_id, where=Unit.agency_id == current_user.agency_id)


def _own_upp(user_id: int) -> User:
    return get_or_404(User, user_id, where=sa.and_(User.agency_id == current_user.agency_id, User.role == Role.UPP))


def _page(unit_form: UnitForm | None = None, status: int = 200) -> Any:
    agency = _agency()
    admins, upp = people_by_unit(agency.id)
    return render_template(
        "local/agency.html", agency=agency, admins=admins, upp=upp, unit_form=unit_form or UnitForm()
    ), status


@bp.route("/")
def agency() -> Any:
    return _page()


# --- units ----------------------------------------------------------------------------------


@bp.route("/units", methods=["POST"])
def add_unit() -> Any:
    form = UnitForm()
    if form.validate_on_submit():
        ok, unit = save_with_form(form, UNIT_FIELD_OF_CODE, services.create_unit, current_user, _agency(),
                                  name=form.name.data)
        if ok:
            flash(_("The unit %(name)s has been added.", name=unit.name), "success")
            return redirect(url_for("local.agency", _anchor="units"))
    return _page(form, 400)


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
def edit_unit(unit_id: int) -> Any:
    unit = _own_unit(unit_id)
    form = UnitForm(data={"name": unit.name})
    if form.validate_on_submit():
        ok, changed = save_with_form(form, UNIT_FIELD_OF_CODE, services.rename_unit, current_user, unit,
                                     name=form.name.data)
        if ok:
            flash(_("The unit has been renamed.") if changed else _("Nothing was changed."),
                  "success" if changed else "info")
            return redirect(url_for("local.agency", _anchor="units"))
    return render_template("agencies/unit_form.html", form=form, unit=unit, back=url_for("local.agency"))


@bp.route("/units/<int:unit_id>/deactivate", methods=["POST"])
def deactivate_unit(unit_id: int) -> Any:
    unit = _own_unit(unit_id)
    remaining = services.active_upp_count(unit)
    message = _("The unit is deactivated and is no longer offered for new UPP accounts.")
    if remaining:
        message += " " + _("Its %(n)s active UPP account(s) can still log in; deactivate them separately if "
                           "needed.", n=remaining)
    run_service(services.set_unit_active, current_user, unit, False, success=message)
    return redirect(url_for("local.agency", _anchor="units"))


@bp.route("/units/<int:unit_id>/reactivate", methods=["POST"])
def reactivate_unit(unit_id: int) -> Any:
    unit = _own_unit(unit_id)
    run_service(services.set_unit_active, current_user, unit, True, success=_("The unit is active again."))
    return redirect(url_for("local.agency", _anchor="units"))


# --- UPP accounts ---------------------------------------------------------------------------


@bp.route("/people/new", methods=["GET", "POST"])
def new_upp() -> Any:
    agency = _agency()
    units = [u for u in agency.units if u.active]
    form = UppAccountForm(unit_id=request.args.get("unit", type=int))
    form.unit_id.choices = [SelectChoice(u.id, u.name) for u in units]
    if not units:
        flash(_("Add a unit first: every UPP account belongs to a unit."), "warning")
        return redirect(url_for("local.agency", _anchor="units"))
    if form.validate_on_submit():
        unit = _own_unit(form.unit_id.data)
        ok, user = save_with_form(
            form, UPP_FIELD_OF_CODE, accounts.invite, current_user,
            email=form.email.data, name=form.name.data, role=Role.UPP, unit=unit, phone=form.phone.data or None,
        )
        if ok:
            flash(_("The invitation has been sent to %(email)s.", email=user.email), "success")
            return redirect(url_for("local.person", user_id=user.id))
    return render_template("local/new_upp.html", form=form, agency=agency)


@bp.route("/people/<int:user_id>")
def person(user_id: int) -> Any:
    return render_template("local/person.html", person=_own_upp(user_id), temporary=None)


@bp.route("/people/<int:user_id>/deactivate", methods=["POST"])
def deactivate(user_id: int) -> Any:
    person = _own_upp(user_id)
    run_service(accounts.set_active, current_user, person, False,
                success=_("%(name)s can no longer log in; open sessions have ended.", name=person.name))
    return redirect(url_for("local.person", user_id=user_id))


@bp.route("/people/<int:user_id>/reactivate", methods=["POST"])
def reactivate(user_id: int) -> Any:
    person = _own_upp(user_id)
    run_service(accounts.set_active, current_user, person, True, success=_("The account is active again."))
    return redirect(url_for("local.person", user_id=user_id))


@bp.route("/people/<int:user_id>/resend-invitation", methods=["POST"])
def resend_invitation(user_id: int) -> Any:
    person = _own_upp(user_id)
    run_service(accounts.resend_invitation, current_user, person, success=_("A new invitation has been sent."))
    return redirect(url_for("local.person", user_id=user_id))


@bp.route("/people/<int:user_id>/temporary-password", methods=["POST"])
def temporary_password(user_id: int) -> Any:
    person = _own_upp(user_id)
    ok, temporary = run_service(accounts.issue_temporary_password, current_user, person)
    if not ok:
        return redirect(url_for("local.person", user_id=user_id))
    # Shown once, never stored in clear.
    return render_template("local/person.html", person=person, temporary=temporary)
