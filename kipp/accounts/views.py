"""The secretariat's management of people: list, invite, deactivate, help with passwords."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from kipp.accounts import services
from kipp.accounts.forms import InviteForm
from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.agencies.models import Agency
from kipp.extensions import db
from kipp.web import audience, get_or_404, paginate, run_service

bp = Blueprint("accounts", __name__, url_prefix="/admin/people")
audience(bp, Role.SECRETARIAT)

# Roles the secretariat invites directly; UPP accounts come from each Admin Lokal.
INVITABLE_ROLES = (Role.ADMIN_LOKAL, Role.EVALUATOR, Role.PANELIST, Role.SECRETARIAT)


@bp.route("/")
def index() -> Any:
    query = sa.select(User).options(joinedload(User.agency), joinedload(User.unit)).order_by(User.name)
    role = request.args.get("role", "")
    status = request.args.get("status", "")
    text = request.args.get("q", "").strip()
    agency_id = request.args.get("agency", type=int)
    if role in {r.value for r in Role}:
        query = query.where(User.role == Role(role))
    if status == "active":
        query = query.where(User.active, User.password_hash.is_not(None))
    elif status == "invited":
        query = query.where(User.active, User.password_hash.is_(None))
    elif status == "inactive":
        query = query.where(sa.not_(User.active))
    if agency_id:
        query = query.where(User.agency_id == agency_id)
    if text:
        like = f"%{text.lower()}%"
        query = query.where(sa.or_(sa.func.lower(User.name).like(like), User.email.like(like)))
    return render_template("accounts/index.html", page=paginate(query))


def _agency_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(sa.select(Agency.id, Agency.name).where(Agency.active).order_by(Agency.name)).all()
    return [(0, "—")] + [(r.id, r.name) for r in rows]


@bp.route("/invite", methods=["GET", "POST"])
def invite() -> Any:
    form = InviteForm(agency_id=request.args.get("agency", 0, type=int), role=request.args.get("role", "admin_lokal"))
    form.role.choices = [(r.value, _(r_label)) for r, r_label in _role_labels()]
    form.agency_id.choices = _agency_choices()
    if form.validate_on_submit():
        agency = db.session.get(Agency, form.agency_id.data) if form.agency_id.data else None
        ok, user = run_service(
            services.invite,
            current_user,
            email=form.email.data,
            name=form.name.data,
            role=Role(form.role.data),
            agency=agency,
            affiliation=form.affiliation.data or None,
            phone=form.phone.data or None,
            success=_("The invitation has been sent to %(email)s.", email=form.email.data),
        )
        if ok:
            return redirect(url_for("accounts.detail", user_id=user.id))
    return render_template("accounts/invite.html", form=form)


def _role_labels() -> list[tuple[Role, str]]:
    from kipp.accounts.roles import ROLE_LABELS

    return [(r, ROLE_LABELS[r]) for r in INVITABLE_ROLES]


@bp.route("/<int:user_id>")
def detail(user_id: int) -> Any:
    person = get_or_404(User, user_id)
    return render_template("accounts/detail.html", person=person, temporary=None)


@bp.route("/<int:user_id>/deactivate", methods=["POST"])
def deactivate(user_id: int) -> Any:
    person = get_or_404(User, user_id)
    run_service(services.set_active, current_user, person, False,
                success=_("%(name)s can no longer log in; open sessions have ended.", name=person.name))
    return redirect(url_for("accounts.detail", user_id=user_id))


@bp.route("/<int:user_id>/reactivate", methods=["POST"])
def reactivate(user_id: int) -> Any:
    person = get_or_404(User, user_id)
    run_service(services.set_active, current_user, person, True, success=_("The account is active again."))
    return redirect(url_for("accounts.detail", user_id=user_id))


@bp.route("/<int:user_id>/resend-invitation", methods=["POST"])
def resend_invitation(user_id: int) -> Any:
    person = get_or_404(User, user_id)
    run_service(services.resend_invitation, current_user, person, success=_("A new invitation has been sent."))
    return redirect(url_for("accounts.detail", user_id=user_id))


@bp.route("/<int:user_id>/temporary-password", methods=["POST"])
def temporary_password(user_id: int) -> Any:
    person = get_or_404(User, user_id)
    ok, temporary = run_service(services.issue_temporary_password, current_user, person)
    if not ok:
        return redirect(url_for("accounts.detail", user_id=user_id))
    # Shown once, never stored in clear: the helpdesk reads it out to the person.
    return render_template("accounts/detail.html", person=person, temporary=temporary)
