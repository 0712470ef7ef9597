"""The secretariat's view of the audit trail: browse and filter, never edit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, render_template, request
from sqlalchemy.orm import joinedload

from kipp.accounts.roles import Role
from kipp.audit.models import AuditEvent
from kipp.extensions import db
from kipp.i18n import from_wib
from kipp.web import audience, paginate

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")
audience(bp, Role.SECRETARIAT)


def _date_arg(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.route("/")
def index() -> Any:
    query = sa.select(AuditEvent).options(joinedload(AuditEvent.actor)).order_by(AuditEvent.id.desc())
    actor = request.args.get("actor", "").strip().lower()
    action = request.args.get("action", "").strip()
    object_type = request.args.get("object_type", "").strip()
    object_id = request.args.get("object_id", "").strip()
    since, until = _date_arg("since"), _date_arg("until")
    if actor:
        query = query.where(AuditEvent.actor_label.contains(actor))
    if action:
        query = query.where(AuditEvent.action == action)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id:
        query = query.where(AuditEvent.object_id == object_id)
    if since:
        query = query.where(AuditEvent.at >= from_wib(dt.datetime.combine(since, dt.time.min)))
    if until:
        query = query.where(AuditEvent.at < from_wib(dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min)))
    actions = db.session.scalars(sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    object_types = db.session.scalars(
        sa.select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type)
    ).all()
    return render_template(
        "audit/index.html", page=paginate(query), actions=actions, object_types=object_types
    )
