"""The safety plan's form and wording, shared by the resident's and the therapist's pages.

Validators check shape only (length, rows, phone numbers); who may save is the service's business.
"""
from __future__ import annotations

from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import FieldList, FormField, StringField, TelField, TextAreaField
from wtforms.validators import Length, Optional

from ..forms import BaseForm, BaseSubForm, PhoneNumber, name_filter
from ..services.safety_plans import (
    CONTACT_PARTS,
    MAX_NAME,
    MAX_ROWS,
    MAX_TEXT,
    PART_ORDER,
    TEXT_PARTS,
    PlanContent,
    PlanView,
    tel_href,
)

#: Heading and hint of each part (the same words on the plan, the form and the printout).
PARTS: dict[str, tuple[Any, Any]] = {
    "warning_signs": (_l("My warning signs"), _l(
        "Thoughts, feelings, situations or behaviour that tell me a crisis may be building up.")),
    "coping_alone": (_l("What I can do on my own to feel a little better"), _l(
        "For example: go for a walk, listen to music, take a shower, breathe slowly.")),
    "distractions": (_l("People and places that take my mind off things"), _l(
        "Friends or family to spend time with, and places where there are other people, such as a café, "
        "the library or a gym.")),
    "people_to_ask": (_l("People I can ask for help"), _l(
        "Name and phone number. Empty rows are left out.")),
    "professionals": (_l("Professionals and services I can contact"), _l(
        "Your team, your GP, the out-of-hours doctor and helplines. In an emergency, call 113.")),
    "safer_surroundings": (_l("Making my surroundings safer"), _l(
        "What I can do to be safe, for example give medicines or other dangerous things to someone I trust.")),
    "reasons_for_living": (_l("What matters most to me and is worth living for"), _l(
        "People, animals, plans, hopes or beliefs.")),
}
#: Labels of the author's role in "Last updated ... by ..." and in the history.
ROLE_LABELS = {"resident": _l("resident"), "therapist": _l("therapist"), "team_lead": _l("team lead"),
               "admin": _l("administrator")}
#: The legend of one row in each contact list.
ROW_LEGENDS = {"people_to_ask": _l("Person %(number)s"), "professionals": _l("Service %(number)s")}

_TOO_LONG = _l("Use at most %(max)d characters. You have written %(length)d.")


def _clean(value: str | None) -> str | None:
    """Browsers send CRLF line breaks; count and store LF, without surrounding blanks."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip() if isinstance(value, str) else value


class BoundedFieldList(FieldList):
    """A FieldList that ignores row keys that are not plain ASCII numbers (`rows-²-name`).

    WTForms checks `str.isdigit()`, which is true for "²" while `int("²")` fails: a 500, not a 400.
    """

    def _extract_indices(self, prefix, formdata):
        offset = len(prefix) + 1
        for key in formdata:
            if key.startswith(prefix):
                index = key[offset:].split(self._field_separator, 1)[0]
                if index.isascii() and index.isdigit() and len(index) <= 3:
                    yield int(index)


class ContactRowForm(BaseSubForm):
    """One name and phone number. A blank row is ignored; a number needs a name."""

    name = StringField(_l("Name"), filters=[_clean, name_filter],
                       validators=[Optional(), Length(max=MAX_NAME, message=_TOO_LONG)])
    #: Norwegian numbers, numbers abroad with +CC and service numbers (113, 116 117), in display form.
    phone = TelField(_l("Phone"), filters=[_clean], validators=[Optional(), PhoneNumber(service_numbers=True)])

    def validate(self, extra_validators=None) -> bool:
        """A number needs a name (checked here: `Optional()` ends the name's own checks when empty)."""
        valid = super().validate(extra_validators)
        if not self.name.data and self.phone.data:
            self.name.errors = [*self.name.errors, _l("Write who this number belongs to.")]
            valid = False
        return valid


def _text_part(name: str) -> TextAreaField:
    label, hint = PARTS[name]
    return TextAreaField(label, description=hint, filters=[_clean],
                         validators=[Optional(), Length(max=MAX_TEXT, message=_TOO_LONG)])


def _contact_part(name: str) -> BoundedFieldList:
    label, hint = PARTS[name]
    return BoundedFieldList(FormField(ContactRowForm), label=label, description=hint, min_entries=MAX_ROWS,
                            max_entries=MAX_ROWS)


class SafetyPlanForm(BaseForm):
    """Every part of the plan: a text area per text part, 8 name + phone rows per contact list."""

    warning_signs = _text_part("warning_signs")
    coping_alone = _text_part("coping_alone")
    distractions = _text_part("distractions")
    people_to_ask = _contact_part("people_to_ask")
    professionals = _contact_part("professionals")
    safer_surroundings = _text_part("safer_surroundings")
    reasons_for_living = _text_part("reasons_for_living")

    @classmethod
    def for_content(cls, content: PlanContent) -> "SafetyPlanForm":
        """A form showing saved content (not bound to what was posted)."""
        data: dict[str, Any] = {name: getattr(content, name) for name in TEXT_PARTS}
        data.update({name: [{"name": n, "phone": p} for n, p in getattr(content, name)] for name in CONTACT_PARTS})
        return cls(formdata=None, data=data)

    def content(self) -> PlanContent:
        """What was typed, as plan content (call after validation; blank rows left out)."""
        values: dict[str, Any] = {name: self[name].data or "" for name in TEXT_PARTS}
        for name in CONTACT_PARTS:
            values[name] = tuple(((row.form.name.data or ""), (row.form.phone.data or ""))
                                 for row in self[name] if row.form.name.data or row.form.phone.data)
        return PlanContent(**values)

    def error_list(self) -> list[tuple[str, str]]:
        """Every error as (field id, message), in the page's order, for the error summary."""
        found: list[tuple[str, str]] = []
        for name in PART_ORDER:
            if name in TEXT_PARTS:
                found += [(self[name].id, str(e)) for e in self[name].errors]
                continue
            for row in self[name]:
                for sub in (row.form.name, row.form.phone):
                    found += [(sub.id, str(e)) for e in sub.errors]
        return found

    def parts(self) -> list[dict[str, Any]]:
        """The fields in order, each with its heading and hint, and row legends for the lists."""
        return [{"name": name, "field": self[name], "contacts": name in CONTACT_PARTS,
                 "hint": PARTS[name][1],
                 "rows": [(str(ROW_LEGENDS[name]) % {"number": i}, row) for i, row in enumerate(self[name], 1)]
                 if name in CONTACT_PARTS else []}
                for name in PART_ORDER]


# --- The plan for reading (both audiences) -----------------------------------------------------

def _contact_view(name: str, phone: str) -> dict[str, str | None]:
    try:
        href = tel_href(phone) if phone else None
    except ValueError:  # a team number typed by staff in another form: shown, not linked
        href = None
    return {"name": name, "phone": phone, "href": href}


def plan_parts(content: PlanContent) -> list[dict[str, Any]]:
    """Each part with its heading: lines of text, or contacts with one-tap `tel:` links; `empty` if nothing yet."""
    parts = []
    for name in PART_ORDER:
        value = getattr(content, name)
        parts.append({
            "id": "part-" + name.replace("_", "-"), "title": str(PARTS[name][0]),
            "lines": [line for line in value.splitlines() if line.strip()] if name in TEXT_PARTS else [],
            "contacts": [_contact_view(n, p) for n, p in value] if name in CONTACT_PARTS else [],
            "empty": not value,
        })
    return parts


def author_label(name: str, role: str, *, is_viewer: bool = False) -> str:
    """"you", or "Name (therapist)" for the plan's and history's author lines."""
    if is_viewer:
        return _("you")
    if not role:
        return _("a person whose account is deleted")
    return _("%(name)s (%(role)s)", name=name or _("name not given"), role=ROLE_LABELS.get(role, role))


def updated_line(plan: PlanView | None, *, viewer_id: int) -> str:
    """"Last updated <date> by <who>", or that the plan is not saved yet."""
    if plan is None:
        return _("Not saved yet.")
    who = author_label(plan.author_name, plan.author_role, is_viewer=plan.author_id == viewer_id)
    return _("Last updated %(date)s by %(who)s", date=format_datetime(plan.updated_at, "short"), who=who)
