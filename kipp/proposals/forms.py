from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class NewProposalForm(FlaskForm):
    group_id = SelectField(_l("Group"), coerce=int, validators=[DataRequired()])
    unit_id = SelectField(_l("Unit (UPP)"), coerce=int, validators=[Optional()])
    innovation_id = SelectField(_l("Innovation already known to KIPP (optional)"), coerce=int,
                                validators=[Optional()])


class CommentForm(FlaskForm):
    comment = TextAreaField(_l("Comments for the unit"), validators=[DataRequired(), Length(max=5000)])


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the withdrawal"), validators=[DataRequired(), Length(max=2000)])


class VersionForm(FlaskForm):
    """Send or submit: a POST with CSRF and the version the person saw."""

    version = HiddenField()
