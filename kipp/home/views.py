"""Each role's home page, and the health check."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from kipp.accounts.models import User
from kipp.accounts.roles import Role
from kipp.agencies.models import Agency, Unit
from kipp.db import utcnow
from kipp.editions.models import Edition
from kipp.editions.queries import current_edition
from kipp.extensions import db
from kipp.outbox.models import OutboxMessage

bp = Blueprint("home", __name__)


@bp.route("/")
def index() -> Any:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    edition = current_edition()
    context: dict[str, Any] = {"edition": edition, "now": utcnow()}
    role = current_user.role
    if role is Role.SECRETARIAT:
        context["counts"] = {
            "agencies": db.session.scalar(sa.select(sa.func.count()).select_from(Agency).where(Agency.active)),
            "units": db.session.scalar(sa.select(sa.func.count()).select_from(Unit)),
            "editions": db.session.scalar(sa.select(sa.func.count()).select_from(Edition)),
            "people": db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.active)),
        }
        context["people_by_role"] = dict(
            db.session.execute(sa.select(User.role, sa.func.count()).where(User.active).group_by(User.role)).all()
        )
        context["agencies_by_cluster"] = dict(
            db.session.execute(
                sa.select(Agency.cluster, sa.func.count()).where(Agency.active).group_by(Agency.cluster)
            ).all()
        )
        context["pending_invitations"] = db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.password_hash.is_(None), User.active)
        )
        context["undelivered"] = db.session.scalar(
            sa.select(sa.func.count()).select_from(OutboxMessage).where(OutboxMessage.processed_at.is_(None))
        )
        if edition is not None:
            from kipp.progress.services import next_step

            context["next_step"] = next_step(edition, now=context["now"])
        return render_template("home/secretariat.html", **context)
    if role is Role.ADMIN_LOKAL:
        agency = current_user.agency
        context["agency"] = agency
        context["upp_accounts"] = db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.agency_id == agency.id, User.role == Role.UPP)
        )
        return render_template("home/admin_lokal.html", **context)
    if role is Role.UPP:
        return render_template("home/upp.html", **context)
    from kipp.assignment.views import my_assignments

    from kipp.scoring.my_sheets import my_stages

    from kipp.selection.services import plenaries_of
    from kipp.verification.services import visits_of

    context["plenaries"] = plenaries_of(current_user)
    context["visits"] = visits_of(current_user)
    context["assignments"] = my_assignments(current_user.id)
    context["scoring"] = my_stages(current_user.id)
    context["scored"] = {(s.scheme.edition_id, s.scheme.stage) for s in context["scoring"]}
    return render_template("home/judge.html", **context)


@bp.route("/healthz")
def healthz() -> Any:
    db.session.execute(sa.text("SELECT 1"))
    return {"status": "ok"}
