"""Forms of the secretariat's scoring pages (the judges' scoring form is elsewhere)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from kipp.editions.forms import DATETIME_FORMATS
from kipp.scoring.models import Visibility
from kipp.scoring.services import REASON_MAX

VISIBILITY_LABELS = {
    Visibility.BLIND: _l("Blind: a judge sees only their own scores until the secretariat opens consolidation"),
    Visibility.AFTER_OWN: _l("After their own: a judge sees the others' scores of a proposal once they have "
                             "submitted their own sheet"),
    Visibility.OPEN: _l("Open: judges always see each other's scores"),
}


class SettingsForm(FlaskForm):
    passing_grade = DecimalField(
        _l("Passing grade (optional)"), places=2, validators=[Optional()],
        description=_l("Proposals whose total reaches it are marked in the ranking. Empty: no passing grade."))
    disagreement_threshold = DecimalField(
        _l("Disagreement threshold"), places=2,
        validators=[InputRequired(_l("Enter a number (0 or more).")),
                    NumberRange(min=0, max=9999, message=_l("Enter a number (0 or more)."))],
        description=_l("A proposal is flagged when its judges' totals have a standard deviation above this; a score "
                       "further than this from the aspect's mean is highlighted."))
    normalise = BooleanField(_l("Normalise the judges' totals (z-score per judge)"))
    normalise_min_sheets = IntegerField(
        _l("Normalise a judge from this many scored proposals"), default=5,
        validators=[InputRequired(_l("Enter a number (2 or more).")),
                    NumberRange(min=2, max=10000, message=_l("Enter a number (2 or more)."))])
    tie_break = StringField(
        _l("Tie-break aspects"), validators=[Optional(), Length(max=255)],
        description=_l("Aspect keys separated by commas, in order: equal totals are ordered by these aspects' "
                       "weighted means."))
    visibility = SelectField(_l("What judges see of each other's scores"),
                             choices=[(v.value, label) for v, label in VISIBILITY_LABELS.items()])
    deadline = DateTimeLocalField(
        _l("Scoring deadline (WIB)"), format=DATETIME_FORMATS, validators=[Optional()],
        description=_l("Empty: the stage's closing time."))
    reminder_days = IntegerField(
        _l("Remind judges from this many days before the deadline"), default=2,
        validators=[InputRequired(_l("Enter a number (0 or more).")),
                    NumberRange(min=0, max=60, message=_l("Use 0 to %(max)s days.", max=60))])
    closed = BooleanField(_l("Scoring is closed: judges can no longer save or submit"))


class RemindForm(FlaskForm):
    member_id = IntegerField(validators=[Optional()])


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=REASON_MAX)])


class NoteForm(FlaskForm):
    note = TextAreaField(_l("What should the judges look at again?"), validators=[Optional(), Length(max=REASON_MAX)],
                         render_kw={"rows": 2})


class AddJudgeForm(FlaskForm):
    member_id = SelectField(_l("Judge"), coerce=int, validate_choice=False)


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
