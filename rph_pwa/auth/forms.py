"""Sign-in and account forms. Validators check shape only; services check the rest."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, Regexp

from ..config import LANGUAGE_NAMES
from ..forms import BaseForm, PhoneNumber, name_filter

CODE_PATTERN = r"^\s*\d{3}\s?\d{3}\s*$"


class RegisterForm(BaseForm):
    """Create a resident account: where you live, what we may call you, consent."""

    municipality = SelectField(_l("Which municipality do you live in?"), coerce=int,
                               validators=[InputRequired(_l("Choose your municipality."))])
    display_name = StringField(_l("What would you like us to call you? (optional)"), filters=[name_filter],
                               validators=[Optional(), Length(max=80, message=_l("Use at most 80 characters."))])
    consent = BooleanField(_l("I have read how my information is stored and protected."),
                           validators=[DataRequired(_l("Please confirm that you have read this."))])


class EmailForm(BaseForm):
    """An e-mail address, for a sign-in code or to add as a fallback."""

    email = EmailField(_l("E-mail address"), validators=[
        DataRequired(_l("Enter your e-mail address.")),
        Length(max=254, message=_l("The address is too long.")),
        Email(_l("Enter an e-mail address like name@example.no."), check_deliverability=False),
    ])


class CodeForm(BaseForm):
    """A six-digit code from an e-mail."""

    code = StringField(_l("Code from the e-mail"), validators=[
        DataRequired(_l("Enter the code from the e-mail.")),
        Regexp(CODE_PATTERN, message=_l("The code has six digits.")),
    ])


class StaffLoginForm(BaseForm):
    """Staff username and password (the first factor)."""

    username = StringField(_l("Username"), validators=[DataRequired(_l("Enter your username.")),
                                                      Length(max=80, message=_l("The username is too long."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")),
                                                        Length(max=200, message=_l("The password is too long."))])


class TotpForm(BaseForm):
    """A six-digit code from the authenticator app (the second factor)."""

    code = StringField(_l("Code from your authenticator app"), validators=[
        DataRequired(_l("Enter the six-digit code.")),
        Regexp(CODE_PATTERN, message=_l("The code has six digits.")),
    ])


class PasskeyNameForm(BaseForm):
    """Rename a passkey."""

    name = StringField(_l("Name"), filters=[name_filter],
                       validators=[DataRequired(_l("Give the passkey a name.")),
                                              Length(max=60, message=_l("Use at most 60 characters."))])


class EmptyForm(BaseForm):
    """A form with only the CSRF token, for buttons that change something."""


class ProfileForm(BaseForm):
    """The resident's own contact details."""

    display_name = StringField(_l("What would you like us to call you?"), filters=[name_filter],
                               validators=[Optional(), Length(max=80, message=_l("Use at most 80 characters."))])
    phone = StringField(_l("Phone number"), validators=[
        Optional(), Length(max=40, message=_l("Use at most %(max)d characters.")), PhoneNumber()])
    contact_note = TextAreaField(_l("How and when may the team contact you?"), validators=[
        Optional(), Length(max=1000, message=_l("Use at most 1000 characters. You have written %(length)s.")),
    ])


class LanguageForm(BaseForm):
    """Choose the interface language."""

    lang = SelectField(_l("Language"), choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()])
