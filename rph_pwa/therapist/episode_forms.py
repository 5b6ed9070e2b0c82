"""Forms on the episode page: book a contact, mark attendance, choose the forms the person
receives, change the offering (with its note), follow up an urgent answer and discharge, and choose
the responsible therapist (on the referral page too). Validators check shape only; the outcome
and responsibility services check access and the rest."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.fields.datetime import DateField, TimeField
from wtforms.fields.simple import URLField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, StopValidation

from .. import codes
from ..codes import (
    ATTENDANCE,
    END_REASON_EXPLAINED,
    AppointmentKind,
    AppointmentStatus,
    EndReason,
    MeetingMode,
    Offering,
    SickLeave,
    WorkStatus,
)
from ..forms import BaseForm, MultiCheckboxField, Refusal
from ..models import User
from ..services.errors import Conflict
from ..services.outcomes import OFFERING_NOTE_MAX
from ..services.responsibility import NOTE_MAX, NoteRequired, NotOnTeam
from .forms import VIDEO_LINK_VALIDATORS, choices, length, sensible_year
from .presenters.common import staff_name

MIN_MINUTES, MAX_MINUTES = 15, 240


class BookContactForm(BaseForm):
    """Book a contact in the episode (local Norwegian time)."""

    day = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date.")), sensible_year])
    time = TimeField(_l("Time"), validators=[InputRequired(_l("Enter the time."))])
    duration = IntegerField(_l("Length in minutes"), default=45, validators=[
        InputRequired(_l("Enter the length in minutes.")),
        NumberRange(MIN_MINUTES, MAX_MINUTES, _l("Enter a length from %(min)s to %(max)s minutes."))])
    kind = SelectField(_l("Kind of contact"), choices=codes.choices(AppointmentKind), default="treatment",
                       validators=[InputRequired(_l("Choose the kind of contact."))])
    mode = SelectField(_l("How"), choices=codes.choices(MeetingMode),
                       validators=[InputRequired(_l("Choose how you will meet."))])
    place = StringField(_l("Place (optional)"), validators=[Optional(), length(200)])
    video_link = URLField(_l("Video link (optional)"), validators=VIDEO_LINK_VALIDATORS)
    is_last = BooleanField(_l("This is the planned last contact"))


class AttendanceForm(BaseForm):
    """Mark one contact attended, not attended or cancelled (one button per choice)."""

    status = SelectField(_l("Attendance"), choices=codes.choices(AppointmentStatus, only=ATTENDANCE),
                         validators=[InputRequired(_l("Choose attended, did not attend or cancelled."))])


class DischargeForm(BaseForm):
    """End the episode with why it ended and work and sick leave at the end (the same keys as the
    referral's work step)."""

    end_reason = RadioField(_l("Why the episode ends"), choices=codes.choices(EndReason, END_REASON_EXPLAINED),
                            validators=[InputRequired(_l("Choose why the episode ends."))])

    work_status_end = RadioField(_l("Work status at the end"), choices=codes.choices(WorkStatus),
                                 validators=[InputRequired(_l("Choose the work status at the end."))])
    sick_leave_end = RadioField(_l("Sick leave at the end"), choices=codes.choices(SickLeave),
                                validators=[InputRequired(_l("Choose the sick leave at the end."))])


#: The forms a therapist can choose for a person (keys: `outcomes.CHOOSABLE_INSTRUMENTS`).
INSTRUMENT_CHOICES = {"PHQ-9": _l("PHQ-9 (depression), before every contact"),
                      "GAD-7": _l("GAD-7 (anxiety), before every contact"),
                      "WSAS": _l("WSAS (work and social functioning), before the first, every fourth and the last "
                                 "contact")}


class InstrumentsForm(BaseForm):
    """Which forms this person receives before contacts (none is a valid choice)."""

    instruments = MultiCheckboxField(_l("Forms before contacts"), choices=choices(INSTRUMENT_CHOICES))


class OfferingChangeForm(BaseForm):
    """Change the offering, with a short note on how it went, what was learnt and what comes next."""

    offerings = MultiCheckboxField(_l("New offering"), choices=codes.choices(Offering),
                                   validators=[DataRequired(_l("Choose at least one offering."))])
    note = TextAreaField(_l("How it went, what was learnt, what comes next"), validators=[
        DataRequired(_l("Write a short note on how it went, what was learnt and what comes next.")),
        length(OFFERING_NOTE_MAX)])


#: What the referral and episode pages say once the responsible therapist is saved.
RESPONSIBLE_SAVED = _l("The responsible therapist is saved.")


class ResponsibleForm(BaseForm):
    """Choose the therapist responsible for the episode among the team's therapists and team
    leads (`offer`); a change from one therapist to another needs a note."""

    therapist = SelectField(_l("Responsible therapist"), coerce=int, validate_choice=True)
    note = TextAreaField(_l("Note (needed when another therapist takes over)"),
                         validators=[Optional(), length(NOTE_MAX)])

    def validate_therapist(self, field) -> None:
        """The "Choose" entry is nobody."""
        if not field.data:
            raise StopValidation(_l("Choose the responsible therapist."))

    def offer(self, therapists: list[User]) -> ResponsibleForm:
        """The choices: "Choose", then the team's therapists and team leads by name."""
        self.therapist.choices = [SelectChoice(0, _l("Choose"))] + [SelectChoice(u.id, staff_name(u))
                                                                   for u in therapists]
        return self

    def refusals(self) -> list[Refusal]:
        """What the service's refusals mean to the person, on this form's fields."""
        return [Refusal(NoteRequired, _l("Write a short note on why another therapist takes over."), field=self.note),
                Refusal(NotOnTeam, _l("Choose a therapist or team lead of the episode's team."),
                        field=self.therapist),
                Refusal(Conflict, _l("The episode has ended, so the responsible therapist stays as it was."))]
