from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email()])


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    phone = StringField(_l("Phone (WhatsApp)"), validators=[Optional(), Length(max=80)])
    locale = SelectField(_l("Language"), choices=[("id", "Bahasa Indonesia"), ("en", "English")])


class InviteForm(FlaskForm):
    """Secretariat's invitation form; the agency and role choices are filled by the view."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=255)])
    phone = StringField(_l("Phone (WhatsApp)"), validators=[Optional(), Length(max=80)])
    role = SelectField(_l("Role"))
    agency_id = SelectField(_l("Agency"), coerce=int, validators=[Optional()])
    affiliation = StringField(_l("Affiliation (university or organisation)"), validators=[Optional(), Length(max=255)])


class UppAccountForm(FlaskForm):
    """Admin Lokal's form for a UPP operator of one of its units."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=255)])
    phone = StringField(_l("Phone (WhatsApp)"), validators=[Optional(), Length(max=80)])
    unit_id = SelectField(_l("Unit (UPP)"), coerce=int, validators=[DataRequired()])


class ConfirmForm(FlaskForm):
    """A POST with CSRF and nothing else (buttons for state changes)."""

    confirmed = BooleanField(default=True)
