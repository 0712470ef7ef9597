"""Forms of the pools (secretariat) and of the judges' own pages; choices are filled by the views."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from kipp.editions.forms import MultiCheckboxField

_LOAD_HELP = _l("The most proposals this person reviews in this stage; leave empty for no limit.")
_NOT_NEGATIVE = NumberRange(min=0, message=_l("The maximum load cannot be negative; leave it empty for no limit."))


class _MemberFields(FlaskForm):
    agency_id = SelectField(_l("Agency (if the person works at one on the agency list)"), coerce=int,
                            validators=[Optional()])
    affiliation = StringField(_l("Affiliation (university or organisation)"), validators=[Optional(), Length(max=255)])
    home_region_code = SelectField(_l("Home region"), validators=[Optional()],
                                   description=_l("Where the person lives or comes from; proposals of regional "
                                                  "governments in the same province are a conflict of interest."))
    max_load = IntegerField(_l("Maximum load"), validators=[Optional(), _NOT_NEGATIVE], description=_LOAD_HELP)
    expertise = MultiCheckboxField(_l("Expertise (categories)"), coerce=int, validators=[Optional()])


class PoolInviteForm(_MemberFields):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=255)],
                       description=_l("An existing account with this address is reused."))
    role = SelectField(_l("Role"))


class MemberForm(_MemberFields):
    team_id = SelectField(_l("Team"), coerce=int, validators=[Optional()])


class SetTeamForm(FlaskForm):
    team_id = SelectField(_l("Team"), coerce=int)


class TeamForm(FlaskForm):
    name = StringField(_l("Team name"), validators=[DataRequired(), Length(max=255)])
    max_load = IntegerField(_l("Maximum load of the team"), validators=[Optional(), _NOT_NEGATIVE],
                            description=_l("The most proposals the team reviews; leave empty for no limit."))


class RespondForm(FlaskForm):
    """Accept (with one's expertise) or decline; the button pressed is the answer."""

    expertise = MultiCheckboxField(_l("My fields of expertise"), coerce=int, validators=[Optional()])
    answer = HiddenField()


class DeclarationForm(FlaskForm):
    """One form for the three kinds, prefixed by its kind; each card shows the target field of its kind."""

    agency_id = SelectField(_l("Agency"), coerce=int, validators=[Optional()])
    region_code = SelectField(_l("Region"), validators=[Optional()],
                              description=_l("A province covers its own government and every kabupaten/kota in it."))
    # Only the judge's own proposals are offered; any other number gets one and the same answer
    # (the view checks it, not WTForms, whose refusal would differ from the service's).
    proposal_number = SelectField(_l("Proposal"), validators=[Optional()], validate_choice=False,
                                  description=_l("One of the proposals assigned to you. To stay away from a "
                                                 "proposal you have not been given, declare its agency."))
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)], render_kw={"rows": 3},
                           description=_l("For example: I worked there until 2023; a relative leads this unit."))
