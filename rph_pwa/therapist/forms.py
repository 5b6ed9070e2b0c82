"""Staff forms for triage, intake and the onward directory. Validators check shape only;
the referral services check access and the rest."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from wtforms import (BooleanField, DateField, SelectChoice, SelectField, SelectMultipleField, StringField,
                     TextAreaField, TimeField, URLField)
from wtforms.validators import URL, DataRequired, InputRequired, Length, Optional, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import BaseForm, PhoneNumber, name_filter

#: Choice labels, keyed by the stable values the services store.
CONTACT_METHODS = {"phone": _l("Phone"), "sms": _l("Text message (SMS)"), "letter": _l("Letter"),
                   "email": _l("E-mail")}
CONTACT_OUTCOMES = {"reached": _l("Reached the person"), "no_answer": _l("No answer"),
                    "left_message": _l("Left a message")}
MEETING_MODES = {"phone": _l("By phone"), "office": _l("At the office"), "video": _l("By video")}
OFFERING_LABELS = {"course": _l("Course"), "guided_self_help": _l("Guided self-help"),
                   "group": _l("Treatment group"), "individual": _l("Individual therapy")}
KIND_ONWARD_MESSAGE = _l(
    "Thank you for getting in touch with us, and for telling us how things are for you. "
    "We have read what you wrote carefully. We think another service can help you better than we can, "
    "and we have written down how to reach them. You are welcome to call us if you have questions. "
    "We will keep in touch until you have got help there."
)


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


def _length(maximum: int) -> Length:
    # Length fills in %(max)d itself.
    return Length(max=maximum, message=_l("Use at most %(max)d characters."))


def _sensible_year(_form, field) -> None:
    """Catch typing slips such as year 0202 (and dates the database cannot hold)."""
    if field.data is not None and not 2000 <= field.data.year <= 2100:
        raise ValidationError(_l("Enter a date between the years 2000 and 2100."))


def _web_link(_form, field) -> None:
    """Only http(s) addresses: the address becomes a link on the page."""
    if field.data and not re.match(r"^https?://", field.data, re.IGNORECASE):
        raise StopValidation(_l("Enter a web address like https://example.no."))


class MultiCheckboxField(SelectMultipleField):
    """Several checkboxes for one question (rendered inside a fieldset with a legend)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class BookAssessmentForm(BaseForm):
    """Book the information and assessment conversation (local Norwegian time)."""

    day = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date.")), _sensible_year])
    time = TimeField(_l("Time"), validators=[InputRequired(_l("Enter the time."))])
    mode = SelectField(_l("How"), choices=_choices(MEETING_MODES),
                       validators=[InputRequired(_l("Choose how you will meet."))])
    place = StringField(_l("Place (optional)"), validators=[Optional(), _length(200)])


class ContactAttemptForm(BaseForm):
    """One try to reach the person."""

    method = SelectField(_l("How"), choices=_choices(CONTACT_METHODS),
                         validators=[InputRequired(_l("Choose how you tried to reach them."))])
    outcome = SelectField(_l("Result"), choices=_choices(CONTACT_OUTCOMES),
                          validators=[InputRequired(_l("Choose the result."))])
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), _length(1000)])


class IntakeChecklistForm(BaseForm):
    """The team's intake checklist (handbook ch. 3.1)."""

    goals = BooleanField(_l("Goals"))
    work = BooleanField(_l("Work and sick leave"))
    trauma = BooleanField(_l("Trauma"))
    substance_use = BooleanField(_l("Alcohol and drug use"))
    suicide_questions = BooleanField(_l("Questions about suicidal thoughts"))
    notes = TextAreaField(_l("Notes (optional)"), validators=[Optional(), _length(4000)])


class OfferingsForm(BaseForm):
    """The offerings agreed together with the person (one or several)."""

    offerings = MultiCheckboxField(_l("Agreed offerings"), choices=_choices(OFFERING_LABELS),
                                   validators=[DataRequired(_l("Choose at least one offering."))])


class FirstTreatmentForm(BaseForm):
    """The date of the first treatment contact."""

    day = DateField(_l("Date of first treatment"),
                    validators=[InputRequired(_l("Enter the date.")), _sensible_year])

    def validate_day(self, field) -> None:
        """A first treatment cannot be recorded ahead of time."""
        if field.data is not None and field.data > datetime.now(ZoneInfo("Europe/Oslo")).date():
            raise ValidationError(_l("The date cannot be in the future."))


class GuideOnwardForm(BaseForm):
    """Close the referral kindly, with where to go instead."""

    service = SelectField(_l("Where to go instead"), coerce=int, validate_choice=True)
    message = TextAreaField(_l("Message to the person"), default=KIND_ONWARD_MESSAGE,
                            validators=[DataRequired(_l("Write a message to the person.")), _length(3000)])


class OnwardServiceForm(BaseForm):
    """An entry in the team's directory of onward services."""

    team = SelectField(_l("Team"), coerce=int, validate_choice=True)
    name = StringField(_l("Name"), filters=[name_filter],
                       validators=[DataRequired(_l("Enter the name of the service.")), _length(120)])
    description = TextAreaField(_l("What they offer and who they are for (optional)"),
                                validators=[Optional(), _length(500)])
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), _length(30), PhoneNumber(service_numbers=True)])
    url = URLField(_l("Web address (optional)"), validators=[
        Optional(), _length(300),
        _web_link, URL(message=_l("Enter a web address like https://example.no."))])


class ReachForm(BaseForm):
    """The period of the reach statistics (read from the query string, so no CSRF token)."""

    class Meta:
        csrf = False

    since = DateField(_l("From"), validators=[Optional(), _sensible_year])
    until = DateField(_l("To"), validators=[Optional(), _sensible_year])

    def validate_until(self, field) -> None:
        """The period must not end before it starts."""
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end date must be on or after the start date."))
