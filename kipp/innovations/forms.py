"""Forms for the secretariat's innovation pages. Choices that come from the database are set by the views."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from kipp.agencies.forms import ImportForm
from kipp.innovations.kinds import TIER_LABELS

__all__ = ["AwardForm", "ImportForm", "InnovationForm", "InviteForm", "tier_choices"]


def tier_choices() -> list[SelectChoice]:
    return [SelectChoice(t.value, label) for t, label in TIER_LABELS.items()]


class InnovationForm(FlaskForm):
    """A new innovation (agency chosen) or corrections to one (agency fixed: the view removes the field).

    The unit choices are the agency's units; the view fills them in.
    """

    agency_id = SelectField(_l("Agency"), coerce=int, validators=[InputRequired(_l("Choose the agency."))])
    title = StringField(_l("Title"), validators=[DataRequired(_l("Enter the title of the innovation.")),
                                                 Length(max=255)])
    unit_id = SelectField(_l("Unit (UPP)"), coerce=int, validators=[Optional()])
    start_date = DateField(_l("Start date"), validators=[Optional()],
                           description=_l("When the innovation started; its minimum age for entering is counted "
                                          "from this date."))
    innovator_decree = StringField(_l("Innovator decree (SK)"), validators=[Optional(), Length(max=255)],
                                   description=_l("The number of the decree naming the innovator or team."))


class AwardForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[InputRequired(_l("Enter the year of the award."))])
    tier = SelectField(_l("Tier"), choices=tier_choices(), validators=[DataRequired()])
    decree_number = StringField(_l("Decree number"), validators=[Optional(), Length(max=255)])


class InviteForm(FlaskForm):
    innovation_id = HiddenField(validators=[DataRequired()])
    back = HiddenField()
