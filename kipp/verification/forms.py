"""Forms of the field verification: planning a visit (secretariat) and recording its findings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from kipp.verification.services import FINDINGS_MAX, LOCATION_MAX


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class VisitForm(FlaskForm):
    # Choices are checked by the service, which says what is wrong with a choice.
    proposal_id = SelectField(_l("Finalist"), coerce=int, validate_choice=False,
                              validators=[InputRequired(_l("Choose the finalist to visit."))])
    visit_date = DateField(_l("Date of the visit"), validators=[InputRequired(_l("Choose the date of the visit."))])
    location = StringField(_l("Location"), validators=[InputRequired(_l("Say where the team goes.")),
                                                       Length(max=LOCATION_MAX)],
                           description=_l("The address or the place where the service is delivered."))
    member_ids = CheckboxesField(_l("Team"), coerce=int, validate_choice=False,
                                 description=_l("At least one panelist (Tim Panel Independen) and one evaluator "
                                                "(Tim Evaluasi) of the field verification pool."))


class VisitChangeForm(VisitForm):
    """The same fields for a planned visit; its finalist stays."""

    proposal_id = None  # type: ignore[assignment]


class FindingsForm(FlaskForm):
    findings = TextAreaField(_l("Findings"), validators=[InputRequired(_l("Write down what the team found.")),
                                                         Length(max=FINDINGS_MAX)], render_kw={"rows": 8})
    score = StringField(_l("Score (0–100)"), validators=[InputRequired(_l("Give a score from 0 to 100."))],
                        render_kw={"inputmode": "decimal"})


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
