"""Forms of the therapist's review view: marking a check-in reviewed (feedback, minutes, by
phone), opening the next module, the away date, and the team's phrase bank. Validators check
shape only; the service (`services.check_in_review`) checks access and the rest."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, SubmitField, TextAreaField
from wtforms.fields.datetime import DateField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, StopValidation

from ..forms import BaseForm
from ..services.check_in_review import FEEDBACK_MAX, MINUTES_MAX, MINUTES_MIN, PHRASE_MAX
from .forms import length, sensible_year


def _feedback_unless_by_phone(form, field) -> None:
    """Written guidance is the feedback: required, unless the guidance was given by phone."""
    if not (field.data or "").strip() and not form.by_phone.data:
        raise StopValidation(_l("Write your feedback to the person, or tick that you gave the guidance by phone."))


class CompleteReviewForm(BaseForm):
    """Mark a check-in reviewed: the feedback the resident reads, the minutes given (prefilled
    from the timer) and whether the guidance was given by phone instead."""

    feedback = TextAreaField(_l("Your feedback to the person"),
                             validators=[_feedback_unless_by_phone, length(FEEDBACK_MAX)])
    by_phone = BooleanField(_l("Guidance given by phone"))
    minutes = IntegerField(_l("Minutes used"), validators=[
        InputRequired(_l("Enter the minutes you used, as a whole number.")),
        NumberRange(min=MINUTES_MIN, max=MINUTES_MAX,
                    message=_l("Enter between %(min)s and %(max)s minutes."))])


class OpenModuleForm(BaseForm):
    """Open the next module for the resident (the button's form holds only its CSRF token)."""


class AwayForm(BaseForm):
    """Mark myself away until a date (my residents' check-ins show to my colleagues), or back."""

    until = DateField(_l("Away until and including"), validators=[Optional(), sensible_year])
    away = SubmitField(_l("Mark me away"))
    back = SubmitField(_l("I am back"))

    def validate(self, extra_validators=None) -> bool:
        """Being away needs its last day (being back needs nothing)."""
        valid = super().validate(extra_validators)
        if valid and not self.back.data and self.until.data is None:
            self.until.errors = [_l("Enter the last day you are away.")]
            return False
        return valid


class PhraseForm(BaseForm):
    """A new phrase in one of my teams' phrase banks (team text: no names or health details)."""

    team = SelectField(_l("Team"), coerce=int, validate_choice=True)
    text = TextAreaField(_l("Phrase"), validators=[DataRequired(_l("Write the phrase.")), length(PHRASE_MAX)])


class DeletePhraseForm(BaseForm):
    """Remove a phrase (the button's form holds only its CSRF token)."""
