"""Forms of the presentation schedule (secretariat) and of the agency's confirmation and materials."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, DateTimeLocalField, IntegerField, RadioField, StringField, TextAreaField
from wtforms import TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from kipp.presentations.rules import MAX_BREAK_MINUTES, URL_MAX

NOTE_MAX = 2000
MINUTES = NumberRange(min=1, max=120, message=_l("Use 1 to 120 minutes."))
INTERVIEW_MINUTES = NumberRange(min=0, max=120, message=_l("Use 0 to 120 minutes."))


class GenerateForm(FlaskForm):
    first_day = DateField(_l("First day"), validators=[InputRequired(_l("Choose the first day."))])
    # Office hours in Jakarta by default; the panel may sit longer.
    day_start = TimeField(_l("Daily start (WIB)"), format="%H:%M", default=dt.time(8, 0),
                          validators=[InputRequired(_l("Give the time the first slot of a day starts."))])
    day_end = TimeField(_l("Daily end (WIB)"), format="%H:%M", default=dt.time(16, 0),
                        validators=[InputRequired(_l("Give the time the last slot of a day must end by."))])
    break_minutes = IntegerField(
        _l("Break between slots (minutes)"), default=10,
        validators=[InputRequired(_l("Enter a number (0 or more).")),
                    NumberRange(min=0, max=MAX_BREAK_MINUTES, message=_l("Use 0 to %(max)s minutes.",
                                                                          max=MAX_BREAK_MINUTES))])
    presentation_minutes = IntegerField(_l("Presentation (minutes)"),
                                        validators=[InputRequired(_l("Enter a number.")), MINUTES])
    interview_minutes = IntegerField(_l("Interview (minutes)"),
                                     validators=[InputRequired(_l("Enter a number.")), INTERVIEW_MINUTES])
    skip_weekends = BooleanField(_l("Skip Saturdays and Sundays"), default=True)
    meeting_url = StringField(_l("Meeting link for all slots (optional)"),
                              validators=[Optional(), Length(max=URL_MAX)],
                              description=_l("For example the Zoom or Google Meet link. Each slot can get its own "
                                             "link later."))


class SlotForm(FlaskForm):
    starts_at = DateTimeLocalField(_l("Starts (WIB)"), format="%Y-%m-%dT%H:%M",
                                   validators=[InputRequired(_l("Give the date and time."))])
    presentation_minutes = IntegerField(_l("Presentation (minutes)"),
                                        validators=[InputRequired(_l("Enter a number.")), MINUTES])
    interview_minutes = IntegerField(_l("Interview (minutes)"),
                                     validators=[InputRequired(_l("Enter a number.")), INTERVIEW_MINUTES])
    meeting_url = StringField(_l("Meeting link"), validators=[Optional(), Length(max=URL_MAX)])
    notes = TextAreaField(_l("Notes for the secretariat (optional)"), validators=[Optional(), Length(max=NOTE_MAX)],
                          render_kw={"rows": 2})


class AttendanceForm(FlaskForm):
    attendance = RadioField(_l("Attendance"), choices=[SelectChoice("presented", _l("Presented")),
                                                       SelectChoice("no_show", _l("Did not come (no-show)"))],
                            validators=[InputRequired(_l("Choose presented or no-show."))])
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=NOTE_MAX)], render_kw={"rows": 2})


class ConfirmForm(FlaskForm):
    presenter_name = StringField(_l("Who presents (name and position)"),
                                 validators=[InputRequired(_l("Name the person who will present.")),
                                             Length(max=255)],
                                 description=_l("The agency head is expected to present where possible."))


class MaterialsForm(FlaskForm):
    slides = FileField(_l("Slides (PDF)"))
    video_url = StringField(_l("Video link"), validators=[Optional(), Length(max=URL_MAX)],
                            description=_l("A link to the video, e.g. on YouTube or Google Drive (http or https)."))


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
