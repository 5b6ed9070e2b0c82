"""The worksheets the self-help exercises use, as data: each has fields of a few types, and the
resident's answers are stored as one encrypted JSON object per worksheet (`models.Worksheet`).

`WORKSHEETS` is in a fixed order: a worksheet's place (1, 2, ...) is its number in URLs, so a URL
never names what the worksheet is about ("sleep diary" would say something about a person's
health). Add new worksheets at the end; never reorder or remove one.

Checking answers is pure (`clean_answers`), so the forms, the offline sync endpoint and the tests
share one rule.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from types import MappingProxyType
from typing import Any, Mapping

from flask_babel import lazy_gettext as _l

#: Longest text in a one-line field, and in a longer text.
LINE_MAX = 200
TEXT_MAX = 4000
FIELD_TYPES = ("line", "text", "date", "time", "number", "choice")


@dataclass(frozen=True)
class Field:
    """One field of a worksheet. `number` fields have `low` and `high`; `choice` fields `choices`."""

    name: str
    label: Any
    type: str
    required: bool = False
    low: int = 0
    high: int = 0
    hint: Any = None
    choices: tuple[tuple[str, Any], ...] = ()

    @property
    def max_length(self) -> int:
        return TEXT_MAX if self.type == "text" else LINE_MAX


@dataclass(frozen=True)
class WorksheetKind:
    """A kind of worksheet: its key, title, a line on how to use it and its fields. `single`: one
    per resident, kept up to date (the self-help plan), instead of a new one each time."""

    key: str
    title: Any
    intro: Any
    fields: tuple[Field, ...]
    single: bool = False
    #: The field whose value names one worksheet in a list (a date or a short text).
    label_field: str = ""

    @property
    def number(self) -> int:
        return ORDER.index(self.key) + 1


DONE = (("yes", _l("Yes")), ("partly", _l("Partly")), ("no", _l("No")))

_KINDS = (
    WorksheetKind(
        "thought_record", _l("Thought record"),
        _l("Write down a moment when your feelings got strong. Then look at the thought that came."),
        (Field("situation", _l("What happened? Where were you?"), "text", required=True),
         Field("feelings", _l("What did you feel?"), "line"),
         Field("feeling_strength", _l("How strong was the feeling (0–100)?"), "number", low=0, high=100),
         Field("thought", _l("What went through your mind?"), "text"),
         Field("evidence_for", _l("What supports the thought?"), "text"),
         Field("evidence_against", _l("What does not fit with the thought?"), "text"),
         Field("balanced", _l("A more balanced thought"), "text"),
         Field("feeling_after", _l("How strong is the feeling now (0–100)?"), "number", low=0, high=100)),
        label_field="feelings"),
    WorksheetKind(
        "activity_plan", _l("Activity plan"),
        _l("Plan one activity at a time. Afterwards, note how it went."),
        (Field("day", _l("Day"), "date", required=True),
         Field("activity", _l("Activity"), "line", required=True),
         Field("at", _l("Time"), "time"),
         Field("done", _l("Did you do it?"), "choice", choices=DONE),
         Field("mastery", _l("Mastery (0–10)"), "number", low=0, high=10,
               hint=_l("How much did you get done, given how you felt?")),
         Field("pleasure", _l("Pleasure (0–10)"), "number", low=0, high=10),
         Field("note", _l("Note"), "text")),
        label_field="day"),
    WorksheetKind(
        "sleep_diary", _l("Sleep diary"),
        _l("Fill it in each morning, about the night that has passed. Guesses are fine."),
        (Field("night", _l("The night starting on"), "date", required=True),
         Field("bedtime", _l("I went to bed at"), "time", required=True),
         Field("lights_out", _l("I tried to sleep from"), "time", required=True),
         Field("minutes_to_sleep", _l("Minutes before I fell asleep"), "number", required=True, low=0, high=600),
         Field("minutes_awake", _l("Minutes awake during the night"), "number", required=True, low=0, high=900),
         Field("woke", _l("I woke for the last time at"), "time", required=True),
         Field("rose", _l("I got up at"), "time", required=True),
         Field("quality", _l("How well did you sleep (1–5)?"), "number", low=1, high=5,
               hint=_l("1 is very badly, 5 is very well.")),
         Field("note", _l("Note (naps, alcohol, caffeine, medicines)"), "text")),
        label_field="night"),
    WorksheetKind(
        "exposure_ladder", _l("Exposure ladder"),
        _l("Write the steps from the easiest to the hardest. Take one step at a time."),
        (Field("goal", _l("What do I want to be able to do?"), "line", required=True),
         Field("steps", _l("The steps, one per line, with how scary each is (0–100)"), "text"),
         Field("this_week", _l("The step I try this week"), "line"),
         Field("fear_before", _l("Fear before (0–100)"), "number", low=0, high=100),
         Field("fear_after", _l("Fear after (0–100)"), "number", low=0, high=100),
         Field("what_happened", _l("What happened? What did I learn?"), "text")),
        label_field="goal"),
    WorksheetKind(
        "worry_time", _l("Worry time"),
        _l("Save your worries for a set time each day. Write them down when they come."),
        (Field("day", _l("Day"), "date", required=True),
         Field("at", _l("Worry time starts at"), "time"),
         Field("place", _l("Where"), "line"),
         Field("worries", _l("The worries I saved"), "text"),
         Field("can_act", _l("What can I do something about? What is the first step?"), "text"),
         Field("how_it_went", _l("How did it go?"), "text")),
        label_field="day"),
    WorksheetKind(
        "weekly_goal", _l("Weekly goal"),
        _l("Choose one small goal for the week. Make it so clear that you know when it is done."),
        (Field("goal", _l("My goal this week"), "line", required=True),
         Field("first_step", _l("The first small step"), "line"),
         Field("when", _l("When will I do it?"), "line"),
         Field("obstacles", _l("What can get in the way? What do I do then?"), "text"),
         Field("achieved", _l("Did I reach the goal?"), "choice", choices=DONE),
         Field("how_it_went", _l("How did it go?"), "text")),
        label_field="goal"),
    WorksheetKind(
        "use_diary", _l("Drinking and use diary"),
        _l("Write down each day what you drank or used, and what happened around it."),
        (Field("day", _l("Day"), "date", required=True),
         Field("what", _l("What and how much?"), "line", required=True,
               hint=_l("For example: 4 beers, or none.")),
         Field("units", _l("Units of alcohol"), "number", low=0, high=100,
               hint=_l("One unit is a small beer, a glass of wine or a shot.")),
         Field("situation", _l("Where, with whom, and what happened before?"), "text"),
         Field("urge", _l("How strong was the urge (0–10)?"), "number", low=0, high=10),
         Field("feeling", _l("How did I feel?"), "line"),
         Field("note", _l("Note"), "text")),
        label_field="day"),
    WorksheetKind(
        "selfhelp_plan", _l("My self-help plan"),
        _l("Your plan for keeping what you have learnt. It stays yours after the treatment ends."),
        (Field("learnt", _l("What I have learnt about my problems"), "text"),
         Field("helps", _l("What helps me, and what I will keep doing"), "text"),
         Field("warning_signs", _l("Signs that things are getting worse"), "text"),
         Field("if_worse", _l("What I do if things get worse"), "text"),
         Field("support", _l("Who can support me"), "text"),
         Field("goals", _l("My goals from now on"), "text")),
        single=True),
)

ORDER: tuple[str, ...] = tuple(kind.key for kind in _KINDS)
WORKSHEETS: Mapping[str, WorksheetKind] = MappingProxyType({kind.key: kind for kind in _KINDS})
#: The worksheet that holds the resident's self-help plan (one per resident, offline like the safety plan).
SELFHELP_PLAN = "selfhelp_plan"


def by_number(number: int) -> WorksheetKind | None:
    """The worksheet kind at place `number` (1-based) in URLs, or None."""
    return _KINDS[number - 1] if 1 <= number <= len(_KINDS) else None


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class WorksheetInvalid(ValueError):
    """Answers that do not fit the worksheet: `errors` maps a field name to its message."""

    def __init__(self, errors: dict[str, Any]):
        super().__init__(", ".join(errors))
        self.errors = errors


def clean_answers(kind: WorksheetKind, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The answers as stored (strings trimmed, numbers as int; empty fields left out), or
    WorksheetInvalid with a message per field. Unknown names are ignored."""
    answers: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    for field in kind.fields:
        value = raw.get(field.name)
        if isinstance(value, (list, tuple)):
            value = value[0] if value else None
        text = "" if value is None else str(value).replace("\r\n", "\n").strip()
        if not text:
            if field.required:
                errors[field.name] = _l("Please fill in this field.")
            continue
        if _CONTROL.search(text):
            errors[field.name] = _l("This field holds characters that cannot be saved.")
        elif len(text) > field.max_length:
            errors[field.name] = _l("Please keep this to at most %(count)s characters.", count=field.max_length)
        elif field.type in ("line", "text"):
            answers[field.name] = text
        elif field.type == "number":
            if not re.fullmatch(r"-?\d{1,6}", text) or not field.low <= int(text) <= field.high:
                errors[field.name] = _l("Please give a whole number from %(low)s to %(high)s.",
                                        low=field.low, high=field.high)
            else:
                answers[field.name] = int(text)
        elif field.type == "date":
            try:
                answers[field.name] = date.fromisoformat(text).isoformat()
            except ValueError:
                errors[field.name] = _l("Please give a date, for example 2026-12-01.")
        elif field.type == "time":
            try:
                answers[field.name] = time.fromisoformat(text).strftime("%H:%M")
            except ValueError:
                errors[field.name] = _l("Please give a time, for example 22:30.")
        elif field.type == "choice":
            if text not in {value for value, _label in field.choices}:
                errors[field.name] = _l("Please choose one of the options.")
            else:
                answers[field.name] = text
    if errors:
        raise WorksheetInvalid(errors)
    return answers
