"""The resident's self-help forms: finishing a module (with how useful it was), the weekly
check-in, and a worksheet's fields as the page shows them.

Worksheets are checked by `selfhelp.worksheets.clean_answers` (the same rule for the form post and
the device's offline copy), so their fields are described here, not made WTForms fields; the
CSRF token is checked for every POST by CSRFProtect.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import Length, Optional

from ..forms import BaseForm
from ..selfhelp.worksheets import Field, WorksheetKind
from ..services.check_ins import ANSWER_MAX, ANSWERS

_TOO_LONG = _l("Use at most %(max)d characters. You have written %(length)d.")


def _clean(value: str | None) -> str | None:
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else value


def _rating(value: Any) -> int | None:
    return int(value) if value not in (None, "", "None") else None


class FinishModuleForm(BaseForm):
    """"I have finished this module", with an optional rating of how useful it was."""

    rating = RadioField(_l("How useful was this module for you? (You can skip this.)"),
                        choices=[SelectChoice("1", _l("1 – not useful")), SelectChoice("2", "2"),
                                 SelectChoice("3", "3"), SelectChoice("4", "4"),
                                 SelectChoice("5", _l("5 – very useful"))],
                        validators=[Optional()], validate_choice=True)

    def rating_value(self) -> int | None:
        return _rating(self.rating.data)


#: Labels of the check-in's answers (the same words on the therapist's review).
CHECK_IN_LABELS = {
    "worked_on": _l("What I worked on this week"),
    "helped": _l("What helped"),
    "hard": _l("What was hard"),
    "question": _l("A question for my therapist"),
}


def _answer_field(name: str) -> TextAreaField:
    return TextAreaField(CHECK_IN_LABELS[name], filters=[_clean],
                         validators=[Optional(), Length(max=ANSWER_MAX, message=_TOO_LONG)])


class CheckInForm(BaseForm):
    """The weekly check-in: four optional answers (at least one) and "talk to someone sooner"."""

    worked_on = _answer_field("worked_on")
    helped = _answer_field("helped")
    hard = _answer_field("hard")
    question = _answer_field("question")
    talk_sooner = BooleanField(_l("I need to talk to someone sooner"))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and not any(self[name].data for name in ANSWERS):
            self.worked_on.errors = [*self.worked_on.errors, _l("Write something in at least one of the boxes.")]
            valid = False
        return valid

    def answers(self) -> dict[str, str]:
        return {name: self[name].data or "" for name in ANSWERS}

    def answer_fields(self) -> list:
        return [self[name] for name in ANSWERS]


@dataclass(frozen=True)
class WorksheetField:
    """One worksheet field on the page: its definition, the value shown and its error."""

    field: Field
    id: str
    value: str
    error: Any = None


def worksheet_fields(kind: WorksheetKind, values: Mapping[str, Any],
                     errors: Mapping[str, Any] | None = None) -> list[WorksheetField]:
    """The kind's fields in order with what to show in them (stored answers or what was typed)."""
    errors = errors or {}
    shown = []
    for field in kind.fields:
        value = values.get(field.name)
        if isinstance(value, (list, tuple)):
            value = value[0] if value else None
        shown.append(WorksheetField(field=field, id=f"ws-{field.name}", value="" if value is None else str(value),
                                    error=errors.get(field.name)))
    return shown
