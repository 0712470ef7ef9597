"""The secretariat extends the submission deadline, for everyone or for one agency."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from wtforms import DateTimeLocalField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from kipp.accounts.roles import Role
from kipp.agencies.models import Agency
from kipp.editions.models import Edition
from kipp.editions.queries import current_edition
from kipp.extensions import db
from kipp.i18n import from_wib
from kipp.proposals import services
from kipp.proposals.models import DeadlineExtension
from kipp.web import audience, get_or_404, run_service

bp = Blueprint("deadlines", __name__, url_prefix="/admin/deadlines")
audience(bp, Role.SECRETARIAT)


class ExtensionForm(FlaskForm):
    agency_id = SelectField(_l("For"), coerce=int)
    closes_at = DateTimeLocalField(_l("New deadline (WIB)"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


@bp.route("/", methods=["GET", "POST"])
def index() -> Any:
    edition_id = request.args.get("edition", type=int)
    edition = db.session.get(Edition, edition_id) if edition_id else current_edition()
    if edition is None:
        abort(404)
    form = ExtensionForm()
    agencies = db.session.execute(sa.select(Agency.id, Agency.name).where(Agency.active).order_by(Agency.name)).all()
    form.agency_id.choices = [(0, _("Every agency (the whole edition)"))] + [(a.id, a.name) for a in agencies]
    if form.validate_on_submit():
        agency = get_or_404(Agency, form.agency_id.data) if form.agency_id.data else None
        ok, _ext = run_service(
            services.extend_deadline, current_user, edition, agency=agency,
            closes_at=from_wib(form.closes_at.data), reason=form.reason.data,
            success=_("The deadline was extended."),
        )
        if ok:
            return redirect(url_for("deadlines.index", edition=edition.id))
    extensions = db.session.scalars(
        sa.select(DeadlineExtension).where(DeadlineExtension.edition_id == edition.id)
        .options(selectinload(DeadlineExtension.agency), selectinload(DeadlineExtension.created_by))
        .order_by(DeadlineExtension.id.desc())
    ).all()
    stage_window = services.submission_window(edition, -1)
    return render_template("proposals/deadlines.html", edition=edition, form=form, extensions=extensions,
                           stage_window=stage_window, editions=db.session.scalars(
                               sa.select(Edition).order_by(Edition.year.desc())).all(),
                           now=dt.datetime.now(dt.timezone.utc))
