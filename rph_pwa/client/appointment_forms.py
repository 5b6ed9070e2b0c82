"""The resident's request to change or cancel an appointment."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from .. import codes
from ..codes import RequestKind
from ..forms import BaseForm
from ..services.appointment_requests import REASON_MAX

#: The choices in the resident's words.
REQUEST_WORDS = {RequestKind.CHANGE: _l("Find another time"), RequestKind.CANCEL: _l("Cancel the appointment")}


class AppointmentRequestForm(BaseForm):
    """Ask the team to change or cancel an appointment, with an optional reason."""

    kind = RadioField(_l("What do you want?"), choices=codes.choices(RequestKind, REQUEST_WORDS),
                      validators=[InputRequired(_l("Choose another time or cancel."))])
    reason = TextAreaField(_l("Why? (you can leave this empty)"), validators=[
        Optional(), Length(max=REASON_MAX, message=_l("Use at most %(max)d characters."))])
