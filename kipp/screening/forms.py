"""Forms of administrative screening. The checklist of a review has one field pair per item and is read
from the request by the view; ``ReviewForm`` carries its CSRF token and the overall note."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from kipp.screening.rules import MAX_CORRECTION_DAYS, NOTE_MAX_LENGTH


class ReasonForm(FlaskForm):
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=16)],
                       description=_l("Short and unique in the edition, for example A2. Shown to agencies with the "
                                      "reason."))
    title_id = StringField(_l("Reason (Bahasa Indonesia)"), validators=[InputRequired(), Length(max=255)])
    title_en = StringField(_l("Reason (English)"), validators=[InputRequired(), Length(max=255)])
    guidance_id = TextAreaField(_l("What to check (Bahasa Indonesia)"), validators=[Optional()],
                                render_kw={"rows": 2})
    guidance_en = TextAreaField(_l("What to check (English)"), validators=[Optional()], render_kw={"rows": 2})


class SettingsForm(FlaskForm):
    four_eyes = BooleanField(_l("Four eyes: a second screener confirms each decision before it is final"))
    correction_days = IntegerField(
        _l("Correction window (days)"), default=0,
        validators=[InputRequired(_l("Enter a number (0 or more).")),
                    NumberRange(min=0, max=MAX_CORRECTION_DAYS,
                                message=_l("Use 0 to %(max)s days.", max=MAX_CORRECTION_DAYS))],
        description=_l("A proposal that fails its first screening goes back to its Admin Lokal with the reasons "
                       "for this many days and can be submitted again once. 0: no correction window."),
    )


class ReviewForm(FlaskForm):
    note = TextAreaField(_l("Note for the secretariat (optional)"), validators=[Optional(),
                                                                              Length(max=NOTE_MAX_LENGTH)],
                         render_kw={"rows": 2})


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class AnnouncementForm(FlaskForm):
    number = StringField(_l("Number"), validators=[InputRequired(), Length(max=80)],
                         render_kw={"placeholder": "B/187/PP.00.05/2022"})
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=255)])
    body = TextAreaField(_l("Text (optional)"), validators=[Optional()], render_kw={"rows": 4})
    publish_undecided = BooleanField(_l("Publish anyway, although some proposals are not decided yet"))
