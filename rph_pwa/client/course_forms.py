"""The short screen of a resident's own enrolment on an open course: taking part yourself or as a
relative, the eligibility questions, and the referral's crisis questions (PHQ-9 item 9 with its
validated wording and options, and "in crisis now"). Validators check shape only; eligibility
lives in the service (`services.course_enrolment`)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectChoice
from wtforms.validators import InputRequired, ValidationError

from ..measures.definitions import text
from ..measures.registry import get
from .referral_forms import EligibilityForm

#: The item of PHQ-9 the screen asks, as in the referral (its flag raises the urgent flag).
ITEM9 = "item9"


class KnownChoice(RadioField):
    """Radio buttons whose unknown value gets the field's own message (the one for a missing
    answer), not WTForms' "Not a valid choice" or "could not coerce"."""

    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None  # refused by pre_validate, with the field's message

    def pre_validate(self, form) -> None:
        if self.data not in {choice.value for choice in self.choices}:
            raise ValidationError(self.validators[0].message)


class CourseEnrolForm(EligibilityForm):
    """Who takes part, age, municipality and "in crisis now" (the referral's first step), and
    PHQ-9 item 9 (added by `course_enrol_form` in the reader's language)."""

    role = KnownChoice(_l("How will you take part?"),
                       choices=[SelectChoice("participant", _l("For my own sake")),
                                SelectChoice("relative", _l("As a relative of someone who struggles"))],
                       validators=[InputRequired(_l("Choose how you will take part."))])


def item9_field(lang: str) -> RadioField:
    """PHQ-9 item 9 with its validated wording and options from the instrument definition."""
    instrument = get("PHQ-9")
    item = next(i for i in instrument.items if i.key == ITEM9)
    return KnownChoice(text(item.text, lang), coerce=int,
                       choices=[SelectChoice(o.value, text(o.label, lang)) for o in instrument.options_for(item)],
                       validators=[InputRequired(_l("Answer the question about thoughts of being better off dead "
                                                    "or of hurting yourself: choose the answer that fits best."))])


def course_enrol_form(lang: str, municipalities: list[SelectChoice], formdata=None) -> CourseEnrolForm:
    """The screen's form in `lang`, its municipality choices filled in."""
    form_class = type("CourseEnrolFormWithItem9", (CourseEnrolForm,), {ITEM9: item9_field(lang)})
    form = form_class(formdata=formdata) if formdata is not None else form_class()
    form.municipality.choices = municipalities
    return form


def item9_instructions(lang: str) -> str:
    """The question's lead-in, as PHQ-9 words it ("Over the last 2 weeks, how often ...")."""
    return text(get("PHQ-9").instructions, lang)

