"""What every form of the app shares: control characters are refused once, for every field; name
and phone fields are cleaned the same way everywhere; one way to run a form's action.

Every form subclasses `BaseForm` (nested row forms subclass `BaseSubForm`), so a field holding
NUL, ESC, DEL or any other control character gets a clear error instead of reaching the database
(PostgreSQL cannot store NUL), and the rest of what was typed stays on the page.

A view whose page shows a form again with its errors runs the form's action with
`run_form_action`, saying which domain errors mean what to the person (`Refusal`); on a page of
several forms, each under its own prefix, with `run_page_form_action`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from flask import flash, redirect
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, FieldList, Form, FormField, IntegerField, SelectMultipleField
from wtforms.csrf.core import CSRFTokenField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, TextArea

from .db import get_session
from .services.phones import PhoneNumberError, normalise_phone
from .services.text_input import clean_name, has_control_characters, mark_control_characters

CONTROL_CHARACTER_MESSAGE = _l("This field holds an invisible control character (shown as \ufffd). "
                               "Remove it and send again.")

PHONE_MESSAGES = {
    "characters": _l("Write the number with digits only, like 412 34 567."),
    "country_code": _l("Write the country code straight after +, without 00: for example +47 412 34 567."),
    "invalid": _l("This is not a phone number in use. Write a Norwegian number like 412 34 567, or a number "
                  "abroad with its country code, like +46 70 123 45 67."),
}
SERVICE_PHONE_MESSAGES = {
    **PHONE_MESSAGES,
    "invalid": _l("This is not a phone number in use. Write a number like 412 34 567, a number abroad with its "
                  "country code, like +46 70 123 45 67, or a service number like 113."),
}


def name_filter(value):
    """WTForms filter for names: no bidi overrides or zero-width characters, blanks trimmed."""
    return clean_name(value) if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    """Several checkboxes for one question (rendered inside a fieldset with a legend)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PhoneNumber:
    """Validator: a phone number (Norwegian, or abroad with +CC), stored in one form (`services.phones`).

    Use after `Optional()` or a required check. With `service_numbers`, short numbers such as
    113 and 116 117 are valid too (the safety plan, the onward directory).
    """

    def __init__(self, *, service_numbers: bool = False) -> None:
        self.service_numbers = service_numbers
        self.messages = SERVICE_PHONE_MESSAGES if service_numbers else PHONE_MESSAGES

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        try:
            field.data = normalise_phone(field.data, service_numbers=self.service_numbers)
        except PhoneNumberError as error:
            raise ValidationError(self.messages.get(error.reason, self.messages["invalid"])) from None


def _leaf_fields(form: Form) -> Iterator[Field]:
    """Every field that holds typed values, also inside FormField and FieldList."""
    for field in form:
        yield from _leaves(field)


def _leaves(field: Field) -> Iterator[Field]:
    if isinstance(field, CSRFTokenField):
        return  # a bad token is the CSRF check's business
    if isinstance(field, FormField):
        yield from _leaf_fields(field.form)
    elif isinstance(field, FieldList):
        for entry in field.entries:
            yield from _leaves(entry)
    else:
        yield field


def _holds_control_characters(field: Field) -> bool:
    multiline = isinstance(field.widget, TextArea)
    values = field.raw_data if field.raw_data else [field.data]
    return any(isinstance(v, str) and has_control_characters(v, multiline=multiline) for v in values)


def _mark(field: Field) -> None:
    """Show each control character as U+FFFD and keep everything else that was typed."""
    multiline = isinstance(field.widget, TextArea)
    if field.raw_data:
        field.raw_data = [mark_control_characters(v, multiline=multiline) if isinstance(v, str) else v
                          for v in field.raw_data]
    if isinstance(field.data, str):
        # As typed, not as filtered: a filter may have trimmed the character away (NEL is a blank).
        typed = field.raw_data[0] if len(field.raw_data or ()) == 1 and isinstance(field.raw_data[0], str) else None
        field.data = typed if typed is not None else mark_control_characters(field.data, multiline=multiline)


#: Whole numbers beyond this are no one's answer: they are treated as missing, so the field's own
#: range message is shown (WTForms' NumberRange would fail turning a 400-digit number into a float).
HUGE_NUMBER = 10 ** 15


def _forget_huge_numbers(form: Form) -> None:
    for field in _leaf_fields(form):
        if isinstance(field, IntegerField) and isinstance(field.data, int) and abs(field.data) > HUGE_NUMBER:
            field.data = None


def refuse_control_characters(form: Form, validate) -> bool:
    """Run `validate()` and give every field holding a control character that one error instead
    (a huge whole number counts as missing first)."""
    _forget_huge_numbers(form)
    flagged = [field for field in _leaf_fields(form) if _holds_control_characters(field)]
    for field in flagged:
        _mark(field)  # before validation: no validator or filter sees the control character
    valid = validate()
    for field in flagged:
        field.errors = list(field.errors)
        field.errors[:] = [CONTROL_CHARACTER_MESSAGE]
    if flagged:
        _refresh_list_errors(form)
    return valid and not flagged


def _refresh_list_errors(form: Form) -> None:
    """FieldList keeps a copy of its rows' errors from validation: bring it up to date."""
    for field in form:
        if isinstance(field, FormField):
            _refresh_list_errors(field.form)
        elif isinstance(field, FieldList):
            for entry in field.entries:
                if isinstance(entry, FormField):
                    _refresh_list_errors(entry.form)
            rows = [entry.errors for entry in field.entries]
            field.errors = rows if any(rows) else []


class BaseForm(FlaskForm):
    """The base of every form in the app (see the module docstring)."""

    def validate(self, extra_validators=None) -> bool:
        return refuse_control_characters(self, lambda: super(BaseForm, self).validate(extra_validators))


class BaseSubForm(Form):
    """The base of forms nested with FormField (no CSRF token of their own)."""

    def validate(self, extra_validators=None) -> bool:
        return refuse_control_characters(self, lambda: super(BaseSubForm, self).validate(extra_validators))


# --- Running a form's action ------------------------------------------------------------------

@dataclass(frozen=True)
class Refusal:
    """What an error raised by a form's action means to the person.

    With a `field`, `message` becomes that field's error and the form is shown again (400), as
    typed. Without one, `message` is flashed (`category`) and the person goes back to the page.
    Nothing the action did is saved, unless `commit` (the refusal itself counts, like a wrong code).
    """

    error: type[Exception]
    message: Any  # a translated string, lazy or not
    field: Field | None = None
    category: str = "error"
    commit: bool = False


def run_form_action(form: FlaskForm, action: Callable[[Any], Any], *, show: Callable[[], Any], back: str,
                    done: Any | None, then: Callable[[Any], str] | None = None,
                    refusals: Sequence[Refusal] = ()) -> ResponseReturnValue:
    """Validate `form`, run `action(db)` and commit; flash `done` (unless None) and redirect to
    `then(result)` (default `back`, the URL of the form's page).

    A form not sent yet (a GET) answers `show()`, the page as it is. An invalid form, or a refusal
    on a field, answers `show()` (now with the form's errors) with 400. A refusal without a field
    is flashed and redirects to `back`. Any other error propagates: the domain errors become their
    error pages (`web.domain_error_page`), and nothing is saved.
    """
    if not form.is_submitted():
        return show()
    if not form.validate():
        return show(), 400
    db = get_session()
    try:
        result = action(db)
    except tuple(refusal.error for refusal in refusals) as error:
        refusal = next(r for r in refusals if isinstance(error, r.error))
        if refusal.commit:
            db.commit()
        else:
            db.rollback()
        if refusal.field is None:
            flash(str(refusal.message), refusal.category)
            return redirect(back)
        refusal.field.errors = [*refusal.field.errors, refusal.message]
        return show(), 400
    db.commit()
    if done is not None:
        flash(str(done), "success")
    return redirect(then(result) if then is not None else back)


def run_page_form_action(name: str, form: FlaskForm | type[FlaskForm], action: Callable[[Any, Any], Any], *,
                         page: Callable[..., Any], back: str, done: Any | None,
                         refusals: Sequence[Refusal] = ()) -> ResponseReturnValue:
    """`run_form_action` for one of the forms of a page that shows several, each under its prefix
    `name` (also its key on the page). `form` is the form's class, bound here to the request with
    that prefix, or a form the view made so because it needs it first (choices to fill in, a field
    a refusal names); `action(db, form)` does the work. The page shows again as
    `page(bound=(name, form))`."""
    if isinstance(form, type):
        form = form(prefix=name)
    return run_form_action(form, lambda db: action(db, form), show=lambda: page(bound=(name, form)), back=back,
                           done=done, refusals=refusals)
