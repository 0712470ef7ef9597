"""Forms of the objection window: the public's objection and status look-up, the secretariat's ruling and
confirmation. The services check the same rules again; these give the message beside the field."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from kipp.objections import rules
from kipp.objections.models import ObjectionStatus


class _TrimmedLength:
    """Length of the text without surrounding spaces, with the service's own message."""

    def __init__(self, field: str, minimum: int, maximum: int) -> None:
        self.field, self.minimum, self.maximum = field, minimum, maximum

    def __call__(self, form: Any, field: Any) -> None:
        from kipp.objections.services import length_message

        problem = rules.length_problem(field.data or "", self.minimum, self.maximum)
        if problem:
            raise ValidationError(length_message(self.field, problem))


def _contact(form: Any, field: Any) -> None:
    from kipp.objections.services import contact_problem

    if rules.normalize_contact(field.data) is None:
        raise ValidationError(contact_problem())


def _empty(form: Any, field: Any) -> None:
    if (field.data or "").strip():
        raise ValidationError(_l("This form could not be accepted. Leave the last field empty and send it again."))


class ObjectionForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[
        InputRequired(_l("Give your name.")), _TrimmedLength("name", rules.NAME_MIN_LENGTH, rules.NAME_MAX_LENGTH)],
        render_kw={"maxlength": rules.NAME_MAX_LENGTH, "autocomplete": "name"})
    contact = StringField(_l("Email address or telephone number"), validators=[
        InputRequired(_l("Give an email address or a telephone number.")), _contact],
        description=_l("Only the secretariat sees it. Together with the reference number it lets you look up the "
                       "ruling."),
        render_kw={"maxlength": rules.CONTACT_MAX_LENGTH})
    reason = TextAreaField(_l("Reason for the objection"), validators=[
        InputRequired(_l("Explain what the objection is about.")),
        _TrimmedLength("reason", rules.REASON_MIN_LENGTH, rules.REASON_MAX_LENGTH)],
        description=_l("What is wrong with this finalist, and how you know it (%(min)s to %(max)s characters).",
                       min=rules.REASON_MIN_LENGTH, max=rules.REASON_MAX_LENGTH),
        render_kw={"rows": 8, "maxlength": rules.REASON_MAX_LENGTH})
    evidence = FileField(_l("Evidence (optional): a PDF, JPEG or PNG file"))
    # A honeypot: hidden from people, filled in by form-filling robots.
    website = StringField(_l("Leave this field empty"), validators=[_empty],
                          render_kw={"autocomplete": "off", "tabindex": "-1"})


class StatusForm(FlaskForm):
    reference = StringField(_l("Reference number"), validators=[InputRequired(), Length(max=80)],
                            render_kw={"placeholder": "SGH/2025/00001"})
    contact = StringField(_l("Email address or telephone number given with the objection"),
                          validators=[InputRequired(), Length(max=rules.CONTACT_MAX_LENGTH)])


class RulingForm(FlaskForm):
    decision = RadioField(_l("Ruling"), choices=[
        SelectChoice(ObjectionStatus.REJECTED.value, _l("Rejected: the finalist stays on the list")),
        SelectChoice(ObjectionStatus.UPHELD.value, _l("Upheld: the finalist is disqualified")),
    ], validators=[InputRequired(_l("Choose whether the objection is rejected or upheld."))])
    ruling = TextAreaField(_l("Reasons for the ruling"), validators=[
        InputRequired(_l("Give the reasons for the ruling.")),
        _TrimmedLength("ruling", rules.RULING_MIN_LENGTH, rules.RULING_MAX_LENGTH)],
        description=_l("The filer can read them with their reference number; an upheld objection's reasons are "
                       "sent to the finalist's agency."),
        render_kw={"rows": 5, "maxlength": rules.RULING_MAX_LENGTH})
    final = BooleanField(_l("I understand that the ruling is final and cannot be changed."),
                         validators=[DataRequired(_l("Tick this box to record the ruling."))])


class ConfirmForm(FlaskForm):
    decree_number = StringField(_l("Decree (Kepmen) number"), validators=[
        InputRequired(_l("Give the number of the decree (Kepmen) that confirms the finalists.")),
        Length(max=rules.DECREE_MAX_LENGTH)], render_kw={"placeholder": "B/99/PP.00.05/2025"})
    decree_date = DateField(_l("Decree date"), validators=[InputRequired(_l("Give the date of the decree."))])
