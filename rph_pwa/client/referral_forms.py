"""Forms of the self-referral. Validators check shape only; eligibility lives in the service."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    EmailField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional, ValidationError

from .. import codes
from ..codes import SICK_LEAVE_ANSWERS, WORK_ANSWERS, Problem, SickLeave, WorkStatus
from ..forms import BaseForm, MultiCheckboxField, PhoneNumber, name_filter

YES_NO = [SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))]


def _required(message):
    return InputRequired(message)


def _optional_int(value):
    """An int, or None for the empty placeholder choice (a municipality picker's "Choose…")."""
    if value in ("", None):
        return None
    return int(value)


#: The placeholder that starts a municipality picker: it is not a municipality.
MUNICIPALITY_PLACEHOLDER = ""


class WholeNumberField(IntegerField):
    """A whole number; text that is not one gets the field's own message (not WTForms' English
    "Not a valid integer value")."""

    def __init__(self, label=None, validators=None, *, invalid_message=None, **kwargs) -> None:
        super().__init__(label, validators, **kwargs)
        self.invalid_message = invalid_message

    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(self.invalid_message or error.args[0]) from None


class EligibilityForm(BaseForm):
    """Step 1: age, municipality, acute crisis."""

    age = WholeNumberField(_l("How old are you?"), render_kw={"inputmode": "numeric", "autocomplete": "off"},
                           invalid_message=_l("Write how old you are, as a number, for example 34."), validators=[
        _required(_l("Write how old you are, as a number, for example 34.")),
        NumberRange(min=0, max=120, message=_l("Write how old you are, as a number, for example 34.")),
    ])
    #: The first choice is a placeholder ("" → None), so nothing is preselected; the view adds the rest.
    municipality = SelectField(_l("Which municipality do you live in?"), coerce=_optional_int,
                               render_kw={"required": True},
                               validators=[_required(_l("Choose the municipality you live in."))])
    crisis = RadioField(_l("Are you in an acute crisis right now, or thinking about ending your life?"),
                        choices=[SelectChoice("yes", _l("Yes, I need help now")), SelectChoice("no", _l("No"))],
                        validators=[_required(_l("Answer whether you are in an acute crisis right now: "
                                                 "choose yes or no."))])

    def validate_municipality(self, field) -> None:
        if not field.data:
            raise ValidationError(_l("Choose the municipality you live in."))


class TroublesForm(BaseForm):
    """Step 2: what troubles you, for how long, goals, earlier help."""

    problems = MultiCheckboxField(_l("What troubles you? Choose all that fit."), choices=codes.choices(Problem),
                                  validators=[_required(_l("Choose at least one."))])
    own_words = TextAreaField(_l("In your own words: what is it like for you? (optional)"), validators=[
        Optional(), Length(max=2000, message=_l("Use at most %(max)d characters. You have written %(length)d."))])
    duration = RadioField(_l("For how long have you had these troubles?"), choices=[
        SelectChoice("lt_3m", _l("Less than 3 months")), SelectChoice("3_12m", _l("3 to 12 months")),
        SelectChoice("gt_1y", _l("More than a year")),
    ], validators=[_required(_l("Choose how long."))])
    goals = TextAreaField(_l("What would you like to change? What would be different if things got better?"),
                          validators=[_required(_l("Write a few words about what you hope to change.")),
                                      Length(max=1000, message=_l(
                                          "Use at most %(max)d characters. You have written %(length)d."))])
    earlier_help = TextAreaField(_l("Have you had help for this before? From whom? (optional)"), validators=[
        Optional(), Length(max=1000, message=_l("Use at most %(max)d characters. You have written %(length)d."))])


class WorkForm(BaseForm):
    """Step 3: work, study, sick leave."""

    work_status = RadioField(_l("What do you do most of the day?"), choices=codes.choices(WorkStatus, WORK_ANSWERS),
                             validators=[_required(_l("Choose what fits best."))])
    sick_leave = RadioField(_l("Are you on sick leave now?"), choices=codes.choices(SickLeave, SICK_LEAVE_ANSWERS),
                            validators=[_required(_l("Choose no, partly or fully."))])
    sick_leave_percent = IntegerField(_l("If partly: how many percent are you on sick leave?"), validators=[
        Optional(), NumberRange(min=1, max=99, message=_l("Write a number from 1 to 99."))])
    return_to_work = RadioField(
        _l("Do you think you could go back to work within a few weeks?"),
        choices=[SelectChoice("yes", _l("Yes")), SelectChoice("unsure", _l("Unsure")), SelectChoice("no", _l("No")),
                 SelectChoice("not_relevant", _l("Not relevant for me"))],
        validators=[_required(_l("Choose an answer."))])

    def validate_sick_leave_percent(self, field) -> None:
        if self.sick_leave.data == SickLeave.GRADED and not field.data:
            raise ValidationError(_l("Write how many percent you are on sick leave."))


class ContactForm(BaseForm):
    """Step: how the team reaches you, where to meet, GP, language."""

    name = StringField(_l("Your name"), filters=[name_filter], render_kw={"autocomplete": "name"},
                       validators=[_required(_l("Write your name.")),
                                   Length(max=80, message=_l("Use at most %(max)d characters."))])
    phone = StringField(_l("Mobile number"), render_kw={"type": "tel", "autocomplete": "tel", "inputmode": "tel"},
                        validators=[
        _required(_l("Write your mobile number.")),
        Length(max=40, message=_l("Use at most %(max)d characters.")), PhoneNumber()])
    email = EmailField(_l("E-mail (optional, used if you lose your phone)"),
                       render_kw={"autocomplete": "email", "inputmode": "email"}, validators=[
        Optional(), Length(max=254, message=_l("The address is too long.")),
        Email(_l("Enter an e-mail address like name@example.no."), check_deliverability=False)])
    contact_times = TextAreaField(_l("When is it best to contact you? (optional)"), validators=[
        Optional(), Length(max=500, message=_l("Use at most %(max)d characters. You have written %(length)d."))])
    voicemail_ok = RadioField(_l("May we leave a voicemail?"), choices=YES_NO,
                              validators=[_required(_l("Answer whether we may leave a voicemail: choose yes or no."))])
    sms_ok = RadioField(_l("May we send you text messages (SMS)?"), choices=YES_NO,
                        validators=[_required(_l("Answer whether we may send you text messages: choose yes or no."))])
    meeting_municipality = SelectField(_l("Where would you prefer to meet?"), coerce=int)
    gp_consent = RadioField(_l("May we tell your GP that you have been in contact with us, after the first "
                               "conversation?"),
                            choices=YES_NO, validators=[_required(_l(
                                "Answer whether we may tell your GP that you have been in contact with us: "
                                "choose yes or no."))])
    gp_name = StringField(_l("Your GP's name (optional)"), filters=[name_filter], render_kw={"autocomplete": "off"},
                          validators=[
        Optional(), Length(max=100, message=_l("Use at most %(max)d characters."))])
    interpreter = RadioField(_l("Do you need an interpreter?"), choices=YES_NO,
                             validators=[_required(_l("Answer whether you need an interpreter: choose yes or no."))])
    language_needs = StringField(_l("Which language? Other needs? (optional)"), validators=[
        Optional(), Length(max=200, message=_l("Use at most %(max)d characters."))])
    gender = RadioField(_l("Gender (used only for anonymous statistics)"), choices=[
        SelectChoice("woman", _l("Woman")), SelectChoice("man", _l("Man")), SelectChoice("other", _l("Other")),
        SelectChoice("unspecified", _l("I prefer not to say")),
    ], validators=[_required(_l("Choose an answer, or 'I prefer not to say'."))])


class EmptyReferralForm(BaseForm):
    """CSRF only (submit, start over)."""
