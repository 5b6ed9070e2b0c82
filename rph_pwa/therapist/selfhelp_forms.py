"""Staff forms for guided self-help: assigning a programme from an episode or to a group, a team's
own (external) programme, and approving a sleep window. Validators check shape only; the
services check access and the rest."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.fields.datetime import DateField
from wtforms.validators import InputRequired, NumberRange, StopValidation, ValidationError

from ..forms import BaseForm, MultiCheckboxField, Refusal
from ..localtime import local_today
from ..services.external_programmes import MODULES_MAX, TITLE_MAX, WEEKS_MAX, WEEKS_MIN, ModulesInvalid, parse_modules
from ..services.selfhelp_library import GroupConflict, NotSignedOff
from .forms import length

#: The value of a team's own programme in the programme choice ("team:<id>"; slugs have no colon).
TEAM_PREFIX = "team:"
#: How far ahead a programme may start.
START_DAYS_AHEAD = 90
PACE_CHOICES = [SelectChoice("weekly", _l("Week by week: a new module opens each week")),
                SelectChoice("all", _l("All at once: every module is open from the start"))]
#: What the module lines' problems mean (services.external_programmes.ModulesInvalid.reason).
MODULE_MESSAGES = {
    "none": _l("Write at least one module, one per line."),
    "too_many": _l("Write at most %(num)d modules.", num=MODULES_MAX),
    "no_title": _l("Line %(line)d has no title before the “|”."),
    "title_long": _l("The title on line %(line)d is too long: use at most 200 characters."),
    "where_long": _l("The link or pages on line %(line)d are too long: use at most 300 characters."),
}
#: When sleep restriction is not for the person: the therapist confirms each before approving.
NOT_FOR = [
    SelectChoice("bipolar", _l("The person does not have bipolar disorder.")),
    SelectChoice("epilepsy", _l("The person does not have epilepsy.")),
    SelectChoice("apnoea", _l("The person does not have untreated sleep apnoea.")),
    SelectChoice("pregnancy", _l("The person is not pregnant.")),
    SelectChoice("sleepiness", _l("The person does not drive or work where sleepiness is dangerous.")),
]
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def programme_value(slug: str | None = None, external_id: int | None = None) -> str:
    return slug if slug is not None else f"{TEAM_PREFIX}{external_id}"


def parse_programme(value: str) -> tuple[str | None, int | None]:
    """The chosen programme as (slug, None) or (None, external programme id)."""
    if value.startswith(TEAM_PREFIX):
        return None, int(value[len(TEAM_PREFIX):])
    return value, None


def weekday_choices() -> list[SelectChoice]:
    """Monday ... Sunday (0-6) in the reader's language."""
    names = get_day_names("wide", locale=get_locale())
    return [SelectChoice(str(day), names[day].capitalize()) for day in range(7)]


def clock_time(_form, field) -> None:
    if not CLOCK.match((field.data or "").strip()):
        raise StopValidation(_l("Write the time as HH:MM, for example 23:30."))
    field.data = field.data.strip()


class ProgrammeForm(BaseForm):
    """Which programme, the check-in weekday, the pace and the start date."""

    programme = SelectField(_l("Programme"), validate_choice=False,
                            validators=[InputRequired(_l("Choose a programme."))])
    weekday = RadioField(_l("Check-in day"), validate_choice=False,
                         validators=[InputRequired(_l("Choose the check-in day."))])
    pace = RadioField(_l("How modules open"), choices=PACE_CHOICES, validate_choice=False,
                      validators=[InputRequired(_l("Choose how the modules open."))])
    starts_on = DateField(_l("Start date"), validators=[InputRequired(_l("Enter the start date."))])

    def offer(self, grouped: dict[Any, list[SelectChoice]]) -> ProgrammeForm:
        """The programmes to choose from, in groups (shipped, and each team's own)."""
        self.programme.choices = grouped
        self.weekday.choices = weekday_choices()
        if not self.is_submitted():
            self.starts_on.data = self.starts_on.data or local_today()
            self.pace.data = self.pace.data or "weekly"
        return self

    def validate_programme(self, field) -> None:
        allowed = {c.value if isinstance(c, SelectChoice) else c[0]
                   for group in (field.choices or {}).values() for c in group}
        if field.data not in allowed:
            raise StopValidation(_l("Choose one of the programmes in the list."))

    def validate_weekday(self, field) -> None:
        if field.data not in {str(day) for day in range(7)}:
            raise StopValidation(_l("Choose a day from Monday to Sunday."))

    def validate_pace(self, field) -> None:
        if field.data not in {c.value for c in PACE_CHOICES}:
            raise StopValidation(_l("Choose how the modules open."))

    def validate_starts_on(self, field) -> None:
        today = local_today()
        if field.data is None:
            return  # not a date: the field's own error says so
        if not today <= field.data <= today + timedelta(days=START_DAYS_AHEAD):
            raise ValidationError(_l("Choose a start date from today and at most %(num)d days ahead.",
                                     num=START_DAYS_AHEAD))

    def chosen(self) -> dict[str, Any]:
        """The service's keyword arguments for the choice."""
        slug, external_id = parse_programme(self.programme.data)
        return {"programme": slug, "external_programme_id": external_id, "checkin_weekday": int(self.weekday.data),
                "pace": self.pace.data, "starts_on": self.starts_on.data}

    def refusals(self) -> list[Refusal]:
        return [Refusal(NotSignedOff, _l("No module of this programme is signed off by a clinician yet, and this "
                                         "service hides unsigned modules. Choose another programme."),
                        field=self.programme)]


class AssignForm(ProgrammeForm):
    """A programme for the resident of one episode."""


class GroupAssignForm(ProgrammeForm):
    """The same programme to several of my residents at once."""

    episodes = MultiCheckboxField(_l("Residents"), coerce=int, validate_choice=False)

    def offer_residents(self, candidates) -> GroupAssignForm:
        self.episodes.choices = [SelectChoice(c.episode_id, c.name) for c in candidates]
        return self

    def validate_episodes(self, field) -> None:
        chosen = set(field.data or [])
        if not chosen:
            raise StopValidation(_l("Choose at least one resident."))
        if not chosen <= {c.value for c in field.choices}:
            raise StopValidation(_l("Choose residents from the list."))

    def refusals(self) -> list[Refusal]:
        return [*super().refusals(),
                Refusal(GroupConflict, _l("One of the chosen residents could not get the programme: they already "
                                          "have one open, their episode has ended, or the team's own programme "
                                          "belongs to another team. Nobody got it. Check the list and try "
                                          "again."), field=self.episodes)]


class ExternalProgrammeForm(BaseForm):
    """A programme the team uses from outside the app."""

    team = SelectField(_l("Team"), coerce=int, validate_choice=False)
    title = StringField(_l("Title"), validators=[InputRequired(_l("Enter the title.")), length(TITLE_MAX)])
    weeks = IntegerField(_l("Weeks"), default=6, validators=[
        InputRequired(_l("Enter the number of weeks.")),
        NumberRange(WEEKS_MIN, WEEKS_MAX, _l("Enter a number of weeks from %(min)s to %(max)s."))])
    modules = TextAreaField(_l("Modules, one per line"), validators=[InputRequired(_l("Write at least one module, "
                                                                                      "one per line."))])

    def offer(self, teams) -> ExternalProgrammeForm:
        self.team.choices = [SelectChoice(t.id, t.name) for t in teams]
        return self

    def validate_team(self, field) -> None:
        if field.data not in {c.value for c in field.choices}:
            raise StopValidation(_l("Choose one of your teams."))

    def validate_modules(self, field) -> None:
        try:
            parse_modules(field.data)
        except ModulesInvalid as error:
            raise ValidationError(MODULE_MESSAGES[error.reason] % {"line": error.line}) from None


class SleepWindowForm(BaseForm):
    """The window the therapist approves, and the checklist of when sleep restriction is not for the person."""

    bedtime = StringField(_l("Go to bed at"), validators=[clock_time])
    rise = StringField(_l("Get up at"), validators=[clock_time])
    checked = MultiCheckboxField(_l("Sleep restriction is not for everyone. I have checked that:"), choices=NOT_FOR,
                                 validate_choice=False)

    def validate_checked(self, field) -> None:
        if set(field.data or []) != {c.value for c in NOT_FOR}:
            raise StopValidation(_l("Confirm each point before you approve a window. If one does not hold, "
                                    "do not use sleep restriction: talk with the person about other help."))

    def refusals(self) -> list[Refusal]:
        return [Refusal(ValueError, _l("A sleep window must be at least 5 hours."), field=self.bedtime)]
