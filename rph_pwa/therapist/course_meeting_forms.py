"""Forms of the leader's meeting page: one tap per person for attendance, the day's content note,
and booking a "fot i bakken" talk with a flagged participant. Validators check shape only;
`services.course_meetings` checks access and the rest."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.fields.datetime import DateField, TimeField
from wtforms.validators import InputRequired, NumberRange, Optional

from .. import codes
from ..codes import MeetingMode
from ..forms import BaseForm
from ..services.course_meetings import NOTE_MAX
from .episode_forms import MAX_MINUTES, MIN_MINUTES
from .forms import length, sensible_year


class AttendanceTapForm(BaseForm):
    """One person's tap: attended or absent (one button per choice)."""

    participant = IntegerField(validators=[InputRequired(), NumberRange(1, 2 ** 31 - 1)])
    status = RadioField(choices=[SelectChoice("attended", _l("Came")), SelectChoice("absent", _l("Did not come"))],
                        validators=[InputRequired(_l("Choose came or did not come."))])


class ContentNoteForm(BaseForm):
    """What the meeting covered, as the leaders record it."""

    note = TextAreaField(_l("What the meeting covered"), validators=[Optional(), length(NOTE_MAX)])


class TalkForm(BaseForm):
    """A "fot i bakken" talk with one participant (local Norwegian time)."""

    day = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date.")), sensible_year])
    time = TimeField(_l("Time"), validators=[InputRequired(_l("Enter the time."))])
    duration = IntegerField(_l("Length in minutes"), default=30, validators=[
        InputRequired(_l("Enter the length in minutes.")),
        NumberRange(MIN_MINUTES, MAX_MINUTES, _l("Enter a length from %(min)s to %(max)s minutes."))])
    mode = SelectField(_l("How"), choices=codes.choices(MeetingMode), default="phone",
                       validators=[InputRequired(_l("Choose how you will meet."))])
    place = StringField(_l("Place (optional)"), validators=[Optional(), length(200)])
