"""Forms on the staff page of free times for first conversations: publish one time or several in a
row, withdraw a free one, and (team leads) let residents book themselves or not. Validators check
shape only; `services.slots` checks access and the rest."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, RadioField, SelectChoice, SelectField, StringField
from wtforms.fields.datetime import DateField, TimeField
from wtforms.validators import InputRequired, NumberRange, Optional, StopValidation

from .. import codes
from ..codes import MeetingMode
from ..forms import BaseForm, Refusal
from ..models import User
from ..services.responsibility import NotOnTeam
from ..services.slots import MAX_MINUTES, MAX_PER_POST, MIN_MINUTES, PLACE_MAX, SlotsOverlap
from .forms import length, sensible_year
from .presenters.common import staff_name


class PublishSlotsForm(BaseForm):
    """One free time, or several back to back on one day (local Norwegian time)."""

    day = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date.")), sensible_year])
    time = TimeField(_l("Time of the first conversation"), validators=[InputRequired(_l("Enter the time."))])
    count = IntegerField(_l("How many in a row"), default=1, validators=[
        InputRequired(_l("Enter how many times in a row.")),
        NumberRange(1, MAX_PER_POST, _l("Enter a number from %(min)s to %(max)s."))])
    minutes = IntegerField(_l("Minutes each"), default=45, validators=[
        InputRequired(_l("Enter the length in minutes.")),
        NumberRange(MIN_MINUTES, MAX_MINUTES, _l("Enter a length from %(min)s to %(max)s minutes."))])
    mode = SelectField(_l("How"), choices=codes.choices(MeetingMode),
                       validators=[InputRequired(_l("Choose how you will meet."))])
    therapist = SelectField(_l("Therapist"), coerce=int, validate_choice=True)
    place = StringField(_l("Place (optional)"), validators=[Optional(), length(PLACE_MAX)])

    def validate_therapist(self, field) -> None:
        """The "Choose" entry is nobody."""
        if not field.data:
            raise StopValidation(_l("Choose the therapist who holds the conversations."))

    def offer(self, therapists: list[User], *, me: User) -> PublishSlotsForm:
        """The choices: the team's therapists and team leads by name (the signed-in one first chosen)."""
        self.therapist.choices = [SelectChoice(0, _l("Choose"))] + [SelectChoice(u.id, staff_name(u))
                                                                   for u in therapists]
        if not self.is_submitted() and any(u.id == me.id for u in therapists):
            self.therapist.data = me.id
        return self

    def refusals(self) -> list[Refusal]:
        """What the service's refusals mean to the person, on this form's fields."""
        return [Refusal(NotOnTeam, _l("Choose a therapist or team lead of this team."), field=self.therapist),
                Refusal(SlotsOverlap, _l("The therapist already has a free or booked time then. Choose another "
                                         "time."), field=self.time),
                Refusal(ValueError, _l("Choose a time in the future."), field=self.time)]


#: The two answers of the self-booking setting.
SELF_BOOKING_CHOICES = [SelectChoice("on", _l("On: residents choose a free time after sending a referral")),
                        SelectChoice("off", _l("Off: the team calls everyone to agree on a time"))]


class SelfBookingForm(BaseForm):
    """A team lead lets residents book their first conversation themselves, or not."""

    enabled = RadioField(_l("Residents may book their first conversation themselves"),
                         choices=SELF_BOOKING_CHOICES, validators=[InputRequired(_l("Choose on or off."))])
