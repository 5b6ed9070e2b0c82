"""Staff forms for triage, intake and the onward directory. Validators check shape only;
the referral services check access and the rest."""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, Mapping

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import URL, DataRequired, InputRequired, Length, Optional, StopValidation, ValidationError

from .. import codes, measures
from ..codes import Channel, ContactMethod, ContactOutcome, MeetingMode, Offering, Problem
from ..forms import BaseForm, MultiCheckboxField, PhoneNumber, name_filter
from ..localtime import local_today

KIND_ONWARD_MESSAGE = _l(
    "Thank you for getting in touch with us, and for telling us how things are for you. "
    "We have read what you wrote carefully. We think another service can help you better than we can, "
    "and we have written down how to reach them. You are welcome to call us if you have questions. "
    "We will keep in touch until you have got help there."
)


def choices(labels: Mapping[str, Any]) -> list[SelectChoice]:
    """WTForms choices from a table of stable value → label (coded values: `codes.choices`)."""
    return [SelectChoice(value, label) for value, label in labels.items()]


def length(maximum: int) -> Length:
    """At most `maximum` characters, with our wording of the message."""
    # Length fills in %(max)d itself.
    return Length(max=maximum, message=_l("Use at most %(max)d characters."))


def sensible_year(_form, field) -> None:
    """Catch typing slips such as year 0202 (and dates the database cannot hold)."""
    if field.data is not None and not 2000 <= field.data.year <= 2100:
        raise ValidationError(_l("Enter a date between the years 2000 and 2100."))


def secure_web_link(_form, field) -> None:
    """Only https addresses: a video meeting's link is opened by the resident."""
    if field.data and not re.match(r"^https://", field.data, re.IGNORECASE):
        raise StopValidation(_l("Enter a secure link that starts with https://."))


#: The video meeting's address, entered when booking: https only, a real URL, at most 500 characters.
VIDEO_LINK_VALIDATORS = [Optional(), length(500), secure_web_link,
                         URL(message=_l("Enter a secure link that starts with https://."))]


def _web_link(_form, field) -> None:
    """Only http(s) addresses: the address becomes a link on the page."""
    if field.data and not re.match(r"^https?://", field.data, re.IGNORECASE):
        raise StopValidation(_l("Enter a web address like https://example.no."))


class BookAssessmentForm(BaseForm):
    """Book the information and assessment conversation (local Norwegian time)."""

    day = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date.")), sensible_year])
    time = TimeField(_l("Time"), validators=[InputRequired(_l("Enter the time."))])
    mode = SelectField(_l("How"), choices=codes.choices(MeetingMode),
                       validators=[InputRequired(_l("Choose how you will meet."))])
    place = StringField(_l("Place (optional)"), validators=[Optional(), length(200)])
    video_link = URLField(_l("Video link (optional)"), validators=VIDEO_LINK_VALIDATORS)


class ContactAttemptForm(BaseForm):
    """One try to reach the person."""

    method = SelectField(_l("How"), choices=codes.choices(ContactMethod),
                         validators=[InputRequired(_l("Choose how you tried to reach them."))])
    outcome = SelectField(_l("Result"), choices=codes.choices(ContactOutcome),
                          validators=[InputRequired(_l("Choose the result."))])
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), length(1000)])


class IntakeChecklistForm(BaseForm):
    """The team's intake checklist (handbook ch. 3.1)."""

    why_now = BooleanField(_l("Why they seek help now"))
    expectations = BooleanField(_l("What they expect from us"))
    goals = BooleanField(_l("Goals"))
    development = BooleanField(_l("How the problems developed and what keeps them going"))
    functioning = BooleanField(_l("Day-to-day functioning"))
    family = BooleanField(_l("Family and network"))
    work = BooleanField(_l("Work and sick leave"))
    earlier_help = BooleanField(_l("Earlier help and treatment"))
    resources = BooleanField(_l("Resources and values"))
    trauma = BooleanField(_l("Trauma"))
    substance_use = BooleanField(_l("Alcohol and drug use"))
    suicide_questions = BooleanField(_l("Questions about suicidal thoughts"))
    change_information = BooleanField(_l("Information about what change takes (effort between sessions)"))
    children = BooleanField(_l("Children under 18 as relatives (a legal duty to ask)"))
    minor_confidentiality = BooleanField(_l("Ages 16–17: the confidentiality rules that apply were explained"))
    notes = TextAreaField(_l("Notes (optional)"), validators=[Optional(), length(4000)])


class OfferingsForm(BaseForm):
    """The offerings agreed together with the person (one or several)."""

    offerings = MultiCheckboxField(_l("Agreed offerings"), choices=codes.choices(Offering),
                                   validators=[DataRequired(_l("Choose at least one offering."))])


class FirstTreatmentForm(BaseForm):
    """The date of the first treatment contact."""

    day = DateField(_l("Date of first treatment"),
                    validators=[InputRequired(_l("Enter the date.")), sensible_year])

    def validate_day(self, field) -> None:
        """A first treatment cannot be recorded ahead of time."""
        if field.data is not None and field.data > local_today():
            raise ValidationError(_l("The date cannot be in the future."))


def _in_two_weeks() -> date:
    return local_today() + timedelta(days=14)


class GuideOnwardForm(BaseForm):
    """Guide the person kindly to where to go instead; the team follows up on a date."""

    service = SelectField(_l("Where to go instead"), coerce=int, validate_choice=True)
    message = TextAreaField(_l("Message to the person"), default=KIND_ONWARD_MESSAGE,
                            validators=[DataRequired(_l("Write a message to the person.")), length(3000)])
    follow_up = DateField(_l("Follow up on"), default=_in_two_weeks,
                          description=_l("The team checks with the person whether help has started there "
                                         "(left empty: in two weeks)."),
                          validators=[Optional(), sensible_year])


ONWARD_OUTCOMES = {"started": _l("Help has started there"), "not_started": _l("Help did not start there")}


class CloseOnwardForm(BaseForm):
    """End the follow-up of a person guided onward: did help start elsewhere, or why not."""

    outcome = RadioField(_l("Outcome"), choices=choices(ONWARD_OUTCOMES),
                         validators=[InputRequired(_l("Choose whether help has started there."))])
    note = TextAreaField(_l("Note (required when help did not start: why not)"),
                         validators=[length(2000)])  # no Optional(): it would skip validate_note

    def validate_note(self, field) -> None:
        """Why help did not start is part of the record."""
        if self.outcome.data == "not_started" and not (field.data or "").strip():
            raise StopValidation(_l("Write why help did not start."))


#: Staff register enquiries that came by phone or on paper (the app's own come through the app).
ENQUIRY_CHANNELS = {Channel.PHONE.value: _l("Phone"), Channel.PAPER.value: _l("Paper form or letter")}
ENQUIRY_GENDERS = {"woman": _l("Woman"), "man": _l("Man"), "other": _l("Other"), "unspecified": _l("Not given")}
YES_NO = {"no": _l("No"), "yes": _l("Yes")}
#: Instruments staff may transcribe from a paper form or a call (field name, code).
ENQUIRY_INSTRUMENTS = (("phq9", "PHQ-9"), ("gad7", "GAD-7"), ("wsas", "WSAS"), ("auditc", "AUDIT-C"),
                       ("duditc", "DUDIT-C"))


def item_answers(text: str | None) -> list[int]:
    """Item answers typed as digits separated by spaces or commas ("1 2 0 3 ..."); ValueError
    for anything else."""
    parts = [p for p in re.split(r"[\s,;]+", text or "") if p]
    if not all(p.isascii() and p.isdigit() and len(p) <= 2 for p in parts):
        raise ValueError("not digits")
    return [int(p) for p in parts]


def _item_answers_field(code: str) -> StringField:
    return StringField(_l("%(code)s: item answers (optional)", code=code),
                       description=_l("One number per item, in order, separated by spaces, e.g. 1 2 0 3."),
                       validators=[Optional(), length(100)])


class EnquiryForm(BaseForm):
    """A phone or paper enquiry, registered by staff (questionnaires optional)."""

    channel = RadioField(_l("How the enquiry came"), choices=choices(ENQUIRY_CHANNELS),
                         validators=[InputRequired(_l("Choose phone or paper."))])
    name = StringField(_l("Name"), filters=[name_filter],
                       validators=[DataRequired(_l("Enter the person's name.")), length(120)])
    phone = StringField(_l("Phone (optional)"), render_kw={"autocomplete": "off", "inputmode": "tel"},
                        validators=[Optional(), length(30), PhoneNumber()])
    municipality = SelectField(_l("Lives in"), coerce=int, validate_choice=True)

    def validate_municipality(self, field) -> None:
        """The "Choose" entry is not a municipality."""
        if not field.data:
            raise StopValidation(_l("Choose the municipality the person lives in."))
    age_band = SelectField(_l("Age"), validators=[InputRequired(_l("Choose the age group."))])
    gender = RadioField(_l("Gender"), choices=choices(ENQUIRY_GENDERS),
                        validators=[InputRequired(_l("Choose a gender, or 'Not given'."))])
    problems = MultiCheckboxField(_l("Troubled by"), choices=codes.choices(Problem))
    own_words = TextAreaField(_l("What troubles them, in their words (optional)"),
                              validators=[Optional(), length(3000)])
    urgent = RadioField(_l("Needs quick contact"), choices=choices(YES_NO),
                        validators=[InputRequired(_l("Choose whether the person needs quick contact."))])
    phq9 = _item_answers_field("PHQ-9")
    gad7 = _item_answers_field("GAD-7")
    wsas = _item_answers_field("WSAS")
    auditc = _item_answers_field("AUDIT-C")
    duditc = _item_answers_field("DUDIT-C")

    def validate(self, extra_validators=None) -> bool:
        """Besides each field: typed item answers must score on their instrument."""
        ok = super().validate(extra_validators)
        for name, code in ENQUIRY_INSTRUMENTS:
            field = getattr(self, name)
            if field.errors or not (field.data or "").strip():
                continue
            try:
                measures.score(code, item_answers(field.data))
            except ValueError:
                field.errors = [*field.errors, _l(
                    "Enter one answer for each of the %(count)s items of %(code)s, each within the item's options.",
                    count=len(measures.get(code).items), code=code)]
                ok = False
        return ok

    def instruments(self) -> dict[str, list[int]]:
        """The instruments answered (after `validate`), by code."""
        return {code: item_answers(getattr(self, name).data) for name, code in ENQUIRY_INSTRUMENTS
                if (getattr(self, name).data or "").strip()}


class OnwardServiceForm(BaseForm):
    """An entry in the team's directory of onward services."""

    team = SelectField(_l("Team"), coerce=int, validate_choice=True)
    name = StringField(_l("Name"), filters=[name_filter],
                       validators=[DataRequired(_l("Enter the name of the service.")), length(120)])
    description = TextAreaField(_l("What they offer and who they are for (optional)"),
                                validators=[Optional(), length(500)])
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), length(30), PhoneNumber(service_numbers=True)])
    url = URLField(_l("Web address (optional)"), validators=[
        Optional(), length(300),
        _web_link, URL(message=_l("Enter a web address like https://example.no."))])


class ReachForm(BaseForm):
    """The period of the reach statistics (read from the query string, so no CSRF token)."""

    class Meta:
        csrf = False

    since = DateField(_l("From"), validators=[Optional(), sensible_year])
    until = DateField(_l("To"), validators=[Optional(), sensible_year])

    def validate_until(self, field) -> None:
        """The period must not end before it starts."""
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end date must be on or after the start date."))
