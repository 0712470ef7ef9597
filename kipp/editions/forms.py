"""Forms for the secretariat's edition settings. Choices that depend on the edition are set by the views."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from kipp.editions.rules import KEY_MAX_LENGTH, YEAR_MAX, YEAR_MIN

# datetime-local inputs send "2023-05-06T23:59"; the first format is also the one rendered.
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]

_KEY_HELP = _l("Lowercase letters, digits and underscores, starting with a letter.")


def _year() -> IntegerField:
    return IntegerField(
        _l("Year"),
        validators=[InputRequired(_l("Enter the year.")),
                    NumberRange(min=YEAR_MIN, max=YEAR_MAX,
                                message=_l("The year must be between %(min)s and %(max)s."))],
    )


def _count(label: str) -> IntegerField:
    return IntegerField(label, default=0, validators=[InputRequired(_l("Enter a number (0 or more).")),
                                                      NumberRange(min=0, message=_l("Use 0 or more."))])


class TemplateEditionForm(FlaskForm):
    """A new edition from the built-in 2023 template."""

    year = _year()
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])


class CopyEditionForm(FlaskForm):
    """'Copy from last year': a new edition from an existing one."""

    source_id = SelectField(_l("Copy from"), coerce=int, validators=[InputRequired()])
    year = _year()
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])


class EditionForm(FlaskForm):
    year = _year()
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    theme = TextAreaField(_l("Theme"), validators=[Optional()], render_kw={"rows": 2})
    legal_basis = StringField(_l("Legal basis"), validators=[Optional(), Length(max=255)],
                              description=_l("For example: PermenPANRB 7/2021 and the year's implementing act."))
    max_file_mb = IntegerField(_l("Largest file a proposal may attach (MB)"),
                               validators=[InputRequired(), NumberRange(min=1, max=100)])
    max_proposal_mb = IntegerField(_l("All files of one proposal together (MB)"),
                                   validators=[InputRequired(), NumberRange(min=1, max=1000)])
    max_files_per_section = IntegerField(_l("Most files in one section or document of a proposal"),
                                         validators=[InputRequired(), NumberRange(min=1, max=50)])
    max_files_per_proposal = IntegerField(_l("Most files in one proposal"),
                                          validators=[InputRequired(), NumberRange(min=1, max=500)])
    reminder_days = IntegerField(_l("Remind agencies this many days before submission closes"),
                                 validators=[InputRequired(), NumberRange(min=0, max=60)],
                                 description=_l("0 sends no reminder."))
    reviewers_per_proposal = IntegerField(_l("Judges per proposal"),
                                          validators=[InputRequired(), NumberRange(min=1, max=10)])
    balanced_load = BooleanField(_l("Balance the judges' loads (no one more than one above another)"))
    coi_same_province = SelectField(
        _l("A judge's province and the agencies in it"),
        choices=[("hard", _l("Conflict: never assigned")), ("soft", _l("Warning only")), ("off", _l("No conflict"))],
    )


def _weight(label: str) -> DecimalField:
    return DecimalField(label, places=2, validators=[InputRequired(_l("Enter a percentage (0 to 100).")),
                                                     NumberRange(min=0, max=100, message=_l("Use 0 to 100."))])


class SelectionSettingsForm(FlaskForm):
    """How the rounds after the evaluation run: the final formula, presentations, field verification."""

    weight_evaluation = _weight(_l("Final score: weight of the evaluation (Tim Evaluasi), %"))
    weight_panel = _weight(_l("Final score: weight of the panel review (TPI), %"))
    weight_presentation = _weight(_l("Final score: weight of the presentation and interview, %"))
    weight_field = _weight(_l("Final score: weight of the field verification, %"))
    presentation_minutes = IntegerField(_l("Presentation length (minutes)"),
                                        validators=[InputRequired(), NumberRange(min=1, max=120)])
    interview_minutes = IntegerField(_l("Interview length (minutes)"),
                                     validators=[InputRequired(), NumberRange(min=0, max=120)])
    confirm_hours = IntegerField(_l("The Admin Lokal confirms a presentation at least this many hours ahead"),
                                 validators=[InputRequired(), NumberRange(min=0, max=336)])
    field_verification = BooleanField(_l("Hold a field verification of finalists (at least one panelist and one "
                                         "evaluator per visit)"))
    bootstrap_samples = IntegerField(
        _l("Resamples used to find unstable places at a cut"),
        validators=[InputRequired(), NumberRange(min=100, max=20000)],
        description=_l("Each ranking used for a cut flags the proposals whose side of the cut changes when the "
                       "judges' sheets are resampled. More resamples, steadier figures, slower pages."))


class GroupForm(FlaskForm):
    code = SelectField(_l("Group"), validators=[InputRequired()])
    name_id = StringField(_l("Name (Bahasa Indonesia)"), validators=[DataRequired(), Length(max=255)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=255)])
    min_age_months = IntegerField(
        _l("Minimum age of the innovation (months)"), default=24,
        validators=[InputRequired(_l("Enter a number (0 or more).")), NumberRange(min=0, message=_l("Use 0 or more."))],
        description=_l("Counted back from the close of submission."),
    )
    quota_per_agency = IntegerField(
        _l("Quota per agency"), validators=[Optional(), NumberRange(min=0, message=_l("Use 0 or more."))],
        description=_l("Leave empty for no quota."),
    )
    by_invitation = BooleanField(_l("By invitation only"))
    nominee_count = _count(_l("Nominees"))
    finalist_count = _count(_l("Finalists"))
    winner_count = _count(_l("Winners"))
    winner_title = StringField(_l("Title of the winners"), validators=[DataRequired(), Length(max=255)])


class SectionForm(FlaskForm):
    key = StringField(_l("Key"), validators=[DataRequired(), Length(max=KEY_MAX_LENGTH)], description=_KEY_HELP)
    title_id = StringField(_l("Title (Bahasa Indonesia)"), validators=[DataRequired(), Length(max=255)])
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(), Length(max=255)])
    word_limit = IntegerField(
        _l("Word limit"), validators=[Optional(), NumberRange(min=1, message=_l("Use 1 or more."))],
        description=_l("Leave empty for no limit."),
    )
    weight = DecimalField(
        _l("Weight (%)"), places=2, default=0,
        validators=[InputRequired(_l("Enter the weight (0 to 100).")),
                    NumberRange(min=0, max=100, message=_l("The weight must be between 0 and 100."))],
    )
    evidence_required = BooleanField(_l("Evidence required"))
    guidance_id = TextAreaField(_l("Guidance (Bahasa Indonesia)"), validators=[Optional()], render_kw={"rows": 3})
    guidance_en = TextAreaField(_l("Guidance (English)"), validators=[Optional()], render_kw={"rows": 3})


class CategoryForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=KEY_MAX_LENGTH)], description=_KEY_HELP)
    name_id = StringField(_l("Name (Bahasa Indonesia)"), validators=[DataRequired(), Length(max=255)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=255)])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DocumentForm(FlaskForm):
    key = StringField(_l("Key"), validators=[DataRequired(), Length(max=KEY_MAX_LENGTH)], description=_KEY_HELP)
    name_id = StringField(_l("Name (Bahasa Indonesia)"), validators=[DataRequired(), Length(max=255)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=255)])
    group_codes = MultiCheckboxField(_l("Groups"), validators=[Optional()],
                                     description=_l("Tick none for every group."))
    mandatory = BooleanField(_l("Mandatory"), default=True)


class StageForm(FlaskForm):
    kind = SelectField(_l("Stage"), validators=[InputRequired()])
    name_id = StringField(_l("Name (Bahasa Indonesia)"), validators=[DataRequired(), Length(max=255)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=255)])
    opens_at = DateTimeLocalField(_l("Opens (WIB)"), format=DATETIME_FORMATS,
                                  validators=[InputRequired(_l("Enter a date and time."))])
    closes_at = DateTimeLocalField(_l("Closes (WIB)"), format=DATETIME_FORMATS,
                                   validators=[InputRequired(_l("Enter a date and time."))])
