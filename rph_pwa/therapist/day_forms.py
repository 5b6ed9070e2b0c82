"""Forms of the therapist's day: the caseload's sort and filters (from the query string), finding
a resident by e-mail or phone (posted, so the address or number stays out of URLs and logs), and
answering a resident's request to change or cancel an appointment. Validators check shape only;
the services check access and the rest."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.fields.datetime import DateField, TimeField
from wtforms.validators import DataRequired, InputRequired, Optional, StopValidation

from .. import codes
from ..codes import Offering, RequestAnswer
from ..forms import BaseForm
from ..services.appointment_requests import NOTE_MAX
from ..services.caseload import SORTS
from ..services.resident_search import QUERY_MAX
from ..services.triage import PHASES
from .forms import length, sensible_year
from .presenters.common import PHASES as PHASE_LABELS

SORT_LABELS = {"name": _l("Name"), "next_contact": _l("Next contact"), "phq9": _l("PHQ-9, highest first"),
               "phase": _l("Phase")}
#: How the team answers a request, as the buttons' words.
ANSWER_LABELS = {RequestAnswer.MOVED: _l("Move it to a new time"), RequestAnswer.CANCELLED: _l("Cancel it"),
                 RequestAnswer.KEPT: _l("Keep it as it is")}


class CaseloadForm(BaseForm):
    """Sort and filter the caseload (read from the query string, so no CSRF token). An unknown
    value is an error on its field, never a 500."""

    class Meta:
        csrf = False

    sort = SelectField(_l("Sort by"), choices=[SelectChoice(key, SORT_LABELS[key]) for key in SORTS],
                       default="name", validators=[Optional()])
    phase = SelectField(_l("Phase"), choices=[SelectChoice("", _l("All phases"))]
                        + [SelectChoice(key, PHASE_LABELS[key]) for key in PHASES], default="",
                        validators=[Optional()])
    offering = SelectField(_l("Offering"), choices=[SelectChoice("", _l("All offerings"))]
                           + codes.choices(Offering), default="", validators=[Optional()])
    flagged = BooleanField(_l("Only episodes with a flag"))


class FindResidentForm(BaseForm):
    """An exact e-mail address or phone number."""

    query = StringField(_l("E-mail address or phone number"), validators=[
        DataRequired(_l("Enter an e-mail address or a phone number.")), length(QUERY_MAX)])


def _time_when_moved(form, field) -> None:
    """A new date and time are needed to move the appointment (and only then)."""
    if form.answer.data != RequestAnswer.MOVED:
        field.errors = []
        raise StopValidation()
    if field.data is None:
        raise StopValidation(_l("Enter the new date and time to move the appointment."))


class AnswerRequestForm(BaseForm):
    """Answer a resident's request: move the appointment (a new local date and time), cancel it,
    or keep it, with an optional note to the resident."""

    answer = RadioField(_l("Your answer"), choices=codes.choices(RequestAnswer, ANSWER_LABELS),
                        validators=[InputRequired(_l("Choose move, cancel or keep."))])
    day = DateField(_l("New date"), validators=[_time_when_moved, sensible_year])
    time = TimeField(_l("New time"), validators=[_time_when_moved])
    note = TextAreaField(_l("Note to the resident (optional)"), validators=[Optional(), length(NOTE_MAX)])
