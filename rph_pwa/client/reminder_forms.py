"""The resident's reminder settings: the channels in order of preference and the second reminder."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField

from ..codes import ReminderChannel, choices
from ..forms import BaseForm

#: The choice for "no channel here".
NONE = "none"
#: A channel chosen in two places.
REPEATED = _l("You have already chosen this. Choose another, or Nothing.")
#: The three places in the order, in the resident's words ("Først", "Så", "Til slutt").
PLACES = (("first", _l("First try")), ("then", _l("Then")), ("last", _l("Finally")))


class ReminderSettingsForm(BaseForm):
    """Up to three channels in order of preference (each at most once; none at all: no
    reminders) and whether to be reminded again two hours before."""

    first = SelectField(PLACES[0][1])
    then = SelectField(PLACES[1][1])
    last = SelectField(PLACES[2][1])
    second = BooleanField(_l("Remind me again 2 hours before"))

    def __init__(self, *args, offered: tuple[str, ...], order: list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        options = [*choices(ReminderChannel, only=tuple(ReminderChannel(c) for c in offered)),
                   (NONE, _l("Nothing"))]
        chosen = [c for c in (order or []) if c in offered]
        for i, (name, _label) in enumerate(PLACES):
            field = self[name]
            field.choices = options
            if not self.is_submitted():
                field.data = chosen[i] if i < len(chosen) else NONE

    def channels(self) -> list[str]:
        """The chosen channels in order, without the places left as "Nothing"."""
        return [self[name].data for name, _label in PLACES if self[name].data != NONE]

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        seen: set[str] = set()
        for name, _label in PLACES:
            value = self[name].data
            if value != NONE and value in seen:
                self[name].errors = [*self[name].errors, REPEATED]
                return False
            seen.add(value)
        return True


class ReminderTestForm(BaseForm):
    """The "send me a test" button (its CSRF token only)."""


class ComingForm(BaseForm):
    """The "Jeg kommer" button on an appointment's reply page (its CSRF token only)."""
