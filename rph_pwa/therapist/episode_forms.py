"""Forms on the episode page: book a contact, mark attendance, follow up an urgent answer and
discharge. Validators check shape only; the outcome services check access and the rest."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField, TimeField
from wtforms.validators import InputRequired, NumberRange, Optional

from ..forms import BaseForm
from .forms import MEETING_MODES, _choices, _length, _sensible_year
from .presenters import CHOICES, CONTACT_KINDS, CONTACT_STATUSES

#: What the per-contact buttons set (a booked contact is never set back to booked by hand).
ATTENDANCE_CHOICES = ("attended", "no_show", "cancelled")
MIN_MINUTES, MAX_MINUTES = 15, 240


class BookContactForm(BaseForm):
    """Book a contact in the episode (local Norwegian time)."""

    day = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date.")), _sensible_year])
    time = TimeField(_l("Time"), validators=[InputRequired(_l("Enter the time."))])
    duration = IntegerField(_l("Length in minutes"), default=45, validators=[
        InputRequired(_l("Enter the length in minutes.")),
        NumberRange(MIN_MINUTES, MAX_MINUTES, _l("Enter a length from %(min)s to %(max)s minutes."))])
    kind = SelectField(_l("Kind of contact"), choices=_choices(CONTACT_KINDS), default="treatment",
                       validators=[InputRequired(_l("Choose the kind of contact."))])
    mode = SelectField(_l("How"), choices=_choices(MEETING_MODES),
                       validators=[InputRequired(_l("Choose how you will meet."))])
    place = StringField(_l("Place (optional)"), validators=[Optional(), _length(200)])
    is_last = BooleanField(_l("This is the planned last contact"))


class AttendanceForm(BaseForm):
    """Mark one contact attended, not attended or cancelled (one button per choice)."""

    status = SelectField(_l("Attendance"), choices=_choices({s: CONTACT_STATUSES[s] for s in ATTENDANCE_CHOICES}),
                         validators=[InputRequired(_l("Choose attended, did not attend or cancelled."))])


class DischargeForm(BaseForm):
    """End the episode with work and sick leave at the end (the same keys as the referral's work step)."""

    work_status_end = RadioField(_l("Work status at the end"), choices=_choices(CHOICES["work_status"]),
                                 validators=[InputRequired(_l("Choose the work status at the end."))])
    sick_leave_end = RadioField(_l("Sick leave at the end"), choices=_choices(CHOICES["sick_leave"]),
                                validators=[InputRequired(_l("Choose the sick leave at the end."))])
