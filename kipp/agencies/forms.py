from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from kipp.agencies.kinds import AGENCY_TYPE_LABELS, CLUSTER_LABELS
from kipp.agencies.models import Region
from kipp.extensions import db


def region_choices() -> list[SelectChoice]:
    """'No region', then one <optgroup> per province: the province itself, then its kabupaten/kota."""
    regions = db.session.scalars(sa.select(Region).order_by(Region.code)).all()
    provinces = {r.code: r for r in regions if r.parent_code is None}
    children: dict[str, list[Region]] = {code: [] for code in provinces}
    for region in regions:
        if region.parent_code is not None:
            children.setdefault(region.parent_code, []).append(region)
    choices = [SelectChoice("", _("— No region (central agencies, BUMN) —"))]
    for code, province in provinces.items():
        group = f"{code} · {province.name}"
        choices.append(SelectChoice(code, f"{code} · " + _("%(name)s (province)", name=province.name), optgroup=group))
        choices.extend(SelectChoice(r.code, f"{r.code} · {r.name}", optgroup=group) for r in children[code])
    return choices


class AgencyForm(FlaskForm):
    """The secretariat's agency form; the region choices are filled by the view."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)],
                       description=_l("The full official name, e.g. Pemerintah Kota Manado."))
    type = SelectField(_l("Type"), choices=[SelectChoice(t.value, label) for t, label in AGENCY_TYPE_LABELS.items()],
                       validators=[DataRequired()])
    cluster = SelectField(
        _l("Cluster"),
        choices=[SelectChoice("", _l("The type's usual cluster"))]
        + [SelectChoice(c.value, label) for c, label in CLUSTER_LABELS.items()],
        validators=[Optional()],
        description=_l("The cluster the agency competes in when nominees and finalists are composed."),
    )
    region_code = SelectField(
        _l("Region"),
        validators=[Optional()],
        description=_l("Provincial, regency and city governments and BUMD need their own region; "
                       "others may name their seat or nothing."),
    )
    is_3t = BooleanField(_l("In a lagging region (daerah tertinggal, 3T)"))


class UnitForm(FlaskForm):
    name = StringField(_l("Unit name"), validators=[DataRequired(), Length(max=255)],
                       description=_l("For example: Dinas Kependudukan dan Pencatatan Sipil."))


class ImportForm(FlaskForm):
    file = FileField(_l("CSV or Excel (.xlsx) file"), validators=[FileRequired(_l("Choose a file to import."))])
