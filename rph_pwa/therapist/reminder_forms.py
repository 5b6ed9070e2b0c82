"""Forms of the staff side of reminders: the team lead's lead time and the drop-out routine's
written notice. Validators check shape only; the services check access and the rest."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField
from wtforms.fields.datetime import DateField
from wtforms.validators import InputRequired, NumberRange

from ..forms import BaseForm
from ..services.reminders import LEAD_HOURS_MAX, LEAD_HOURS_MIN
from .forms import sensible_year


class LeadHoursForm(BaseForm):
    """How many hours before an appointment the team's residents are reminded."""

    hours = IntegerField(_l("Remind residents this many hours before an appointment"), validators=[
        InputRequired(_l("Enter the number of hours.")),
        NumberRange(LEAD_HOURS_MIN, LEAD_HOURS_MAX, _l("Enter a whole number of hours from %(min)s to %(max)s."))])


class DropoutNoticeForm(BaseForm):
    """The written notice was sent, with the deadline it gives."""

    deadline = DateField(_l("Deadline given in the notice"),
                         validators=[InputRequired(_l("Enter the deadline.")), sensible_year])
